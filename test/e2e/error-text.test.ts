/**
 * Error text that quotes an agent endpoint (its words are not Deputy's) reaches the terminal through the one
 * sanitiser: an ANSI sequence or a bidi override in it is shown as an escape and cannot erase or reorder lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

test('deputy run: an endpoint\'s refusal with terminal escapes and bidi characters is shown, not obeyed', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const hostile = 'quota \u001b[2K\u001b[1A\u001b]52;c;ZWNobyBwd25lZA==\u0007 reached \u202Etxt.exe';
  // An endpoint that refuses everything, in the Agents API's error shape.
  const endpoint = createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: hostile, type: 'invalid_request_error' } }));
  });
  endpoint.listen(0, '127.0.0.1');
  await once(endpoint, 'listening');
  t.after(() => endpoint.close());
  const dir = await mkdtemp(join(tmpdir(), 'deputy-error-text-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(dir, 'token'), 'not-a-real-token-0000\n');
  const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  const result = await runCli(['run', '--endpoint', url, '--token-file', join(dir, 'token'), 'hi'], { cwd: repo.root });
  const printed = result.stdout + result.stderr;
  assert.equal(result.code, 1, printed);
  assert.match(result.stderr, /refused the request \(HTTP 400\)/, 'the error is shown');
  assert.doesNotMatch(printed, /[\u001b\u0007\u202E]/, 'no raw escape, bell or bidi character reaches the terminal');
  assert.match(result.stderr, /quota <U\+001B>\[2K<U\+001B>\[1A/);
});
