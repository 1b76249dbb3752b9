/**
 * `deputy run --environment` against `deputy serve --auth iam`: Deputy's environment registers and dials its
 * websocket with the same IAM proofs (presigned sts:GetCallerIdentity, checked through the STS stand-in) as every
 * other request of the run, so the whole self-hosted path works under IAM. A raw SigV4-signed registration of the
 * same identity is refused: such a runtime cannot check a signature made for another service (see README, "Who may
 * connect").
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectTransportError, register } from '../../src/environment/direct-transport.js';
import { credentialProviderFor, createIamProof, IAM_PROOF_HEADER } from '../../src/identity/index.js';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig } from '../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, startAwsStandins } from '../fixtures/aws/aws-standins.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { serve } from '../helpers/serve.js';
import type { AgentSession } from 'openai/resources/beta/agents/agents';

const PATCH = ['*** Begin Patch', '*** Update File: a.txt', '@@', '-one', '+two', '*** End Patch', ''].join('\n');

test('deputy run --environment against deputy serve --auth iam: the environment is admitted on IAM proofs; a raw SigV4 registration is not', async (t) => {
  const aws = await startAwsStandins();
  t.after(() => aws.close());
  const home = await makeAwsHome(aws, ssoConfig('corp'));
  t.after(() => home.cleanup());
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-serve-env-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'exec_command', callId: 'c1', arguments: { cmd: 'cat a.txt' } }] },
    { toolCalls: [{ name: 'apply_patch', callId: 'c2', kind: 'custom', arguments: PATCH }] },
    { text: 'changed' },
  ]);
  t.after(() => model.close());
  const server = await serve([
    '--port', '0', '--data-dir', dataDir, '--auth', 'iam', '--server-id', 'team-runtime', '--sts-endpoint', aws.stsUrl,
    '--model-base-url', model.baseURL, '--model', 'scripted',
  ]);
  t.after(async () => void (await server.stop()));

  const repo = await makeRepo({ 'a.txt': 'one\n' });
  t.after(() => repo.cleanup());
  const run = await runCli(
    ['run', '--environment', '--endpoint', server.url, '--auth', 'iam', '--server-id', 'team-runtime', '--profile', 'dev', '--region', 'eu-west-1', 'change a'],
    { cwd: repo.root, input: 'a\n' },
  );
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /environment: connected/);
  assert.equal(await readFile(join(repo.root, 'a.txt'), 'utf8'), 'two\n');

  // The same identity's SigV4 signature on a registration for its own session: refused, as nothing here can check it.
  const credentials = credentialProviderFor({ profile: 'dev', env: home.env });
  const proof = await createIamProof({ credentialProvider: credentials, serverId: 'team-runtime', env: home.env });
  const client = createAgentsClient({ kind: 'runtime', baseURL: `${server.url}/v1`, headers: async () => ({ [IAM_PROOF_HEADER]: proof }) });
  const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: repo.root } });
  const env = session.environment as Extract<AgentSession['environment'], { type: 'self_hosted' }>;
  const opts = { remoteUrl: env.remote_url, environmentId: env.id, credentials, region: 'eu-west-1', serve: async () => undefined, signal: new AbortController().signal };
  await assert.rejects(register(new URL(env.remote_url), opts), (err: unknown) => err instanceof DirectTransportError && err.status === 401);
  // With the IAM proof instead, the same registration is admitted.
  const admitted = await register(new URL(env.remote_url), { ...opts, authHeaders: async () => ({ [IAM_PROOF_HEADER]: proof }) });
  assert.equal(admitted.environment_id, env.id);

  assert.match(run.stdout, new RegExp(`acting as arn:aws:sts::${ACCOUNT_ID}:assumed-role/`));
  assert.deepEqual(findLeaks([run.stdout, run.stderr, server.output()], aws.issuedSecrets()), []);
});
