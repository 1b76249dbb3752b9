/**
 * `deputy login`: sign a profile in to IAM Identity Center and store the token in the AWS CLI's cache.
 * The cache is written only after a flow succeeds, so a cancelled, denied or timed-out sign-in leaves the
 * previous sign-in exactly as it was.
 */
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { systemBrowser, type BrowserLauncher } from './browser.js';
import { endpointOverride } from './caller.js';
import { ProfileConfigError } from './credentials.js';
import {
  authorizationCodeFlow,
  defaultSleep,
  deviceCodeFlow,
  refreshFlow,
  SignInFailedError,
  type ClientRegistration,
  type FlowContext,
  type OidcToken,
} from './oidc-flows.js';
import { selectedProfileName, ssoSignInTarget, type SsoSignInTarget } from './profiles.js';
import { awsTimestamp, readSsoToken, writeSsoToken, type SsoCachedToken } from './token-cache.js';

export { SignInFailedError } from './oidc-flows.js';

export type SignInFlow = 'authorization-code' | 'device-code' | 'refresh';

export interface SignInOptions {
  profile?: string;
  env?: NodeJS.ProcessEnv;
  /** Use device authorization even when a browser could be opened here. */
  deviceCode?: boolean;
  /** Skip the refresh-token shortcut and always sign in interactively. */
  force?: boolean;
  /** Where the person is told what to do. */
  notify: (line: string) => void;
  /** The device code's facts as a structure (the editor shows a copy button and a link). */
  onDeviceCode?: FlowContext['deviceCode'];
  /** False: renew with the refresh token or fail with `needsPerson`; never start a browser or device sign-in. */
  interactive?: boolean;
  browser?: BrowserLauncher;
  /** How long to wait for the person; default 10 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What a successful sign-in produced. No token value is part of it. */
export interface SignInResult {
  profile: string;
  flow: SignInFlow;
  startUrl: string;
  sessionName?: string;
  expiresAt: Date;
  cachePath: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

function oidcEndpointFor(region: string, env: NodeJS.ProcessEnv): string {
  const override = endpointOverride(env, 'SSO_OIDC');
  if (override) return override.replace(/\/$/, '');
  return `https://oidc.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

function cacheRecord(target: SsoSignInTarget, token: OidcToken, registration?: ClientRegistration, previousRefresh?: string): SsoCachedToken {
  const record: SsoCachedToken = {
    startUrl: target.startUrl,
    region: target.region,
    accessToken: token.accessToken,
    expiresAt: awsTimestamp(token.expiresAt),
  };
  // The AWS CLI keeps the registration and refresh token only for sso-session profiles; legacy ones cannot refresh.
  if (target.sessionName && registration) {
    record.clientId = registration.clientId;
    record.clientSecret = registration.clientSecret;
    record.registrationExpiresAt = awsTimestamp(registration.expiresAt);
    const refresh = token.refreshToken ?? previousRefresh;
    if (refresh) record.refreshToken = refresh;
  }
  return record;
}

async function tryRefresh(
  oidc: SSOOIDCClient,
  target: SsoSignInTarget,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ token: OidcToken; registration: ClientRegistration; previousRefresh: string } | undefined> {
  if (!target.sessionName) return undefined;
  const cached = await readSsoToken(env, target.cacheKey);
  if (!cached?.refreshToken || !cached.clientId || !cached.clientSecret || !cached.registrationExpiresAt) return undefined;
  const registrationExpiresAt = new Date(cached.registrationExpiresAt);
  if (!(registrationExpiresAt.getTime() > Date.now() + 60_000)) return undefined;
  if (cached.startUrl !== target.startUrl) return undefined;
  try {
    const token = await refreshFlow(oidc, { clientId: cached.clientId, clientSecret: cached.clientSecret }, cached.refreshToken, signal);
    return {
      token,
      registration: { clientId: cached.clientId, clientSecret: cached.clientSecret, expiresAt: registrationExpiresAt },
      previousRefresh: cached.refreshToken,
    };
  } catch {
    // A refresh token that is revoked or expired just means a full sign-in.
    return undefined;
  }
}

export async function signIn(opts: SignInOptions): Promise<SignInResult> {
  const env = opts.env ?? process.env;
  const profile = selectedProfileName(opts.profile, env);
  const target = await ssoSignInTarget(profile, env);
  if ('problem' in target) throw new ProfileConfigError(target.problem, profile);

  const endpoint = oidcEndpointFor(target.region, env);
  const oidc = new SSOOIDCClient({ region: target.region, endpoint, maxAttempts: 2 });
  try {
    let flow: SignInFlow;
    let result: { token: OidcToken; registration?: ClientRegistration; previousRefresh?: string } | undefined;
    if (!opts.force) result = await tryRefresh(oidc, target, env, opts.signal);
    if (result) {
      flow = 'refresh';
    } else if (opts.interactive === false) {
      throw new SignInFailedError(`The sign-in of profile "${profile}" cannot be renewed without you: sign in again.`, 'needsPerson');
    } else {
      const browser = opts.browser ?? systemBrowser(env);
      const ctx: FlowContext = {
        oidc,
        oidcEndpoint: endpoint,
        startUrl: target.startUrl,
        scopes: target.scopes,
        notify: opts.notify,
        ...(opts.onDeviceCode ? { deviceCode: opts.onDeviceCode } : {}),
        browser,
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...(opts.signal ? { signal: opts.signal } : {}),
        sleep: opts.sleep ?? defaultSleep,
        clientName: 'deputy',
      };
      // Legacy profiles have no scopes, and IAM Identity Center only offers them the device grant.
      const useDevice = opts.deviceCode || !target.sessionName || !browser.canOpen();
      if (useDevice && !opts.deviceCode && target.sessionName) {
        opts.notify('No browser is available here; signing in with a device code instead.');
      }
      flow = useDevice ? 'device-code' : 'authorization-code';
      result = useDevice ? await deviceCodeFlow(ctx) : await authorizationCodeFlow(ctx);
    }
    const cachePath = await writeSsoToken(env, target.cacheKey, cacheRecord(target, result.token, result.registration, result.previousRefresh));
    return {
      profile,
      flow,
      startUrl: target.startUrl,
      ...(target.sessionName ? { sessionName: target.sessionName } : {}),
      expiresAt: result.token.expiresAt,
      cachePath,
    };
  } catch (err) {
    if (err instanceof SignInFailedError || err instanceof ProfileConfigError) throw err;
    if (opts.signal?.aborted) throw new SignInFailedError('Sign-in was cancelled; your previous sign-in (if any) is unchanged.', 'cancelled');
    const name = (err as { name?: string }).name ?? 'Error';
    throw new SignInFailedError(
      `Sign-in to ${target.startUrl} failed (${name}: ${(err as Error).message ?? 'no details'}). Check the profile's sso_start_url and sso_region, then run \`deputy login --profile ${profile}\` again.`,
      'failed',
    );
  } finally {
    oidc.destroy();
  }
}
