/** One command of the table (commands.ts): whether it needs the server, and what it does. */
export interface CommandSpec {
  /** Needs the language server: checked (and started) before `run`. */
  server: boolean;
  run(...args: unknown[]): Promise<unknown>;
}
