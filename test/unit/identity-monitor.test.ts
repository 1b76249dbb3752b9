/**
 * The identity monitor's schedule on an injected clock (the SDK and the stand-ins keep real time): the warning
 * exactly 15 minutes before the sign-in runs out and not a millisecond sooner, the expiry itself, one publication per
 * change, and a renewable sign-in renewed silently with its refresh token when the warning window opens.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ssoTokenCachePath } from '../../src/identity/aws-config.js';
import { EXPIRY_WARNING_MS, type IdentityStatus, type ServerSettings } from '../../src/protocol/lsp.js';
import { IdentityMonitor, type Clock } from '../../src/server/identity-monitor.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig, type AwsHome } from '../fixtures/aws/aws-home.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';

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
beforeEach(() => rm(join(home.home, '.aws', 'sso'), { recursive: true, force: true }));

class FakeClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  delays: number[] = [];
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number) {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    this.delays.push(ms);
    return { clear: () => void (timer.live = false) };
  }
  /** Moves time on, firing what falls due; resolves after the fired work settled. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    this.t += ms;
    const due = this.timers.filter((x) => x.live && x.at <= this.t);
    this.timers = this.timers.filter((x) => !due.includes(x));
    for (const x of due) x.fn();
    if (due.length) await settle();
  }
}

const settings: ServerSettings = {
  endpoint: 'embedded',
  bedrockProfile: 'dev',
  model: 'm',
  embeddedModelBaseUrl: 'http://127.0.0.1:9/v1',
  embeddedModelApi: 'responses',
  promptTimeoutMinutes: 15,
  workspaceTrusted: true,
};

function monitor(clock: Clock) {
  const published: IdentityStatus[] = [];
  let settled: (() => void) | undefined;
  const m = new IdentityMonitor({
    env: home.env,
    settings: () => settings,
    clock,
    signedOut: new Set(),
    log: () => undefined,
    publish: (s) => {
      published.push(s);
      settled?.();
    },
  });
  /** Waits for the next publication. */
  const next = () => new Promise<void>((r) => (settled = r));
  return { m, published, next };
}

test('the warning is published at expiry − 15 min exactly, the expiry at the expiry, each once', async () => {
  const expiresInMs = 40 * 60_000;
  await seedSsoSignIn(home, aws, 'corp', expiresInMs);
  const clock = new FakeClock(Date.now());
  const expiresAt = clock.t + expiresInMs;
  const { m, published, next } = monitor(clock);
  await m.refresh();
  assert.equal(published.length, 1);
  assert.equal(published[0]!.state, 'signedIn');
  assert.equal(published[0]!.expiry, 'ok');
  const exact = Date.parse(published[0]!.expiresAt!);
  assert.ok(Math.abs(exact - expiresAt) < 1000);

  // One millisecond before the window: nothing.
  const toWarning = exact - EXPIRY_WARNING_MS - clock.t;
  assert.equal(clock.delays.at(-1), toWarning, 'the timer aims at the warning instant');
  await clock.advance(toWarning - 1, async () => undefined);
  assert.equal(published.length, 1);
  await clock.advance(1, next);
  assert.equal(published.length, 2);
  assert.equal(published[1]!.expiry, 'expiring');
  assert.equal(published[1]!.state, 'signedIn');

  // Then the expiry itself: a person must sign in.
  assert.equal(clock.delays.at(-1), EXPIRY_WARNING_MS);
  await clock.advance(EXPIRY_WARNING_MS - 1, async () => undefined);
  assert.equal(published.length, 2);
  await clock.advance(1, next);
  assert.equal(published.length, 3);
  assert.equal(published[2]!.expiry, 'expired');
  assert.equal(published[2]!.state, 'signInRequired');
  assert.equal(published[2]!.reason, 'expired');

  // A refresh that finds nothing new publishes nothing.
  await m.refresh();
  assert.equal(published.length, 3);
  m.close();
});

test('a renewable sign-in is renewed with its refresh token when the warning window opens, without a person', async () => {
  const r = aws.issueRefreshable();
  const path = ssoTokenCachePath(home.env, 'corp');
  await mkdir(dirname(path), { recursive: true });
  const expiresInMs = 20 * 60_000;
  await writeFile(
    path,
    JSON.stringify({
      startUrl: 'https://d-1234567890.awsapps.com/start',
      region: 'us-east-1',
      accessToken: r.accessToken,
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
      clientId: r.clientId,
      clientSecret: r.clientSecret,
      registrationExpiresAt: new Date(Date.now() + 86400_000).toISOString(),
      refreshToken: r.refreshToken,
    }),
  );
  const clock = new FakeClock(Date.now());
  const { m, published, next } = monitor(clock);
  await m.refresh();
  assert.equal(published[0]!.renewable, true);
  const first = Date.parse(published[0]!.expiresAt!);
  const grantsBefore = aws.requests.filter((x) => x.detail === 'refresh_token').length;
  await clock.advance(first - EXPIRY_WARNING_MS - clock.t, next);
  assert.equal(aws.requests.filter((x) => x.detail === 'refresh_token').length, grantsBefore + 1);
  const renewed = published.at(-1)!;
  assert.equal(renewed.state, 'signedIn');
  assert.equal(renewed.expiry, 'ok', 'renewed: no warning');
  assert.ok(Date.parse(renewed.expiresAt!) > first, 'a later expiry');
  m.close();
});
