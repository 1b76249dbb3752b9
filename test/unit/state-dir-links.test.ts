/**
 * Deputy's own state (`.deputy/`, `.deputy/audit/`, `.deputy/runtime/` and the files in them) is never used through
 * a symbolic link or when someone else owns it: a repository that commits `.deputy` as a link to elsewhere cannot
 * redirect the audit trail or the runtime's store. Each case checks that nothing was written where the link points.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, verifyAudit, type AuditActor } from '../../src/core/audit.js';
import { StateDirError, ensureStateDir, openStateFile } from '../../src/core/state-dir.js';
import { runCli } from '../helpers/cli.js';

const actor: AuditActor = { principal: 'arn:aws:iam::123456789012:user/alice' };

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-state-dir-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A workspace and, beside it, a folder outside it that links may point to. */
async function workspaceAndOutside(): Promise<{ ws: string; outside: string }> {
  const base = await fs.mkdtemp(path.join(tmp, 'case-'));
  const ws = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  await fs.mkdir(ws);
  await fs.mkdir(outside);
  return { ws, outside };
}

async function listAll(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

describe("Deputy's own state is refused through a link", () => {
  it('a committed .deputy link: the audit log is not opened and nothing is written through it', async () => {
    const { ws, outside } = await workspaceAndOutside();
    await fs.symlink(outside, path.join(ws, '.deputy'));
    await assert.rejects(AuditLog.open(ws), (err: unknown) => {
      assert.ok(err instanceof StateDirError);
      assert.equal(err.path, path.join(ws, '.deputy'));
      assert.match(err.message, /\.deputy is a symbolic link \(to .*outside\).*Remove the link/s);
      return true;
    });
    assert.deepEqual(await listAll(outside), []);
  });

  it('a committed .deputy/audit link', async () => {
    const { ws, outside } = await workspaceAndOutside();
    await fs.mkdir(path.join(ws, '.deputy'));
    await fs.symlink(outside, path.join(ws, '.deputy', 'audit'));
    await assert.rejects(AuditLog.open(ws), StateDirError);
    assert.deepEqual(await listAll(outside), []);
  });

  it('a committed audit.jsonl link to a file elsewhere: that file is left as it was', async () => {
    const { ws, outside } = await workspaceAndOutside();
    const target = path.join(outside, 'victim.txt');
    await fs.writeFile(target, 'precious\n');
    await fs.mkdir(path.join(ws, '.deputy', 'audit'), { recursive: true });
    await fs.symlink(target, path.join(ws, '.deputy', 'audit', 'audit.jsonl'));
    await assert.rejects(AuditLog.open(ws), /audit\.jsonl is a symbolic link/);
    assert.equal(await fs.readFile(target, 'utf8'), 'precious\n');
  });

  it('an audit.head link is refused, not read or replaced through', async () => {
    const { ws, outside } = await workspaceAndOutside();
    const log = await AuditLog.open(ws);
    await log.append({ type: 'usage', actor, data: {} });
    await log.close();
    const head = path.join(ws, '.deputy', 'audit', 'audit.head');
    const target = path.join(outside, 'head.txt');
    await fs.writeFile(target, await fs.readFile(head));
    await fs.rm(head);
    await fs.symlink(target, head);
    await assert.rejects(AuditLog.open(ws), /audit\.head is a symbolic link/);
    assert.equal((await fs.lstat(head)).isSymbolicLink(), true);
  });

  it('a real .deputy works as before (control)', async () => {
    const { ws } = await workspaceAndOutside();
    const log = await AuditLog.open(ws);
    await log.append({ type: 'usage', actor, data: {} });
    await log.close();
    assert.deepEqual(await verifyAudit(log.file), { ok: true, records: 1, tailChecked: true });
    assert.equal((await fs.stat(path.join(ws, '.deputy'))).mode & 0o777, 0o700);
  });

  it('a runtime data folder through a .deputy link is refused before anything is created', async () => {
    const { ws, outside } = await workspaceAndOutside();
    await fs.symlink(outside, path.join(ws, '.deputy'));
    await assert.rejects(ensureStateDir(path.join(ws, '.deputy', 'runtime')), StateDirError);
    assert.deepEqual(await listAll(outside), []);
    // A data folder given by flag outside any .deputy: only the folder itself must be real.
    const custom = path.join(outside, 'data');
    await ensureStateDir(custom);
    assert.equal((await fs.lstat(custom)).isDirectory(), true);
    await fs.symlink(custom, path.join(outside, 'data-link'));
    await assert.rejects(ensureStateDir(path.join(outside, 'data-link')), StateDirError);
  });

  it('a folder or file owned by another user is refused', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
    const { ws } = await workspaceAndOutside();
    await fs.mkdir(path.join(ws, '.deputy'));
    await fs.chown(path.join(ws, '.deputy'), 4242, 4242);
    await assert.rejects(AuditLog.open(ws), /\.deputy belongs to user id 4242, not to you/);
    await fs.chown(path.join(ws, '.deputy'), 0, 0);
    await ensureStateDir(path.join(ws, '.deputy', 'audit'));
    const file = path.join(ws, '.deputy', 'audit', 'x');
    await fs.writeFile(file, '');
    await fs.chown(file, 4242, 4242);
    await assert.rejects(openStateFile(file, 'a'), /belongs to user id 4242/);
  });

  it('deputy run in a workspace with a committed .deputy link stops with a clear error and writes nothing through it', async () => {
    const { ws, outside } = await workspaceAndOutside();
    await fs.symlink(outside, path.join(ws, '.deputy'));
    const r = await runCli(['run', 'do something'], { cwd: ws, env: { DEPUTY_MODEL_API_KEY: 'unused' } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /\.deputy is a symbolic link/);
    assert.deepEqual(await listAll(outside), []);
  });
});
