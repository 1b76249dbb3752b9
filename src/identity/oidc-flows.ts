/**
 * The three IAM Identity Center OIDC grants Deputy uses, each over the real `@aws-sdk/client-sso-oidc` client:
 * authorization code with PKCE on a loopback redirect, device authorization, and refresh token.
 * None of them writes anything; the caller stores the token only when a flow succeeds.
 */
import {
  CreateTokenCommand,
  RegisterClientCommand,
  StartDeviceAuthorizationCommand,
  type SSOOIDCClient,
} from '@aws-sdk/client-sso-oidc';
import type { BrowserLauncher } from './browser.js';
import { createPkce, listenForCallback, REDIRECT_URI_WITHOUT_PORT } from './loopback.js';

export type SignInFailure = 'denied' | 'timeout' | 'cancelled' | 'failed';

/** A sign-in that did not produce a token. The token cache has not been touched. */
export class SignInFailedError extends Error {
  constructor(
    message: string,
    readonly failure: SignInFailure,
  ) {
    super(message);
    this.name = 'SignInFailedError';
  }
}

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  /** When the registration expires. */
  expiresAt: Date;
}

export interface OidcToken {
  accessToken: string;
  expiresAt: Date;
  refreshToken?: string;
}

export interface FlowContext {
  oidc: SSOOIDCClient;
  /** Base of the OIDC service, for the `/authorize` page (the client's own endpoint). */
  oidcEndpoint: string;
  startUrl: string;
  scopes: string[];
  /** Tells the person what to do (URL to open, code to confirm). */
  notify: (line: string) => void;
  browser: BrowserLauncher;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Waits between device-code polls; injectable so tests observe the polling without waiting for it. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  clientName: string;
}

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SLOW_DOWN_STEP_MS = 5_000;

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const errorName = (err: unknown) => (err as { name?: string } | undefined)?.name ?? '';

function cancelled(): SignInFailedError {
  return new SignInFailedError('Sign-in was cancelled; your previous sign-in (if any) is unchanged.', 'cancelled');
}

async function register(ctx: FlowContext, grantTypes: string[], redirect: boolean): Promise<ClientRegistration> {
  const out = await ctx.oidc.send(
    new RegisterClientCommand({
      clientName: ctx.clientName,
      clientType: 'public',
      // Legacy (scope-less) profiles register the way the AWS CLI's legacy flow does: without scopes or grants.
      ...(ctx.scopes.length > 0 ? { scopes: ctx.scopes, grantTypes, issuerUrl: ctx.startUrl } : {}),
      ...(redirect ? { redirectUris: [REDIRECT_URI_WITHOUT_PORT] } : {}),
    }),
    ctx.signal ? { abortSignal: ctx.signal } : {},
  );
  if (!out.clientId || !out.clientSecret) throw new SignInFailedError('IAM Identity Center did not register the sign-in client.', 'failed');
  return {
    clientId: out.clientId,
    clientSecret: out.clientSecret,
    expiresAt: new Date((out.clientSecretExpiresAt ?? Math.floor(Date.now() / 1000) + 90 * 86400) * 1000),
  };
}

function toToken(out: { accessToken?: string | undefined; expiresIn?: number | undefined; refreshToken?: string | undefined }): OidcToken {
  if (!out.accessToken || !out.expiresIn) throw new SignInFailedError('IAM Identity Center returned an incomplete token.', 'failed');
  return {
    accessToken: out.accessToken,
    expiresAt: new Date(Date.now() + out.expiresIn * 1000),
    ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
  };
}

