/**
 * Which key signs the audit digests (`src/core/audit-digest.ts`), from the person's configuration: a PEM handed
 * over by the editor (SecretStorage), else `DEPUTY_AUDIT_KEY_FILE` (an Ed25519 private key file, PKCS#8 PEM, made
 * by `deputy audit keygen`), else `DEPUTY_AUDIT_KMS_KEY_ID` (an AWS KMS Ed25519 key, used with the person's own AWS
 * credentials). None configured: the trail is hash-chained but not signed.
 */
import { promises as fs } from 'node:fs';
import { pemSigner, type AuditSigner } from '../core/audit-digest.js';
import { AUDIT_KEY_FILE_ENV, AUDIT_KMS_KEY_ENV } from './audit-signer-env.js';
import type { KmsSigner } from './kms-signer.js';

export { AUDIT_KEY_FILE_ENV, AUDIT_KMS_KEY_ENV };

export interface AuditSignerOptions {
  /** A private key in PEM from the editor's SecretStorage; wins over the environment. */
  pem?: string;
  /** The AWS profile for a KMS key (`AWS_PROFILE` and the default chain when absent). */
  profile?: string;
}

export async function resolveAuditSigner(env: NodeJS.ProcessEnv, options: AuditSignerOptions = {}): Promise<AuditSigner | KmsSigner | undefined> {
  if (options.pem) return pemSigner(options.pem);
  const file = env[AUDIT_KEY_FILE_ENV];
  if (file) return pemSigner(await readKeyFile(file));
  const kmsKey = env[AUDIT_KMS_KEY_ENV];
  if (kmsKey) {
    // The KMS client loads only for a KMS key: most people sign with a key file or not at all.
    // A literal require: the CLI's build points it at its own bundle (scripts/build.mjs, LAZY_SHARED).
    const { kmsSignerFor } = require('./kms-signer.js') as typeof import('./kms-signer.js');
    return kmsSignerFor(kmsKey, env, options.profile);
  }
  return undefined;
}

/** A key file must be the person's alone, as ssh insists for its keys. */
async function readKeyFile(file: string): Promise<string> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new Error(`${AUDIT_KEY_FILE_ENV} names ${file}, which cannot be read.`);
  }
  if (!stat.isFile()) throw new Error(`${AUDIT_KEY_FILE_ENV} names ${file}, which is not a file.`);
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`The audit signing key ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it.`);
  }
  return fs.readFile(file, 'utf8');
}
