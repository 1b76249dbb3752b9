import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditLog, readAudit, verifyAudit, type AuditActor } from '../../src/core/audit.js';

const actor: AuditActor = { principal: 'arn:aws:iam::123456789012:user/alice' };
const repoRoot = path.resolve(__dirname, '..', '..');

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-audit-conc-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Runs `count` appends tagged `writer` from a separate Node process. */
function childWriter(script: string, root: string, writer: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, writer, String(count)], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}: ${stderr}`))));
  });
}

describe('AuditLog with several writers', () => {
  it('two instances in one process interleave without forking the chain', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const [a, b] = await Promise.all([AuditLog.open(root), AuditLog.open(root)]);
    await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => a!.append({ type: 'usage', actor, data: { writer: 'a', i } })),
      ...Array.from({ length: 25 }, (_, i) => b!.append({ type: 'usage', actor, data: { writer: 'b', i } })),
    ]);
    await Promise.all([a!.close(), b!.close()]);
    assert.deepEqual(await verifyAudit(a!.file), { ok: true, records: 50, tailChecked: true });
    const records = await readAudit(a!.file);
    for (const writer of ['a', 'b']) {
      const mine = records.filter((r) => r.data.writer === writer).map((r) => r.data.i);
      assert.deepEqual(mine, Array.from({ length: 25 }, (_, i) => i), `writer ${writer} kept its order`);
    }
  });

  it('three processes appending at once leave one intact chain with every record', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const script = path.join(tmp, 'writer.mjs');
    await fs.writeFile(
      script,
      `import { AuditLog } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'src/core/audit.ts')).href)};
const [root, writer, count] = process.argv.slice(2);
const log = await AuditLog.open(root);
for (let i = 0; i < Number(count); i++) {
  await log.append({ type: 'usage', actor: { principal: writer }, data: { writer, i } });
}
await log.close();
`,
    );
    await Promise.all(['p1', 'p2', 'p3'].map((writer) => childWriter(script, root, writer, 30)));
    const file = path.join(root, '.deputy', 'audit', 'audit.jsonl');
    assert.deepEqual(await verifyAudit(file), { ok: true, records: 90, tailChecked: true });
    const records = await readAudit(file);
    for (const writer of ['p1', 'p2', 'p3']) {
      assert.deepEqual(
        records.filter((r) => r.actor.principal === writer).map((r) => r.data.i),
        Array.from({ length: 30 }, (_, i) => i),
      );
    }
    await assert.rejects(fs.stat(`${file}.lock`), { code: 'ENOENT' });
  });

  it('recovers a lock left by a process that died', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root, { lock: { timeoutMs: 5_000 } });
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    await fs.writeFile(
      `${log.file}.lock`,
      JSON.stringify({ pid: dead, host: os.hostname(), token: 'left-behind', since: new Date().toISOString() }),
    );
    const record = await log.append({ type: 'usage', actor });
    await log.close();
    assert.equal(record.seq, 1);
    await assert.rejects(fs.stat(`${log.file}.lock`), { code: 'ENOENT' });
  });

  it('recovers an abandoned lock from another host once it is old', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root, { lock: { staleMs: 1_000, timeoutMs: 5_000 } });
    const lock = `${log.file}.lock`;
    await fs.writeFile(lock, JSON.stringify({ pid: 1, host: 'elsewhere.invalid', token: 'old', since: '2020-01-01T00:00:00Z' }));
    const past = new Date(Date.now() - 60_000);
    await fs.utimes(lock, past, past);
    const record = await log.append({ type: 'usage', actor });
    await log.close();
    assert.equal(record.seq, 1);
  });

  it('waits for a live holder and says who holds the lock when it gives up', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root, { lock: { timeoutMs: 200 } });
    await fs.writeFile(
      `${log.file}.lock`,
      JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'live', since: new Date().toISOString() }),
    );
    await assert.rejects(log.append({ type: 'usage', actor }), new RegExp(`locked by another Deputy process \\(pid ${process.pid}`));
    await fs.rm(`${log.file}.lock`);
    assert.equal((await log.append({ type: 'usage', actor })).seq, 1);
    await log.close();
  });
});
