/**
 * The AWS CLI's SSO token cache (`~/.aws/sso/cache/<sha1>.json`), read and written in its own format so that
 * `aws sso login` and `deputy login` serve each other. Writes are atomic (temp file + rename, mode 0600): a
 * half-written cache would sign everyone out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ssoTokenCachePath } from './aws-config.js';

/** One cached sign-in, field for field what the AWS CLI writes. */
export interface SsoCachedToken {
  startUrl: string;
  region: string;
  accessToken: string;
  /** ISO 8601 UTC, e.g. `2025-01-01T12:00:00Z`. */
  expiresAt: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
  refreshToken?: string;
}

/** ISO 8601 without milliseconds, as botocore writes timestamps. */
export function awsTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function readSsoToken(env: NodeJS.ProcessEnv, cacheKey: string): Promise<SsoCachedToken | undefined> {
  try {
    const parsed = JSON.parse(await readFile(ssoTokenCachePath(env, cacheKey), 'utf8')) as SsoCachedToken;
    return typeof parsed?.accessToken === 'string' && typeof parsed.expiresAt === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeSsoToken(env: NodeJS.ProcessEnv, cacheKey: string, token: SsoCachedToken): Promise<string> {
  const path = ssoTokenCachePath(env, cacheKey);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(token, null, 2), { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return path;
}
