/** Starts `deputy serve` from the built CLI as a real process and waits until it says where it listens. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';
import { recordOutput } from '../fixtures/leak-ledger.js';

export interface Served {
  url: string;
  /** The `deputy serve` process, e.g. to kill it outright. */
  pid: number;
  tokenFile?: string;
  output(): string;
  stop(): Promise<number | null>;
}

export function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`deputy serve exited ${code}:\n${out}\n${err}`));
    child.once('exit', exited);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (!url || !/Upstream model/.test(out)) return;
      child.off('exit', exited);
      const tokenFile = /token written to (\S+)/.exec(out)?.[1];
      resolve({
        url,
        pid: child.pid!,
        ...(tokenFile ? { tokenFile } : {}),
        output: () => `${out}${err}`,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              recordOutput(`deputy serve ${args.join(' ')}`, out + err);
              return done(child.exitCode);
            }
            // Ctrl-C, as a person stops it; one that does not stop within 20 s is killed, so a test never waits on it forever.
            const kill = setTimeout(() => {
              err += '\n(the test killed it: it had not stopped 20 s after SIGINT)\n';
              child.kill('SIGKILL');
            }, 20_000);
            child.once('exit', (code) => {
              clearTimeout(kill);
              recordOutput(`deputy serve ${args.join(' ')}`, out + err);
              done(code);
            });
            child.kill('SIGINT');
          }),
      });
    });
  });
}
