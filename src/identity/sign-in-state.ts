/**
 * When the sign-in a profile depends on runs out: for an SSO-backed profile (itself, or the end of its
 * `source_profile` chain) the cached IAM Identity Center token's expiry, which is when a person must act again.
 * Role credentials expire sooner, but the SDK renews those from the token by itself, so they are not the deadline.
 */
import { ssoRootOf } from './credentials.js';
import { findProfile, ssoSignInTarget } from './profiles.js';
import { readSsoToken } from './token-cache.js';

export interface SignInExpiry {
  /** The SSO profile whose sign-in this is (the profile itself, or its source). */
  ssoProfile: string;
  expiresAt: Date;
  /** A refresh token and a live client registration are cached: Deputy can renew without a person. */
  renewable: boolean;
}

export async function signInExpiryOf(profile: string, env: NodeJS.ProcessEnv, now = Date.now()): Promise<SignInExpiry | undefined> {
  const info = await findProfile(profile, env);
  if (!info) return undefined;
  const root = await ssoRootOf(info, env);
  if (!root) return undefined;
  const target = await ssoSignInTarget(root.name, env);
  if ('problem' in target) return undefined;
  const token = await readSsoToken(env, target.cacheKey);
  if (!token) return undefined;
  const expiresAt = new Date(token.expiresAt);
  if (Number.isNaN(expiresAt.getTime())) return undefined;
  const registrationLive = token.registrationExpiresAt ? new Date(token.registrationExpiresAt).getTime() > now : false;
  return {
    ssoProfile: root.name,
    expiresAt,
    renewable: Boolean(target.sessionName && token.refreshToken && token.clientId && registrationLive),
  };
}
