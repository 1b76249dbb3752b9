import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createLoginCommand } from '../../src/cli/login.js';
import { resolveIdentity, type BrowserLauncher } from '../../src/identity/index.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { findLeaks, runCaptured } from '../fixtures/aws/cli-capture.js';

const START_URL = 'https://d-1234567890.awsapps.com/start';

/** Plays the person at the browser: loads the authorize page and follows its redirect to the loopback. */
function playingBrowser(opened: string[]): BrowserLauncher {
  return {
    canOpen: () => true,
    async open(url) {
      opened.push(url);
      const page = await fetch(url, { redirect: 'manual' });
      const location = page.headers.get('location');
      if (location) await (await fetch(location)).text();
      return true;
    },
  };
}

const headless: BrowserLauncher = { canOpen: () => false, open: async () => false };

describe('deputy login', () => {
  let aws: AwsStandins;
  let home: AwsHome;
  let session: string;
  let n = 0;
  const outputs: string[] = [];
  const cacheFile = (key: string) => join(home.home, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`);

  before(async () => {
    aws = await startAwsStandins();
  });
  after(async () => {
    const leaks = findLeaks(outputs, aws.issuedSecrets());
    await aws.close();
    assert.deepEqual(leaks, [], 'no token or secret appears in any login output');
  });
  beforeEach(async () => {
    session = `login-${++n}`;
    home = await makeAwsHome(aws, ssoConfig(session, START_URL));
    aws.requests.length = 0;
    aws.deviceScript = [];
    aws.authorizeOutcome = 'approve';
  });
  afterEach(async () => {
    await home.cleanup();
  });

  async function login(argv: string[], deps: Parameters<typeof createLoginCommand>[0]) {
    const out = await runCaptured(createLoginCommand(deps), argv, home.env);
    outputs.push(out.stdout, out.stderr);
    return out;
  }

  it('signs in with PKCE on a loopback redirect and writes the AWS CLI cache, which then yields credentials', async () => {
    const opened: string[] = [];
    const out = await login(['--profile', 'dev'], { browser: playingBrowser(opened) });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Signed in profile "dev" \(sso-session login-1\) in the browser/);

    assert.equal(opened.length, 1);
    const authorize = new URL(opened[0]!);
    assert.equal(authorize.origin + authorize.pathname, `${aws.oidcUrl}/authorize`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    assert.match(out.stderr, /open this URL/);

    const cached = JSON.parse(await readFile(cacheFile(session), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(cached).sort(), [
      'accessToken', 'clientId', 'clientSecret', 'expiresAt', 'refreshToken', 'region', 'registrationExpiresAt', 'startUrl',
    ]);
    assert.equal(cached.startUrl, START_URL);
    assert.equal(cached.region, 'us-east-1');
    assert.match(cached.expiresAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(
      aws.requests.filter((r) => r.path === '/token').map((r) => r.detail),
      ['authorization_code'],
    );

    const id = await resolveIdentity({ profile: 'dev', env: home.env });
    assert.equal(id.account, '111122223333');
  });

  it('signs in with a device code, polling politely through pending and slow_down', async () => {
    aws.deviceScript = ['pending', 'pending', 'slow_down'];
    const waits: number[] = [];
    const out = await login(['--profile', 'dev', '--device-code'], { browser: headless, sleep: async (ms) => void waits.push(ms) });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /with a device code/);
    assert.match(out.stderr, /confirm the code ABCD-EFGH/);
    // interval 1 s from the service; +5 s after slow_down, kept for the rest of the polling.
    assert.deepEqual(waits, [1000, 1000, 1000, 6000]);
    assert.equal(aws.requests.filter((r) => r.path === '/token').length, 4);
    const cached = JSON.parse(await readFile(cacheFile(session), 'utf8')) as Record<string, string>;
    assert.equal(cached.startUrl, START_URL);
    assert.ok(cached.refreshToken);
    await resolveIdentity({ profile: 'dev', env: home.env });
  });

  it('falls back to the device code when no browser can be opened here', async () => {
    const out = await login(['--profile', 'dev'], { browser: headless, sleep: async () => {} });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /No browser is available here/);
    assert.match(out.stdout, /with a device code/);
  });

  it('legacy profiles sign in with the device code and cache under the start URL, without refresh fields', async () => {
    const out = await login(['--profile', 'legacy'], { browser: playingBrowser([]), sleep: async () => {} });
    assert.equal(out.code, 0, out.stderr);
    const cached = JSON.parse(await readFile(cacheFile(`${START_URL}/legacy`), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(cached).sort(), ['accessToken', 'expiresAt', 'region', 'startUrl']);
    const id = await resolveIdentity({ profile: 'legacy', env: home.env });
    assert.equal(id.account, '111122223333');
  });

  it('renews with the cached refresh token without opening a browser', async () => {
    const r = aws.issueRefreshable();
    const path = cacheFile(session);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(
      path,
      JSON.stringify({
        startUrl: START_URL,
        region: 'us-east-1',
        accessToken: r.accessToken,
        expiresAt: new Date(Date.now() - 1000).toISOString(),
        clientId: r.clientId,
        clientSecret: r.clientSecret,
        registrationExpiresAt: new Date(Date.now() + 86400_000).toISOString(),
        refreshToken: r.refreshToken,
      }),
    );
    const opened: string[] = [];
    const out = await login(['--profile', 'dev'], { browser: playingBrowser(opened) });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /by refreshing the existing sign-in/);
    assert.deepEqual(opened, []);
    const cached = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    assert.notEqual(cached.accessToken, r.accessToken);
    assert.equal(cached.clientId, r.clientId);
    await resolveIdentity({ profile: 'dev', env: home.env });
  });

  describe('a sign-in that does not complete leaves the old cache untouched', () => {
    const OLD = JSON.stringify({ startUrl: START_URL, region: 'us-east-1', accessToken: 'old-token-value', expiresAt: '2020-01-01T00:00:00Z' });
    async function seedOld(): Promise<string> {
      const path = cacheFile(session);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, OLD);
      return path;
    }

    it('denied in the browser', async () => {
      const path = await seedOld();
      aws.authorizeOutcome = 'deny';
      const out = await login(['--profile', 'dev'], { browser: playingBrowser([]) });
      assert.equal(out.code, 1);
      assert.match(out.stderr, /denied/);
      assert.equal(await readFile(path, 'utf8'), OLD);
    });

    it('timed out waiting for the browser', async () => {
      const path = await seedOld();
      aws.authorizeOutcome = 'ignore';
      const out = await login(['--profile', 'dev', '--timeout', '0.3'], { browser: playingBrowser([]) });
      assert.equal(out.code, 1);
      assert.match(out.stderr, /timed out/);
      assert.equal(await readFile(path, 'utf8'), OLD);
    });

    it('denied on the device-code page', async () => {
      const path = await seedOld();
      aws.deviceScript = ['pending', 'deny'];
      const out = await login(['--profile', 'dev', '--device-code'], { browser: headless, sleep: async () => {} });
      assert.equal(out.code, 1);
      assert.match(out.stderr, /denied/);
      assert.equal(await readFile(path, 'utf8'), OLD);
    });

    it('device code never confirmed', async () => {
      const path = await seedOld();
      aws.deviceScript = Array.from({ length: 50 }, () => 'pending' as const);
      const out = await login(['--profile', 'dev', '--device-code', '--timeout', '5'], { browser: headless, sleep: async () => {} });
      assert.equal(out.code, 1);
      assert.match(out.stderr, /timed out: the code ABCD-EFGH was not confirmed within 5 s/);
      assert.ok(aws.requests.filter((r) => r.path === '/token').length <= 5, 'polls at most once per interval');
      assert.equal(await readFile(path, 'utf8'), OLD);
    });

    it('cancelled (Ctrl-C)', async () => {
      const path = await seedOld();
      aws.authorizeOutcome = 'ignore';
      const ctrlC = new AbortController();
      const browser: BrowserLauncher = {
        canOpen: () => true,
        async open(url) {
          await fetch(url);
          setImmediate(() => ctrlC.abort());
          return true;
        },
      };
      const out = await runCaptured(createLoginCommand({ browser }), ['--profile', 'dev'], home.env, ctrlC.signal);
      outputs.push(out.stdout, out.stderr);
      assert.equal(out.code, 130);
      assert.match(out.stderr, /cancelled/);
      assert.equal(await readFile(path, 'utf8'), OLD);
    });
  });

  it('explains a profile that is not SSO', async () => {
    const out = await login(['--profile', 'ops'], {});
    assert.equal(out.code, 1);
    assert.match(out.stderr, /does not use IAM Identity Center/);
  });
});
