import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditIntegrityError, AuditLog, readAudit, verifyAudit, type AuditActor } from '../../src/core/audit.js';
import { recordHash } from '../../src/core/audit-record.js';
import { sha256Hex } from '../../src/core/workspace-text.js';

const actor: AuditActor = { principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice', account: '123456789012', client: 'deputy/0.1.0' };

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-audit-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A fresh workspace with `n` records written through AuditLog; returns the log file. */
async function workspaceWith(n: number): Promise<string> {
  const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
  const log = await AuditLog.open(root);
  for (let i = 1; i <= n; i++) {
    await log.append({ type: 'message.agent', session: 's1', task: 't1', actor, data: { text: `step ${i}` } });
  }
  await log.close();
  return log.file;
}

async function lines(file: string): Promise<string[]> {
  return (await fs.readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function writeLines(file: string, content: string[]): Promise<void> {
  await fs.writeFile(file, content.map((l) => `${l}\n`).join(''));
}

describe('AuditLog', () => {
  it('writes a chain under .deputy/audit that verifies, with head pinned to the last record', async () => {
    const file = await workspaceWith(5);
    assert.match(file, /\.deputy[\\/]audit[\\/]audit\.jsonl$/);
    const records = await readAudit(file);
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(records[0]!.prev, '0'.repeat(64));
    const raw = await lines(file);
    for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prev, sha256Hex(raw[i - 1]!));
    for (const r of records) assert.equal(r.hash, recordHash(r));
    assert.equal(records[2]!.actor.principal, actor.principal);
    assert.equal(records[2]!.session, 's1');
    assert.deepEqual(records[2]!.data, { text: 'step 3' });
    const head = JSON.parse(await fs.readFile(path.join(path.dirname(file), 'audit.head'), 'utf8'));
    assert.deepEqual(head, { seq: 5, hash: records[4]!.hash });
    assert.deepEqual(await verifyAudit(file), { ok: true, records: 5, tailChecked: true });
  });

  it('continues the chain across reopenings', async () => {
    const file = await workspaceWith(2);
    const root = path.dirname(path.dirname(path.dirname(file)));
    const log = await AuditLog.open(root);
    const third = await log.append({ type: 'task.finished', task: 't1', actor, data: { status: 'completed' } });
    await log.close();
    assert.equal(third.seq, 3);
    assert.equal(third.session, null);
    assert.deepEqual(await verifyAudit(file), { ok: true, records: 3, tailChecked: true });
  });

  it('keeps the order of appends issued without awaiting', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root);
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) => log.append({ type: 'usage', actor, data: { n: i } })),
    );
    await log.close();
    assert.deepEqual(appended.map((r) => r.data.n), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(appended.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await verifyAudit(log.file)).ok, true);
  });

  it('redacts secrets in data before they reach the disk', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root);
    await log.append({
      type: 'error',
      actor,
      data: { message: 'call failed with Authorization: Bearer abcdefghijklmnop1234', apiKey: 'sk-live-secret', input_tokens: 12 },
    });
    await log.close();
    const text = await fs.readFile(log.file, 'utf8');
    assert.doesNotMatch(text, /abcdefghijklmnop1234|sk-live-secret/);
    const [record] = await readAudit(log.file);
    assert.deepEqual(record!.data, { message: 'call failed with Authorization: [redacted]', apiKey: '[redacted]', input_tokens: 12 });
  });

  it('refuses appends after close', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root);
    await log.close();
    await assert.rejects(log.append({ type: 'usage', actor }), /closed/);
  });

  it('refuses to continue a chain whose tail was cut off, instead of hiding it', async () => {
    const file = await workspaceWith(4);
    await writeLines(file, (await lines(file)).slice(0, 3));
    const root = path.dirname(path.dirname(path.dirname(file)));
    await assert.rejects(AuditLog.open(root), /does not match its audit\.head.*record 4 is missing/s);
  });

  it('refuses to continue a chain that ends in a torn line', async () => {
    const file = await workspaceWith(2);
    await fs.appendFile(file, '{"v":1,"seq":3,');
    const root = path.dirname(path.dirname(path.dirname(file)));
    await assert.rejects(AuditLog.open(root), /ends with a damaged record/);
  });
});

