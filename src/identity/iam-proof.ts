/**
 * The caller's half of IAM authentication to a self-hosted Deputy runtime: a presigned `sts:GetCallerIdentity`
 * request, the server id signed into it as a header, handed over in one request header. The runtime replays
 * it to STS itself (see iam-authenticator.ts), so the proof shows who the caller is without sharing a secret.
 * The proof carries a short-lived signature and session token: it goes in a header, never in a log line.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialsProvider } from 'openai/providers/bedrock/aws';
import { endpointOverride } from './caller.js';

/** The request header that carries the proof. */
export const IAM_PROOF_HEADER = 'x-deputy-iam-proof';
/** Signed into the presigned request; the runtime sends its own id here, so a proof for another server fails. */
export const SERVER_ID_HEADER = 'x-deputy-server-id';
export const IAM_PROOF_PREFIX = 'deputy-iam-v1.';
/** How long a proof stays valid (X-Amz-Expires); the runtime's default maximum age is the same. */
export const IAM_PROOF_TTL_SECONDS = 300;

export interface IamProofOptions {
  credentialProvider: AwsCredentialsProvider;
  serverId: string;
  /** STS region; `AWS_REGION` of `env`, else us-east-1. */
  region?: string;
  env?: NodeJS.ProcessEnv;
  /** The signing time; now when absent. */
  signingDate?: Date;
}

export function stsEndpointFor(region: string, env: NodeJS.ProcessEnv): URL {
  const override = endpointOverride(env, 'STS');
  if (override) return new URL(override);
  return new URL(`https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
}

/** A header value proving the caller's AWS identity to the runtime with id `serverId`. */
export async function createIamProof(opts: IamProofOptions): Promise<string> {
  if (!opts.serverId) throw new Error('An IAM proof needs the server id of the runtime it is for (--server-id).');
  const env = opts.env ?? process.env;
  const region = opts.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  // Resolve first so a sign-in problem surfaces as itself, not as a signing failure.
  const credentials = await opts.credentialProvider();
  const endpoint = stsEndpointFor(region, env);
  const signer = new SignatureV4({
    service: 'sts',
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: endpoint.host, [SERVER_ID_HEADER]: opts.serverId },
    },
    { expiresIn: IAM_PROOF_TTL_SECONDS, ...(opts.signingDate ? { signingDate: opts.signingDate } : {}) },
  );
  const url = new URL('/', endpoint);
  for (const [name, value] of Object.entries(presigned.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== null) url.searchParams.append(name, v);
  }
  return IAM_PROOF_PREFIX + Buffer.from(url.toString(), 'utf8').toString('base64url');
}

/**
 * Proofs on demand for a long-lived client: one proof is reused until a minute before it expires, then a
 * fresh one is signed (with freshly resolved credentials).
 */
export function createIamProofSource(opts: Omit<IamProofOptions, 'signingDate'>): () => Promise<string> {
  let current: { proof: string; renewAt: number } | undefined;
  return async () => {
    if (current && Date.now() < current.renewAt) return current.proof;
    const signedAt = Date.now();
    const proof = await createIamProof(opts);
    current = { proof, renewAt: signedAt + (IAM_PROOF_TTL_SECONDS - 60) * 1000 };
    return proof;
  };
}
