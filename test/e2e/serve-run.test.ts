/**
 * `deputy serve` as a real process and `deputy run --endpoint URL` against it: with the bearer token from the
 * token file, and with IAM proofs of an SSO identity (stand-ins for SSO and STS). Wrong credentials are refused
 * with a message that says what to pass, and never echo a secret.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeAwsHome, seedSsoSignIn, ssoConfig } from '../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, startAwsStandins } from '../fixtures/aws/aws-standins.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { serve } from '../helpers/serve.js';

const script = () => [
  { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] },
  { toolCalls: [{ name: 'propose_changes', arguments: { summary: 's', changes: [{ path: 'a.txt', operation: 'update', diff: '@@\n-one\n+two\n' }] } }] },
  { text: 'changed' },
];

test('deputy run against a running deputy serve, with the token file; a wrong token is refused', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([...script(), ...script()]);
  t.after(() => model.close());
  const server = await serve(['--port', '0', '--data-dir', dataDir, '--model-base-url', model.baseURL, '--model', 'scripted']);
  t.after(async () => void (await server.stop()));
  assert.equal(server.tokenFile, join(dataDir, 'token'));
  assert.equal((await stat(server.tokenFile!)).mode & 0o777, 0o600);

  const repo = await makeRepo({ 'a.txt': 'one\n' });
  t.after(() => repo.cleanup());
  const ok = await runCli(['run', '--endpoint', server.url, '--token-file', server.tokenFile!, 'change a'], { cwd: repo.root, input: 'a\n' });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.equal(await readFile(join(repo.root, 'a.txt'), 'utf8'), 'two\n');
  assert.match(ok.stdout, new RegExp(`Deputy runtime at ${server.url.replace(/[.]/g, '\\.')}`));

  // The OpenAI endpoint path of the CLI, pointed at the runtime (which speaks the same Agents API).
  const token = (await readFile(server.tokenFile!, 'utf8')).trim();
  await writeFile(join(repo.root, 'a.txt'), 'one\n');
  const noKey = await runCli(['run', '--endpoint', 'openai', 'change a'], { cwd: repo.root, env: { OPENAI_API_KEY: '' } });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /needs an API key in the environment variable OPENAI_API_KEY/);
  const viaOpenAi = await runCli(['run', '--endpoint', 'openai', '--model', 'scripted', 'change a'], {
    cwd: repo.root,
    input: 'a\n',
    env: { OPENAI_API_KEY: token, OPENAI_BASE_URL: `${server.url}/v1` },
  });
  assert.equal(viaOpenAi.code, 0, viaOpenAi.stderr + viaOpenAi.stdout);
  assert.match(viaOpenAi.stdout, /OpenAI Agents API/);
  assert.equal(await readFile(join(repo.root, 'a.txt'), 'utf8'), 'two\n');
  assert.ok(!viaOpenAi.stdout.includes(token) && !viaOpenAi.stderr.includes(token), 'the key is never printed');

  const wrong = join(dataDir, 'wrong-token');
  await writeFile(wrong, 'not-the-token-0123456789\n');
  const refused = await runCli(['run', '--endpoint', server.url, '--token-file', wrong, 'change a'], { cwd: repo.root });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HTTP 401/);
  assert.match(refused.stderr, /--token-file/);
  assert.ok(!server.output().includes(token), 'the server never prints its token');
  assert.ok(!refused.stderr.includes('not-the-token'), 'the refused token is not echoed');
});

test('deputy serve --auth iam accepts a proven SSO identity and refuses a proof for another server', async (t) => {
  const aws = await startAwsStandins();
  t.after(() => aws.close());
  const home = await makeAwsHome(aws, ssoConfig('corp'));
  t.after(() => home.cleanup());
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-iam-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel(script());
  t.after(() => model.close());
  const server = await serve([
    '--port', '0', '--data-dir', dataDir, '--auth', 'iam', '--server-id', 'team-runtime', '--sts-endpoint', aws.stsUrl,
    '--model-base-url', model.baseURL, '--model', 'scripted',
  ]);
  t.after(async () => void (await server.stop()));
  assert.match(server.output(), /IAM proofs for server id "team-runtime"/);

  const repo = await makeRepo({ 'a.txt': 'one\n' });
  t.after(() => repo.cleanup());
  const iam = ['run', '--endpoint', server.url, '--auth', 'iam', '--profile', 'dev', '--region', 'eu-west-1'];
  const ok = await runCli([...iam, '--server-id', 'team-runtime', 'change a'], { cwd: repo.root, input: 'a\n' });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.equal(await readFile(join(repo.root, 'a.txt'), 'utf8'), 'two\n');
  assert.match(ok.stdout, new RegExp(`acting as arn:aws:sts::${ACCOUNT_ID}:assumed-role/`));

  const other = await runCli([...iam, '--server-id', 'someone-else', 'change a'], { cwd: repo.root });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /HTTP 401/);
  assert.match(server.output(), /refused an IAM proof/);
  assert.deepEqual(findLeaks([ok.stdout, ok.stderr, other.stdout, other.stderr, server.output()], aws.issuedSecrets()), []);
});
