/**
 * Differential test against the reference: the same JSON-RPC sequence is sent to the real `codex exec-server`
 * (0.171.0, pinned) and to Deputy's environment, each over its own copy of the same workspace, and the answers are
 * compared field by field where the behaviour should match: results, error codes, file contents and metadata,
 * listings, process output, exit codes and the `seq` numbering of notifications. Where Deputy deliberately differs
 * (paths outside the workspace, what confines a process) the hostile tests cover it instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCodexExecServer } from '../fixtures/codex.js';
import { ExecClient, type RpcReply } from '../helpers/exec-client.js';
import { makeRepo } from '../helpers/git.js';
import { ScriptedPerson, startTestEnvironment } from '../helpers/environment.js';

type Step = { name: string; method: string; params: (root: string) => unknown; compare?: (reply: RpcReply) => unknown };

const u = (root: string, ...parts: string[]) => pathToFileURL(join(root, ...parts)).href;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What must agree: the error code, or the result (normalised by `compare` where only some fields are defined). */
function comparable(step: Step, reply: RpcReply): unknown {
  if (reply.error) return { error: reply.error.code };
  return { result: step.compare ? step.compare(reply) : reply.result };
}

const metadata = (r: RpcReply) => ({ isDirectory: r.result.isDirectory, isFile: r.result.isFile, isSymlink: r.result.isSymlink, size: r.result.size });
const listing = (r: RpcReply) =>
  [...r.result.entries].sort((a: { fileName: string }, b: { fileName: string }) => a.fileName.localeCompare(b.fileName));

const FS_STEPS: Step[] = [
  { name: 'read a file', method: 'fs/readFile', params: (r) => ({ path: u(r, 'a.txt'), sandbox: null }) },
  { name: 'read a file in a folder', method: 'fs/readFile', params: (r) => ({ path: u(r, 'src', 'b.ts') }) },
  { name: 'read a missing file', method: 'fs/readFile', params: (r) => ({ path: u(r, 'missing.txt') }) },
  { name: 'read with a plain path', method: 'fs/readFile', params: (r) => ({ path: join(r, 'a.txt') }) },
  { name: 'read a folder', method: 'fs/readFile', params: (r) => ({ path: u(r, 'src') }) },
  { name: 'read without a path', method: 'fs/readFile', params: () => ({}) },
  { name: 'metadata of a file', method: 'fs/getMetadata', params: (r) => ({ path: u(r, 'a.txt') }), compare: metadata },
  { name: 'metadata of a folder', method: 'fs/getMetadata', params: (r) => ({ path: u(r, 'src') }), compare: (x) => ({ ...metadata(x), size: undefined }) },
  { name: 'metadata of a missing path', method: 'fs/getMetadata', params: (r) => ({ path: u(r, 'nope') }) },
  { name: 'list the root', method: 'fs/readDirectory', params: (r) => ({ path: u(r) }), compare: listing },
  { name: 'list a missing folder', method: 'fs/readDirectory', params: (r) => ({ path: u(r, 'nope') }) },
  { name: 'write into a missing folder', method: 'fs/writeFile', params: (r) => ({ path: u(r, 'd', 'b.txt'), dataBase64: b64('hi') }) },
  { name: 'make a folder', method: 'fs/createDirectory', params: (r) => ({ path: u(r, 'd'), recursive: false }) },
  { name: 'make nested folders without recursive', method: 'fs/createDirectory', params: (r) => ({ path: u(r, 'd', 'e', 'f'), recursive: false }) },
  { name: 'make nested folders', method: 'fs/createDirectory', params: (r) => ({ path: u(r, 'd', 'e', 'f'), recursive: true }) },
  { name: 'make them again', method: 'fs/createDirectory', params: (r) => ({ path: u(r, 'd', 'e', 'f'), recursive: true }) },
  { name: 'write a file', method: 'fs/writeFile', params: (r) => ({ path: u(r, 'd', 'b.txt'), dataBase64: b64('hi\n') }) },
  { name: 'overwrite a file', method: 'fs/writeFile', params: (r) => ({ path: u(r, 'a.txt'), dataBase64: b64('changed\n') }) },
  { name: 'read it back', method: 'fs/readFile', params: (r) => ({ path: u(r, 'a.txt') }) },
  { name: 'write binary', method: 'fs/writeFile', params: (r) => ({ path: u(r, 'bin.dat'), dataBase64: Buffer.from([0, 1, 2, 255]).toString('base64') }) },
  { name: 'read binary', method: 'fs/readFile', params: (r) => ({ path: u(r, 'bin.dat') }) },
  { name: 'copy a folder without recursive', method: 'fs/copy', params: (r) => ({ sourcePath: u(r, 'd'), destinationPath: u(r, 'd2'), recursive: false }) },
  { name: 'copy a folder', method: 'fs/copy', params: (r) => ({ sourcePath: u(r, 'd'), destinationPath: u(r, 'd2'), recursive: true }) },
  { name: 'list the copy', method: 'fs/readDirectory', params: (r) => ({ path: u(r, 'd2') }), compare: listing },
  { name: 'copy a file', method: 'fs/copy', params: (r) => ({ sourcePath: u(r, 'a.txt'), destinationPath: u(r, 'a-copy.txt'), recursive: false }) },
  { name: 'read the copied file', method: 'fs/readFile', params: (r) => ({ path: u(r, 'a-copy.txt') }) },
  { name: 'remove a full folder without recursive', method: 'fs/remove', params: (r) => ({ path: u(r, 'd2'), recursive: false, force: false }) },
  { name: 'remove a full folder', method: 'fs/remove', params: (r) => ({ path: u(r, 'd2'), recursive: true, force: false }) },
  { name: 'remove a missing file', method: 'fs/remove', params: (r) => ({ path: u(r, 'zz'), recursive: false, force: false }) },
  { name: 'remove a missing file with force', method: 'fs/remove', params: (r) => ({ path: u(r, 'zz'), recursive: false, force: true }) },
  { name: 'remove a file', method: 'fs/remove', params: (r) => ({ path: u(r, 'a-copy.txt'), recursive: false, force: false }) },
  { name: 'metadata after removal', method: 'fs/getMetadata', params: (r) => ({ path: u(r, 'a-copy.txt') }) },
  { name: 'list after all that', method: 'fs/readDirectory', params: (r) => ({ path: u(r) }), compare: listing },
  { name: 'an unknown method', method: 'fs/teleport', params: (r) => ({ path: u(r, 'a.txt') }) },
];

