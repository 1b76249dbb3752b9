/**
 * Secrets and the CLI, through the built `deputy`: a URL's `user:password@` is never printed (messages, errors,
 * the serve banner); the configured model API key never appears in what `deputy run` prints or records, in any
 * encoding, even when the model server echoes it back; and the environment's OpenAI organization / project ids
 * are not sent to a model server that is not OpenAI's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { serve } from '../helpers/serve.js';

const API_KEY = 'model-key/with+odd=chars%0123456789';
const encodings = (s: string) => [s, encodeURIComponent(s), Buffer.from(s).toString('base64'), Buffer.from(`u:${s}`).toString('base64'), s.toUpperCase()];

test('deputy run never prints a model URL\'s credentials', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const result = await runCli(['run', '--model-base-url', 'http://bob:hunter2pass@127.0.0.1:9/v1', 'do something'], { cwd: repo.root });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /No model answered at http:\/\/127\.0\.0\.1:9\/v1/);
  assert.doesNotMatch(result.stdout + result.stderr, /hunter2pass|bob:/);

  const bad = await runCli(['run', '--endpoint', 'ftp://carol:s3cretpass@example.com', 'x'], { cwd: repo.root });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--endpoint must be/);
  assert.doesNotMatch(bad.stdout + bad.stderr, /s3cretpass/);
});

test('deputy serve\'s banner and log never print a URL\'s credentials or the model API key', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-secrets-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([]);
  t.after(() => model.close());
  const server = await serve(
    ['--port', '0', '--data-dir', dataDir, '--model-base-url', model.baseURL.replace('http://', 'http://bob:hunter2pass@'), '--model-api-key-env', 'DEPUTY_TEST_MODEL_KEY'],
    { DEPUTY_TEST_MODEL_KEY: API_KEY },
  );
  const output = server.output();
  await server.stop();
  assert.match(output, new RegExp(`Upstream model: \\S+ at ${model.baseURL.replace(/[.]/g, '\\.')} `));
  assert.doesNotMatch(server.output(), /hunter2pass/);
  for (const form of encodings(API_KEY)) assert.ok(!server.output().includes(form), form);
});

test('deputy run: a model server echoing the API key back (in any encoding) leaks it nowhere', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ error: { status: 401, message: `Incorrect API key provided: ${encodings(API_KEY).join(' ')}` } }]);
  t.after(() => model.close());
  const result = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', '--model-api-key-env', 'DEPUTY_TEST_MODEL_KEY', 'hi'], {
    cwd: repo.root,
    env: { DEPUTY_TEST_MODEL_KEY: API_KEY },
  });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /answered 401: Incorrect API key provided: \[redacted\]/);
  assert.equal(model.requests.at(-1)!.headers.authorization, `Bearer ${API_KEY}`, 'the key did reach the model server');
  const audit = await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  assert.match(audit, /Incorrect API key provided/);
  const db = (await readFile(join(repo.root, '.deputy', 'runtime', 'runtime.db'))).toString('latin1');
  for (const form of encodings(API_KEY)) {
    assert.ok(!(result.stdout + result.stderr).includes(form), `printed: ${form}`);
    assert.ok(!audit.includes(form), `audit: ${form}`);
    assert.ok(!db.includes(form), `store: ${form}`);
  }
});

test('the environment\'s OpenAI organization and project ids are not sent to another model server', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ text: 'hello' }]);
  t.after(() => model.close());
  const result = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'say hello'], {
    cwd: repo.root,
    env: { OPENAI_ORG_ID: 'org-should-stay-home', OPENAI_PROJECT_ID: 'proj_should_stay_home' },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(model.requests.length >= 2, 'the probe and a model call reached the server');
  for (const r of model.requests) {
    assert.equal(r.headers['openai-organization'], undefined, `${r.path} carried the organization`);
    assert.equal(r.headers['openai-project'], undefined, `${r.path} carried the project`);
  }
});

test('after deputy run, git sees the audit trail but not the runtime store, its token, locks or temporary files', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ text: 'hello' }]);
  t.after(() => model.close());
  const result = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'say hello'], { cwd: repo.root });
  assert.equal(result.code, 0, result.stderr);
  // What an interrupted run can leave behind.
  await writeFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl.lock'), '4242');
  await writeFile(join(repo.root, '.deputy', 'audit', 'audit.head.4242.tmp'), '{}');
  const seen = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repo.root })
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .sort();
  assert.deepEqual(seen, ['.deputy/.gitignore', '.deputy/audit/audit.head', '.deputy/audit/audit.jsonl']);
});
