/** How Deputy decides a file is text, and its one SHA-256 helper (base checks, proposals, the audit chain). */
import * as crypto from 'node:crypto';

/** Files larger than this are neither read for the agent nor edited through a changeset. */
export const MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024;

/** `crypto.hash` (Node 20.12+) hashes in one call without a Hash object: twice per record when verifying a trail. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** SHA-256 hex of a string's UTF-8 bytes, or of the bytes given. */
export function sha256Hex(bytes: Uint8Array | string): string {
  if (oneShot) return oneShot('sha256', bytes, 'hex');
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decodes `bytes` as UTF-8 text, or returns null when the bytes are binary: a NUL byte anywhere, or bytes that
 * are not valid UTF-8. A byte-order mark is kept so that decoding and re-encoding round-trips exactly.
 */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Human-readable byte counts for messages ("2.0 MiB"). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