async function run(url: string, root: string, steps: Step[]): Promise<Map<string, unknown>> {
  const client = await ExecClient.connect(url);
  try {
    const out = new Map<string, unknown>();
    const early = await client.call('fs/readFile', { path: u(root, 'a.txt') });
    out.set('fs before initialize', { error: early.error?.code });
    const init = await client.call('initialize', { clientName: 'deputy-differential' });
    out.set('initialize', { sessionId: typeof init.result?.sessionId });
    client.notify('initialized');
    for (const step of steps) out.set(step.name, comparable(step, await client.call(step.method, step.params(root))));
    return out;
  } finally {
    await client.close();
  }
}

test('fs/*: Deputy answers like the real codex exec-server', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n', 'src/b.ts': 'export const b = 1;\n', 'README.md': '# r\n' });
  const reference = await mkdtemp(join(tmpdir(), 'deputy-reference-'));
  t.after(() => rm(reference, { recursive: true, force: true, maxRetries: 5 }));
  await cp(repo.root, reference, { recursive: true, filter: (src) => !src.includes('/.git') });

  const codex = await startCodexExecServer(reference);
  t.after(() => codex.stop());
  const deputy = await startTestEnvironment(repo.root);
  t.after(async () => {
    await deputy.close();
    await repo.cleanup();
  });

  const expected = await run(codex.url, reference, FS_STEPS);
  const actual = await run(deputy.url, repo.root, FS_STEPS);
  for (const [name, want] of expected) assert.deepEqual(actual.get(name), want, `step "${name}"`);
  // The sequence really exercised both outcomes (a control that the comparison is not vacuous).
  const errors = [...expected.values()].filter((v) => (v as { error?: number }).error !== undefined).length;
  assert.ok(errors >= 10 && errors < expected.size - 10, `mix of results and errors (${errors} errors)`);
});

/**
 * A process's story as the harness sees it: which notifications came (output merged per stream), that `closed` came
 * last, and the final read. The real exec-server sends `output` and `exited` from separate tasks, so their relative
 * order (and whether `closed` directly follows `exited`) is a race on a loaded machine: only what it guarantees is
 * compared.
 */
async function processStory(client: ExecClient, processId: string): Promise<unknown> {
  const closed = await client.waitFor((n) => n.method === 'process/closed' && n.params.processId === processId);
  const mine = client.notifications.filter((n) => n.params?.processId === processId);
  const exited = mine.find((n) => n.method === 'process/exited')!;
  const output = (stream: string) =>
    Buffer.concat(mine.filter((n) => n.method === 'process/output' && n.params.stream === stream).map((n) => Buffer.from(n.params.chunk, 'base64'))).toString();
  const read = await client.call('process/read', { processId, afterSeq: null, maxBytes: null, waitMs: null });
  return {
    order: [...new Set(mine.map((n) => n.method))].sort(),
    closedLast: mine.at(-1)?.method === 'process/closed',
    seqs: mine.map((n) => n.params.seq).every((seq, i) => seq === i + 1),
    stdout: output('stdout'),
    stderr: output('stderr'),
    exitCode: exited.params.exitCode,
    closedAfterExit: closed.params.seq > exited.params.seq,
    read: { nextSeq: read.result.nextSeq === closed.params.seq + 1, exited: read.result.exited, exitCode: read.result.exitCode, closed: read.result.closed, failure: read.result.failure, sandboxDenied: read.result.sandboxDenied },
  };
}

