/**
 * The kill switch's meeting place (`~/.deputy/kill-switch/`, or under `DEPUTY_HOME`): a registration left by a
 * process that died and whose pid now belongs to another process is not waited for, and the folder is Deputy's
 * own whatever `DEPUTY_HOME` is called (a link in it is refused, nothing is written through it).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { KillSwitch, pullKillSwitch, type LiveProcess } from '../../src/core/kill-switch.js';
import { StateDirError, processStart } from '../../src/core/state-dir.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'deputy-kill-switch-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

test('a registration whose pid was reused by another process is not waited for, and is removed', async (t) => {
  const home = path.join(await scratch(t), '.deputy');
  const env = { DEPUTY_HOME: home };
  // A live registration written the way a process that has since died wrote it: its pid is now this test's
  // process (running, so a pid check alone would wait for it), its start time is not.
  const live = path.join(home, 'kill-switch', 'live');
  await fs.mkdir(live, { recursive: true, mode: 0o700 });
  const ghost: LiveProcess = { pid: process.pid, host: hostname(), kind: 'run', describe: 'deputy run in /gone', since: '2026-01-01T00:00:00Z', processStart: '1' };
  assert.notEqual(await processStart(process.pid), '1');
  await fs.writeFile(path.join(live, `${process.pid}.json`), JSON.stringify(ghost), { mode: 0o600 });

  const result = await pullKillSwitch(env, { by: 'test', from: 'test' }, { timeoutMs: 4000 });
  assert.deepEqual(result.silent, [], 'the stranger with the old pid was not waited for');
  assert.deepEqual(result.answered, []);
  assert.deepEqual(await fs.readdir(live), [], 'the stale registration was removed');

  // The control: the same pid registered with its real start time is waited for (and answers).
  const sw = await KillSwitch.register(env, { kind: 'run', describe: 'this test' }, () => Promise.resolve(2));
  t.after(() => sw.close());
  const real = JSON.parse(await fs.readFile(path.join(live, `${process.pid}.json`), 'utf8')) as LiveProcess;
  assert.equal(real.processStart, await processStart(process.pid));
  const second = await pullKillSwitch(env, { by: 'test', from: 'test' }, { timeoutMs: 10_000 });
  assert.deepEqual(second.answered.map((a) => [a.pid, a.stopped]), [[process.pid, 2]]);
});

test('DEPUTY_HOME under any name is checked like ~/.deputy: a link inside it is refused and nothing is written through it', async (t) => {
  const base = await scratch(t);
  const home = path.join(base, 'deputy-state');
  const elsewhere = path.join(base, 'elsewhere');
  await fs.mkdir(home, { mode: 0o700 });
  await fs.mkdir(elsewhere);
  await fs.symlink(elsewhere, path.join(home, 'kill-switch'));
  const env = { DEPUTY_HOME: home };

  await assert.rejects(pullKillSwitch(env, { by: 'test', from: 'test' }, { timeoutMs: 1000 }), StateDirError);
  await assert.rejects(KillSwitch.register(env, { kind: 'run', describe: 'test' }, () => Promise.resolve(0)), StateDirError);
  assert.deepEqual(await fs.readdir(elsewhere), [], 'nothing was written where the link points');

  // The home folder itself as a link is refused too.
  const linked = path.join(base, 'linked-home');
  await fs.symlink(elsewhere, linked);
  await assert.rejects(pullKillSwitch({ DEPUTY_HOME: linked }, { by: 'test', from: 'test' }, { timeoutMs: 1000 }), StateDirError);
  assert.deepEqual(await fs.readdir(elsewhere), []);
});

test('two Stop-all pulls at once from one process both go through (Stop all pressed twice in one window)', async (t) => {
  const home = path.join(await scratch(t), '.deputy');
  const env = { DEPUTY_HOME: home };
  const sw = await KillSwitch.register(env, { kind: 'editor', describe: 'this test' }, () => Promise.resolve(1));
  t.after(() => sw.close());
  // Both write request.json at the same moment: each through a temp file of its own, so neither rename loses the
  // other's file (with one temp name per process, the second rename found nothing and that pull failed).
  const pulls = await Promise.allSettled([0, 1, 2].map((i) => pullKillSwitch(env, { by: 'test', from: `pull ${i}` }, { timeoutMs: 10_000 })));
  assert.deepEqual(pulls.map((p) => (p.status === 'rejected' ? String(p.reason) : 'ok')), ['ok', 'ok', 'ok']);
  for (const p of pulls) if (p.status === 'fulfilled') assert.deepEqual(p.value.answered.map((a) => a.pid), [process.pid]);
  const request = JSON.parse(await fs.readFile(path.join(home, 'kill-switch', 'request.json'), 'utf8')) as { from: string };
  assert.match(request.from, /^pull \d$/);
  assert.deepEqual((await fs.readdir(path.join(home, 'kill-switch'))).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
});
