/**
 * Signed digests over the audit chain, in the manner of CloudTrail's digest files.
 *
 * The hash chain shows any partial edit, but someone with write access can rewrite the whole chain and its head
 * consistently. A digest closes that: periodically and at the end of every task, the writer appends an
 * `audit.digest` record covering every record since the previous digest (`from`..`to`, pinned by the hash of record
 * `to`), chained to the previous digest (its `seq` and the SHA-256 of its signature), and signed with Ed25519 by a
 * key the workspace does not hold in clear (a key file outside the repository, SecretStorage, or an AWS KMS key).
 * The first digest covers the chain from record 1, so every record up to the newest digest is under a signature.
 *
 * `deputy audit verify --public-key` then catches what the chain alone cannot: a rewritten tail (any covered record
 * changed, even with the chain and head recomputed) and a replaced chain (new digests cannot be signed without the
 * key; a chain with the digests stripped has nothing signed). Records after the newest digest are not yet signed;
 * the verifier names them, and `--require-signed` makes them a failure for a trail whose tasks have all ended.
 */
import type { promises as fs } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, type AuditRecord } from './audit-record.js';

export const DIGEST_TYPE = 'audit.digest';

/** A digest is written after this many records since the last one, even mid-task. */
export const DIGEST_EVERY_RECORDS = 1000;
/** …or when the last one is older than this and a record arrives. */
export const DIGEST_EVERY_MS = 15 * 60 * 1000;

/** The port to a signing key: the private key never leaves it (a KMS key never leaves KMS). */
export interface AuditSigner {
  /** Names the key in each digest: a fingerprint of the public key, or the KMS key's ARN. */
  readonly keyId: string;
  /** Ed25519 signature (64 bytes) of `message` as is (no pre-hash). */
  sign(message: Buffer): Promise<Buffer>;
}

/** The `data` of an `audit.digest` record. */
export interface DigestData {
  /** First and last `seq` covered. */
  from: number;
  to: number;
  /** `hash` of record `to`: through the chain's `prev` links it pins every record before it. */
  last_hash: string;
  /** The digest before this one (null for the first): this digest's place in the digest chain. */
  previous: { seq: number; signature_sha256: string } | null;
  signed_at: string;
  key_id: string;
  algorithm: 'Ed25519';
  /** Base64 Ed25519 signature of `digestMessage(everything above)`. */
  signature: string;
}

export type UnsignedDigest = Omit<DigestData, 'signature'>;

/** The exact bytes signed: a domain tag (so a digest signature is never valid for anything else) and the fields. */
export function digestMessage(digest: UnsignedDigest): Buffer {
  const { from, to, last_hash, previous, signed_at, key_id, algorithm } = digest;
  return Buffer.from(`deputy-audit-digest/1\n${canonicalJson({ from, to, last_hash, previous, signed_at, key_id, algorithm })}`, 'utf8');
}

export async function signDigest(signer: AuditSigner, digest: Omit<UnsignedDigest, 'key_id' | 'algorithm'>): Promise<DigestData> {
  const unsigned: UnsignedDigest = { ...digest, key_id: signer.keyId, algorithm: 'Ed25519' };
  const signature = await signer.sign(digestMessage(unsigned));
  return { ...unsigned, signature: signature.toString('base64') };
}

/** Where the next digest chains to. */
export interface DigestLink {
  seq: number;
  signature_sha256: string;
}

export function linkTo(record: AuditRecord): DigestLink | null {
  const signature = (record.data as Partial<DigestData>).signature;
  return record.type === DIGEST_TYPE && typeof signature === 'string'
    ? { seq: record.seq, signature_sha256: createHash('sha256').update(signature, 'utf8').digest('hex') }
    : null;
}

/** `ed25519:` and the first 16 bytes (hex) of the SHA-256 of the public key's DER: names a key file's key. */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}

/** A signer over an Ed25519 private key in PEM (PKCS#8), e.g. from `DEPUTY_AUDIT_KEY_FILE` or SecretStorage. */
export function pemSigner(pem: string): AuditSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('The audit signing key is not a PEM private key (create one with `deputy audit keygen`).');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`The audit signing key is ${key.asymmetricKeyType ?? 'not asymmetric'}; digests are signed with Ed25519.`);
  }
  const keyId = keyFingerprint(createPublicKey(key));
  return { keyId, sign: (message) => Promise.resolve(sign(null, message, key)) };
}

/** A fresh Ed25519 key pair as PEM: the private key (PKCS#8) for the signer, the public key (SPKI) for auditors. */
export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyFingerprint(publicKey),
  };
}

