/**
 * Who is acting: STS `GetCallerIdentity` for a profile's credentials. The principal ARN this returns is what
 * Deputy records as the owner of sessions and the actor on audit records.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialsProvider } from 'openai/providers/bedrock/aws';
import { credentialProviderFor, CredentialsUnavailableError } from './credentials.js';
import { describeServiceError, SignInRequiredError } from './errors.js';
import { findProfile, selectedProfileName } from './profiles.js';

/** The identity behind a set of credentials. No credential value is part of it. */
export interface CallerIdentity {
  account: string;
  /** The principal ARN, e.g. `arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1a2b/alice`. */
  arn: string;
  userId: string;
  /** For an assumed role: the role's name. */
  roleName?: string;
  /** For an assumed role or federated user: the session name (for SSO, usually the user's name). */
  sessionName?: string;
  /** When the credentials that proved this identity expire, if they are temporary. */
  expiration?: Date;
  /** The profile the credentials came from, when one was used. */
  profile?: string;
}

export interface ResolveIdentityOptions {
  profile?: string;
  region?: string;
  env?: NodeJS.ProcessEnv;
  /** Reuse an existing provider (and its cache) instead of building one for `profile`. */
  credentialProvider?: AwsCredentialsProvider;
}

/** Splits an STS principal ARN into role and session names where it has them. */
export function parsePrincipalArn(arn: string): { roleName?: string; sessionName?: string } {
  const resource = arn.split(':').slice(5).join(':');
  const parts = resource.split('/');
  if (parts[0] === 'assumed-role' && parts.length >= 3) {
    return { roleName: parts[1]!, sessionName: parts.slice(2).join('/') };
  }
  if (parts[0] === 'federated-user' && parts.length >= 2) return { sessionName: parts.slice(1).join('/') };
  return {};
}

/** The region for STS: explicit, else the profile's, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else us-east-1. */
export async function stsRegionFor(opts: { profile?: string; region?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.region) return opts.region;
  const profile = await findProfile(selectedProfileName(opts.profile, env), env);
  return profile?.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}

/** A service endpoint override from `env`, the same variables the SDK honours (`AWS_ENDPOINT_URL_<SERVICE>`). */
export function endpointOverride(env: NodeJS.ProcessEnv, serviceEnvSuffix: string): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${serviceEnvSuffix}`] || env.AWS_ENDPOINT_URL || undefined;
}

export async function resolveIdentity(opts: ResolveIdentityOptions = {}): Promise<CallerIdentity> {
  const env = opts.env ?? process.env;
  const profileName = opts.profile || env.AWS_PROFILE || undefined;
  const provider =
    opts.credentialProvider ?? credentialProviderFor({ ...(profileName ? { profile: profileName } : {}), env });
  // Resolve first: a sign-in problem is reported as such, before any request exists.
  const credentials = await provider();
  const region = await stsRegionFor({ ...(profileName ? { profile: profileName } : {}), ...(opts.region ? { region: opts.region } : {}), env });
  const endpoint = endpointOverride(env, 'STS');
  const sts = new STSClient({ region, credentials: async () => provider(), ...(endpoint ? { endpoint } : {}) });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Arn || !out.Account || !out.UserId) {
      throw new Error('STS GetCallerIdentity returned an incomplete identity.');
    }
    return {
      account: out.Account,
      arn: out.Arn,
      userId: out.UserId,
      ...parsePrincipalArn(out.Arn),
      ...(credentials.expiration ? { expiration: credentials.expiration } : {}),
      ...(profileName ? { profile: profileName } : {}),
    };
  } catch (err) {
    if (err instanceof SignInRequiredError) throw err;
    const described = describeServiceError(err);
    if (described) throw new CredentialsUnavailableError(`STS GetCallerIdentity failed: ${described}`, profileName);
    throw err;
  } finally {
    sts.destroy();
  }
}
