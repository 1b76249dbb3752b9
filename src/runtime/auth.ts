/**
 * Who is calling the runtime. By default: whoever holds this start's random bearer token, which is written
 * to a file only the user can read (mode 0600 in a 0700 folder); that caller is the principal `local`.
 * A self-hosted runtime passes its own `Authenticator` (IAM callers) instead.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';

/** The authenticated caller; sessions are owned by it. */
export interface AuthContext {
  principal: string;
}

/** Resolves the caller from request headers, or null when they prove nothing (answered 401). */
export type Authenticator = (req: { headers: IncomingHttpHeaders }) => Promise<AuthContext | null>;

export const LOCAL_PRINCIPAL = 'local';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the token so only the user can read it; replaces a previous start's token atomically. */
export async function writeTokenFile(file: string, token: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, `${token}\n`, { mode: 0o600 });
  // writeFile keeps the mode of an existing file; make sure it is 0600 whatever was there.
  await fs.chmod(temp, 0o600);
  await fs.rename(temp, file);
}

export function bearerAuthenticator(token: string): Authenticator {
  const expected = Buffer.from(token);
  return async ({ headers }) => {
    const header = headers.authorization;
    if (typeof header !== 'string') return null;
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) return null;
    const given = Buffer.from(m[1]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { principal: LOCAL_PRINCIPAL };
  };
}
