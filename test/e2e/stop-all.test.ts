/**
 * Stop all, with real processes: two `deputy run` in different workspaces and an editor's language server, each
 * with a turn waiting on a permission question; `deputy stop --all` from a third terminal stops every one of them
 * (turns cancelled at their endpoints, questions denied), waits for each to report, and says how long it took. A
 * process started after the switch was pulled is not affected by the old pull.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isFailure, StartTask } from '../../src/protocol/lsp.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { settingsFor, startServer } from '../server/server-client.js';
import { deferrals } from '../helpers/defer.js';

const askForEnv = { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] };

/** A `deputy run` whose stdin stays open (so its question waits), with its output collected. */
function startRun(cwd: string, modelUrl: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI, 'run', '--model-base-url', modelUrl, '--model', 'scripted', 'Read the env file'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

test('deputy stop --all stops every deputy run and every editor session of this person, and reports each', async (t) => {
  const defer = deferrals(t);
  const home = await mkdtemp(join(tmpdir(), 'deputy-stop-home-'));
  const env = { DEPUTY_HOME: join(home, '.deputy') };
  process.env.DEPUTY_HOME = env.DEPUTY_HOME;
  defer(() => {
    delete process.env.DEPUTY_HOME;
    return rm(home, { recursive: true, force: true });
  });
  const repos = await Promise.all([0, 1, 2].map(() => makeRepo({ '.env': 'TOKEN=x\n', 'a.txt': 'a\n' })));
  defer(() => Promise.all(repos.map((r) => r.cleanup())));
  const models = await Promise.all([0, 1, 2].map(() => startScriptedModel([askForEnv, { text: 'never reached' }])));
  defer(() => Promise.all(models.map((m) => m.close())));

  const runs = [startRun(repos[0]!.root, models[0]!.baseURL, env), startRun(repos[1]!.root, models[1]!.baseURL, env)];
  defer(() => runs.forEach((r) => r.child.kill('SIGKILL')));
  const server = await startServer([repos[2]!.root], settingsFor(models[2]!.baseURL));
  defer(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read the env file' });
  assert.ok(!isFailure(started));
  await server.waitFor('prompt.asked', undefined, 60_000);
  for (const r of runs) await until('the run to ask', () => /\.env/.test(r.output()) && /\[y\/N\]|allow|Allow/.test(r.output()));

  const stop = await runCli(['stop', '--all'], { cwd: home, env });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  assert.match(stop.stdout, /3 sessions stopped in 3 processes; the last reported after \d+\.\d\d s/);
  assert.equal(stop.stdout.match(/^stopped /gm)?.length, 3);
  assert.match(stop.stdout, /deputy run in .*\(pid \d+\): 1 session/);
  assert.match(stop.stdout, /VS Code window/);

  // Each run ended cancelled (exit 130) having said why; the editor's turn ended cancelled and its question denied.
  for (const r of runs) {
    assert.equal(await r.exited, 130, r.output());
    assert.match(r.output(), /Stop all was pulled/);
  }
  const ended = await server.waitFor('turn.ended');
  assert.equal(ended.outcome, 'cancelled');
  const withdrawn = server.events.find((e) => e.type === 'prompt.withdrawn');
  assert.ok(withdrawn, 'the open question was withdrawn (a deny)');

  // A pull with nothing running says so; a run started afterwards is not stopped by the old pull.
  const laterModel = await startScriptedModel([askForEnv, { text: 'never reached' }]);
  defer(() => laterModel.close());
  const later = startRun(repos[0]!.root, laterModel.baseURL, env);
  defer(() => later.child.kill('SIGKILL'));
  await delay(1500);
  assert.equal(later.child.exitCode, null, `a run started after the pull keeps going: ${later.output()}`);
});
