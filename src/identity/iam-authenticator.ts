/**
 * The runtime's half of IAM authentication (the aws-iam-authenticator / Vault AWS-auth pattern): check that a
 * proof is a presigned `sts:GetCallerIdentity` for an STS host, signed over our server id, and fresh; then make
 * that call ourselves, without following redirects, and take the principal ARN STS answers with.
 * The proof is never logged; a rejected proof is just `null` (the runtime answers 401).
 */
import { createHash } from 'node:crypto';
import type { Authenticator } from '../runtime/index.js';
import { IAM_PROOF_HEADER, IAM_PROOF_PREFIX, IAM_PROOF_TTL_SECONDS, SERVER_ID_HEADER } from './iam-proof.js';

export type { Authenticator };

export interface IamAuthenticatorOptions {
  /** This runtime's id; a proof must have it signed in. */
  serverId: string;
  /**
   * The only STS origin proofs may point at (tests, private endpoints). Without it, only the public
   * `https://sts[.region].amazonaws.com[.cn]` hosts are allowed.
   */
  stsEndpoint?: string;
  /** Oldest proof accepted, and the longest X-Amz-Expires; default `IAM_PROOF_TTL_SECONDS`. */
  maxAgeSeconds?: number;
  /** Logs why a proof was refused (never the proof itself). */
  onReject?: (reason: string) => void;
}

/**
 * The STS hosts AWS names itself: global, regional, FIPS, and the China and GovCloud partitions. Nothing a
 * customer can name (an S3 bucket `sts-x.s3.amazonaws.com`, a load balancer) fits.
 */
const PUBLIC_STS_HOST = /^sts(?:-fips)?(?:\.[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)?\.amazonaws\.com(?:\.cn)?$/;
const ALLOWED_PARAMS = new Set([
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);
/** A client clock a little ahead of ours is tolerated; a late proof is not. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const CACHE_LIMIT = 1000;

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

type Checked = { url: URL; expiresAt: number } | { reject: string };

/** Everything that can be checked without calling STS. */
export function checkProofShape(proof: string, opts: { allowedOrigin?: string; maxAgeSeconds: number; now: number }): Checked {
  if (!proof.startsWith(IAM_PROOF_PREFIX)) return { reject: 'not a Deputy IAM proof' };
  let url: URL;
  try {
    url = new URL(Buffer.from(proof.slice(IAM_PROOF_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return { reject: 'proof is not a URL' };
  }
  if (url.username || url.password || url.hash) return { reject: 'proof URL has credentials or a fragment' };
  if (opts.allowedOrigin) {
    if (url.origin !== new URL(opts.allowedOrigin).origin) return { reject: `proof points at ${url.host}, not the configured STS endpoint` };
  } else if (url.protocol !== 'https:' || url.port !== '' || !PUBLIC_STS_HOST.test(url.hostname)) {
    return { reject: `proof points at ${url.host}, which is not an AWS STS endpoint` };
  }
  if (url.pathname !== '/') return { reject: 'proof path is not /' };
  const seen = new Set<string>();
  for (const [name] of url.searchParams) {
    if (!ALLOWED_PARAMS.has(name)) return { reject: `proof carries unexpected parameter ${name}` };
    if (seen.has(name)) return { reject: `proof repeats parameter ${name}` };
    seen.add(name);
  }
  const q = (name: string) => url.searchParams.get(name) ?? '';
  if (q('Action') !== 'GetCallerIdentity' || q('Version') !== '2011-06-15') return { reject: 'proof is not sts:GetCallerIdentity' };
  if (q('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !q('X-Amz-Signature')) return { reject: 'proof is not SigV4-presigned' };
  const scope = q('X-Amz-Credential').split('/');
  if (scope.length !== 5 || scope[3] !== 'sts' || scope[4] !== 'aws4_request') return { reject: 'proof is not signed for STS' };
  const signed = q('X-Amz-SignedHeaders').split(';');
  if (!signed.includes('host') || !signed.includes(SERVER_ID_HEADER)) return { reject: 'proof does not sign the server id' };
  const signedAt = parseAmzDate(q('X-Amz-Date'));
  const expires = Number(q('X-Amz-Expires'));
  if (signedAt === undefined || !Number.isInteger(expires) || expires <= 0) return { reject: 'proof has no valid date or expiry' };
  if (expires > opts.maxAgeSeconds) return { reject: `proof lives ${expires} s, longer than the ${opts.maxAgeSeconds} s allowed` };
  if (signedAt > opts.now + FUTURE_SKEW_MS) return { reject: 'proof is dated in the future' };
  const expiresAt = signedAt + expires * 1000;
  if (opts.now >= expiresAt) return { reject: 'proof has expired' };
  return { url, expiresAt };
}

interface CallerIdentityJson {
  GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Arn?: string; Account?: string; UserId?: string } };
}

export function createIamAuthenticator(opts: IamAuthenticatorOptions): Authenticator {
  if (!opts.serverId) throw new Error('IAM authentication needs a server id (--server-id).');
  const maxAgeSeconds = opts.maxAgeSeconds ?? IAM_PROOF_TTL_SECONDS;
  // Proofs STS already vouched for, by hash, until they expire: one STS call per proof, not per request.
  const verified = new Map<string, { principal: string; expiresAt: number }>();
  const reject = (reason: string) => {
    opts.onReject?.(reason);
    return null;
  };

  return async (req) => {
    const header = req.headers[IAM_PROOF_HEADER];
    const proof = Array.isArray(header) ? undefined : header;
    if (!proof) return reject(Array.isArray(header) ? 'more than one proof header' : 'no proof header');
    const now = Date.now();
    const key = createHash('sha256').update(proof).digest('hex');
    const hit = verified.get(key);
    if (hit && now < hit.expiresAt) return { principal: hit.principal };

    const checked = checkProofShape(proof, { ...(opts.stsEndpoint ? { allowedOrigin: opts.stsEndpoint } : {}), maxAgeSeconds, now });
    if ('reject' in checked) return reject(checked.reject);

    let res: Response;
    try {
      res = await fetch(checked.url, {
        method: 'GET',
        headers: { [SERVER_ID_HEADER]: opts.serverId, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      return reject(`STS could not be reached: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status !== 200) return reject(`STS refused the proof (HTTP ${res.status})`);
    let arn: string | undefined;
    try {
      arn = (JSON.parse(text) as CallerIdentityJson).GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn;
    } catch {
      arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
    }
    if (!arn || !arn.startsWith('arn:')) return reject('STS answered without a principal ARN');

    if (verified.size >= CACHE_LIMIT) {
      for (const [k, v] of verified) if (v.expiresAt <= now) verified.delete(k);
      if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value!);
    }
    verified.set(key, { principal: arn, expiresAt: checked.expiresAt });
    return { principal: arn };
  };
}
