/**
 * `deputy run --endpoint bedrock --profile dev --region R`, end to end through the built CLI: the SSO profile's
 * credentials come from the AWS SDK (stand-ins for SSO and STS), every Agents API request is SigV4-signed for
 * bedrock-mantle and verified by the mantle stand-in, which serves it from a Deputy runtime driving the scripted
 * model. The session and the audit trail carry the SSO principal; no credential leaks anywhere.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { startRuntime, type RuntimeHandle } from '../../src/runtime/index.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, ROLE_NAME, startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startMantleStandin, type MantleStandin } from '../fixtures/aws/mantle-standin.js';
import { startScriptedModel, type ScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const REGION = 'eu-west-1';
let aws: AwsStandins;
let home: AwsHome;
let model: ScriptedModel;
let runtime: RuntimeHandle;
let mantle: MantleStandin;
let dataDir: string;

before(async () => {
  aws = await startAwsStandins();
  home = await makeAwsHome(aws, ssoConfig('corp'));
  model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'notes.txt' } }] },
    {
      toolCalls: [
        {
          name: 'propose_changes',
          arguments: { summary: 'fix typo', changes: [{ path: 'notes.txt', operation: 'update', diff: '@@\n-teh notes\n+the notes\n' }] },
        },
      ],
    },
    { text: 'Fixed the typo.' },
  ]);
  dataDir = await mkdtemp(join(tmpdir(), 'deputy-bedrock-rt-'));
  runtime = await startRuntime({ dataDir, upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses', maxRetries: 0 } });
  mantle = await startMantleStandin({ region: REGION, lookup: (id) => aws.lookupKey(id), forward: { url: runtime.url, token: runtime.token } });
});

after(async () => {
  await mantle.close();
  await runtime.close();
  await model.close();
  await home.cleanup();
  await aws.close();
  await rm(dataDir, { recursive: true, force: true });
});

const signIn = (expiresInMs: number) => seedSsoSignIn(home, aws, 'corp', expiresInMs);

const args = ['run', '--endpoint', 'bedrock', '--profile', 'dev', '--region', REGION, '--model', 'scripted'];

test('an expired sign-in stops before any request, naming the profile and both ways back in', async (t) => {
  const repo = await makeRepo({ 'notes.txt': 'teh notes\n' });
  t.after(() => repo.cleanup());
  await signIn(-60_000);
  const result = await runCli([...args, 'fix the typo'], { cwd: repo.root, env: { DEPUTY_BEDROCK_BASE_URL: mantle.baseURL } });
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stderr, /profile "?dev"?/);
  assert.match(result.stderr, /deputy login --profile dev/);
  assert.match(result.stderr, /aws sso login --profile dev/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(mantle.requests.length, 0, 'nothing reached Bedrock');
});

test('a task on Bedrock runs signed as the SSO role, with provenance on the session and the audit trail', async (t) => {
  const repo = await makeRepo({ 'notes.txt': 'teh notes\n' });
  t.after(() => repo.cleanup());
  await signIn(3600_000);
  const result = await runCli([...args, 'fix the typo'], {
    cwd: repo.root,
    input: 'a\n',
    env: { DEPUTY_BEDROCK_BASE_URL: mantle.baseURL },
  });
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  assert.equal(await readFile(join(repo.root, 'notes.txt'), 'utf8'), 'the notes\n');
  // IAM Identity Center roles appear as AWSReservedSSO_<permission set>_<suffix>.
  const principal = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/AWSReservedSSO_${ROLE_NAME}_`;
  assert.ok(result.stdout.includes(`Amazon Bedrock Managed Agents (${REGION}) · acting as ${principal}`), result.stdout);

  // Every request reached "Bedrock" signed for bedrock-mantle in the region, with the role's temporary key.
  assert.ok(mantle.requests.length >= 4, `requests: ${mantle.requests.length}`);
  for (const r of mantle.requests) {
    assert.equal(r.verified, true, `${r.method} ${r.path} verified`);
    assert.equal(r.service, 'bedrock-mantle');
    assert.equal(r.region, REGION);
  }

  // The session carries the provenance metadata.
  const client = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token });
  const sessions = (await client.beta.agents.sessions.list()).data;
  assert.equal(sessions.length, 1);
  const metadata = sessions[0]!.metadata;
  assert.ok(metadata['deputy.principal']!.startsWith(principal), metadata['deputy.principal']);
  assert.equal(metadata['deputy.account'], ACCOUNT_ID);
  assert.match(metadata['deputy.client']!, /^deputy-cli\/\d+\.\d+\.\d+$/);
  assert.match(metadata['deputy.task']!, /^task_/);
  assert.match(metadata['deputy.workspace']!, /^sha256:[0-9a-f]{16}$/);
  assert.ok(!Object.values(metadata).some((v) => v.includes(repo.root)), 'the workspace path is not sent');

  // Every audit record names the acting principal; the applied change names who approved it.
  const audit = await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  const records = audit.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; actor: { principal: string }; data: Record<string, unknown> });
  for (const r of records) assert.ok(r.actor.principal.startsWith(principal), `${r.type} actor`);
  const applied = records.find((r) => r.type === 'changeset.applied');
  assert.ok(String(applied?.data.approver).startsWith(principal));

  // No credential the stand-ins issued appears in the output, the audit trail or the session.
  const leaks = findLeaks([result.stdout, result.stderr, audit, JSON.stringify(sessions)], aws.issuedSecrets());
  assert.deepEqual(leaks, []);
});
