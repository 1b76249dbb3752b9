/** An Ed25519 public key file given on the command line (`--public-key`), for `deputy audit verify` and `deputy report`. */
import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { parsePublicKey } from '../core/audit-digest.js';
import { UserError } from './io.js';

export async function readPublicKey(file: string): Promise<KeyObject> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new UserError(`The public key ${file} cannot be read.`);
  }
  try {
    return parsePublicKey(bytes);
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message.startsWith('The public key') ? (err as Error).message : 'not an Ed25519 public key (PEM or DER)'}`);
  }
}
