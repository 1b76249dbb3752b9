/** Running git for the shadow workspace: bytes in and out, an explicit environment, errors that name the command. */
import { spawn } from 'node:child_process';

export interface GitOptions {
  cwd: string;
  /** GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY… for this call; the caller's own GIT_* are dropped. */
  env?: Record<string, string>;
  input?: Buffer | string;
  /** Exit codes that are not failures (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
}

export class GitError extends Error {
  override readonly name = 'GitError';
}

export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  // Hooks, pagers, prompts and the user's signing or fsmonitor settings have no place in a snapshot.
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', ...extra };
}

export function git(args: string[], options: GitOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'core.quotepath=off', '-c', 'core.fsmonitor=false', ...args], {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new GitError(`git ${args[0]} could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) resolve(Buffer.concat(out));
      else reject(new GitError(`git ${args.slice(0, 2).join(' ')} failed (${code}): ${Buffer.concat(err).toString().trim()}`));
    });
    if (child.stdin) {
      // git may exit before reading all of stdin (a failure it reports on stderr); that is not a second error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

export async function gitText(args: string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).toString('utf8');
}
