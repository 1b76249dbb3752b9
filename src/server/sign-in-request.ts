/**
 * Sign-in from the editor: the same IAM Identity Center flows as `deputy login` (and the same AWS CLI token cache),
 * with the person's side routed through the client — the browser page opened by `env.openExternal`, the device code
 * shown with a copy button. Failures are worded for the editor, never with CLI flags, never with a token.
 */
import {
  findProfile,
  ProfileConfigError,
  redactSecrets,
  signIn,
  SignInFailedError,
  ssoRootOf,
  type BrowserLauncher,
  type DeviceCodePrompt,
  type SignInFailure,
} from '../identity/index.js';
import type { RequestFailure, SignIn, SignInProgress } from '../protocol/lsp.js';

export interface SignInRequestDeps {
  env: NodeJS.ProcessEnv;
  /** The profile in use when the request names none. */
  currentProfile(): string | undefined;
  openExternal(url: string): Promise<boolean>;
  progress(p: SignInProgress.Params): void;
  log(line: string): void;
  /** After a sign-in: the profiles whose use it restores (the one asked for and the SSO profile it signs in through). */
  signedIn(profiles: string[]): Promise<SignIn.Result>;
}

const failure = (kind: RequestFailure['failure']['kind'], message: string, withAction = false): RequestFailure => ({
  failure: { kind, message, ...(withAction ? { action: { kind: 'signIn' } } : {}) },
});

function worded(kind: SignInFailure, profile: string, detail: string): string {
  switch (kind) {
    case 'cancelled':
      return 'Sign-in cancelled; your previous sign-in (if any) is unchanged.';
    case 'denied':
      return 'Sign-in was denied on the IAM Identity Center page; your previous sign-in (if any) is unchanged.';
    case 'timeout':
      return 'Sign-in timed out before it was confirmed. Try again; the device code works from any device.';
    case 'needsPerson':
    case 'failed':
      return `Sign-in for AWS profile "${profile}" failed${detail ? `: ${detail}` : ''}. Check the profile's sso_start_url and sso_region (details in Deputy's log), then try again.`;
  }
}

export async function signInRequest(p: SignIn.Params, signal: AbortSignal, deps: SignInRequestDeps): Promise<SignIn.Result> {
  const profile = p.profile || deps.currentProfile();
  if (!profile) return failure('invalidSetting', 'Choose an AWS profile first: Deputy: Switch AWS Profile, or the deputy.bedrock.profile setting.');
  const info = await findProfile(profile, deps.env);
  if (!info) return failure('invalidSetting', `AWS profile "${profile}" is not in your AWS config. Add it with \`aws configure sso --profile ${profile}\`.`);
  const root = await ssoRootOf(info, deps.env);
  if (!root) {
    return failure(
      'invalidSetting',
      `AWS profile "${profile}" does not sign in through IAM Identity Center (it is a ${info.kind} profile): renew its credentials where they come from, then refresh.`,
    );
  }
  const browser: BrowserLauncher = {
    canOpen: () => p.flow === 'browser',
    open: (url) => deps.openExternal(url),
  };
  try {
    const result = await signIn({
      profile: root.name,
      env: deps.env,
      deviceCode: p.flow === 'deviceCode',
      browser,
      signal,
      notify: (line) => deps.log(`sign-in: ${line.trim()}`),
      onDeviceCode: (d: DeviceCodePrompt) =>
        deps.progress({
          profile: root.name,
          userCode: d.userCode,
          verificationUri: d.verificationUri,
          ...(d.verificationUriComplete ? { verificationUriComplete: d.verificationUriComplete } : {}),
          expiresAt: d.expiresAt.toISOString(),
        }),
    });
    deps.log(`sign-in: profile "${root.name}" signed in (${result.flow}); valid until ${result.expiresAt.toISOString()}`);
    return await deps.signedIn([...new Set([profile, root.name])]);
  } catch (err) {
    if (err instanceof SignInFailedError) {
      deps.log(`sign-in: ${redactSecrets(err.message)}`);
      return failure('signInRequired', worded(err.failure, root.name, ''), err.failure !== 'cancelled');
    }
    if (err instanceof ProfileConfigError) return failure('invalidSetting', err.message);
    const detail = redactSecrets(err instanceof Error ? err.message : String(err));
    deps.log(`sign-in: ${detail}`);
    return failure('signInRequired', worded('failed', root.name, ''), true);
  }
}
