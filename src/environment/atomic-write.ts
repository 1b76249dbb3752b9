/**
 * Writing a whole file atomically inside a folder Deputy resolved: a temp file beside it (`wx`: never follows or
 * reuses anything already there), the bytes, the mode, then a rename, after checking the folder is still the real
 * folder it resolved to. A folder swapped for a link meanwhile (by a command of the agent) cannot carry the write
 * elsewhere; the window left is the rename itself. A reader never sees half a file, a crash leaves the old one.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export class FolderSwappedError extends Error {
  override readonly name = 'FolderSwappedError';
  constructor() {
    super('the folder was replaced by a link during the write; nothing was written');
  }
}

/** `durable`: fsync the file before the rename (for the real workspace; the shadow does without). */
export async function writeAtomically(abs: string, data: Buffer, options: { mode: number; durable: boolean }): Promise<void> {
  const dir = path.dirname(abs);
  const tmp = path.join(dir, `.deputy-${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', options.mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(options.mode);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if ((await fs.realpath(dir)) !== dir) throw new FolderSwappedError();
    await fs.rename(tmp, abs);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
