/**
 * Stop all reaches sessions whose Deputy process is gone: three `deputy run` on two `deputy serve` runtimes (two
 * endpoints), each waiting on a person — two on a permission question, one on the review of a proposed file — are
 * killed outright (SIGKILL: no chance to cancel anything). Their sessions keep waiting at the runtimes. `deputy stop
 * --all` then finds them through the endpoints the runs remembered and the owner each session carries, cancels every
 * one, and waits until each reports it is no longer running. The questions are never answered yes, the proposed file
 * is not written (it stays in the session's items, to be reviewed afresh), and a session whose process is alive and
 * answering is left to that process.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { startScriptedModel, type ScriptedTurn } from '../fixtures/model-server.js';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { serve, type Served } from '../helpers/serve.js';
import { deferrals } from '../helpers/defer.js';

const askForEnv: ScriptedTurn = { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] };
const propose: ScriptedTurn = {
  toolCalls: [{ name: 'propose_changes', arguments: { summary: 'greet', changes: [{ path: 'hello.txt', operation: 'create', diff: '*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch' }] } }],
};

function startRun(cwd: string, server: Served, env: NodeJS.ProcessEnv) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI, 'run', '--endpoint', server.url, '--token-file', server.tokenFile!, 'Do the thing'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, exited, output: () => out };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

test('deputy stop --all cancels the sessions of dead processes on every endpoint they used, two runtimes at once', async (t) => {
  const defer = deferrals(t);
  const home = await mkdtemp(join(tmpdir(), 'deputy-stop-endpoints-'));
  const env = { DEPUTY_HOME: join(home, 'state') };
  defer(() => rm(home, { recursive: true, force: true }));
  const repos = await Promise.all([0, 1, 2, 3].map(() => makeRepo({ '.env': 'TOKEN=x\n', 'a.txt': 'a\n' })));
  defer(() => Promise.all(repos.map((r) => r.cleanup())));
  const modelA = await startScriptedModel([askForEnv, propose, askForEnv]);
  const modelB = await startScriptedModel([askForEnv]);
  defer(() => Promise.all([modelA.close(), modelB.close()]));
  const runtimes = await Promise.all(
    [modelA, modelB].map((m, i) => serve(['--port', '0', '--data-dir', join(home, `runtime-${i}`), '--model-base-url', m.baseURL, '--model', 'scripted'])),
  );
  defer(() => Promise.all(runtimes.map((r) => r.stop())));
  const [a, b] = runtimes as [Served, Served];

  // Three runs that die waiting for a person: two questions on A (one after the other, so the script is in order)
  // then a review on A, and a question on B.
  const doomed = [];
  for (const [repo, server, waitFor] of [
    [repos[0]!, a, /\.env/],
    [repos[1]!, a, /hello\.txt/],
    [repos[2]!, b, /\.env/],
  ] as const) {
    const run = startRun(repo.root, server, env);
    defer(() => run.child.kill('SIGKILL'));
    await until(`the run on ${server.url} to wait for a person`, () => waitFor.test(run.output()) && /The agent wants to|Proposed change/.test(run.output()));
    doomed.push(run);
  }
  // A fourth, alive and answering Stop all itself, on A.
  const alive = startRun(repos[3]!.root, a, env);
  defer(() => alive.child.kill('SIGKILL'));
  await until('the live run to ask', () => /The agent wants to/.test(alive.output()));

  for (const run of doomed) run.child.kill('SIGKILL');
  await Promise.all(doomed.map((r) => r.exited));

  const clients = runtimes.map(async (r) => new OpenAI({ baseURL: `${r.url}/v1`, apiKey: (await readFile(r.tokenFile!, 'utf8')).trim() }));
  const [ca, cb] = await Promise.all(clients);
  const running = async (c: OpenAI) => {
    const out = [];
    for await (const s of c.beta.agents.sessions.list({ limit: 100 })) if (s.status === 'requires_action' || s.status === 'in_progress') out.push(s);
    return out;
  };
  assert.equal((await running(ca!)).length, 3, 'two orphaned sessions and the live one wait on A');
  assert.equal((await running(cb!)).length, 1, 'one orphaned session waits on B');
  const owners = (await running(ca!)).map((s) => s.metadata?.['deputy.owner'] ?? '');
  assert.ok(owners.every((o) => /^.+\/\d+\/\d*$/.test(o)), `each session names its owner: ${owners.join(', ')}`);

  const stop = await runCli(['stop', '--all', '--timeout', '60'], { cwd: home, env });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  // The live run answered for its own session; the three orphans were stopped at their endpoints, on both.
  assert.match(stop.stdout, /^stopped  deputy run in .*\(pid \d+\): 1 session after/m);
  assert.equal(stop.stdout.match(/^stopped  sess_\S+ on Deputy runtime .* \(its process \d+ is gone\): turn cancelled after \d+\.\d\d s$/gm)?.length, 3, stop.stdout);
  assert.match(stop.stdout, new RegExp(`on Deputy runtime ${b.url.replace(/[.:/]/g, '\\$&')}`));
  assert.match(stop.stdout, /4 sessions stopped in 1 process and 3 whose process was gone; the last reported after \d+\.\d\d s/);

  assert.deepEqual(await running(ca!), [], 'nothing runs on A any more');
  assert.deepEqual(await running(cb!), [], 'nothing runs on B any more');
  // The person never answered: nothing was read for the agent, and the proposed file was not written. The proposal
  // is still in its session's items, to be reviewed afresh.
  assert.equal(existsSync(join(repos[1]!.root, 'hello.txt')), false);
  const proposedIn = [];
  for await (const s of ca!.beta.agents.sessions.list({ limit: 100 })) {
    for await (const item of ca!.beta.agents.sessions.items.list(s.id)) {
      if (item.type === 'function_call' && (item as { name?: string }).name === 'propose_changes') proposedIn.push(s.id);
    }
  }
  assert.equal(proposedIn.length, 1, 'the unapplied proposal stays with its session');
  await alive.exited;
  assert.match(alive.output(), /Stop all was pulled/);

  // Pulled again with nothing left: nothing to do, and it says so.
  const again = await runCli(['stop', '--all'], { cwd: home, env });
  assert.equal(again.code, 0, again.stdout);
  assert.match(again.stdout, /No Deputy process or session of yours is running here/);
});
