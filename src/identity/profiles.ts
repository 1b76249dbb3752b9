/**
 * AWS profiles as Deputy shows and uses them: which kind of credentials each yields, its region, and for SSO
 * profiles the sign-in coordinates (start URL, SSO region, cache key) that `deputy login` needs.
 */
import { loadAwsConfigFiles, type AwsConfigFiles, type IniSection } from './aws-config.js';

export type ProfileKind =
  | 'sso-session'
  | 'sso-legacy'
  | 'static'
  | 'credential-process'
  | 'assume-role'
  | 'web-identity'
  | 'unknown';

/** One configured profile. Never carries a secret: static keys are reported by kind only. */
export interface ProfileInfo {
  name: string;
  kind: ProfileKind;
  region?: string;
  /** The `[sso-session X]` this profile signs in through. */
  ssoSession?: string;
  ssoStartUrl?: string;
  ssoRegion?: string;
  accountId?: string;
  roleName?: string;
  roleArn?: string;
  sourceProfile?: string;
  /** Where the profile was found: the config file, the credentials file, or both. */
  sources: Array<'config' | 'credentials'>;
  /** True for the profile `AWS_PROFILE` selects (or `default` when it is unset). */
  selected: boolean;
}

/** What an SSO sign-in needs: the cache key is the session name, or the start URL for legacy profiles. */
export interface SsoSignInTarget {
  profile: string;
  sessionName?: string;
  startUrl: string;
  region: string;
  scopes: string[];
  cacheKey: string;
}

/** An explicit `--profile`, else `AWS_PROFILE`, else `default` (the AWS CLI's order). */
export function selectedProfileName(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit || env.AWS_PROFILE || 'default';
}

function kindOf(section: IniSection): ProfileKind {
  if (section.sso_session) return 'sso-session';
  if (section.sso_start_url || section.sso_account_id || section.sso_role_name) return 'sso-legacy';
  if (section.role_arn && section.web_identity_token_file) return 'web-identity';
  if (section.role_arn) return 'assume-role';
  if (section.credential_process) return 'credential-process';
  if (section.aws_access_key_id) return 'static';
  return 'unknown';
}

function describe(name: string, files: AwsConfigFiles, selected: string): ProfileInfo | undefined {
  const fromConfig = files.profiles.get(name);
  const fromCredentials = files.credentials.get(name);
  if (!fromConfig && !fromCredentials) return undefined;
  // The credentials file wins for the keys it sets, as in the SDK's own merge.
  const section: IniSection = { ...(fromConfig ?? {}), ...(fromCredentials ?? {}) };
  const info: ProfileInfo = {
    name,
    kind: kindOf(section),
    sources: [...(fromConfig ? ['config' as const] : []), ...(fromCredentials ? ['credentials' as const] : [])],
    selected: name === selected,
  };
  if (section.region) info.region = section.region;
  if (section.sso_account_id) info.accountId = section.sso_account_id;
  if (section.sso_role_name) info.roleName = section.sso_role_name;
  if (section.role_arn) info.roleArn = section.role_arn;
  if (section.source_profile) info.sourceProfile = section.source_profile;
  if (section.sso_session) {
    info.ssoSession = section.sso_session;
    const session = files.ssoSessions.get(section.sso_session);
    if (session?.sso_start_url) info.ssoStartUrl = session.sso_start_url;
    if (session?.sso_region) info.ssoRegion = session.sso_region;
  } else {
    if (section.sso_start_url) info.ssoStartUrl = section.sso_start_url;
    if (section.sso_region) info.ssoRegion = section.sso_region;
  }
  return info;
}

/** Every profile in the config and credentials files, sorted by name. */
export async function listProfiles(env: NodeJS.ProcessEnv = process.env): Promise<ProfileInfo[]> {
  const files = await loadAwsConfigFiles(env);
  const selected = selectedProfileName(undefined, env);
  const names = new Set([...files.profiles.keys(), ...files.credentials.keys()]);
  return [...names]
    .sort()
    .map((name) => describe(name, files, selected))
    .filter((p): p is ProfileInfo => p !== undefined);
}

export async function findProfile(name: string, env: NodeJS.ProcessEnv = process.env): Promise<ProfileInfo | undefined> {
  const files = await loadAwsConfigFiles(env);
  return describe(name, files, selectedProfileName(undefined, env));
}

/**
 * The sign-in coordinates of an SSO profile, or a message saying what is missing. Scopes follow the AWS CLI:
 * `sso_registration_scopes` of the session, else `sso:account:access`; none for legacy profiles.
 */
export async function ssoSignInTarget(
  profile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SsoSignInTarget | { problem: string }> {
  const files = await loadAwsConfigFiles(env);
  const info = describe(profile, files, selectedProfileName(undefined, env));
  if (!info) {
    return { problem: `AWS profile "${profile}" is not in your AWS config. Add it with \`aws configure sso --profile ${profile}\`.` };
  }
  if (info.kind !== 'sso-session' && info.kind !== 'sso-legacy') {
    return {
      problem: `AWS profile "${profile}" does not use IAM Identity Center (it is a ${info.kind} profile), so there is nothing to sign in to.`,
    };
  }
  if (info.ssoSession && !files.ssoSessions.has(info.ssoSession)) {
    return {
      problem: `AWS profile "${profile}" names sso-session "${info.ssoSession}", which is not in your AWS config. Add a [sso-session ${info.ssoSession}] section.`,
    };
  }
  if (!info.ssoStartUrl || !info.ssoRegion) {
    return {
      problem: `AWS profile "${profile}" is missing sso_start_url or sso_region. Run \`aws configure sso --profile ${profile}\` to complete it.`,
    };
  }
  const scopesText = info.ssoSession ? files.ssoSessions.get(info.ssoSession)?.sso_registration_scopes : undefined;
  // Legacy profiles register without scopes and get no refresh token, exactly like the AWS CLI's legacy flow.
  const scopes = !info.ssoSession
    ? []
    : scopesText
      ? scopesText.split(',').map((s) => s.trim()).filter(Boolean)
      : ['sso:account:access'];
  return {
    profile,
    ...(info.ssoSession ? { sessionName: info.ssoSession } : {}),
    startUrl: info.ssoStartUrl,
    region: info.ssoRegion,
    scopes,
    cacheKey: info.ssoSession ?? info.ssoStartUrl,
  };
}
