/**
 * Credential providers for a profile, built only from `@aws-sdk/credential-providers`. Ours add three things on
 * top: a cache that hands out the same credentials until shortly before they expire (so the SDK's own SSO token
 * refresh still runs when they are renewed), one in-flight resolution at a time, and typed errors: a missing or
 * expired SSO sign-in is a `SignInRequiredError` naming the profile, never a stack trace or a retry loop.
 */
import { fromIni, fromNodeProviderChain, fromSSO } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialsProvider } from 'openai/providers/bedrock/aws';
import { awsPaths } from './aws-config.js';
import { redactSecrets, SignInRequiredError, type SignInReason } from './errors.js';
import { findProfile, selectedProfileName, ssoSignInTarget, type ProfileInfo } from './profiles.js';
import { readSsoToken } from './token-cache.js';

export type { AwsCredentialIdentity, AwsCredentialsProvider };

/** Renew this long before expiry, the same window the AWS SDK uses for its own credential and token caches. */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;

/** Configuration that keeps credentials from resolving at all (unknown profile, unusable profile kind). */
export class ProfileConfigError extends Error {
  constructor(
    message: string,
    readonly profile: string,
  ) {
    super(message);
    this.name = 'ProfileConfigError';
  }
}

/** Resolution failed for a reason other than sign-in (network, credential_process, role assumption). */
export class CredentialsUnavailableError extends Error {
  constructor(
    message: string,
    readonly profile: string | undefined,
  ) {
    super(message);
    this.name = 'CredentialsUnavailableError';
  }
}

export interface CredentialProviderOptions {
  /** Profile name; `AWS_PROFILE` of `env`, then the default chain, when absent. */
  profile?: string;
  env?: NodeJS.ProcessEnv;
}

const isSso = (p: ProfileInfo) => p.kind === 'sso-session' || p.kind === 'sso-legacy';

/**
 * Classifies an SDK failure of an SSO-backed profile. The SDK's token and SSO providers end every
 * "sign in again" message with a hint to run `aws sso login`; the portal answers 401 UnauthorizedException
 * when it no longer accepts a cached access token.
 */
export function signInReasonOf(err: unknown): SignInReason | null {
  const e = err as { name?: string; message?: string } | undefined;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (e?.name === 'UnauthorizedException' || /UnauthorizedException|Session token not found or invalid/i.test(message)) {
    return 'rejected';
  }
  if (/aws sso login/i.test(message)) {
    if (/expired/i.test(message)) return 'expired';
    return 'missing';
  }
  return null;
}

/** The SSO profile whose sign-in a profile depends on: itself, or the end of its `source_profile` chain. */
export async function ssoRootOf(profile: ProfileInfo, env: NodeJS.ProcessEnv): Promise<ProfileInfo | undefined> {
  let cur: ProfileInfo | undefined = profile;
  for (let hops = 0; cur && hops < 8; hops++) {
    if (isSso(cur)) return cur;
    if (!cur.sourceProfile || cur.sourceProfile === cur.name) return undefined;
    cur = await findProfile(cur.sourceProfile, env);
  }
  return undefined;
}

/** The SDK words "no token" and "expired, cannot refresh" alike; the cache itself tells them apart. */
async function cachedTokenState(profile: string, env: NodeJS.ProcessEnv): Promise<SignInReason> {
  const target = await ssoSignInTarget(profile, env);
  if ('problem' in target) return 'missing';
  const token = await readSsoToken(env, target.cacheKey);
  return token ? 'expired' : 'missing';
}

async function resolveOnce(opts: CredentialProviderOptions): Promise<AwsCredentialIdentity> {
  const env = opts.env ?? process.env;
  const paths = awsPaths(env);
  const files = { filepath: paths.credentialsFile, configFilepath: paths.configFile, ignoreCache: true };
  const explicit = opts.profile || env.AWS_PROFILE;
  let name = explicit;
  if (!name) {
    // Same precedence as the AWS CLI: environment keys beat the default profile.
    if (env.AWS_ACCESS_KEY_ID || !(await findProfile('default', env))) {
      try {
        return await fromNodeProviderChain({ ...files })();
      } catch (err) {
        throw new CredentialsUnavailableError(
          'No AWS credentials found: no profile is selected and the default credential chain found nothing. ' +
            'Pass --profile (or set AWS_PROFILE) to a profile in your AWS config, or sign in with `deputy login --profile <name>`.' +
            ` (${redactSecrets(String((err as Error)?.message ?? err))})`,
          undefined,
        );
      }
    }
    name = 'default';
  }
  const profile = await findProfile(name, env);
  if (!profile) {
    throw new ProfileConfigError(
      `AWS profile "${name}" is not in ${paths.configFile} or ${paths.credentialsFile}. ` +
        `Create it with \`aws configure sso --profile ${name}\`, or choose another with --profile.`,
      name,
    );
  }
  try {
    return isSso(profile) ? await fromSSO({ profile: name, ...files })() : await fromIni({ profile: name, ...files })();
  } catch (err) {
    const reason = signInReasonOf(err);
    if (reason) {
      const root = await ssoRootOf(profile, env);
      const rootName = root?.name ?? name;
      throw new SignInRequiredError(rootName, reason === 'rejected' ? reason : await cachedTokenState(rootName, env));
    }
    throw new CredentialsUnavailableError(
      `Could not get AWS credentials for profile "${name}": ${redactSecrets(String((err as Error)?.message ?? err))}`,
      name,
    );
  }
}

/**
 * A caching, refreshing provider for one profile. Credentials are reused until `REFRESH_WINDOW_MS` before
 * their expiry, then resolved again through the SDK (which refreshes the SSO token itself when it can).
 * A failure is not cached: the next call tries again, once. A renewal that fails while the held credentials
 * are still good for more than a minute returns those instead.
 */
export function credentialProviderFor(opts: CredentialProviderOptions = {}): () => Promise<AwsCredentialIdentity> {
  const env = opts.env ?? process.env;
  const profile = opts.profile ? selectedProfileName(opts.profile, env) : undefined;
  let cached: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  return () => {
    if (cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > REFRESH_WINDOW_MS)) {
      return Promise.resolve(cached);
    }
    inflight ??= resolveOnce({ ...(profile ? { profile } : {}), env })
      .then(
        (creds) => {
          cached = creds;
          return creds;
        },
        (err: unknown) => {
          // Renewal failed inside the window: what we hold still signs for a while, so keep using it.
          if (cached?.expiration && cached.expiration.getTime() - Date.now() > 60_000) return cached;
          throw err;
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
