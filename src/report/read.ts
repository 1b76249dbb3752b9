/**
 * Reads the audit trails a report covers: each verified first, then only the records before a break (if any), so a
 * tampered trail cannot put words in the report past the point where it stops being trustworthy. With public keys,
 * its signed digests are checked too, and a signature that fails is a break like any other.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defaultAuditFile } from '../core/audit.js';
import type { KeyObject } from 'node:crypto';
import { DIGEST_TYPE } from '../core/audit-digest.js';
import { readAuditLines, verifyAudit, type VerifyResult } from '../core/audit-verify.js';
import type { AuditRecord } from '../core/audit-record.js';
import { workspaceOf, type Trail, type TrailSignature } from './model.js';

/** A workspace folder (its `.deputy/audit/audit.jsonl`) or a trail file. */
export async function trailFile(target: string): Promise<string> {
  const stat = await fs.stat(target).catch(() => null);
  if (stat === null) throw new Error(`${target} does not exist.`);
  return stat.isDirectory() ? defaultAuditFile(target) : target;
}

export async function readTrail(file: string, options: { publicKeys?: readonly KeyObject[] } = {}): Promise<Trail> {
  const integrity = await verifyAudit(file);
  let signature = await signatureOf(file, integrity, options.publicKeys ?? []);
  // Only what verification read: not records appended since, nor the part of an append a crash cut short; and with a
  // broken signature, only the records the last digest that verifies covers (what follows it cannot be vouched for).
  let usable = integrity.ok ? integrity.records : integrity.badIndex - 1;
  const lines = await readAuditLines(file);
  if (signature.state === 'broken' && signature.badIndex !== undefined) {
    const bad = signature.badIndex;
    const vouched = lines.filter((l) => l.line < bad && 'record' in l && l.record.type === DIGEST_TYPE).at(-1)?.line ?? 0;
    usable = Math.min(usable, vouched);
  }
  const records: AuditRecord[] = [];
  for (const line of lines) {
    if (line.line > usable) break;
    if ('record' in line) records.push(line.record);
  }
  if (signature.state === 'unknown') signature = records.some((r) => r.type === DIGEST_TYPE) ? NOT_CHECKED : UNSIGNED;
  const { badIndex: _omit, ...shown } = signature;
  return { workspace: workspaceOf(path.resolve(file)), file: path.resolve(file), records, integrity, signature: shown as TrailSignature };
}

const NOT_CHECKED = { state: 'not checked', detail: 'signed digests present; give --public-key to check them' } as const;
const UNSIGNED = { state: 'unsigned', detail: 'no signed digests: the trail was written without a signing key' } as const;

/**
 * The state of a trail's signatures: with public keys, whether its digests verify (`verified`, `broken` naming the
 * record where they stop, or `unsigned` when it has none); without, `unknown` until the records are read.
 */
async function signatureOf(
  file: string,
  chain: VerifyResult,
  publicKeys: readonly KeyObject[],
): Promise<(TrailSignature & { badIndex?: number }) | { state: 'unknown'; detail: string }> {
  if (publicKeys.length === 0) return { state: 'unknown', detail: '' };
  const signed = await verifyAudit(file, { publicKeys });
  if (signed.ok) {
    const s = signed.signatures;
    if (!s || s.digests === 0) return UNSIGNED;
    const tail = s.unsigned ? `; records ${s.unsigned.from}–${s.unsigned.to} come after the newest digest` : '';
    return { state: 'verified', detail: `${s.digests} digest${s.digests === 1 ? '' : 's'} verified, covering records 1–${s.signedThrough}${tail}` };
  }
  if (signed.badIndex === 1 && /not covered by any signed digest/.test(signed.reason)) return UNSIGNED;
  // The chain itself broke first: that is the integrity column's news; the signatures stop there too.
  if (!chain.ok && chain.badIndex <= signed.badIndex) return { state: 'broken', detail: `the chain breaks at record ${chain.badIndex} before any signature can be checked`, badIndex: chain.badIndex };
  return { state: 'broken', detail: `record ${signed.badIndex} ${signed.reason}`, badIndex: signed.badIndex };
}
