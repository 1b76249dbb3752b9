/**
 * Crash safety of the runtime's store, with real processes: `kill -9` of `deputy serve` or `deputy run` in the
 * middle of a streaming turn (the store busy writing), then the next start works, takes over the dead owner's
 * store, keeps what was accepted, fails the cut-off turn with a message saying to send it again, and goes on.
 * A second `deputy serve` on a store a live one owns is refused with the owner named.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { startScriptedModel } from '../fixtures/model-server.js';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { serve } from '../helpers/serve.js';

/** Thousands of words: the model streams one delta per word, so the runtime is writing events for a while. */
const longText = (words: number) => Array.from({ length: words }, (_, i) => `word${i}`).join(' ');

async function killed(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await delay(10);
  }
}

const message = (text: string) => ({
  type: 'agent.session.input.message' as const,
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text }] }],
});

test('kill -9 of deputy serve mid-turn: the next serve on the same store starts, fails the cut-off turn, and goes on', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-crash-serve-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([{ text: longText(30_000) }, { text: 'back after the crash' }]);
  t.after(() => model.close());
  const args = ['--port', '0', '--data-dir', dataDir, '--model-base-url', model.baseURL, '--model', 'scripted'];

  const first = await serve(args);
  const client = (url: string, token: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 });
  const before = client(first.url, (await readFile(first.tokenFile!, 'utf8')).trim()).beta.agents.sessions;
  const session = await before.create({ environment: { type: 'none' } });
  const live = await before.events.stream(session.id);
  await before.events.create(session.id, { events: [message('write a lot')] });
  let deltas = 0;
  for await (const event of live) {
    if (event.type === 'agent.session.turn.output_text.delta' && ++deltas === 500) break;
  }
  // Mid-stream: the store is busy committing text deltas.
  await killed(first.pid);

  const second = await serve(args);
  t.after(async () => void (await second.stop()));
  assert.match(second.output(), new RegExp(`took over ${dataDir.replace(/[.]/g, '\\.')} from process ${first.pid} \\(deputy serve`));
  const after = client(second.url, (await readFile(second.tokenFile!, 'utf8')).trim()).beta.agents.sessions;
  const back = await after.retrieve(session.id);
  assert.equal(back.status, 'idle');
  assert.match(back.error ?? '', /stopped while this turn was running.*Send the message again/);
  const items = (await after.items.list(session.id, { order: 'asc' })).data;
  assert.ok(items[0]?.type === 'message' && items[0].role === 'user', 'the accepted input survived the crash');

  const result = await after.stream(session.id, { input: 'once more' }).finalResult();
  assert.equal(result.output_text, 'back after the crash');
});

test('a second deputy serve on a store a live one owns is refused, naming the owner; the first is untouched', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-two-serves-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([]);
  t.after(() => model.close());
  const args = ['--port', '0', '--data-dir', dataDir, '--model-base-url', model.baseURL, '--model', 'scripted'];
  const first = await serve(args);
  t.after(async () => void (await first.stop()));
  const token = await readFile(first.tokenFile!, 'utf8');

  const second = await runCli(['serve', ...args], { cwd: dataDir });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(second.stderr, new RegExp(`The runtime store ${dataDir.replace(/[.]/g, '\\.')} is in use by process ${first.pid} \\(deputy serve --port 0`));
  assert.match(second.stderr, /running since \d{4}-\d\d-\d\dT/);
  assert.equal(await readFile(first.tokenFile!, 'utf8'), token, 'the refused start did not replace the token');
  const sessions = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: token.trim(), maxRetries: 0 }).beta.agents.sessions;
  assert.deepEqual((await sessions.list()).data, []);
});

test('kill -9 of deputy run mid-turn: the next deputy run in the workspace takes the store over and completes', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'one\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ text: longText(30_000) }, { text: 'second run finished' }]);
  t.after(() => model.close());
  const flags = ['--model-base-url', model.baseURL, '--model', 'scripted'];

  const first = spawn(process.execPath, [CLI, 'run', ...flags, 'write a lot'], {
    cwd: repo.root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  first.stdout.on('data', (d: Buffer) => (out += d.toString()));
  first.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => first.once('exit', resolve));
  while (!out.includes('word500 ')) {
    if (first.exitCode !== null) assert.fail(`deputy run ended before the crash:\n${out}`);
    await delay(10);
  }
  await killed(first.pid!);
  await exited;

  const second = await runCli(['run', ...flags, 'finish up'], { cwd: repo.root });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /second run finished/);
  assert.doesNotMatch(second.stdout, /in use by process/, 'the dead run\'s store was taken over, not avoided');
});
