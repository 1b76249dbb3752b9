import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { credentialProviderFor, describeServiceError } from '../../src/identity/index.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startMantleStandin, type MantleStandin } from '../fixtures/aws/mantle-standin.js';

const REGION = 'eu-west-1';

describe('Bedrock mantle endpoint signed with the profile credentials', () => {
  let aws: AwsStandins;
  let mantle: MantleStandin;
  let home: AwsHome;
  let session: string;
  let n = 0;
  const messages: string[] = [];

  before(async () => {
    aws = await startAwsStandins();
    mantle = await startMantleStandin({ region: REGION, lookup: (id) => aws.lookupKey(id) });
  });
  after(async () => {
    await mantle.close();
    const leaks = findLeaks(messages, aws.issuedSecrets());
    await aws.close();
    assert.deepEqual(leaks, [], 'no credential appears in any error message');
  });
  beforeEach(async () => {
    session = `bedrock-${++n}`;
    home = await makeAwsHome(aws, ssoConfig(session));
    mantle.requests.length = 0;
    mantle.failWith = undefined;
  });
  afterEach(async () => {
    await home.cleanup();
  });

  const signIn = (expiresInMs: number) => seedSsoSignIn(home, aws, session, expiresInMs);

  const client = () =>
    createAgentsClient(
      { kind: 'bedrock', region: REGION, credentialProvider: credentialProviderFor({ profile: 'dev', env: home.env }), baseURL: mantle.baseURL },
      { maxRetries: 0 },
    );

  it('signs requests for service bedrock-mantle in the chosen region with the SSO role credentials', async () => {
    await signIn(3600_000);
    const page = await client().beta.agents.sessions.list();
    assert.deepEqual(page.data, []);
    assert.equal(mantle.requests.length, 1);
    const [req] = mantle.requests;
    assert.equal(req!.verified, true, 'the stand-in recomputed the same signature');
    assert.equal(req!.service, 'bedrock-mantle');
    assert.equal(req!.region, REGION);
    assert.match(req!.accessKeyId ?? '', /^ASIA/);
  });

  it('with an expired sign-in sends no request and says to sign in, naming the profile', async () => {
    await signIn(-60_000);
    const err = await client()
      .beta.agents.sessions.list()
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err, 'the call failed');
    assert.equal(mantle.requests.length, 0);
    const message = describeServiceError(err);
    messages.push(message ?? '', String((err as Error).message));
    assert.match(message ?? '', /Sign-in required for AWS profile "dev"/);
    assert.match(message ?? '', /deputy login --profile dev/);
  });

  it('the stand-in refuses a signature made with the wrong secret, and the message says to refresh credentials', async () => {
    const user = aws.addIamUser('mallory');
    const forged = createAgentsClient(
      {
        kind: 'bedrock',
        region: REGION,
        credentialProvider: async () => ({ accessKeyId: user.accessKeyId, secretAccessKey: `${user.secretAccessKey}x` }),
        baseURL: mantle.baseURL,
      },
      { maxRetries: 0 },
    );
    const err = await forged.beta.agents.sessions.list().then(() => undefined, (e: unknown) => e);
    assert.equal(mantle.requests.at(-1)?.verified, false);
    const text = describeServiceError(err) ?? '';
    messages.push(text);
    assert.match(text, /rejected the credentials/);
  });

  it('turns AccessDenied and throttling answers into what to do', async () => {
    await signIn(3600_000);
    mantle.failWith = { status: 403, type: 'AccessDeniedException', message: 'User is not authorized to perform: bedrock-mantle:ListSessions' };
    const denied = await client().beta.agents.sessions.list().then(() => undefined, (e: unknown) => e);
    const deniedText = describeServiceError(denied) ?? '';
    messages.push(deniedText);
    assert.match(deniedText, /Access denied/);
    assert.match(deniedText, /bedrock-mantle:ListSessions/);
    assert.match(deniedText, /deputy whoami/);

    mantle.failWith = { status: 429, type: 'ThrottlingException', message: 'Too many requests' };
    const throttled = await client().beta.agents.sessions.list().then(() => undefined, (e: unknown) => e);
    const throttledText = describeServiceError(throttled) ?? '';
    messages.push(throttledText);
    assert.match(throttledText, /throttling/);
    assert.match(throttledText, /retry/);
  });
});
