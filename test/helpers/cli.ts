/** Runs the built `deputy` CLI (dist/cli.js) as a real child process, feeding stdin, capturing output. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { recordOutput } from '../fixtures/leak-ledger.js';

export const CLI = resolve(__dirname, '..', '..', 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      recordOutput(`deputy ${args.join(' ')}`, stdout + stderr);
      done({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