describe('verifyAudit', () => {
  it('names a record edited in place', async () => {
    const file = await workspaceWith(8);
    const raw = await lines(file);
    raw[6] = raw[6]!.replace('step 7', 'step 7 (harmless)');
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.deepEqual(result, { ok: false, records: 6, badIndex: 7, reason: 'was altered: hash mismatch' });
  });

  it('names the record after one edited and re-hashed', async () => {
    const file = await workspaceWith(5);
    const raw = await lines(file);
    const record = JSON.parse(raw[1]!);
    record.data.text = 'rewritten';
    record.hash = recordHash(record);
    raw[1] = JSON.stringify(record);
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /does not chain to record 2/);
  });

  it('names the gap where a middle record was removed', async () => {
    const file = await workspaceWith(6);
    const raw = await lines(file);
    raw.splice(3, 1);
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 4);
    assert.match(!result.ok ? result.reason : '', /carries seq 5, expected 4.*removed/);
  });

  it('catches the last record removed, through the head', async () => {
    const file = await workspaceWith(6);
    await writeLines(file, (await lines(file)).slice(0, 5));
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 6);
    assert.match(!result.ok ? result.reason : '', /is missing: audit\.head says 6 records.*ends after 5/);
  });

  it('catches a truncated tail of several records', async () => {
    const file = await workspaceWith(9);
    await writeLines(file, (await lines(file)).slice(0, 4));
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 5);
  });

  it('catches the whole log emptied', async () => {
    const file = await workspaceWith(3);
    await fs.writeFile(file, '');
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 1);
  });

  it('names an inserted record', async () => {
    const file = await workspaceWith(5);
    const raw = await lines(file);
    const forged = JSON.parse(raw[1]!);
    forged.data.text = 'forged';
    forged.hash = recordHash(forged);
    raw.splice(2, 0, JSON.stringify(forged));
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /carries seq 2, expected 3.*inserted/);
  });

  it('names an inserted record renumbered to fit', async () => {
    const file = await workspaceWith(4);
    const raw = await lines(file);
    const forged = JSON.parse(raw[1]!);
    forged.seq = 3;
    forged.data.text = 'forged';
    forged.hash = recordHash(forged);
    raw.splice(2, 0, JSON.stringify(forged));
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /prev mismatch/);
  });

  it('names the first of two swapped records', async () => {
    const file = await workspaceWith(6);
    const raw = await lines(file);
    [raw[2], raw[3]] = [raw[3]!, raw[2]!];
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /reordered/);
  });

  it('reports a malformed line as the bad record', async () => {
    const file = await workspaceWith(4);
    const raw = await lines(file);
    raw[1] = raw[1]!.slice(0, 40);
    await writeLines(file, raw);
    assert.deepEqual(await verifyAudit(file), { ok: false, records: 1, badIndex: 2, reason: 'is not valid JSON' });
  });

  it('reports a record replaced at the end, through the head', async () => {
    const file = await workspaceWith(3);
    const raw = await lines(file);
    const last = JSON.parse(raw[2]!);
    last.data.text = 'replaced';
    last.hash = recordHash(last);
    raw[2] = JSON.stringify(last);
    await writeLines(file, raw);
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /does not match audit\.head/);
  });

  it('treats a deleted head in the workspace as possible truncation, but not for a copy elsewhere', async () => {
    const file = await workspaceWith(3);
    const copy = path.join(tmp, `copy-${path.basename(path.dirname(path.dirname(path.dirname(file))))}.jsonl`);
    await fs.copyFile(file, copy);
    await fs.rm(path.join(path.dirname(file), 'audit.head'));
    const result = await verifyAudit(file);
    assert.equal(!result.ok && result.badIndex, 4);
    assert.match(!result.ok ? result.reason : '', /audit\.head is missing/);
    assert.deepEqual(await verifyAudit(copy), { ok: true, records: 3, tailChecked: false });
  });

  it('reports a record past the head: a forged record appended at the end, or a crash before the head was written', async () => {
    const file = await workspaceWith(3);
    const [, second] = await readAudit(file);
    await fs.writeFile(path.join(path.dirname(file), 'audit.head'), JSON.stringify({ seq: 2, hash: second!.hash }));
    const result = await verifyAudit(file);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.badIndex, 3);
    assert.match(!result.ok ? result.reason : '', /added after the last record Deputy confirmed/);
  });

  it('does not append past a record it never confirmed, so a forgery cannot be laundered by the next write', async () => {
    const file = await workspaceWith(3);
    const [, second] = await readAudit(file);
    await fs.writeFile(path.join(path.dirname(file), 'audit.head'), JSON.stringify({ seq: 2, hash: second!.hash }));
    await assert.rejects(AuditLog.open(path.dirname(path.dirname(path.dirname(file)))), AuditIntegrityError);
  });

  it('throws when there is neither log nor head', async () => {
    await assert.rejects(verifyAudit(path.join(tmp, 'nowhere', 'audit.jsonl')), /There is no audit log/);
  });
});
