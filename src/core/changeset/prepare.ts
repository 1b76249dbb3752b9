/**
 * `propose_changes`, step one: validate every proposed file against the workspace, the agent's reads and the
 * limits, and compute what would be written and the diff the reviewer sees. Reads the disk, never writes it.
 */
import { promises as fs } from 'node:fs';
import type { ChangeOperation } from '../../protocol/tools.js';
import type { Workspace } from '../workspace.js';
import { WorkspaceError } from '../workspace-error.js';
import { printablePath } from '../workspace-paths.js';
import { decodeText, formatBytes, sha256Hex } from '../workspace-text.js';
import { applyHunks, createdText, type AppliedPatch } from './apply-hunks.js';
import { renderDisplayDiff } from './display-diff.js';
import { joinText, splitText } from './file-text.js';
import { parsePatch } from './parse-patch.js';
import { PatchError } from './patch.js';
import { readProposal, type ProposalEntry } from './proposal.js';
import { DEFAULT_CHANGESET_LIMITS, type ChangesetLimits, type PreparedFile, type ReadLedger } from './types.js';

interface Located extends ProposalEntry {
  rel: string;
  abs: string;
  realRel: string;
}

/** The current state of a target file, as far as a changeset cares. */
type Current =
  | { kind: 'missing' }
  | { kind: 'text'; content: string; sha256: string }
  | { kind: 'refused'; reason: string };

function refused(entry: { shownPath: string; operation: ChangeOperation; rationale?: string }, status: 'invalid' | 'conflict', reason: string, before: string | null = null, baseSha256: string | null = null): PreparedFile {
  return {
    path: entry.shownPath,
    operation: entry.operation,
    status,
    reason,
    before,
    after: null,
    baseSha256,
    displayDiff: '',
    ...(entry.rationale !== undefined ? { rationale: entry.rationale } : {}),
    stats: { added: 0, removed: 0 },
  };
}

