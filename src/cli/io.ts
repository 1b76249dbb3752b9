/** What every `deputy` subcommand gets from the process: passed explicitly so tests can drive commands in-process. */
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  /** `columns`: the terminal's width, when stdout is one (agent text is broken before the edge). */
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted when the user interrupts (Ctrl-C); long-running commands wind down cleanly on it. */
  signal?: AbortSignal;
}

/** A subcommand: its arguments after the subcommand name; resolves to the process exit code. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;

/** An error whose message is for the user as is: printed without a stack, exit code 1 unless given. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
