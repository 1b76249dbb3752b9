/**
 * Deputy's own folder in a workspace, `.deputy/`, and what of it belongs in version control. Decided once, here:
 * - committed: the audit trail (`audit/audit.jsonl` and its `audit/audit.head`), which is evidence of what agents did
 *   and is verified by anyone with `deputy audit verify`; and the workspace's policy, `policy.json`;
 * - never committed: the embedded runtime's store and bearer token (`runtime/`), lock files, temporary files, and
 *   anything Deputy adds later. The `.gitignore` is an allow-list, so a new kind of state file is ignored by default.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export const STATE_GITIGNORE = `# Written by Deputy (see its README, "What goes into git").
# Committed: the audit trail (evidence) and the workspace policy.
# Never committed: the runtime's store and token, locks, temporary files, anything else.
*
!.gitignore
!policy.json
!audit/
audit/*
!audit/audit.jsonl
!audit/audit.head
`;

/** What earlier versions wrote: replaced by the allow-list when found exactly so. */
const PREVIOUS_GITIGNORES = new Set(['runtime/\n']);

/**
 * Creates `<root>/.deputy` when missing and gives it its `.gitignore`. The file is created exclusively (`wx`: a
 * symlink in its place is never followed) and left alone when someone else wrote it; Deputy's own older version
 * is replaced through a rename, which replaces a link rather than writing through it.
 */
export async function prepareStateDir(root: string): Promise<string> {
  const dir = join(root, '.deputy');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, '.gitignore');
  try {
    await fs.writeFile(file, STATE_GITIGNORE, { flag: 'wx', mode: 0o644 });
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = await fs.lstat(file);
  if (!existing.isFile()) return dir;
  if (!PREVIOUS_GITIGNORES.has(await fs.readFile(file, 'utf8'))) return dir;
  const temp = join(dir, `.gitignore.${process.pid}.tmp`);
  await fs.writeFile(temp, STATE_GITIGNORE, { flag: 'wx', mode: 0o644 });
  await fs.rename(temp, file);
  return dir;
}