/** Authorization code + PKCE: the browser signs the person in and redirects to our loopback listener. */
export async function authorizationCodeFlow(ctx: FlowContext): Promise<{ token: OidcToken; registration: ClientRegistration }> {
  const pkce = createPkce();
  const listener = await listenForCallback(pkce.state);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const registration = await register(ctx, ['authorization_code', 'refresh_token'], true);
    const url = new URL(`${ctx.oidcEndpoint.replace(/\/$/, '')}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: registration.clientId,
      redirect_uri: listener.redirectUri,
      state: pkce.state,
      code_challenge_method: 'S256',
      scopes: ctx.scopes.join(','),
      code_challenge: pkce.challenge,
    }).toString();
    ctx.notify('Opening the IAM Identity Center sign-in page in your browser. If it does not open, open this URL:');
    ctx.notify(`  ${url.toString()}`);
    const opened = await ctx.browser.open(url.toString());
    if (!opened) ctx.notify('Could not open a browser here; open the URL above on this machine to continue.');

    const outcome = await Promise.race([
      listener.result,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new SignInFailedError(`Sign-in timed out after ${Math.round(ctx.timeoutMs / 1000)} s without a response from the browser. Run \`deputy login\` again (add --device-code to sign in from another device).`, 'timeout')),
          ctx.timeoutMs,
        );
        onAbort = () => reject(cancelled());
        if (ctx.signal?.aborted) onAbort();
        ctx.signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if ('error' in outcome) {
      const denied = outcome.error === 'access_denied';
      throw new SignInFailedError(
        denied
          ? 'Sign-in was denied in the browser; your previous sign-in (if any) is unchanged.'
          : `Sign-in failed: IAM Identity Center answered "${outcome.error}"${outcome.description ? ` (${outcome.description})` : ''}. Run \`deputy login\` again.`,
        denied ? 'denied' : 'failed',
      );
    }
    const out = await ctx.oidc.send(
      new CreateTokenCommand({
        clientId: registration.clientId,
        clientSecret: registration.clientSecret,
        grantType: 'authorization_code',
        code: outcome.code,
        codeVerifier: pkce.verifier,
        redirectUri: listener.redirectUri,
      }),
      ctx.signal ? { abortSignal: ctx.signal } : {},
    );
    return { token: toToken(out), registration };
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) ctx.signal?.removeEventListener('abort', onAbort);
    await listener.close();
  }
}

/**
 * Device authorization (RFC 8628): the person confirms a code on any device while we poll, waiting the
 * server's interval and five seconds more after every `slow_down`.
 */
export async function deviceCodeFlow(ctx: FlowContext): Promise<{ token: OidcToken; registration: ClientRegistration }> {
  const registration = await register(ctx, [DEVICE_GRANT, 'refresh_token'], false);
  const start = await ctx.oidc.send(
    new StartDeviceAuthorizationCommand({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      startUrl: ctx.startUrl,
    }),
    ctx.signal ? { abortSignal: ctx.signal } : {},
  );
  if (!start.deviceCode || !start.userCode) throw new SignInFailedError('IAM Identity Center did not start a device sign-in.', 'failed');
  const page = start.verificationUriComplete ?? start.verificationUri ?? '';
  ctx.notify(`To sign in, open ${page} on any device and confirm the code ${start.userCode}.`);
  if (ctx.browser.canOpen() && start.verificationUriComplete) await ctx.browser.open(start.verificationUriComplete);

  let intervalMs = Math.max(1, start.interval ?? 5) * 1000;
  const limitMs = Math.min(ctx.timeoutMs, (start.expiresIn ?? 600) * 1000);
  const deadline = Date.now() + limitMs;
  let waited = 0;
  for (;;) {
    if (waited + intervalMs > limitMs || Date.now() + intervalMs > deadline) {
      throw new SignInFailedError(
        `Sign-in timed out: the code ${start.userCode} was not confirmed within ${Math.round(limitMs / 1000)} s. Run \`deputy login --device-code\` again.`,
        'timeout',
      );
    }
    try {
      await ctx.sleep(intervalMs, ctx.signal);
    } catch {
      throw cancelled();
    }
    waited += intervalMs;
    try {
      const out = await ctx.oidc.send(
        new CreateTokenCommand({
          clientId: registration.clientId,
          clientSecret: registration.clientSecret,
          grantType: DEVICE_GRANT,
          deviceCode: start.deviceCode,
        }),
        ctx.signal ? { abortSignal: ctx.signal } : {},
      );
      return { token: toToken(out), registration };
    } catch (err) {
      if (ctx.signal?.aborted) throw cancelled();
      const name = errorName(err);
      if (name === 'AuthorizationPendingException') continue;
      if (name === 'SlowDownException') {
        intervalMs += SLOW_DOWN_STEP_MS;
        continue;
      }
      if (name === 'AccessDeniedException') {
        throw new SignInFailedError('Sign-in was denied on the confirmation page; your previous sign-in (if any) is unchanged.', 'denied');
      }
      if (name === 'ExpiredTokenException') {
        throw new SignInFailedError(
          `Sign-in timed out: the code ${start.userCode} expired before it was confirmed. Run \`deputy login --device-code\` again.`,
          'timeout',
        );
      }
      throw err;
    }
  }
}

/** The refresh-token grant, with the registration stored beside the token. */
export async function refreshFlow(
  oidc: SSOOIDCClient,
  registration: { clientId: string; clientSecret: string },
  refreshToken: string,
  signal?: AbortSignal,
): Promise<OidcToken> {
  const out = await oidc.send(
    new CreateTokenCommand({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      grantType: 'refresh_token',
      refreshToken,
    }),
    signal ? { abortSignal: signal } : {},
  );
  return toToken(out);
}
