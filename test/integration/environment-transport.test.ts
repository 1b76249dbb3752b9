/**
 * The local transport admits only the harness that was given the URL: a missing or wrong secret, a web page's Origin
 * and a rebinding Host are refused before any JSON-RPC is read; the right secret (in the path or as a bearer header)
 * gets the exec-server handshake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRepo } from '../helpers/git.js';
import { ExecClient } from '../helpers/exec-client.js';
import { startTestEnvironment } from '../helpers/environment.js';
import { parseListen } from '../../src/environment/index.js';

test('the loopback transport refuses a missing or wrong secret, a browser Origin and a foreign Host', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const url = new URL(env.url);
  const secret = url.pathname.slice(1);
  assert.ok(secret.length >= 43, 'the secret carries at least 256 bits');
  const base = `ws://${url.host}`;

  const refused: [string, string, Record<string, string>][] = [
    ['no secret', `${base}/`, {}],
    ['a wrong secret', `${base}/${'A'.repeat(secret.length)}`, {}],
    ['a secret one character short', `${base}/${secret.slice(0, -1)}`, {}],
    ['a web page Origin', env.url, { Origin: 'https://evil.example' }],
    ['a null Origin (sandboxed iframe)', env.url, { Origin: 'null' }],
    ['a DNS-rebinding Host', env.url, { Host: `evil.example:${url.port}` }],
    ['a wrong bearer', `${base}/`, { Authorization: 'Bearer nope' }],
  ];
  for (const [what, target, headers] of refused) {
    await assert.rejects(ExecClient.connect(target, headers), /401|403|refused/, `${what} must be refused`);
  }
  // Control: the same server admits the URL as printed, and the secret as a bearer header.
  for (const [target, headers] of [
    [env.url, {}],
    [`${base}/`, { Authorization: `Bearer ${secret}` }],
  ] as const) {
    const client = await ExecClient.connect(target, headers);
    assert.ok(await client.handshake());
    await client.close();
  }
});

test('--listen accepts loopback only', () => {
  assert.deepEqual(parseListen('ws://127.0.0.1:4500'), { host: '127.0.0.1', port: 4500 });
  assert.deepEqual(parseListen(undefined), { host: '127.0.0.1', port: 0 });
  assert.throws(() => parseListen('ws://0.0.0.0:4500'), /loopback/);
  assert.throws(() => parseListen('ws://192.168.1.5:4500'), /loopback/);
  assert.throws(() => parseListen('http://127.0.0.1:4500'), /ws:\/\//);
  assert.throws(() => parseListen('ws://127.0.0.1:4500/path'), /no path/);
});
