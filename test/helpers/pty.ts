/**
 * Runs the built CLI on a real pseudo-terminal through util-linux `script` (no native addon): the CLI sees a TTY
 * on stdin and stdout, the kernel's line discipline echoes and buffers typed input as it would for a person, and
 * the test types into it with `type()`.
 */
import { spawn } from 'node:child_process';
import { recordOutput } from '../fixtures/leak-ledger.js';
import { CLI } from './cli.js';

export interface PtySession {
  /** Everything the terminal showed so far, without carriage returns and cursor movements. */
  output(): string;
  /** Sends keystrokes as a person would type them (`\r` is Enter). */
  type(keys: string): void;
  /** Resolves once `check` holds for the output, or fails after `timeoutMs` showing what was on screen. */
  waitFor(check: (output: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  kill(): void;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function runCliOnPty(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): PtySession {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  // Cursor movements of line editing (CSI sequences) and carriage returns are dropped: tests read the text.
  const screen = (d: Buffer) => d.toString().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  child.stdout.on('data', (d: Buffer) => (out += screen(d)));
  child.stderr.on('data', (d: Buffer) => (out += screen(d)));
  const exited = new Promise<number | null>((done) =>
    child.on('close', (code) => {
      recordOutput(`deputy ${args.join(' ')} (on a terminal)`, out);
      done(code);
    }),
  );
  return {
    output: () => out,
    type: (keys) => void child.stdin.write(keys),
    async waitFor(check, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(out)) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. The terminal showed:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exited,
    kill: () => {
      child.stdin.end();
      child.kill('SIGKILL');
    },
  };
}
