/**
 * What `deputy serve` prints about a request quotes the request (an IAM proof's parameter names come from whoever
 * connected, before they are authenticated): it reaches the operator's terminal through the one sanitiser, so a
 * client cannot clear the screen, retitle the window or hide log lines with escape sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptedModel } from '../fixtures/model-server.js';
import { serve } from '../helpers/serve.js';

test('deputy serve --auth iam: a refused proof\'s hostile parameter name is shown escaped in the log', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-log-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([]);
  t.after(() => model.close());
  const sts = 'http://127.0.0.1:9';
  const server = await serve([
    '--port', '0', '--data-dir', dataDir, '--auth', 'iam', '--server-id', 'team-runtime', '--sts-endpoint', sts,
    '--model-base-url', model.baseURL, '--model', 'scripted',
  ]);
  t.after(async () => void (await server.stop()));
  // Unauthenticated: anyone who can reach the port can send this.
  const proof = `deputy-iam-v1.${Buffer.from(`${sts}/?${encodeURIComponent('\u001b[2J\u001b]0;pwned\u0007\u202E')}=1`).toString('base64url')}`;
  const res = await fetch(`${server.url}/v1/agents`, { headers: { 'x-deputy-iam-proof': proof } });
  assert.equal(res.status, 401);
  await res.body?.cancel();
  const deadline = Date.now() + 10_000;
  while (!/refused an IAM proof/.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const output = server.output();
  assert.match(output, /refused an IAM proof: proof carries unexpected parameter <U\+001B>\[2J<U\+001B>\]0;pwned<U\+0007><U\+202E>/);
  assert.doesNotMatch(output, /[\u001b\u0007\u202E]/, 'no raw escape, bell or bidi character reaches the terminal');
});
