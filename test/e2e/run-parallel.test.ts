/**
 * Two `deputy run` in one workspace at once: the second finds the workspace's store owned by the first (alive)
 * and keeps its sessions in a store of its own, so neither disturbs the other's turn. Each finishes with its own
 * answer; a later run uses the workspace's store again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const asks = (req: RecordedRequest, text: string) => JSON.stringify(req.body).includes(text);

test('two deputy run in one workspace: the second uses its own store and both turns complete', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'one\n' });
  t.after(() => repo.cleanup());
  // The first task's answer is slow, so the second run starts and finishes while the first is mid-turn.
  const answer = (req: RecordedRequest) =>
    asks(req, 'first task') ? { text: 'first task answered', delayMs: 4000 } : { text: asks(req, 'second task') ? 'second task answered' : 'third task answered' };
  const model = await startScriptedModel([answer, answer, answer]);
  t.after(() => model.close());
  const flags = ['--model-base-url', model.baseURL, '--model', 'scripted'];

  const first = spawn(process.execPath, [CLI, 'run', ...flags, 'first task'], {
    cwd: repo.root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => void first.kill('SIGKILL'));
  first.stdin.end();
  let out = '';
  first.stdout.on('data', (d: Buffer) => (out += d.toString()));
  first.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
  while (!model.requests.some((r) => r.path === '/v1/responses' && asks(r, 'first task'))) {
    if (first.exitCode !== null) assert.fail(`the first run ended early:\n${out}`);
    await delay(10);
  }

  const second = await runCli(['run', ...flags, 'second task'], { cwd: repo.root });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /second task answered/);
  const workspaceStore = join(repo.root, '.deputy', 'runtime');
  assert.match(second.stdout, new RegExp(`store ${join(workspaceStore, 'parallel', '1').replace(/[.]/g, '\\.')}: .* is in use by process ${first.pid}`));

  const deadline = setTimeout(() => first.kill('SIGKILL'), 30_000);
  const code = await firstExit;
  clearTimeout(deadline);
  assert.equal(code, 0, out);
  assert.match(out, /first task answered/);
  assert.doesNotMatch(out, /stopped while this turn was running/);

  const third = await runCli(['run', ...flags, 'third task'], { cwd: repo.root });
  assert.equal(third.code, 0, third.stdout + third.stderr);
  assert.doesNotMatch(third.stdout, /in use by process/);
  assert.ok(existsSync(join(workspaceStore, 'runtime.db')));
});
