/**
 * The acting identity in the language server, over stdio, with the AWS stand-ins (IAM Identity Center OIDC, the SSO
 * portal, STS) driven by the real AWS SDK: the identity reported and kept current, the expiry warning when the sign-in
 * enters its last 15 minutes, sign-in round trips through the device-code and PKCE flows (the browser played by the
 * test, as `env.openExternal` would open it), sign-out that leaves the AWS CLI's cache alone, and a Bedrock session
 * (mantle stand-in in front of a Deputy runtime with the scripted model) that pauses when its sign-in runs out
 * mid-task and goes on after a sign-in, without losing or repeating anything.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { ssoTokenCachePath } from '../../src/identity/aws-config.js';
import { AnswerPrompt, EXPIRY_WARNING_MS, GetIdentity, ListProfiles, SignIn, SignOut, StartTask, StopSession, isFailure } from '../../src/protocol/lsp.js';
import { startRuntime, type RuntimeHandle } from '../../src/runtime/index.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, ROLE_NAME, USER_NAME, startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { startMantleStandin, type MantleStandin } from '../fixtures/aws/mantle-standin.js';
import { startScriptedModel, type ScriptedModel } from '../fixtures/model-server.js';
import { settingsFor, startServer, type ServerUnderTest } from './server-client.js';

const REGION = 'eu-west-1';
let aws: AwsStandins;
let home: AwsHome;

before(async () => {
  aws = await startAwsStandins();
  home = await makeAwsHome(aws, ssoConfig('corp'));
});
after(async () => {
  await home.cleanup();
  await aws.close();
});
beforeEach(async () => {
  aws.tokenLifetimeSeconds = 3600;
  aws.deviceScript = [];
  aws.authorizeOutcome = 'approve';
  await rm(join(home.home, '.aws', 'sso'), { recursive: true, force: true });
});

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-identity-ws-'));
  writeFileSync(join(dir, '.env'), 'API_URL=http://localhost\n');
  return dir;
}

const ARN = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/AWSReservedSSO_${ROLE_NAME}_0123456789abcdef/${USER_NAME}`;
const cacheFile = () => ssoTokenCachePath(home.env, 'corp');

async function server(t: { after(fn: () => Promise<void>): void }, over: Parameters<typeof settingsFor>[1] = {}, signedOut?: string[]): Promise<ServerUnderTest> {
  const s = await startServer([workspace()], settingsFor('http://127.0.0.1:9/v1', { bedrockProfile: 'dev', ...over }), undefined, signedOut ? { signedOutProfiles: signedOut } : {});
  t.after(async () => void (await s.stop()));
  return s;
}

test('the server reports who acts: principal, account, profile and the sign-in expiry; the profiles to switch to', async (t) => {
  const expiresAt = Date.now() + 3 * 3600_000;
  await seedSsoSignIn(home, aws, 'corp', expiresAt - Date.now());
  const s = await server(t);
  const id = await s.waitForIdentity((x) => x.state !== 'checking');
  assert.equal(id.state, 'signedIn', JSON.stringify(id));
  assert.equal(id.profile, 'dev');
  assert.deepEqual(id.principal, { arn: ARN, account: ACCOUNT_ID, roleName: `AWSReservedSSO_${ROLE_NAME}_0123456789abcdef`, sessionName: USER_NAME });
  // The SSO sign-in's expiry (when a person must act), not the hour-long role credentials' the SDK renews by itself.
  assert.ok(Math.abs(Date.parse(id.expiresAt!) - expiresAt) < 1500, `${id.expiresAt} vs ${new Date(expiresAt).toISOString()}`);
  assert.equal(id.expiry, 'ok');
  assert.equal(id.renewable, false);
  const { receivedAt: _, ...reported } = id;
  assert.deepEqual(await s.conn.sendRequest(GetIdentity.type, { refresh: false }), reported);
  const profiles = await s.conn.sendRequest(ListProfiles.type);
  assert.equal(profiles.current, 'dev');
  assert.deepEqual(profiles.profiles.map((p) => p.name), ['dev', 'legacy', 'ops']);
  // Nothing of the sign-in's secrets crossed the pipe.
  const wire = JSON.stringify(s.identities) + JSON.stringify(profiles);
  for (const secret of aws.issuedSecrets()) assert.ok(!wire.includes(secret), 'no issued secret on the wire');
});

test('the expiry warning comes when the sign-in enters its last 15 minutes, not before, pushed by the server', async (t) => {
  await seedSsoSignIn(home, aws, 'corp', 2 * 3600_000);
  const s = await server(t);
  await s.waitForIdentity((x) => x.state === 'signedIn');
  // Once the server is up (its start-up time varies), the sign-in is renewed elsewhere to end 15 min + 6 s from now.
  const expiresAt = Date.now() + EXPIRY_WARNING_MS + 6_000;
  await seedSsoSignIn(home, aws, 'corp', expiresAt - Date.now());
  const first = await s.conn.sendRequest(GetIdentity.type, { refresh: true });
  assert.equal(first.expiry, 'ok');
  assert.ok(Math.abs(Date.parse(first.expiresAt!) - expiresAt) < 1500);
  const warned = await s.waitForIdentity((x) => x.expiry === 'expiring', 30_000);
  assert.equal(warned.state, 'signedIn');
  assert.ok(warned.receivedAt >= expiresAt - EXPIRY_WARNING_MS - 50, `warned ${expiresAt - EXPIRY_WARNING_MS - warned.receivedAt} ms early`);
  assert.equal(s.identities.filter((x) => x.expiry === 'expiring').length, 1, 'one warning, not one per check');
});

test('sign-in through the device code: the code and link reach the client, the cache is written, the identity updates', async (t) => {
  const s = await server(t);
  const missing = await s.waitForIdentity((x) => x.state !== 'checking');
  assert.equal(missing.state, 'signInRequired');
  assert.equal(missing.reason, 'missing');
  aws.deviceScript = ['pending', 'pending'];
  const r = await s.conn.sendRequest(SignIn.type, { flow: 'deviceCode' });
  assert.ok(!isFailure(r), JSON.stringify(r));
  assert.equal(r.identity.state, 'signedIn');
  assert.equal(r.identity.principal?.arn, ARN);
  assert.equal(s.signInProgress.length, 1);
  assert.equal(s.signInProgress[0]!.userCode, 'ABCD-EFGH');
  assert.match(s.signInProgress[0]!.verificationUriComplete ?? '', /user_code=ABCD-EFGH/);
  assert.ok(existsSync(cacheFile()), 'the AWS CLI cache holds the sign-in');
  await s.waitForIdentity((x) => x.state === 'signedIn');

  // Sign out: Deputy stops using it, the AWS CLI's cache is left exactly as it was, and new tasks are refused.
  const cached = readFileSync(cacheFile(), 'utf8');
  const out = await s.conn.sendRequest(SignOut.type, {});
  assert.equal(out.profile, 'dev');
  assert.equal(out.identity.state, 'signInRequired');
  assert.equal(out.identity.reason, 'signedOut');
  assert.equal(readFileSync(cacheFile(), 'utf8'), cached);
  const refused = await s.conn.sendRequest(StartTask.type, { prompt: 'anything' });
  assert.ok(isFailure(refused));
  assert.equal(refused.failure.kind, 'signInRequired');
  assert.deepEqual(refused.failure.action, { kind: 'signIn', profile: 'dev' });
});

test('a profile signed out in an earlier window stays signed out until a sign-in from Deputy', async (t) => {
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  const s = await server(t, {}, ['dev']);
  const id = await s.waitForIdentity((x) => x.state !== 'checking');
  assert.equal(id.reason, 'signedOut');
  // The cached token is still good for an hour, yet Deputy does not use it until the person signs in here.
  const r = await s.conn.sendRequest(SignIn.type, { flow: 'deviceCode' });
  assert.ok(!isFailure(r), JSON.stringify(r));
  assert.equal(r.identity.state, 'signedIn');
});

test('sign-in through the browser (PKCE): the server asks the client to open the page; cancel writes nothing', async (t) => {
  const s = await server(t);
  await s.waitForIdentity((x) => x.state === 'signInRequired');
  const opened: string[] = [];
  // The person's browser: open the page, which signs in (or, here first, just waits) and redirects to the loopback listener.
  s.openExternal = async (url) => {
    opened.push(url);
    return (await fetch(url)).ok;
  };

  // A sign-in nobody completes, cancelled from the client: refused as cancelled, nothing cached.
  aws.authorizeOutcome = 'ignore';
  const cancel = new CancellationTokenSource();
  const pending = s.conn.sendRequest(SignIn.type, { flow: 'browser', profile: 'dev' }, cancel.token);
  const until = Date.now() + 10_000;
  while (opened.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  cancel.cancel();
  const cancelled = await pending;
  assert.ok(isFailure(cancelled), JSON.stringify(cancelled));
  assert.match(cancelled.failure.message, /cancelled/);
  assert.equal(existsSync(cacheFile()), false, 'a cancelled sign-in writes nothing');

  aws.authorizeOutcome = 'approve';
  const r = await s.conn.sendRequest(SignIn.type, { flow: 'browser' });
  assert.ok(!isFailure(r), JSON.stringify(r));
  assert.equal(r.identity.state, 'signedIn');
  assert.equal(r.identity.renewable, true, 'an sso-session sign-in keeps a refresh token');
  assert.equal(opened.length, 2);
  const page = new URL(opened[1]!);
  assert.equal(page.origin, aws.oidcUrl);
  assert.equal(page.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(s.signInProgress.length, 0, 'no device code in the browser flow');
  assert.ok(existsSync(cacheFile()));
});

test('a Bedrock session whose sign-in runs out mid-task pauses, then goes on after a sign-in: nothing lost, no retry loop', async (t) => {
  let model: ScriptedModel | undefined;
  let runtime: RuntimeHandle | undefined;
  let mantle: MantleStandin | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-identity-rt-'));
  t.after(async () => {
    await mantle?.close();
    await runtime?.close();
    await model?.close();
    delete process.env.DEPUTY_BEDROCK_BASE_URL;
    await rm(dataDir, { recursive: true, force: true });
  });
  model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] },
    { text: 'The .env names the API URL.' },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env_2' }] },
    { text: 'Read it again after aws sso login.' },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env_3' }] },
    { text: 'never reached' },
  ]);
  runtime = await startRuntime({ dataDir, upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses', maxRetries: 0 } });
  mantle = await startMantleStandin({ region: REGION, lookup: (id) => aws.lookupKey(id), forward: { url: runtime.url, token: runtime.token } });
  process.env.DEPUTY_BEDROCK_BASE_URL = mantle.baseURL;
  // Role credentials shorter than the SDK's renewal window: every request resolves them from the SSO sign-in again.
  aws.tokenLifetimeSeconds = 60;
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  const s = await server(t, { endpoint: 'bedrock', bedrockRegion: REGION, model: 'scripted' });
  await s.waitForIdentity((x) => x.state === 'signedIn');

  const started = await s.conn.sendRequest(StartTask.type, { prompt: 'What is in .env?' });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const asked = await s.waitFor('prompt.asked');
  // The sign-in runs out while the person reads the question.
  await seedSsoSignIn(home, aws, 'corp', -60_000);
  await s.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: asked.binding, decision: 'allowOnce' });

  const paused = await s.waitFor('error', (e) => e.kind === 'signInRequired');
  assert.equal(paused.fatal, false);
  assert.deepEqual(paused.action, { kind: 'signIn', profile: 'dev' });
  await s.waitFor('session.status', (e) => e.status === 'waiting');
  await s.waitForIdentity((x) => x.state === 'signInRequired' && x.reason === 'expired');
  // Parked, not retrying: no request reaches Bedrock while it waits.
  const seen = mantle.requests.length;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(mantle.requests.length, seen, 'no requests while paused');
  assert.equal(s.events.filter((e) => e.type === 'turn.ended').length, 0, 'the turn did not end');

  aws.deviceScript = ['pending'];
  const signedIn = await s.conn.sendRequest(SignIn.type, { flow: 'deviceCode' });
  assert.ok(!isFailure(signedIn), JSON.stringify(signedIn));
  await s.waitFor('notice', (e) => /goes on/.test(e.message));
  const done = await s.waitFor('message.completed', (e) => e.text === 'The .env names the API URL.', 30_000);
  assert.equal(done.sessionId, started.sessionId);
  const ended = await s.waitFor('turn.ended');
  assert.equal(ended.outcome, 'completed');
  // The tool's result reached the model exactly once, with the file's content.
  const results = model.requests.flatMap((r) => JSON.stringify(r.body).match(/API_URL=http:\/\/localhost/g) ?? []);
  assert.ok(results.length >= 1, 'the read reached the model');
  assert.equal(s.events.filter((e) => e.type === 'tool.completed' && e.callId === 'call_env').length, 1);

  // A sign-in made outside Deputy (`aws sso login` in a terminal) ends a pause too, once Deputy looks again.
  const second = await s.conn.sendRequest(StartTask.type, { prompt: 'Read it again' });
  assert.ok(!isFailure(second), JSON.stringify(second));
  const asked2 = await s.waitFor('prompt.asked', (e) => e.sessionId === second.sessionId);
  await seedSsoSignIn(home, aws, 'corp', -60_000);
  await s.conn.sendRequest(AnswerPrompt.type, { sessionId: second.sessionId, binding: asked2.binding, decision: 'allowOnce' });
  await s.waitFor('error', (e) => e.sessionId === second.sessionId && e.kind === 'signInRequired');
  await seedSsoSignIn(home, aws, 'corp', 3600_000);
  const seenAgain = await s.conn.sendRequest(GetIdentity.type, { refresh: true });
  assert.equal(seenAgain.state, 'signedIn');
  await s.waitFor('message.completed', (e) => e.sessionId === second.sessionId && e.text === 'Read it again after aws sso login.', 30_000);

  // Stop still works while paused: a third turn pauses, Stop ends it as stopped at once.
  const third = await s.conn.sendRequest(StartTask.type, { prompt: 'And once more' });
  assert.ok(!isFailure(third), JSON.stringify(third));
  const asked3 = await s.waitFor('prompt.asked', (e) => e.sessionId === third.sessionId);
  await seedSsoSignIn(home, aws, 'corp', -60_000);
  await s.conn.sendRequest(AnswerPrompt.type, { sessionId: third.sessionId, binding: asked3.binding, decision: 'allowOnce' });
  await s.waitFor('error', (e) => e.sessionId === third.sessionId && e.kind === 'signInRequired');
  const stop = await s.conn.sendRequest(StopSession.type, { sessionId: third.sessionId });
  assert.equal(stop.stopped, true);
  const stopped = await s.waitFor('turn.ended', (e) => e.sessionId === third.sessionId, 15_000);
  assert.equal(stopped.outcome, 'cancelled');
  await s.waitFor('session.status', (e) => e.sessionId === third.sessionId && e.status === 'cancelled');
});
