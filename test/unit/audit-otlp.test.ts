import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, readAudit, toOtlp, type AuditActor, type AuditRecord } from '../../src/core/audit.js';
import type { OtlpAttribute, OtlpSpan } from '../../src/core/audit-otlp.js';

const actor: AuditActor = { principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice', account: '123456789012', client: 'deputy/0.1.0' };

let tmp: string;
let records: AuditRecord[];

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-otlp-'));
  let clock = Date.parse('2025-03-01T10:00:00.000Z');
  const log = await AuditLog.open(tmp, { now: () => new Date((clock += 1000)) });
  const s = { session: 'sess_1', task: 'task_1', actor };
  await log.append({ type: 'identity.resolved', actor, data: { principal: actor.principal } });
  await log.append({ type: 'task.started', task: 'task_1', actor, data: { task: 'fix the bug' } });
  await log.append({ type: 'session.created', ...s, data: { model: 'gpt-5', agent_id: 'agent_42', provider: 'openai' } });
  await log.append({ type: 'message.user', ...s, data: { text: 'fix the bug' } });
  await log.append({ type: 'tool.call', ...s, data: { call_id: 'call_a', tool: 'workspace_read', summary: 'read src/a.ts' } });
  await log.append({ type: 'policy.decision', ...s, data: { call_id: 'call_a', tool: 'workspace_read', decision: 'allow', reason: 'default' } });
  await log.append({ type: 'tool.result', ...s, data: { call_id: 'call_a', tool: 'workspace_read', success: true } });
  await log.append({ type: 'tool.call', ...s, data: { call_id: 'call_b', tool: 'propose_changes' } });
  await log.append({ type: 'tool.result', ...s, data: { call_id: 'call_b', tool: 'propose_changes', success: false, error: 'rejected' } });
  await log.append({ type: 'usage', ...s, data: { input_tokens: 120, output_tokens: 30 } });
  await log.append({ type: 'usage', ...s, data: { input_tokens: 80, output_tokens: 20 } });
  await log.append({ type: 'task.finished', ...s, data: { status: 'completed' } });
  await log.close();
  records = await readAudit(log.file);
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function attrs(list: OtlpAttribute[]): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
}

function spansOf(doc: ReturnType<typeof toOtlp>): OtlpSpan[] {
  return doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

describe('toOtlp', () => {
  it('is valid OTLP/JSON: hex ids, unixNano strings, typed attribute values', () => {
    const doc = JSON.parse(JSON.stringify(toOtlp(records, { version: '0.1.0' })));
    assert.deepEqual(attrs(doc.resourceSpans[0].resource.attributes), { 'service.name': 'deputy', 'service.version': '0.1.0' });
    for (const span of spansOf(doc)) {
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      if (span.parentSpanId !== undefined) assert.match(span.parentSpanId, /^[0-9a-f]{16}$/);
      assert.match(span.startTimeUnixNano, /^\d+$/);
      assert.match(span.endTimeUnixNano, /^\d+$/);
      assert.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano));
      assert.ok([1, 3].includes(span.kind));
      for (const a of [...span.attributes, ...span.events.flatMap((e) => e.attributes)]) {
        const kinds = Object.keys(a.value);
        assert.equal(kinds.length, 1);
        assert.ok(['stringValue', 'intValue', 'boolValue', 'doubleValue'].includes(kinds[0]!));
        if ('intValue' in a.value) assert.match(a.value.intValue, /^-?\d+$/);
      }
      for (const e of span.events) assert.match(e.timeUnixNano, /^\d+$/);
    }
  });

  it('makes one trace per task with an invoke_agent root per session and execute_tool children', () => {
    const spans = spansOf(toOtlp(records));
    const root = spans.find((s) => s.name === 'invoke_agent')!;
    assert.ok(root, 'an invoke_agent span');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.kind, 3);
    assert.deepEqual(
      { ...attrs(root.attributes) },
      {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.conversation.id': 'sess_1',
        'gen_ai.agent.id': 'agent_42',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-5',
        'deputy.task.id': 'task_1',
        'deputy.principal': actor.principal,
        'deputy.account': '123456789012',
        'deputy.client': 'deputy/0.1.0',
        'gen_ai.usage.input_tokens': '200',
        'gen_ai.usage.output_tokens': '50',
      },
    );
    const tools = spans.filter((s) => s.name.startsWith('execute_tool '));
    assert.deepEqual(tools.map((s) => s.name), ['execute_tool workspace_read', 'execute_tool propose_changes']);
    for (const tool of tools) {
      assert.equal(tool.parentSpanId, root.spanId);
      assert.equal(tool.traceId, root.traceId);
    }
    const read = attrs(tools[0]!.attributes);
    assert.equal(read['gen_ai.tool.name'], 'workspace_read');
    assert.equal(read['gen_ai.tool.call.id'], 'call_a');
    assert.equal(read['gen_ai.operation.name'], 'execute_tool');
    assert.equal(read['deputy.principal'], actor.principal);
    assert.deepEqual(tools[0]!.events.map((e) => e.name), ['tool.call', 'policy.decision', 'tool.result']);
    assert.equal(tools[0]!.status.code, 0);
    assert.equal(tools[1]!.status.code, 2);
    // The tool span runs from the call to the result (records are one second apart).
    assert.equal(BigInt(tools[0]!.endTimeUnixNano) - BigInt(tools[0]!.startTimeUnixNano), 2_000_000_000n);
  });

  it('puts the task records before the session on the session span, and every record somewhere once', () => {
    const spans = spansOf(toOtlp(records));
    const root = spans.find((s) => s.name === 'invoke_agent')!;
    assert.deepEqual(
      root.events.map((e) => e.name),
      ['task.started', 'session.created', 'message.user', 'usage', 'usage', 'task.finished'],
    );
    const seqs = spans.flatMap((s) => s.events.map((e) => Number(attrs(e.attributes)['deputy.audit.seq']))).sort((a, b) => a - b);
    assert.deepEqual(seqs, records.map((r) => r.seq));
    const started = root.events[0]!;
    assert.equal(attrs(started.attributes)['deputy.audit.hash'], records[1]!.hash);
    assert.equal(attrs(started.attributes)['deputy.data.task'], 'fix the bug');
    assert.equal(started.timeUnixNano, `${Date.parse(records[1]!.time)}000000`);
    assert.equal(root.startTimeUnixNano, started.timeUnixNano);
    const identity = spans.find((s) => s.name === 'deputy.audit')!;
    assert.notEqual(identity.traceId, root.traceId);
    assert.deepEqual(identity.events.map((e) => e.name), ['identity.resolved']);
  });

  it('derives ids from the records, so two exports agree and two tasks differ', () => {
    const again = spansOf(toOtlp(records));
    assert.deepEqual(spansOf(toOtlp(records)).map((s) => s.spanId), again.map((s) => s.spanId));
    const other = records.map((r) => (r.task === 'task_1' ? { ...r, task: 'task_2' } : r));
    const a = spansOf(toOtlp(records)).find((s) => s.name === 'invoke_agent')!;
    const b = spansOf(toOtlp(other)).find((s) => s.name === 'invoke_agent')!;
    assert.notEqual(a.traceId, b.traceId);
  });
});
