/**
 * The shadow's difference from its baseline as a changeset: one PreparedFile per changed path, the shape the review
 * of `propose_changes` takes, plus what a text changeset cannot carry (bytes of binary files, the executable bit,
 * renames). Taken with git between two trees, so it is exact: binary files, modes and deletions are what git sees.
 */
import type { PreparedFile } from '../core/changeset/index.js';
import type { ChangeOperation } from '../protocol/tools.js';
import { MAX_TEXT_FILE_BYTES, decodeText, sha256Hex } from '../core/workspace-text.js';
import { git, gitText } from './git.js';
import type { Shadow } from './shadow.js';

/** One changed path with everything needed to apply it to the real workspace or revert it in the shadow. */
export interface ShadowChange {
  file: PreparedFile;
  /** Content before (the baseline) and after (the shadow); null where the file does not exist. */
  beforeBytes: Buffer | null;
  afterBytes: Buffer | null;
  /** Git modes: `100644`, `100755`; null where the file does not exist. */
  beforeMode: string | null;
  afterMode: string | null;
  /** Written as bytes (binary or too large for a text review); the review shows a summary, not a diff. */
  binary: boolean;
  /** For the two halves of a rename, the other path. */
  renamedFrom?: string;
  renamedTo?: string;
}

interface RawEntry {
  status: string;
  oldMode: string;
  newMode: string;
  oldSha: string;
  newSha: string;
  path: string;
  newPath?: string;
}

const REGULAR = new Set(['100644', '100755']);

function parseRaw(out: Buffer): RawEntry[] {
  const parts = out.toString('utf8').split('\0');
  const entries: RawEntry[] = [];
  for (let i = 0; i < parts.length; ) {
    const head = parts[i++];
    if (!head) continue;
    const [oldMode, newMode, oldSha, newSha, status] = head.slice(1).split(' ') as [string, string, string, string, string];
    const entry: RawEntry = { status: status[0]!, oldMode, newMode, oldSha, newSha, path: parts[i++]! };
    if (entry.status === 'R' || entry.status === 'C') entry.newPath = parts[i++]!;
    entries.push(entry);
  }
  return entries;
}

function countStats(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { added, removed };
}

async function displayDiff(shadow: Shadow, from: string, to: string, paths: string[]): Promise<string> {
  return gitText(['diff-tree', '-p', '-M', '--no-color', '--full-index', from, to, '--', ...paths], { cwd: shadow.root, env: shadow.gitEnv('work.index') });
}

const ZERO = /^0+$/;

/** Lists what changed in the shadow between `baseline` and `current` (trees), as reviewable files. */
export async function shadowChanges(shadow: Shadow, baseline: string, current: string): Promise<ShadowChange[]> {
  const raw = parseRaw(await git(['diff-tree', '-r', '-z', '-M', '--raw', baseline, current], { cwd: shadow.root, env: shadow.gitEnv('work.index') }));
  const changes: ShadowChange[] = [];
  for (const e of raw) {
    const diff = await displayDiff(shadow, baseline, current, e.newPath ? [e.path, e.newPath] : [e.path]);
    if (e.status === 'R') {
      const from = await describe(shadow, { ...e, status: 'D', newMode: '000000', newSha: '' }, diff);
      const to = await describe(shadow, { ...e, status: 'A', path: e.newPath!, oldMode: '000000', oldSha: '' }, diff);
      from.renamedTo = e.newPath!;
      to.renamedFrom = e.path;
      from.file.rationale = `Renamed to ${e.newPath}; approve both halves to keep the rename.`;
      to.file.rationale = `Renamed from ${e.path}; approve both halves to keep the rename.`;
      changes.push(from, to);
    } else {
      changes.push(await describe(shadow, e, diff));
    }
  }
  return changes;
}

async function describe(shadow: Shadow, e: RawEntry, diff: string): Promise<ShadowChange> {
  const operation: ChangeOperation = e.status === 'A' || e.status === 'C' ? 'create' : e.status === 'D' ? 'delete' : 'update';
  const hasBefore = operation !== 'create';
  const hasAfter = operation !== 'delete';
  const base: ShadowChange = {
    file: { path: e.path, operation, status: 'ready', before: null, after: null, baseSha256: null, displayDiff: diff, stats: countStats(diff) },
    beforeBytes: null,
    afterBytes: null,
    beforeMode: hasBefore ? e.oldMode : null,
    afterMode: hasAfter ? e.newMode : null,
    binary: false,
  };
  const modes = [hasBefore ? e.oldMode : null, hasAfter ? e.newMode : null].filter((m): m is string => m !== null);
  if (modes.some((m) => !REGULAR.has(m))) {
    const kind = modes.includes('120000') ? 'a symbolic link' : modes.includes('160000') ? 'a submodule' : 'not a regular file';
    base.file.status = 'invalid';
    base.file.reason = `"${e.path}" is ${kind} in the change; Deputy applies regular files only, so it stays in the agent's workspace only.`;
    return base;
  }
  base.beforeBytes = hasBefore && !ZERO.test(e.oldSha) ? await shadow.blob(e.oldSha) : null;
  base.afterBytes = hasAfter && !ZERO.test(e.newSha) ? await shadow.blob(e.newSha) : null;
  const beforeText = base.beforeBytes && base.beforeBytes.length <= MAX_TEXT_FILE_BYTES ? decodeText(base.beforeBytes) : null;
  const afterText = base.afterBytes && base.afterBytes.length <= MAX_TEXT_FILE_BYTES ? decodeText(base.afterBytes) : null;
  base.binary = (base.beforeBytes !== null && beforeText === null) || (base.afterBytes !== null && afterText === null);
  base.file.baseSha256 = base.beforeBytes ? sha256Hex(base.beforeBytes) : null;
  if (!base.binary) {
    base.file.before = beforeText;
    base.file.after = afterText;
  } else {
    const size = (b: Buffer | null) => (b ? `${b.length} bytes, sha256 ${sha256Hex(b).slice(0, 12)}` : 'absent');
    base.file.rationale = `Binary file: before ${size(base.beforeBytes)}; after ${size(base.afterBytes)}.`;
  }
  if (hasBefore && hasAfter && e.oldMode !== e.newMode) {
    const note = `Mode ${e.oldMode.slice(-3)} → ${e.newMode.slice(-3)} (${e.newMode === '100755' ? 'made executable' : 'no longer executable'}).`;
    base.file.rationale = base.file.rationale ? `${base.file.rationale} ${note}` : note;
  }
  return base;
}
