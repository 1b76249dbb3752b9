/**
 * SIGINT and SIGTERM end `deputy run` and `deputy serve` whatever the engine is doing, through the built CLI: a
 * prompt open, a request the endpoint never answers, a model call in flight. A second signal exits at once
 * (130 / 143); `serve` drains on SIGTERM and leaves a store the next start opens without recovering anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startScriptedModel } from '../fixtures/model-server.js';
import { recordOutput } from '../fixtures/leak-ledger.js';
import { CLI } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

interface Child {
  proc: ChildProcess;
  output(): string;
  /** Resolves once the output matches. */
  waitFor(re: RegExp): Promise<void>;
  exited: Promise<number | null>;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.filter((w) => w.re.test(out))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      recordOutput(`deputy ${args.join(' ')}`, out);
      resolve(code);
    }),
  );
  return {
    proc,
    output: () => out,
    waitFor: (re) => new Promise<void>((resolve) => (re.test(out) ? resolve() : waiters.push({ re, resolve }))),
    exited,
  };
}

/** A TCP server that accepts connections and never answers: an endpoint that hangs. */
async function blackHole() {
  const sockets = new Set<Socket>();
  let connected!: () => void;
  const firstConnection = new Promise<void>((resolve) => (connected = resolve));
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    connected();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    firstConnection,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`a second ${signal} ends deputy run at once while the endpoint hangs (exit ${code})`, { timeout: 60_000 }, async (t) => {
    const hole = await blackHole();
    t.after(() => hole.close());
    const repo = await makeRepo({ 'a.txt': 'alpha\n' });
    t.after(() => repo.cleanup());
    await writeFile(join(repo.root, 'token'), 'test-token\n');
    const run = start(['run', '--endpoint', hole.url, '--token-file', join(repo.root, 'token'), 'anything'], repo.root);
    await hole.firstConnection;
    run.proc.kill(signal);
    await run.waitFor(/Cancelling the turn/);
    run.proc.kill(signal);
    assert.equal(await run.exited, code, run.output());
  });
}

test('one SIGTERM ends deputy run even when the endpoint never answers', { timeout: 60_000 }, async (t) => {
  const hole = await blackHole();
  t.after(() => hole.close());
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  t.after(() => repo.cleanup());
  await writeFile(join(repo.root, 'token'), 'test-token\n');
  const run = start(['run', '--endpoint', hole.url, '--token-file', join(repo.root, 'token'), 'anything'], repo.root);
  await hole.firstConnection;
  run.proc.kill('SIGTERM');
  assert.equal(await run.exited, 143, run.output());
  assert.match(run.output(), /Cancelled/);
});

test('SIGTERM while a permission prompt is open cancels the turn and ends deputy run with 143', { timeout: 90_000 }, async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n', '.env': 'TOKEN=x\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] }, { text: 'unused' }]);
  t.after(() => model.close());
  const args = ['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'read the env file'];
  const run = start(args, repo.root);
  // stdin stays open and silent: the question waits for an answer.
  await run.waitFor(/Allow\? \[y\]es/);
  run.proc.kill('SIGTERM');
  assert.equal(await run.exited, 143, run.output());
  assert.match(run.output(), /Cancelled · session/);
  // The store it leaves behind opens for the next task in the same workspace.
  const again = await startScriptedModel([{ text: 'second task done' }]);
  t.after(() => again.close());
  const next = start(['run', '--model-base-url', again.baseURL, '--model', 'scripted', 'say hi'], repo.root);
  next.proc.stdin!.end();
  assert.equal(await next.exited, 0, next.output());
  assert.match(next.output(), /second task done/);
});

test('SIGTERM on deputy serve mid-stream drains, and the next start recovers nothing', { timeout: 90_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  // The model takes its time: the turn is mid model call when the signal arrives.
  const model = await startScriptedModel([{ text: 'slow answer', delayMs: 60_000 }]);
  t.after(() => model.close());
  const serveArgs = ['serve', '--port', '0', '--data-dir', dataDir, '--model-base-url', model.baseURL, '--model', 'scripted'];
  const first = start(serveArgs, dataDir);
  t.after(() => void first.proc.kill('SIGKILL'));
  await first.waitFor(/Upstream model/);
  const url = /Deputy runtime listening on (http:\/\/[^\s,]+)/.exec(first.output())![1]!;
  const token = /token written to (\S+)/.exec(first.output())![1]!;
  const { readFile } = await import('node:fs/promises');
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: (await readFile(token, 'utf8')).trim(), maxRetries: 0 });
  const session = await client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { model: 'scripted' } });
  const stream = await client.beta.agents.sessions.events.stream(session.id);
  const seen: string[] = [];
  const streamEnded = (async () => {
    for await (const e of stream) seen.push(e.type);
  })();
  await client.beta.agents.sessions.events.create(session.id, {
    events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] }],
  });
  while (model.requests.filter((r) => r.path.endsWith('/responses')).length === 0) await new Promise((r) => setTimeout(r, 20));
  first.proc.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());
  await streamEnded;
  // The stream told its reader how the turn ended before it closed.
  assert.ok(seen.includes('agent.session.turn.failed'), seen.join(', '));
  assert.equal(seen.at(-1), 'agent.session.idle');

  const second = start(serveArgs, dataDir);
  t.after(() => void second.proc.kill('SIGKILL'));
  await second.waitFor(/Upstream model/);
  second.proc.kill('SIGINT');
  assert.equal(await second.exited, 0);
  assert.doesNotMatch(second.output(), /interrupted by the last shutdown/);
  assert.doesNotMatch(second.output(), /recover/i);
});
