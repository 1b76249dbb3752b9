import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import { whoamiCommand } from '../../src/cli/whoami.js';
import {
  credentialProviderFor,
  listProfiles,
  resolveIdentity,
  SignInRequiredError,
} from '../../src/identity/index.js';
import { ssoTokenCachePath } from '../../src/identity/aws-config.js';
import { ACCOUNT_ID, ROLE_NAME, USER_NAME, startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { findLeaks, runCaptured } from '../fixtures/aws/cli-capture.js';

const START_URL = 'https://d-1234567890.awsapps.com/start';

describe('identity: profiles, credentials, caller identity', () => {
  let aws: AwsStandins;
  let home: AwsHome;
  let session: string;
  let n = 0;
  const outputs: string[] = [];

  before(async () => {
    aws = await startAwsStandins();
  });
  after(async () => {
    const leaks = findLeaks(outputs, aws.issuedSecrets());
    await aws.close();
    assert.deepEqual(leaks, [], 'no issued credential appears in any output of this suite');
  });
  beforeEach(async () => {
    // A fresh session name per test: the SDK keeps per-session refresh state for the life of the process.
    session = `corp-${++n}`;
    home = await makeAwsHome(aws, ssoConfig(session, START_URL));
    aws.requests.length = 0;
  });
  afterEach(async () => {
    await home.cleanup();
  });

  async function seedToken(key: string, fields: Record<string, unknown>): Promise<string> {
    const path = ssoTokenCachePath(home.env, key);
    await mkdir(dirname(path), { recursive: true });
    const text = JSON.stringify({ startUrl: START_URL, region: 'us-east-1', ...fields }, null, 2);
    await writeFile(path, text);
    return path;
  }

  it('lists profiles by kind without exposing secrets', async () => {
    await home.writeCredentials('[static-user]\naws_access_key_id = AKIAEXAMPLEKEY123456\naws_secret_access_key = verysecretvalue1234567890\n');
    home.env.AWS_PROFILE = 'dev';
    const profiles = await listProfiles(home.env);
    const byName = Object.fromEntries(profiles.map((p) => [p.name, p]));
    assert.equal(byName.dev?.kind, 'sso-session');
    assert.equal(byName.dev?.ssoSession, session);
    assert.equal(byName.dev?.ssoStartUrl, START_URL);
    assert.equal(byName.dev?.selected, true);
    assert.equal(byName.legacy?.kind, 'sso-legacy');
    assert.equal(byName.ops?.kind, 'assume-role');
    assert.equal(byName['static-user']?.kind, 'static');
    assert.doesNotMatch(JSON.stringify(profiles), /verysecretvalue|AKIAEXAMPLEKEY/);
  });

  it('sso-session profile → role credentials → caller identity, and whoami prints it', async () => {
    await seedToken(session, { accessToken: aws.issueAccessToken(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    const provider = credentialProviderFor({ profile: 'dev', env: home.env });
    const creds = await provider();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.ok(creds.expiration && creds.expiration.getTime() > Date.now());
    // Cached: a second call does not go back to the portal.
    assert.equal(await provider(), creds);
    assert.equal(aws.requests.filter((r) => r.service === 'sso').length, 1);

    const id = await resolveIdentity({ profile: 'dev', env: home.env });
    assert.equal(id.account, ACCOUNT_ID);
    assert.equal(id.sessionName, USER_NAME);
    assert.match(id.roleName ?? '', new RegExp(`^AWSReservedSSO_${ROLE_NAME}_`));
    assert.equal(id.profile, 'dev');
    assert.ok(id.expiration instanceof Date);

    const text = await runCaptured(whoamiCommand, ['--profile', 'dev'], home.env);
    outputs.push(text.stdout, text.stderr);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Account:\s+111122223333/);
    assert.match(text.stdout, new RegExp(`Principal:\\s+arn:aws:sts::${ACCOUNT_ID}:assumed-role/`));
    assert.match(text.stdout, /Expires:\s+\d{4}-/);

    const json = await runCaptured(whoamiCommand, ['--profile', 'dev', '--json'], home.env);
    outputs.push(json.stdout, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(parsed.account, ACCOUNT_ID);
    assert.equal(parsed.sessionName, USER_NAME);
    assert.equal(parsed.profile, 'dev');
    assert.equal(typeof parsed.expiration, 'string');
  });

  it('AWS_PROFILE selects the profile when no --profile is given', async () => {
    await seedToken(session, { accessToken: aws.issueAccessToken(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    home.env.AWS_PROFILE = 'dev';
    const id = await resolveIdentity({ env: home.env });
    assert.equal(id.profile, 'dev');
    assert.equal(id.sessionName, USER_NAME);
  });

  it('an expired SSO token is a typed sign-in error naming the profile and both ways out', async () => {
    await seedToken(session, { accessToken: aws.issueAccessToken(), expiresAt: new Date(Date.now() - 60_000).toISOString() });
    const provider = credentialProviderFor({ profile: 'dev', env: home.env });
    await assert.rejects(provider(), (err: unknown) => {
      assert.ok(err instanceof SignInRequiredError);
      assert.equal(err.profile, 'dev');
      assert.equal(err.reason, 'expired');
      assert.match(err.message, /deputy login --profile dev/);
      assert.match(err.message, /aws sso login --profile dev/);
      return true;
    });
    assert.equal(aws.requests.filter((r) => r.service === 'sso').length, 0, 'no portal call with an expired token');

    const out = await runCaptured(whoamiCommand, ['--profile', 'dev'], home.env);
    outputs.push(out.stdout, out.stderr);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /Sign-in required for AWS profile "dev"/);
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a missing sign-in is a typed error too; an assume-role profile names its SSO source', async () => {
    await assert.rejects(credentialProviderFor({ profile: 'dev', env: home.env })(), (err: unknown) => {
      assert.ok(err instanceof SignInRequiredError);
      assert.equal(err.reason, 'missing');
      return true;
    });
    await assert.rejects(credentialProviderFor({ profile: 'ops', env: home.env })(), (err: unknown) => {
      assert.ok(err instanceof SignInRequiredError, String(err));
      assert.equal(err.profile, 'dev');
      return true;
    });
  });

  it('a token the portal no longer accepts asks for sign-in instead of failing with a 401', async () => {
    await seedToken(session, { accessToken: 'revoked-token-not-known-to-the-portal', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    await assert.rejects(credentialProviderFor({ profile: 'dev', env: home.env })(), (err: unknown) => {
      assert.ok(err instanceof SignInRequiredError);
      assert.equal(err.reason, 'rejected');
      return true;
    });
  });

  it('legacy sso_start_url profiles read the token cached under the start URL', async () => {
    await seedToken(`${START_URL}/legacy`, { accessToken: aws.issueAccessToken(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    const id = await resolveIdentity({ profile: 'legacy', env: home.env });
    assert.equal(id.account, ACCOUNT_ID);
  });

  it('refreshes a token near expiry with its refresh token through the SDK, and updates the shared cache', async () => {
    const r = aws.issueRefreshable();
    const path = await seedToken(session, {
      accessToken: r.accessToken,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      clientId: r.clientId,
      clientSecret: r.clientSecret,
      registrationExpiresAt: new Date(Date.now() + 86400_000).toISOString(),
      refreshToken: r.refreshToken,
    });
    const creds = await credentialProviderFor({ profile: 'dev', env: home.env })();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.deepEqual(
      aws.requests.filter((q) => q.service === 'oidc').map((q) => q.detail),
      ['refresh_token'],
    );
    const cached = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    assert.notEqual(cached.accessToken, r.accessToken);
    assert.notEqual(cached.refreshToken, r.refreshToken);
    assert.ok(new Date(cached.expiresAt!).getTime() > Date.now() + 30 * 60_000);
  });

  it('static profiles from the credentials file resolve through fromIni', async () => {
    const user = aws.addIamUser('build-bot');
    await home.writeCredentials(`[bot]\naws_access_key_id = ${user.accessKeyId}\naws_secret_access_key = ${user.secretAccessKey}\n`);
    const id = await resolveIdentity({ profile: 'bot', env: home.env });
    assert.equal(id.arn, user.arn);
    assert.equal(id.roleName, undefined);
    assert.equal(id.expiration, undefined);
    const out = await runCaptured(whoamiCommand, ['--profile', 'bot'], home.env);
    outputs.push(out.stdout, out.stderr);
    assert.match(out.stdout, /no expiry/);
  });

  it('credential_process profiles resolve through fromIni', async () => {
    const user = aws.addIamUser('proc-user');
    const script = `${home.home}/creds.js`;
    await writeFile(script, `process.stdout.write(JSON.stringify({Version:1,AccessKeyId:${JSON.stringify(user.accessKeyId)},SecretAccessKey:${JSON.stringify(user.secretAccessKey)}}))`);
    await home.writeConfig(`${ssoConfig(session, START_URL)}\n[profile proc]\ncredential_process = ${process.execPath} ${script}\n`);
    const id = await resolveIdentity({ profile: 'proc', env: home.env });
    assert.equal(id.arn, user.arn);
  });

  it('an unknown profile says where it looked and how to add it', async () => {
    const out = await runCaptured(whoamiCommand, ['--profile', 'nope'], home.env);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /AWS profile "nope" is not in .*config/);
    assert.match(out.stderr, /aws configure sso --profile nope/);
  });
});
