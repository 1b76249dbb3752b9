import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { auditCommand } from '../../src/cli/audit.js';
import { UserError, type CliIO } from '../../src/cli/io.js';
import { AuditLog, verifyAudit, type AuditActor } from '../../src/core/audit.js';

const actor: AuditActor = { principal: 'arn:aws:iam::123456789012:user/alice' };

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-cli-audit-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function run(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIO = { stdin: new PassThrough(), stdout, stderr, env: {}, cwd };
  const code = await auditCommand(argv, io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

async function workspace(records: number): Promise<string> {
  const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
  const log = await AuditLog.open(root);
  await log.append({ type: 'task.started', task: 't1', actor, data: { task: 'demo' } });
  for (let i = 2; i <= records; i++) {
    await log.append({ type: 'tool.call', session: 's1', task: 't1', actor, data: { call_id: `c${i}`, tool: 'workspace_read' } });
  }
  await log.close();
  return root;
}

const logOf = (root: string) => path.join(root, '.deputy', 'audit', 'audit.jsonl');

describe('deputy audit verify', () => {
  it('exits 0 with the record count for an intact chain in the current workspace', async () => {
    const root = await workspace(4);
    assert.deepEqual(await run(['verify'], root), { code: 0, stdout: 'intact: 4 records\n', stderr: '' });
  });

  it('exits 1 naming the first altered record', async () => {
    const root = await workspace(8);
    const lines = (await fs.readFile(logOf(root), 'utf8')).split('\n');
    lines[6] = lines[6]!.replace('"c7"', '"c9"');
    await fs.writeFile(logOf(root), lines.join('\n'));
    const result = await run(['verify'], root);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, 'audit.jsonl: record 7 (line 7) was altered: hash mismatch\n');
  });

  it('verifies a FILE given relative to the current directory, and notes when no head pins its end', async () => {
    const root = await workspace(3);
    await fs.copyFile(logOf(root), path.join(root, 'copy.jsonl'));
    const result = await run(['verify', 'copy.jsonl'], root);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^intact: 3 records\nnote: no copy\.head beside .*copy\.jsonl/);
  });

  it('exits 1 with a plain message when there is no log', async () => {
    await assert.rejects(run(['verify'], tmp), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /There is no audit log at .*audit\.jsonl/);
      return true;
    });
  });

  it('exits 2 with usage for bad flags, missing or unknown subcommands', async () => {
    for (const argv of [['verify', '--bogus'], [], ['inspect'], ['verify', 'a', 'b'], ['export', '--format', 'csv']]) {
      const result = await run(argv, tmp);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, /Usage:\n {2}deputy audit verify/);
      assert.equal(result.stdout, '');
    }
  });

  it('prints help on --help', async () => {
    for (const argv of [['--help'], ['verify', '--help'], ['export', '-h']]) {
      const result = await run(argv, tmp);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /deputy audit export \[--format jsonl\|otlp\]/);
    }
  });
});

describe('deputy audit export', () => {
  it('writes the chain as stored, still verifiable, to --out', async () => {
    const root = await workspace(5);
    const result = await run(['export', '--format', 'jsonl', '--out', 'out/trail.jsonl'], root);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /exported 5 records as jsonl to .*trail\.jsonl/);
    const out = path.join(root, 'out', 'trail.jsonl');
    assert.equal(await fs.readFile(out, 'utf8'), await fs.readFile(logOf(root), 'utf8'));
    assert.deepEqual(await verifyAudit(out), { ok: true, records: 5, tailChecked: false });
  });

  it('writes OTLP/JSON traces to standard output', async () => {
    const root = await workspace(3);
    const result = await run(['export', '--format', 'otlp'], root);
    assert.equal(result.code, 0);
    const doc = JSON.parse(result.stdout);
    const spans = doc.resourceSpans[0].scopeSpans[0].spans as Array<{ name: string }>;
    assert.deepEqual(spans.map((s) => s.name).sort(), ['execute_tool workspace_read', 'execute_tool workspace_read', 'invoke_agent']);
  });

  it('refuses a chain that fails verification unless --force', async () => {
    const root = await workspace(4);
    const lines = (await fs.readFile(logOf(root), 'utf8')).split('\n');
    lines.splice(1, 1);
    await fs.writeFile(logOf(root), lines.join('\n'));
    await assert.rejects(run(['export'], root), /record 2 \(line 2\) is out of sequence.*\nNothing was exported/s);
    const forced = await run(['export', '--force'], root);
    assert.equal(forced.code, 0);
    assert.match(forced.stderr, /^warning: audit\.jsonl: record 2 \(line 2\)/);
    assert.equal(forced.stdout.split('\n').filter(Boolean).length, 3);
  });

  it('will not overwrite the log it exports', async () => {
    const root = await workspace(2);
    await assert.rejects(run(['export', '--out', '.deputy/audit/audit.jsonl'], root), /is the audit log itself/);
  });
});