/** Reads the target at `abs` without following anything unexpected: folders, devices and FIFOs are refused unread. */
export async function readCurrent(abs: string, shown: string, maxBytes: number): Promise<Current> {
  let stat;
  try {
    stat = await fs.lstat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  if (stat.isDirectory()) return { kind: 'refused', reason: `"${shown}" is a folder, not a file; changes name files.` };
  if (!stat.isFile()) return { kind: 'refused', reason: `"${shown}" is not a regular file (a device, socket, pipe or link); Deputy edits regular files only.` };
  if (stat.size > maxBytes) {
    return { kind: 'refused', reason: `"${shown}" is ${formatBytes(stat.size)}, over the ${formatBytes(maxBytes)} limit for files Deputy edits.` };
  }
  const bytes = await fs.readFile(abs);
  const content = decodeText(bytes);
  if (content === null) return { kind: 'refused', reason: `"${shown}" is a binary file; Deputy edits text files only.` };
  return { kind: 'text', content, sha256: sha256Hex(bytes) };
}

async function locate(ws: Workspace, entry: ProposalEntry): Promise<Located | PreparedFile> {
  if (entry.problem !== undefined) return refused(entry, 'invalid', entry.problem);
  try {
    const { abs, rel, realRel } = await ws.resolve(entry.rawPath as string);
    if (rel === '') return refused(entry, 'invalid', `changes[${entry.index}].path "${entry.shownPath}" names the workspace root; give the path of a file.`);
    return { ...entry, shownPath: printablePath(rel), rel, abs, realRel };
  } catch (err) {
    if (err instanceof WorkspaceError) return refused(entry, 'invalid', err.message);
    throw err;
  }
}

function markDuplicates(items: (Located | PreparedFile)[]): void {
  const byKey = new Map<string, number[]>();
  items.forEach((item, i) => {
    if (!('abs' in item)) return;
    for (const key of new Set([`rel:${item.rel}`, `abs:${item.abs}`])) byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  for (const indexes of byKey.values()) {
    if (indexes.length < 2) continue;
    for (const i of indexes) {
      const item = items[i]!;
      if (!('abs' in item)) continue;
      const others = indexes.filter((j) => j !== i).map((j) => `changes[${j}]`).join(', ');
      items[i] = refused(
        item,
        'invalid',
        `"${item.shownPath}" is proposed more than once (also ${others}); put all edits to one file in a single change.`,
      );
    }
  }
}

async function prepareOne(entry: Located, reads: ReadLedger, limits: ChangesetLimits): Promise<PreparedFile> {
  const shown = entry.shownPath;
  const diffBytes = Buffer.byteLength(entry.diff, 'utf8');
  if (diffBytes > limits.maxDiffBytes) {
    return refused(entry, 'invalid', `The diff for "${shown}" is ${formatBytes(diffBytes)}, over the ${formatBytes(limits.maxDiffBytes)} limit for one file; split the change.`);
  }
  if (entry.diff.includes('\0')) {
    return refused(entry, 'invalid', `The diff for "${shown}" contains a NUL byte; Deputy edits text files only.`);
  }
  const current = await readCurrent(entry.abs, shown, limits.maxFileBytes);
  if (current.kind === 'refused') return refused(entry, 'invalid', current.reason);
  const readSha = reads.get(entry.rel);
  const before = current.kind === 'text' ? current.content : null;
  const baseSha = current.kind === 'text' ? current.sha256 : null;

  if (entry.operation === 'create') {
    if (current.kind === 'text') {
      return refused(entry, 'invalid', `"${shown}" already exists; to change it, read it and propose an update.`, before, baseSha);
    }
  } else if (current.kind === 'missing') {
    return readSha !== undefined
      ? { ...refused(entry, 'conflict', `"${shown}" was deleted after you read it; nothing was changed.`), readSha256: readSha }
      : refused(entry, 'invalid', `"${shown}" does not exist${entry.operation === 'update' ? '; use create for a new file' : ''}.`);
  } else {
    if (entry.operation === 'delete' && readSha === undefined) {
      return refused(entry, 'invalid', `"${shown}" was never read in this session; read it first with workspace_read, then propose the delete.`, before, baseSha);
    }
    if (readSha !== undefined && readSha !== baseSha) {
      return {
        ...refused(
          entry,
          'conflict',
          `"${shown}" changed after you read it (someone else edited it); read it again and propose against its current content.`,
          before,
          baseSha,
        ),
        readSha256: readSha,
      };
    }
  }

  let applied: AppliedPatch;
  try {
    const patch = parsePatch(entry.diff, entry.operation, entry.rel);
    if (entry.operation === 'delete') {
      const lines = splitText(before!).lines;
      applied = { file: { bom: false, lines: [], dominantEol: '\n' }, script: lines.map((l) => ({ kind: '-', old: l })) };
    } else {
      applied = entry.operation === 'create' ? createdText(patch) : applyHunks(splitText(before!), patch);
    }
  } catch (err) {
    if (err instanceof PatchError) return refused(entry, 'invalid', `The diff for "${shown}" does not apply: ${err.message}`, before, baseSha);
    throw err;
  }
  const after = entry.operation === 'delete' ? null : joinText(applied.file);
  if (after !== null && Buffer.byteLength(after, 'utf8') > limits.maxFileBytes) {
    return refused(entry, 'invalid', `"${shown}" would be ${formatBytes(Buffer.byteLength(after, 'utf8'))} after the change, over the ${formatBytes(limits.maxFileBytes)} limit.`, before, baseSha);
  }
  const display = renderDisplayDiff(entry.rel, entry.operation, applied.script);
  return {
    path: entry.rel,
    ...(entry.realRel !== entry.rel ? { realPath: entry.realRel } : {}),
    operation: entry.operation,
    status: 'ready',
    before,
    after,
    baseSha256: baseSha,
    displayDiff: display.text,
    ...(entry.rationale !== undefined ? { rationale: entry.rationale } : {}),
    stats: { added: display.added, removed: display.removed },
  };
}

/**
 * Validates an untrusted `propose_changes` argument object against the workspace. Every change gets its own
 * PreparedFile, in order, and one bad file never blocks another. Throws ChangesetError only when no file can
 * carry the reason (see `readProposal`). Nothing is written.
 */
export async function prepareChangeset(ws: Workspace, args: unknown, reads: ReadLedger, limits?: Partial<ChangesetLimits>): Promise<PreparedFile[]> {
  const effective: ChangesetLimits = { ...DEFAULT_CHANGESET_LIMITS, ...limits };
  const entries = readProposal(args, effective);
  const located: (Located | PreparedFile)[] = [];
  for (const entry of entries) located.push(await locate(ws, entry));
  markDuplicates(located);
  const prepared: PreparedFile[] = [];
  for (const item of located) {
    if (!('abs' in item)) {
      prepared.push(item);
      continue;
    }
    // An unexpected filesystem error on one file (permissions, I/O) makes that file invalid, not the proposal.
    prepared.push(
      await prepareOne(item, reads, effective).catch((err: unknown) =>
        refused(item, 'invalid', `"${item.shownPath}" could not be read: ${err instanceof Error ? err.message : String(err)}`),
      ),
    );
  }
  return prepared;
}
