/**
 * `deputy login`: sign a profile in to IAM Identity Center (browser with PKCE, or a device code) and store
 * the token in the AWS CLI's cache, so `aws` and Deputy share one sign-in.
 */
import {
  ProfileConfigError,
  SignInFailedError,
  selectedProfileName,
  signIn,
  type BrowserLauncher,
  type SignInResult,
} from '../identity/index.js';
import type { Command } from './io.js';
import { parseCommandArgs } from './args.js';
import { UserError } from './io.js';

export const LOGIN_USAGE = `Usage: deputy login [--profile P] [--device-code] [--force] [--timeout SECONDS]

Signs in to AWS IAM Identity Center for an SSO profile and stores the sign-in where the AWS CLI keeps it
(~/.aws/sso/cache), so \`aws\` and Deputy share it. Opens your browser; on a remote or headless machine, or
with --device-code, shows a code to confirm on any device instead. When the cached sign-in has a refresh
token, it is renewed without a browser (--force signs in again regardless).

  --profile P       the AWS profile (default: AWS_PROFILE, else "default")
  --device-code     sign in with a device code even when a browser is available
  --force           always sign in interactively, even when a refresh token could renew the sign-in
  --timeout S       give up after S seconds without an answer (default 600, at most 86400)`;

export interface LoginDeps {
  /** Replaces the system browser (the extension's openExternal; tests playing the browser). */
  browser?: BrowserLauncher;
  /** Replaces the wait between device-code polls. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const FLOW_NAMES: Record<SignInResult['flow'], string> = {
  'authorization-code': 'in the browser',
  'device-code': 'with a device code',
  refresh: 'by refreshing the existing sign-in',
};

export function createLoginCommand(deps: LoginDeps = {}): Command {
  return async (argv, io) => {
    const v = parseCommandArgs(
      argv,
      {
        profile: { type: 'string' },
        'device-code': { type: 'boolean' },
        force: { type: 'boolean' },
        timeout: { type: 'string' },
      },
      LOGIN_USAGE,
    ).values;
    const timeoutS = v.timeout === undefined ? 600 : Number(v.timeout);
    // A day at most: the sign-in pages themselves expire long before, and timers overflow past ~24.8 days.
    if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 86_400) {
      throw new UserError(`--timeout must be a number of seconds from 1 to 86400; got "${v.timeout}".`, 2);
    }
    const profile = selectedProfileName(v.profile, io.env);

    let result: SignInResult;
    try {
      result = await signIn({
        profile,
        env: io.env,
        deviceCode: Boolean(v['device-code']),
        force: Boolean(v.force),
        notify: (line) => io.stderr.write(`${line}\n`),
        timeoutMs: timeoutS * 1000,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(deps.browser ? { browser: deps.browser } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      });
    } catch (err) {
      if (err instanceof SignInFailedError) throw new UserError(err.message, err.failure === 'cancelled' ? 130 : 1);
      if (err instanceof ProfileConfigError) throw new UserError(err.message, 1);
      throw err;
    }
    const session = result.sessionName ? ` (sso-session ${result.sessionName})` : '';
    io.stdout.write(
      `Signed in profile "${result.profile}"${session} ${FLOW_NAMES[result.flow]}; valid until ${result.expiresAt.toISOString()}.\n` +
        `The sign-in is stored in the AWS CLI cache (${result.cachePath}) and shared with \`aws\`.\n`,
    );
    return 0;
  };
}

export const loginCommand: Command = createLoginCommand();
