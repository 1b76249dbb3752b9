/**
 * `deputy run --environment --endpoint bedrock --profile dev` end to end through the built CLI, against a Bedrock
 * Managed Agents stand-in: the mantle stand-in verifies every SigV4 signature (Agents API requests, the environment's
 * registration and its websocket handshake) against the SSO role's temporary key that the SSO and STS stand-ins
 * issued, and relays them to a Deputy runtime whose `remote_url`s point back at the stand-in, as BMA's do. The
 * agent's command and patch run in Deputy's shadow; the reviewed file reaches the workspace.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { startRuntime, type RuntimeHandle } from '../../src/runtime/index.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, ROLE_NAME, startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startMantleStandin, type MantleOptions, type MantleStandin } from '../fixtures/aws/mantle-standin.js';
import { startScriptedModel, type ScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const REGION = 'eu-west-1';
const PATCH = ['*** Begin Patch', '*** Update File: notes.txt', '@@', '-teh notes', '+the notes', '*** End Patch', ''].join('\n');

let aws: AwsStandins;
let home: AwsHome;
let model: ScriptedModel;
let runtime: RuntimeHandle;
let mantle: MantleStandin;
let dataDir: string;

before(async () => {
  aws = await startAwsStandins();
  home = await makeAwsHome(aws, ssoConfig('corp'));
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  model = await startScriptedModel([
    { toolCalls: [{ name: 'exec_command', callId: 'c1', arguments: { cmd: 'cat notes.txt' } }] },
    { toolCalls: [{ name: 'apply_patch', callId: 'c2', kind: 'custom', arguments: PATCH }] },
    { text: 'Fixed the typo.' },
  ]);
  dataDir = await mkdtemp(join(tmpdir(), 'deputy-bma-env-'));
  // The stand-in first, so the runtime can hand out remote_urls on it; it forwards once the runtime is up.
  const options: MantleOptions = { region: REGION, lookup: (id) => aws.lookupKey(id) };
  mantle = await startMantleStandin(options);
  runtime = await startRuntime({
    dataDir,
    upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses', maxRetries: 0 },
    publicUrl: mantle.baseURL.replace(/\/v1$/, ''),
  });
  options.forward = { url: runtime.url, token: runtime.token };
});

after(async () => {
  await mantle.close();
  await runtime.close();
  await model.close();
  await home.cleanup();
  await aws.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('Bedrock with an SSO profile: the environment registers and connects SigV4-signed as the SSO role, and the review brings the fix home', async (t) => {
  const repo = await makeRepo({ 'notes.txt': 'teh notes\n' });
  t.after(() => repo.cleanup());
  const result = await runCli(
    ['run', '--environment', '--endpoint', 'bedrock', '--profile', 'dev', '--region', REGION, '--model', 'scripted', 'fix the typo'],
    { cwd: repo.root, input: 'a\n', env: { DEPUTY_BEDROCK_BASE_URL: mantle.baseURL } },
  );
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  assert.equal(await readFile(join(repo.root, 'notes.txt'), 'utf8'), 'the notes\n');
  assert.match(result.stdout, /environment: connected/);
  assert.match(result.stdout, /Files changed \(1\): notes\.txt/);

  // The environment's registration and handshake went through "Bedrock", signed for bedrock-mantle in the region
  // with the same temporary key as the Agents API requests (the SSO role's).
  const register = mantle.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/direct/register'));
  const upgrades = mantle.requests.filter((r) => r.method === 'UPGRADE');
  assert.ok(register.length >= 1 && upgrades.length >= 1, JSON.stringify(mantle.requests.map((r) => `${r.method} ${r.path}`)));
  const keys = new Set(mantle.requests.map((r) => r.accessKeyId));
  assert.equal(keys.size, 1, 'one signing key for everything');
  for (const r of mantle.requests) {
    assert.equal(r.verified, true, `${r.method} ${r.path} verified`);
    assert.equal(r.service, 'bedrock-mantle');
    assert.equal(r.region, REGION);
  }

  // The session was self-hosted; the command ran in Deputy's environment and read the workspace.
  const client = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token });
  const sessions = (await client.beta.agents.sessions.list()).data;
  const session = sessions.find((s) => s.metadata['deputy.principal']?.includes(`AWSReservedSSO_${ROLE_NAME}_`));
  assert.ok(session, 'the session names the SSO role');
  assert.equal(session.environment.type, 'self_hosted');
  assert.ok((session.environment as Extract<AgentSession['environment'], { type: 'self_hosted' }>).remote_url.startsWith(mantle.baseURL.replace(/\/v1$/, '')));
  const items = (await client.beta.agents.sessions.items.list(session.id, { order: 'asc' } as never)).data;
  const cat = items.find((i) => i.type === 'command_execution') as { exit_code: number; output: string } | undefined;
  assert.equal(cat?.exit_code, 0);
  assert.ok(cat.output.includes('teh notes'), cat.output);

  // The audit trail names the SSO principal; no issued credential leaked anywhere.
  const audit = await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  assert.ok(audit.includes(`arn:aws:sts::${ACCOUNT_ID}:assumed-role/AWSReservedSSO_${ROLE_NAME}_`));
  assert.deepEqual(findLeaks([result.stdout, result.stderr, audit, JSON.stringify(sessions)], aws.issuedSecrets()), []);
});