/** Parses a public key given to the verifier: PEM (SPKI) or the DER KMS `GetPublicKey` returns. */
export function parsePublicKey(bytes: Buffer): KeyObject {
  const text = bytes.toString('utf8');
  const key = text.includes('-----BEGIN')
    ? createPublicKey(text)
    : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`The public key is ${key.asymmetricKeyType ?? 'not asymmetric'}; audit digests are signed with Ed25519.`);
  }
  return key;
}

/** What the verifier found about signatures. */
export interface SignatureSummary {
  digests: number;
  /** The last record a verified signature covers (0: none). */
  signedThrough: number;
  /** Key ids that signed the digests, in order of first use. */
  keyIds: string[];
}

/**
 * Checks each digest as the verifier walks the chain: its range follows the previous digest and ends at the record
 * just before it, `last_hash` is that record's hash, it links to the previous digest, and (when public keys are
 * given) its signature verifies with one of them. Returns why a digest is bad, or null.
 */
export class DigestChecker {
  private previous: DigestLink | null = null;
  private lastHash: string | null = null;
  private signedThrough = 0;
  private count = 0;
  private readonly keyIds: string[] = [];

  constructor(private readonly publicKeys: readonly KeyObject[]) {}

  /** Called for every record in order, after its own hash and chain links were checked. */
  check(record: AuditRecord): string | null {
    try {
      if (record.type !== DIGEST_TYPE) return null;
      const problem = this.checkDigest(record, record.data as Partial<DigestData>);
      if (problem === null) {
        this.count += 1;
        this.previous = linkTo(record);
      }
      return problem;
    } finally {
      this.lastHash = record.hash;
    }
  }

  private checkDigest(record: AuditRecord, d: Partial<DigestData>): string | null {
    if (
      !Number.isSafeInteger(d.from) ||
      !Number.isSafeInteger(d.to) ||
      typeof d.last_hash !== 'string' ||
      typeof d.signed_at !== 'string' ||
      typeof d.key_id !== 'string' ||
      d.algorithm !== 'Ed25519' ||
      typeof d.signature !== 'string' ||
      d.previous === undefined
    ) {
      return 'is a digest with missing or invalid fields';
    }
    const expectedFrom = (this.previous?.seq ?? 0) + 1;
    if (d.from !== expectedFrom || d.to !== record.seq - 1) {
      return `is a digest covering records ${d.from}–${d.to}, but it must cover ${expectedFrom}–${record.seq - 1} (the records since the previous digest)`;
    }
    if (d.last_hash !== this.lastHash) return `is a digest whose last_hash is not the hash of record ${d.to}`;
    const prev = d.previous;
    const linked =
      prev === null
        ? this.previous === null
        : this.previous !== null && prev.seq === this.previous.seq && prev.signature_sha256 === this.previous.signature_sha256;
    if (!linked) return 'is a digest that does not link to the previous digest (a digest was removed or replaced)';
    if (this.publicKeys.length > 0) {
      const message = digestMessage({ ...(d as DigestData) });
      const signature = Buffer.from(d.signature, 'base64');
      if (!this.publicKeys.some((key) => verify(null, message, key, signature))) {
        return `is a digest whose signature does not verify with the public key${this.publicKeys.length > 1 ? 's' : ''} given: the records it covers were rewritten, or another key signed it`;
      }
      this.signedThrough = record.seq;
      if (!this.keyIds.includes(d.key_id)) this.keyIds.push(d.key_id);
    }
    return null;
  }

  summary(): SignatureSummary {
    return { digests: this.count, signedThrough: this.signedThrough, keyIds: [...this.keyIds] };
  }
}

/**
 * The newest `audit.digest` record in the log's bytes `[stopAt, size)`, read backwards a chunk at a time; undefined
 * when there is none in that range.
 */
export async function findLastDigest(handle: fs.FileHandle, size: number, stopAt: number): Promise<DigestLink | undefined> {
  const marker = `"type":"${DIGEST_TYPE}"`;
  let end = size;
  // The start of the line the previous (later) chunk began in the middle of.
  let carry = Buffer.alloc(0);
  while (end > stopAt) {
    const length = Math.min(256 * 1024, end - stopAt);
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, end - length);
    end -= length;
    const text = Buffer.concat([chunk, carry]);
    // `stopAt` is a line boundary; elsewhere the chunk's first line may begin in an earlier chunk.
    const firstBreak = text.indexOf(0x0a);
    const wholeFrom = end === stopAt ? 0 : firstBreak < 0 ? text.length : firstBreak + 1;
    const lines = text.subarray(wholeFrom).toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (!line.includes(marker)) continue;
      try {
        const link = linkTo(JSON.parse(line) as AuditRecord);
        if (link) return link;
      } catch {
        /* not a record: the verifier reports it */
      }
    }
    carry = text.subarray(0, wholeFrom);
  }
  return undefined;
}
