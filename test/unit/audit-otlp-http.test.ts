import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditCommand } from '../../src/cli/audit.js';
import { AuditLog, readAudit, toOtlp, type AuditActor } from '../../src/core/audit.js';
import { generateSigningKey, pemSigner } from '../../src/core/audit-digest.js';
import { runCaptured } from '../fixtures/aws/cli-capture.js';
import { readBody } from '../fixtures/aws/http-body.js';

const actor: AuditActor = { principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice', account: '123456789012' };

/** A collector stand-in: OTLP/HTTP `POST /v1/traces` with a JSON body, answering as the collector does. */
interface Collector {
  url: string;
  received: Array<{ path: string; headers: IncomingHttpHeaders; body: any }>;
  status: number;
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const collector: Collector = { url: '', received: [], status: 200, close: async () => {} };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const json = /json/.test(String(req.headers['content-type'])) ? JSON.parse(body.toString('utf8')) : null;
      collector.received.push({ path: req.url ?? '', headers: req.headers, body: json });
      res.writeHead(collector.status, { 'content-type': 'application/json' });
      res.end(collector.status === 200 ? '{}' : JSON.stringify({ code: 3, message: 'bad request' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  collector.close = () => new Promise((resolve) => server.close(() => resolve()));
  return collector;
}

let tmp: string;
let file: string;
let collector: Collector;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-otlp-http-'));
  collector = await startCollector();
  // Signed, so the digest records are in the chain: they belong to the chain, not to the traces.
  const log = await AuditLog.open(tmp, { signer: pemSigner(generateSigningKey().privateKeyPem) });
  const s = { session: 'sess_1', task: 'task_1', actor };
  await log.append({ type: 'task.started', task: 'task_1', actor, data: { task: 'fix the bug' } });
  await log.append({ type: 'session.created', ...s, data: { model: 'gpt-5', agent_id: 'agent_42', provider: 'openai' } });
  await log.append({ type: 'tool.call', ...s, data: { call_id: 'call_a', tool: 'workspace_read', summary: 'read src/a.ts' } });
  await log.append({ type: 'tool.result', ...s, data: { call_id: 'call_a', tool: 'workspace_read', success: true } });
  await log.append({ type: 'usage', ...s, data: { input_tokens: 120, output_tokens: 30 } });
  await log.append({ type: 'task.finished', ...s, data: { status: 'completed' } });
  await log.close();
  file = log.file;
});
after(async () => {
  await collector.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('deputy audit export --otlp-endpoint', () => {
  it("sends the trail's traces to an OTLP/HTTP collector with the GenAI span names, the principal and the given headers", async () => {
    collector.received.length = 0;
    const out = await runCaptured(auditCommand, ['export', '--otlp-endpoint', collector.url, '--header', 'x-api-key=collector-key-1', file], {});
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /sent 2 spans \(7 records\) to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
    assert.equal(collector.received.length, 1);
    const [request] = collector.received;
    assert.equal(request!.path, '/v1/traces');
    assert.equal(request!.headers['x-api-key'], 'collector-key-1');
    const spans = request!.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans));
    assert.deepEqual(spans.map((sp: any) => sp.name).sort(), ['execute_tool workspace_read', 'invoke_agent']);
    const expected = toOtlp(await readAudit(file)).resourceSpans[0]!.scopeSpans[0]!.spans;
    // Ids and parentage as the chain determines them, so the collector's spans trace back to the verified records.
    const agent = spans.find((sp: any) => sp.name === 'invoke_agent');
    const tool = spans.find((sp: any) => sp.name !== 'invoke_agent');
    assert.equal(agent.traceId, expected.find((sp) => sp.name === 'invoke_agent')!.traceId);
    assert.equal(tool.parentSpanId, agent.spanId);
    const attrs = Object.fromEntries(agent.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
    assert.equal(attrs['gen_ai.conversation.id'], 'sess_1');
    assert.ok(Object.values(attrs).includes(actor.principal), 'the acting principal is on the agent span');
    const resource = Object.fromEntries(request!.body.resourceSpans[0].resource.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
    assert.equal(resource['service.name'], 'deputy');
  });

  it('says so when the collector refuses the traces, and rejects a malformed endpoint before sending', async () => {
    collector.status = 400;
    try {
      const refused = await runCaptured(auditCommand, ['export', '--otlp-endpoint', `${collector.url}/v1/traces`, file], {});
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /did not take the traces/);
    } finally {
      collector.status = 200;
    }
    const bad = await runCaptured(auditCommand, ['export', '--otlp-endpoint', 'ftp://127.0.0.1/x', file], {});
    assert.equal(bad.code, 2);
    const both = await runCaptured(auditCommand, ['export', '--otlp-endpoint', collector.url, '--out', path.join(tmp, 'x.json'), file], {});
    assert.equal(both.code, 2);
  });
});
