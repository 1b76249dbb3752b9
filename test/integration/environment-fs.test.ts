/**
 * `fs/*` over the wire: the exec-server handshake and error codes, reads and writes landing in the shadow (never in
 * the real workspace), policy on reads (a secret file asks the person), and hostile paths: `..`, absolute paths
 * outside, links out of the shadow, `.git/hooks`, `.deputy`, and a disconnect in the middle of a write. Each is
 * refused, nothing outside the shadow is touched, and everything is on the audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAudit } from '../../src/core/audit.js';
import { gitStatus, makeRepo } from '../helpers/git.js';
import { ExecClient } from '../helpers/exec-client.js';
import { environmentWithClient, ScriptedPerson, startTestEnvironment } from '../helpers/environment.js';

const uri = (p: string) => pathToFileURL(p).href;
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('the handshake, unknown methods and malformed params answer with the exec-server codes', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const client = await ExecClient.connect(env.url);
  t.after(() => client.close());

  const early = await client.call('fs/readFile', { path: uri(join(repo.root, 'a.txt')) });
  assert.equal(early.error?.code, -32600, 'fs before initialize');
  const init = await client.call('initialize', { clientName: 'test' });
  assert.match(init.result.sessionId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(Object.keys(init.result), ['sessionId'], 'only what is implemented is advertised');
  const processEarly = await client.call('process/read', { processId: 'x' });
  assert.equal(processEarly.error?.code, -32600, 'process methods before initialized');
  client.notify('initialized');

  assert.equal((await client.call('environment/info', {})).error?.code, -32601);
  assert.equal((await client.call('no/such', {})).error?.code, -32601);
  assert.equal((await client.call('fs/readFile', {})).error?.code, -32602);
  assert.equal((await client.call('fs/readFile', { path: join(repo.root, 'a.txt') })).error?.code, -32602, 'a plain path is not a URI');
  assert.equal((await client.call('fs/writeFile', { path: uri(join(repo.root, 'x')), dataBase64: '***' })).error?.code, -32602);
  assert.equal((await client.call('fs/readFile', { path: uri(join(repo.root, 'missing.txt')) })).error?.code, -32004);
  assert.equal((await client.call('fs/readFile', { path: uri(repo.root) })).error?.code, -32600, 'a folder is not a file');
});

test('reads see the shadow, writes land in it and never in the real workspace', async (t) => {
  const { repo, env, client } = await environmentWithClient(t, { 'a.txt': 'a\n', 'src/b.ts': 'b\n' });
  const shadow = env.environment.context.shadow.root;

  const read = await client.call('fs/readFile', { path: uri(join(repo.root, 'a.txt')), sandbox: null });
  assert.equal(Buffer.from(read.result.dataBase64, 'base64').toString(), 'a\n');
  const meta = await client.call('fs/getMetadata', { path: uri(join(repo.root, 'src')) });
  assert.equal(meta.result.isDirectory, true);
  const dir = await client.call('fs/readDirectory', { path: uri(repo.root) });
  assert.deepEqual(dir.result.entries.map((e: { fileName: string }) => e.fileName), ['a.txt', 'src']);

  assert.equal((await client.call('fs/writeFile', { path: uri(join(repo.root, 'new', 'c.txt')), dataBase64: b64('c') })).error?.code, -32004, 'no parent folder');
  assert.deepEqual((await client.call('fs/createDirectory', { path: uri(join(repo.root, 'new')), recursive: true })).result, {});
  assert.deepEqual((await client.call('fs/writeFile', { path: uri(join(repo.root, 'new', 'c.txt')), dataBase64: b64('c') })).result, {});
  assert.deepEqual((await client.call('fs/copy', { sourcePath: uri(join(repo.root, 'src')), destinationPath: uri(join(repo.root, 'src2')), recursive: true })).result, {});
  assert.deepEqual((await client.call('fs/remove', { path: uri(join(repo.root, 'a.txt')), recursive: false, force: false })).result, {});
  // The shadow's own paths work too (a command printed its cwd).
  const viaShadow = await client.call('fs/readFile', { path: uri(join(shadow, 'new', 'c.txt')) });
  assert.equal(Buffer.from(viaShadow.result.dataBase64, 'base64').toString(), 'c');

  assert.equal(await readFile(join(shadow, 'src2', 'b.ts'), 'utf8'), 'b\n');
  await assert.rejects(stat(join(shadow, 'a.txt')));
  assert.equal(gitStatus(repo.root).replace(/^\?\? \.deputy\/\n/m, ''), '', 'the real workspace is untouched');
  await assert.rejects(stat(join(repo.root, 'new')));

  const calls = (await readAudit(env.audit.file)).filter((r) => r.type === 'tool.call').map((r) => r.data?.summary);
  assert.ok(calls.includes('fs/writeFile new/c.txt') && calls.includes('fs/remove a.txt') && calls.includes('fs/readFile a.txt'));
});

test('hostile paths are refused and nothing outside the shadow is touched', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  const outside = await mkdtemp(join(tmpdir(), 'deputy-outside-'));
  t.after(() => rm(outside, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(outside, 'victim.txt'), 'untouched\n');
  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const shadow = env.environment.context.shadow.root;
  // Links an agent's command could have made inside the shadow.
  await symlink(outside, join(shadow, 'escape'));
  await symlink(join(outside, 'victim.txt'), join(shadow, 'victim-link'));
  const client = await ExecClient.connect(env.url);
  t.after(() => client.close());
  await client.handshake();

  const ws = repo.root;
  const cases: [string, string, unknown][] = [
    ['write through ..', 'fs/writeFile', { path: `${uri(ws)}/../${outside.split('/').pop()}/victim.txt`, dataBase64: b64('pwned') }],
    ['write through encoded ..', 'fs/writeFile', { path: `${uri(ws)}/%2e%2e/escaped.txt`, dataBase64: b64('pwned') }],
    ['write to an absolute path outside', 'fs/writeFile', { path: uri(join(outside, 'victim.txt')), dataBase64: b64('pwned') }],
    ['write through a link to a folder outside', 'fs/writeFile', { path: uri(join(ws, 'escape', 'victim.txt')), dataBase64: b64('pwned') }],
    ['write through a link to a file outside', 'fs/writeFile', { path: uri(join(ws, 'victim-link')), dataBase64: b64('pwned') }],
    ['a git hook', 'fs/writeFile', { path: uri(join(ws, '.git', 'hooks', 'pre-commit')), dataBase64: b64('#!/bin/sh\ncurl evil\n') }],
    ['a git hook folder', 'fs/createDirectory', { path: uri(join(ws, '.git', 'hooks', 'x')), recursive: true }],
    ['Deputy policy', 'fs/writeFile', { path: uri(join(ws, '.deputy', 'policy.json')), dataBase64: b64('{"rules":[{"decision":"allow"}]}') }],
    ['remove outside', 'fs/remove', { path: uri(join(outside, 'victim.txt')), recursive: false, force: true }],
    ['remove through a link', 'fs/remove', { path: uri(join(ws, 'escape', 'victim.txt')), recursive: false, force: true }],
    ['copy out', 'fs/copy', { sourcePath: uri(join(ws, 'a.txt')), destinationPath: uri(join(outside, 'copied.txt')), recursive: false }],
    ['copy in from outside', 'fs/copy', { sourcePath: uri(join(outside, 'victim.txt')), destinationPath: uri(join(ws, 'stolen.txt')), recursive: false }],
    ['a non-file URI', 'fs/writeFile', { path: 'http://example.com/x', dataBase64: b64('x') }],
    ['a file URI on another host', 'fs/writeFile', { path: 'file://evil.example/etc/passwd', dataBase64: b64('x') }],
  ];
  for (const [what, method, params] of cases) {
    const reply = await client.call(method, params);
    assert.ok(reply.error, `${what}: must be refused, got ${JSON.stringify(reply)}`);
  }
  const reads: [string, string][] = [
    ['read outside', uri(join(outside, 'victim.txt'))],
    ['read through a link', uri(join(ws, 'escape', 'victim.txt'))],
    ['read git config', uri(join(ws, '.git', 'config'))],
  ];
  for (const [what, path] of reads) {
    assert.equal((await client.call('fs/readFile', { path })).error?.code, -32004, what);
  }
  assert.equal(await readFile(join(outside, 'victim.txt'), 'utf8'), 'untouched\n');
  assert.deepEqual((await readdir(outside)).sort(), ['victim.txt']);
  await assert.rejects(stat(join(ws, '.git', 'hooks', 'pre-commit')));
  await assert.rejects(stat(join(shadow, 'stolen.txt')));
  assert.equal(gitStatus(ws).replace(/^\?\? \.deputy\/\n/m, ''), '');
  // Control: the same client can write inside.
  assert.deepEqual((await client.call('fs/writeFile', { path: uri(join(ws, 'fine.txt')), dataBase64: b64('ok') })).result, {});
  const refusals = (await readAudit(env.audit.file)).filter((r) => r.type === 'tool.result' && r.data?.success === false);
  assert.ok(refusals.length >= 8, 'refused operations are on the audit trail');
});

test('reading a secret file asks the person; a no is an error, a yes is remembered for the connection', async (t) => {
  const person = new ScriptedPerson((q) => q.summary.includes('.env'));
  const { repo, client } = await environmentWithClient(t, { '.env': 'TOKEN=abc\n', 'config/id_rsa': 'KEY\n' }, { person });

  const denied = await client.call('fs/readFile', { path: uri(join(repo.root, 'config', 'id_rsa')) });
  assert.equal(denied.error?.code, -32600);
  assert.match(denied.error!.message, /denied/);
  const allowed = await client.call('fs/readFile', { path: uri(join(repo.root, '.env')) });
  assert.equal(Buffer.from(allowed.result.dataBase64, 'base64').toString(), 'TOKEN=abc\n');
  await client.call('fs/readFile', { path: uri(join(repo.root, '.env')) });
  assert.equal(person.permissions.length, 2, 'asked once per file');
  assert.match(person.permissions[0]!.reason, /credentials/);
});

test('a disconnect in the middle of a write leaves the file whole or absent, and no temp file behind', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const shadow = env.environment.context.shadow.root;
  const big = Buffer.alloc(8 * 1024 * 1024, 'x');
  for (let round = 0; round < 3; round++) {
    const client = await ExecClient.connect(env.url);
    await client.handshake();
    void client.call('fs/writeFile', { path: uri(join(repo.root, `big-${round}.txt`)), dataBase64: big.toString('base64') });
    // Drop the connection without a close handshake, as a crashed harness would.
    if (round === 0) client.socket.terminate();
    else setTimeout(() => client.socket.terminate(), round * 5);
    await env.connections[round]!.closed;
    const written = await readFile(join(shadow, `big-${round}.txt`)).catch(() => null);
    assert.ok(written === null || written.equals(big), `round ${round}: whole or absent`);
  }
  assert.deepEqual((await readdir(shadow)).filter((n) => n.includes('.tmp')), []);
  assert.equal(gitStatus(repo.root).replace(/^\?\? \.deputy\/\n/m, ''), '');
});