async function runProcesses(url: string, root: string): Promise<Map<string, unknown>> {
  const client = await ExecClient.connect(url);
  const out = new Map<string, unknown>();
  const cwd = pathToFileURL(root).href;
  const start = async (name: string, params: Record<string, unknown>) => {
    const reply = await client.call('process/start', { cwd, env: { PATH: '/usr/bin:/bin' }, tty: false, arg0: null, ...params });
    out.set(name, reply.error ? { error: reply.error.code } : { processId: reply.result.processId });
    return reply;
  };
  try {
    const early = await client.call('process/read', { processId: 'x' });
    out.set('process before initialize', { error: early.error?.code });
    await client.call('initialize', { clientName: 'deputy-differential' });
    const beforeInitialized = await client.call('process/read', { processId: 'x' });
    out.set('process before initialized', { error: beforeInitialized.error?.code });
    client.notify('initialized');
    await start('start echo', { processId: 'echo', argv: ['echo', 'hello'] });
    out.set('story echo', await processStory(client, 'echo'));
    await start('start stderr and exit 3', { processId: 'three', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    out.set('story exit 3', await processStory(client, 'three'));
    await start('start false', { processId: 'false', argv: ['false'] });
    out.set('story false', await processStory(client, 'false'));
    await start('start cat in a folder', { processId: 'cat-file', argv: ['cat', 'b.ts'], cwd: pathToFileURL(join(root, 'src')).href });
    out.set('story cat in a folder', await processStory(client, 'cat-file'));
    await start('a duplicate id', { processId: 'echo', argv: ['true'] });
    await start('an empty argv', { processId: 'empty', argv: [] });
    await start('a missing cwd', { processId: 'nocwd', argv: ['true'], cwd: pathToFileURL(join(root, 'no-such-folder')).href });
    await start('a plain-path cwd', { processId: 'plaincwd', argv: ['true'], cwd: root });
    const unknown = async (name: string, method: string, params: unknown) => {
      const reply = await client.call(method, params);
      out.set(name, reply.error ? { error: reply.error.code } : { result: reply.result });
    };
    await unknown('read an unknown process', 'process/read', { processId: 'ghost' });
    await unknown('terminate an unknown process', 'process/terminate', { processId: 'ghost' });
    await unknown('write to an unknown process', 'process/write', { processId: 'ghost', chunk: 'aGkK', writeId: 'w0' });
    await unknown('terminate a finished process', 'process/terminate', { processId: 'echo' });
    await start('start cat on stdin', { processId: 'cat', argv: ['cat'], pipeStdin: true });
    await unknown('write to cat', 'process/write', { processId: 'cat', chunk: Buffer.from('ping\n').toString('base64'), writeId: 'w1' });
    await client.waitFor((n) => n.method === 'process/output' && n.params.processId === 'cat');
    await unknown('terminate cat', 'process/terminate', { processId: 'cat' });
    out.set('story cat', await processStory(client, 'cat'));
    await unknown('write to a finished cat', 'process/write', { processId: 'cat', chunk: 'aGkK', writeId: 'w2' });
    await start('start sleep', { processId: 'sleep', argv: ['sleep', '30'] });
    await unknown('interrupt sleep', 'process/signal', { processId: 'sleep', signal: 'interrupt' });
    // The exit code of an interrupted command differs by design (the sandbox ends the whole tree with SIGKILL, not
    // SIGINT): only that it ended is compared.
    const story = (await processStory(client, 'sleep')) as { order: string[] };
    out.set('story sleep', story.order);
    return out;
  } finally {
    await client.close();
  }
}

test('process/*: Deputy (through its command policy and sandbox) answers like the real codex exec-server', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n', 'src/b.ts': 'export const b = 1;\n' });
  const reference = await mkdtemp(join(tmpdir(), 'deputy-reference-'));
  t.after(() => rm(reference, { recursive: true, force: true, maxRetries: 5 }));
  await cp(repo.root, reference, { recursive: true, filter: (src) => !src.includes('/.git') });
  const codex = await startCodexExecServer(reference);
  t.after(() => codex.stop());
  // The person says yes to every command the policy asks about, so both sides run the same commands.
  const deputy = await startTestEnvironment(repo.root, { person: new ScriptedPerson(() => true) });
  t.after(async () => {
    await deputy.close();
    await repo.cleanup();
  });

  const expected = await runProcesses(codex.url, reference);
  const actual = await runProcesses(deputy.url, repo.root);
  for (const [name, want] of expected) assert.deepEqual(actual.get(name), want, `step "${name}"`);
  assert.equal((expected.get('story exit 3') as { exitCode: number }).exitCode, 3, 'the reference really ran the commands');
});
