/**
 * The command gate the process handlers are built on: how a command is judged and how it is run. The real
 * implementation is `command-policy.ts` (judging) and `sandbox.ts` (running); this port lets the handlers and the
 * CLI be wired once and lets a deployment with no sandbox say so instead of running commands bare.
 */

/** What the command policy says about one argv (see `command-policy.ts`). */
export interface CommandVerdict {
  decision: 'allow' | 'ask' | 'deny';
  reason: string;
  rules: string[];
  segments: string[][];
  network: boolean;
}

export interface SandboxSpec {
  argv: string[];
  cwd: string;
  writableRoots: string[];
  env: Record<string, string>;
  network: boolean;
  timeoutMs: number;
  outputCapBytes: number;
  tty: boolean;
}

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  outputTruncated: boolean;
}

export interface SandboxedProcess {
  pid: number | undefined;
  onOutput(cb: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): void;
  onExit(cb: (exit: ProcessExit) => void): void;
  write(data: Buffer): void;
  closeStdin(): void;
  terminate(): Promise<void>;
}

export interface CommandGate {
  judge(argv: readonly string[]): CommandVerdict;
  /** Starts the command confined (throws when it cannot start). `sandboxType` names what confines it. */
  spawn(spec: SandboxSpec): SandboxedProcess;
  sandboxType: string;
  /** Scrubs credentials from an environment the harness asked for. */
  scrubEnvironment(env: Record<string, string>): Record<string, string>;
  timeoutMs: number;
  outputCapBytes: number;
}
