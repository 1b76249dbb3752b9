/**
 * Audit digests signed by an AWS KMS asymmetric key (key spec `ECC_NIST_EDWARDS25519`, usage `SIGN_VERIFY`): the
 * private key never leaves KMS, every signature is a `kms:Sign` call CloudTrail records, and an organisation can
 * rotate or revoke the key centrally. Signing is pure Ed25519 over the digest message (`ED25519_SHA_512`, message
 * type `RAW`), so the public key from `GetPublicKey` verifies it offline like a key file's.
 */
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { AuditSigner } from '../core/audit-digest.js';
import { credentialProviderFor, type AwsCredentialIdentity } from './credentials.js';
import { describeServiceError } from './errors.js';

export interface KmsSignerOptions {
  /** Key id, key ARN, alias name or alias ARN. */
  keyId: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  /** The key's region; taken from an ARN, else the SDK's (AWS_REGION, the profile). */
  region?: string;
}

export interface KmsSigner extends AuditSigner {
  /** The key's public key as DER (SPKI), what `deputy audit public-key` hands auditors. */
  readonly publicKeyDer: Buffer;
}

/** A KMS signer with the person's own AWS credentials (the profile given, else `AWS_PROFILE` and the default chain). */
export function kmsSignerFor(keyId: string, env: NodeJS.ProcessEnv, profile?: string): Promise<KmsSigner> {
  return kmsSigner({ keyId, credentials: credentialProviderFor({ env, ...(profile ? { profile } : {}) }) });
}

/** Checks the key (spec, usage, algorithm) once and returns a signer naming it by its ARN. */
export async function kmsSigner(options: KmsSignerOptions): Promise<KmsSigner> {
  const region = options.region ?? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(options.keyId)?.[1];
  // Signing happens while the audit trail's lock is held: a KMS call must end well before other writers would take
  // the lock as stale (audit-lock.ts), so it gets short timeouts and one retry rather than the SDK's defaults.
  const client = new KMSClient({
    ...(region ? { region } : {}),
    credentials: options.credentials,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 },
  });
  let key;
  try {
    key = await client.send(new GetPublicKeyCommand({ KeyId: options.keyId }));
  } catch (err) {
    throw new Error(`The audit signing key ${options.keyId} could not be read from AWS KMS: ${why(err)}`);
  }
  if (key.KeySpec !== 'ECC_NIST_EDWARDS25519' || key.KeyUsage !== 'SIGN_VERIFY' || !key.SigningAlgorithms?.includes('ED25519_SHA_512')) {
    throw new Error(
      `The KMS key ${options.keyId} is ${key.KeySpec ?? 'of an unknown spec'} for ${key.KeyUsage ?? 'an unknown use'}; ` +
        'audit digests need an ECC_NIST_EDWARDS25519 key for SIGN_VERIFY.',
    );
  }
  const arn = key.KeyId ?? options.keyId;
  const publicKeyDer = Buffer.from(key.PublicKey ?? new Uint8Array());
  return {
    keyId: arn,
    publicKeyDer,
    async sign(message) {
      try {
        const out = await client.send(
          new SignCommand({ KeyId: arn, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ED25519_SHA_512' }),
        );
        if (!out.Signature) throw new Error('KMS returned no signature');
        return Buffer.from(out.Signature);
      } catch (err) {
        throw new Error(`Signing the audit digest with ${arn} failed: ${why(err)}`);
      }
    },
  };
}

function why(err: unknown): string {
  return describeServiceError(err) ?? (err instanceof Error ? err.message : String(err));
}
