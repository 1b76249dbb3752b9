/**
 * Reads the audit trails a report covers: each verified first, then only the records before a break (if any), so a
 * tampered trail cannot put words in the report past the point where it stops being trustworthy.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defaultAuditFile } from '../core/audit.js';
import { readAuditLines, verifyAudit, type VerifyOptions } from '../core/audit-verify.js';
import type { AuditRecord } from '../core/audit-record.js';
import { workspaceOf, type Trail } from './model.js';

/** A workspace folder (its `.deputy/audit/audit.jsonl`) or a trail file. */
export async function trailFile(target: string): Promise<string> {
  const stat = await fs.stat(target).catch(() => null);
  if (stat === null) throw new Error(`${target} does not exist.`);
  return stat.isDirectory() ? defaultAuditFile(target) : target;
}

export async function readTrail(file: string, options: VerifyOptions = {}): Promise<Trail> {
  const integrity = await verifyAudit(file, options);
  // Only what verification read: not records appended since, nor the part of an append a crash cut short.
  const usable = integrity.ok ? integrity.records : integrity.badIndex - 1;
  const records: AuditRecord[] = [];
  for (const line of await readAuditLines(file)) {
    if (line.line > usable) break;
    if ('record' in line) records.push(line.record);
  }
  return { workspace: workspaceOf(path.resolve(file)), file: path.resolve(file), records, integrity };
}
