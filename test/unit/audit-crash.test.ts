/**
 * A process killed (SIGKILL, no clean-up) at each step of an append leaves a chain the next writer continues and
 * `verifyAudit` accepts, while a record added by anyone else is still reported: the head protocol of
 * `src/core/audit-head.ts`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { auditCommand } from '../../src/cli/audit.js';
import type { CliIO } from '../../src/cli/io.js';
import { AuditIntegrityError, AuditLog, readAudit, verifyAudit, type AuditActor } from '../../src/core/audit.js';
import { GENESIS_PREV, formatRecordLine, recordHash, type AuditRecord } from '../../src/core/audit-record.js';
import { sha256Hex } from '../../src/core/workspace-text.js';

const actor: AuditActor = { principal: 'arn:aws:iam::123456789012:user/alice' };
const repoRoot = path.resolve(__dirname, '..', '..');

let tmp: string;
let script: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-audit-crash-'));
  script = path.join(tmp, 'crasher.mjs');
  // Appends `count` records one by one, then one more whose append is killed at `step`: SIGKILL to itself, so no
  // finally block, no close and no exit handler runs.
  await fs.writeFile(
    script,
    `import { AuditLog } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'src/core/audit.ts')).href)};
const [root, count, step] = process.argv.slice(2);
let armed = false;
let inLast = false;
// Only a step of the last record's batch: the previous burst may still confirm after 'armed' is set.
const log = await AuditLog.open(root, { onStep: (s) => {
  if (armed && s === 'announced') inLast = true;
  if (inLast && s === step) process.kill(process.pid, 'SIGKILL');
} });
for (let i = 1; i <= Number(count); i++) await log.append({ type: 'usage', actor: { principal: 'crasher' }, data: { i } });
armed = true;
await log.append({ type: 'usage', actor: { principal: 'crasher' }, data: { i: 'last' } });
await log.close();
`,
  );
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function crashAt(root: string, count: number, step: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, String(count), step], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal || code === 0 ? resolve(signal) : reject(new Error(`crasher exited ${code}: ${stderr}`))));
  });
}

function logFile(root: string): string {
  return path.join(root, '.deputy', 'audit', 'audit.jsonl');
}

async function appendOne(root: string, i: unknown): Promise<AuditRecord> {
  const log = await AuditLog.open(root);
  try {
    return await log.append({ type: 'usage', actor, data: { i } });
  } finally {
    await log.close();
  }
}

describe('audit trail after a crash in the middle of an append', () => {
  for (const [step, kept] of [
    ['announced', 3], // the head announced the record; the log never got it
    ['written', 4], // the record is in the log and fsync'd; the head was never confirmed
    ['confirmed', 4], // control: the crash came after the append was complete
  ] as const) {
    it(`killed after "${step}": verify accepts the chain and the next append continues it`, async () => {
      const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
      assert.equal(await crashAt(root, 3, step), 'SIGKILL');
      const file = logFile(root);
      assert.deepEqual(await verifyAudit(file), { ok: true, records: kept, tailChecked: true });

      const next = await appendOne(root, 'after');
      assert.equal(next.seq, kept + 1);
      assert.deepEqual(await verifyAudit(file), { ok: true, records: kept + 1, tailChecked: true });
      const records = await readAudit(file);
      assert.deepEqual(records.map((r) => r.data.i), [1, 2, 3, ...(kept === 4 ? ['last'] : []), 'after']);
    });
  }

  it('killed while announcing the second record of a chain whose first head was never written', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await appendOne(root, 1);
    await fs.rm(path.join(root, '.deputy', 'audit', 'audit.head')); // the crash window of the very first append
    assert.equal(await crashAt(root, 0, 'announced'), 'SIGKILL');
    assert.deepEqual(await verifyAudit(logFile(root)), { ok: true, records: 1, tailChecked: true });
    assert.equal((await appendOne(root, 'after')).seq, 2);
    assert.deepEqual(await verifyAudit(logFile(root)), { ok: true, records: 2, tailChecked: true });
  });

  it('a write cut short (torn batch) is reported as interrupted, then completed from the marker by the next append', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await crashAt(root, 2, 'announced');
    const file = logFile(root);
    const head = JSON.parse(await fs.readFile(path.join(path.dirname(file), 'audit.head'), 'utf8')) as { pending: { text: string } };
    // What a crash part-way through the write leaves: the first bytes of the announced batch.
    await fs.appendFile(file, head.pending.text.slice(0, 40));
    assert.deepEqual(await verifyAudit(file), { ok: true, records: 2, tailChecked: true, interrupted: { from: 3, to: 3 } });
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const io: CliIO = { stdin: new PassThrough(), stdout: out, stderr: new PassThrough(), env: {}, cwd: root };
    assert.equal(await auditCommand(['verify'], io), 0);
    assert.match(printed, /^intact: 2 records\nnote: an append of record 3 was cut short by a crash/);

    const next = await appendOne(root, 'after');
    assert.equal(next.seq, 4);
    assert.deepEqual(await verifyAudit(file), { ok: true, records: 4, tailChecked: true });
    assert.deepEqual((await readAudit(file)).map((r) => r.data.i), [1, 2, 'last', 'after']);
  });
});

describe('forgeries the head protocol still catches', () => {
  /** A record that chains correctly onto the log's last line: only the head can tell it was not Deputy's. */
  async function forgeAppend(file: string, data: Record<string, unknown>): Promise<void> {
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]!) as AuditRecord) : null;
    const body: Omit<AuditRecord, 'hash'> = {
      v: 1,
      seq: (last?.seq ?? 0) + 1,
      time: new Date().toISOString(),
      type: 'changeset.approved',
      session: 's1',
      task: 't1',
      actor,
      data,
      prev: last ? sha256Hex(lines[lines.length - 1]!) : GENESIS_PREV,
    };
    await fs.appendFile(file, `${formatRecordLine({ ...body, hash: recordHash(body) })}\n`);
  }

  it('a well-chained record appended without a marker is reported and never appended over', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await appendOne(root, 1);
    await appendOne(root, 2);
    const file = logFile(root);
    await forgeAppend(file, { path: 'src/evil.ts' });
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 3);
    await assert.rejects(AuditLog.open(root), AuditIntegrityError);
  });

  it('a record appended after a crash left a marker is reported: the marker vouches only for its own bytes', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await crashAt(root, 2, 'announced'); // the head now carries a pending marker for record 3
    const file = logFile(root);
    await forgeAppend(file, { path: 'src/evil.ts' }); // a different record 3
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 3);
    await assert.rejects(AuditLog.open(root), AuditIntegrityError);
  });

  it('a record appended after the announced batch was written is reported', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await crashAt(root, 2, 'written'); // record 3 written, head not yet confirmed
    const file = logFile(root);
    await forgeAppend(file, { path: 'src/evil.ts' }); // record 4
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 4);
    await assert.rejects(AuditLog.open(root), AuditIntegrityError);
  });
});

describe('appends queued together', () => {
  it('go out as one batch: one head announcement and one log write for the lot, still in call order', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    await appendOne(root, 0);
    const steps: string[] = [];
    const log = await AuditLog.open(root, { onStep: (s) => steps.push(s) });
    // Queued in one go while nothing is being written: they share one batch.
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append({ type: 'usage', actor, data: { i: i + 1 } })));
    await log.close();
    assert.deepEqual(steps, ['announced', 'written', 'confirmed']);
    assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => i + 2));
    assert.deepEqual(await verifyAudit(log.file), { ok: true, records: 21, tailChecked: true });
  });
});
