/**
 * `process/*` over the wire with the real command policy and sandbox: output streamed as numbered notifications and
 * readable with `process/read`, stdin through `process/write`, `process/terminate` and `process/signal` ending the
 * command, a question nobody answers timing out into a deny with a message that says so, and a harness that
 * disconnects taking its running commands with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { readAudit } from '../../src/core/audit.js';
import { makeRepo } from '../helpers/git.js';
import { ExecClient } from '../helpers/exec-client.js';
import { environmentWithClient, ScriptedPerson, startTestEnvironment } from '../helpers/environment.js';

const decode = (chunks: { chunk: string }[]) => Buffer.concat(chunks.map((c) => Buffer.from(c.chunk, 'base64'))).toString();

test('a command streams numbered output, then exited and closed; read, write and terminate behave like the exec-server', async (t) => {
  const { repo, client } = await environmentWithClient(t, { 'a.txt': 'alpha\n' });
  const cwd = pathToFileURL(repo.root).href;

  const started = await client.call('process/start', { processId: 'p1', argv: ['cat', 'a.txt'], cwd, env: {}, tty: false, arg0: null });
  assert.deepEqual(started.result, { processId: 'p1', sandboxType: 'linuxSeccomp' });
  const closed = await client.waitFor((n) => n.method === 'process/closed' && n.params.processId === 'p1');
  const mine = client.notifications.filter((n) => n.params?.processId === 'p1');
  assert.deepEqual(mine.map((n) => n.params.seq), mine.map((_, i) => i + 1), 'one seq counter from 1');
  assert.deepEqual(mine.slice(-2).map((n) => n.method), ['process/exited', 'process/closed']);
  assert.equal(mine.at(-2)!.params.exitCode, 0);
  assert.equal(decode(mine.filter((n) => n.method === 'process/output').map((n) => n.params)), 'alpha\n');
  const read = await client.call('process/read', { processId: 'p1', afterSeq: null, maxBytes: null, waitMs: null });
  assert.equal(decode(read.result.chunks), 'alpha\n');
  assert.equal(read.result.nextSeq, closed.params.seq + 1);
  assert.deepEqual([read.result.exited, read.result.exitCode, read.result.closed], [true, 0, true]);

  assert.equal((await client.call('process/start', { processId: 'p1', argv: ['true'], cwd, env: {}, tty: false })).error?.code, -32600, 'duplicate id');
  assert.equal((await client.call('process/start', { processId: 'p2', argv: [], cwd, env: {}, tty: false })).error?.code, -32602, 'empty argv');
  assert.equal((await client.call('process/read', { processId: 'nope' })).error?.code, -32600);
  assert.deepEqual((await client.call('process/terminate', { processId: 'nope' })).result, { running: false });
  assert.deepEqual((await client.call('process/write', { processId: 'nope', chunk: 'aGkK', writeId: 'w' })).result, { status: 'unknownProcess' });

  // stdin: cat echoes what is written, until terminated (killed: 128 + 9).
  await client.call('process/start', { processId: 'cat', argv: ['cat'], cwd, env: {}, tty: false, pipeStdin: true });
  assert.deepEqual((await client.call('process/write', { processId: 'cat', chunk: Buffer.from('ping\n').toString('base64'), writeId: 'w1' })).result, { status: 'accepted' });
  const echoed = await client.call('process/read', { processId: 'cat', afterSeq: 0, waitMs: 5000 });
  assert.equal(decode(echoed.result.chunks), 'ping\n');
  assert.deepEqual((await client.call('process/terminate', { processId: 'cat' })).result, { running: true });
  const exited = await client.waitFor((n) => n.method === 'process/exited' && n.params.processId === 'cat');
  assert.equal(exited.params.exitCode, 137);
  assert.equal((await client.call('process/write', { processId: 'cat', chunk: 'aGkK', writeId: 'w2' })).error?.code, -32603);

  // An interrupt ends a long command.
  await client.call('process/start', { processId: 'sleeper', argv: ['sleep', '30'], cwd, env: {}, tty: false });
  assert.deepEqual((await client.call('process/signal', { processId: 'sleeper', signal: 'interrupt' })).result, {});
  await client.waitFor((n) => n.method === 'process/closed' && n.params.processId === 'sleeper', 5000);
});

test('a question nobody answers is a deny with a message saying so; the command never runs', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  // This person never answers.
  const person = new ScriptedPerson(() => new Promise<boolean>(() => undefined));
  const env = await startTestEnvironment(repo.root, { person, promptTimeoutMs: 300 });
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const client = await ExecClient.connect(env.url);
  t.after(() => client.close());
  await client.handshake();
  const reply = await client.call('process/start', { processId: 'p', argv: ['/bin/bash', '-lc', 'touch made.txt'], cwd: pathToFileURL(repo.root).href, env: {}, tty: false });
  assert.equal(reply.error?.code, -32600);
  assert.match(reply.error!.message, /No one answered within .* so the request was denied\. The command was not run\./);
  assert.equal(person.permissions.length, 1);
  assert.match(person.permissions[0]!.summary, /touch made\.txt/);
  const outcome = await env.environment.review.review('s', 'check');
  assert.deepEqual(outcome.results, [], 'nothing ran, so nothing changed in the shadow');
  const answered = (await readAudit(env.audit.file)).find((r) => r.type === 'prompt.answered');
  assert.equal(answered?.data?.note, 'timed out');
});

test('a harness that disconnects takes its running commands with it', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const client = await ExecClient.connect(env.url);
  await client.handshake();
  await client.call('process/start', { processId: 'long', argv: ['sleep', '60'], cwd: pathToFileURL(repo.root).href, env: {}, tty: false });
  client.socket.terminate();
  await env.connections[0]!.closed;
  const result = (await readAudit(env.audit.file)).find((r) => r.type === 'tool.result' && r.data?.tool === 'process/start');
  assert.equal(result?.data?.exit_code, 137, 'the command was killed when the harness went away');
});
