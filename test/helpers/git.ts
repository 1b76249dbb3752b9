/** A throwaway git repository with some files, for tests that need a real workspace. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export async function makeRepo(files: Record<string, string>): Promise<{ root: string; cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'deputy-ws-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'initial');
  // Retried: a process's last write can still land while the folder goes (ENOTEMPTY), when a test's clean-ups run
  // first-in first-out and the folder's goes before the process stops.
  return { root, cleanup: () => rm(root, { recursive: true, force: true, maxRetries: 5 }) };
}

export function gitStatus(root: string): string {
  return execFileSync('git', ['status', '--porcelain'], { cwd: root }).toString();
}
