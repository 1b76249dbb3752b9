/**
 * The command gate the process handlers are built on: how a command is judged (`command-policy.ts`) and how it is
 * run (`sandbox.ts`). One object so the CLI, the engine and tests wire it once; `sandboxType` is what
 * `process/start` reports, `none` only when the person explicitly allowed unsandboxed commands.
 */
import type { Policy } from '../core/policy.js';
import type { SandboxType } from '../protocol/exec-server.js';
import { commandRulesOf, judgeWithPolicy, type CommandVerdict } from './command-policy.js';
import { detectSandbox, spawnSandboxed, type SandboxSpec, type SandboxSupport, type SandboxedProcess } from './sandbox.js';

export type { CommandVerdict } from './command-policy.js';
export type { SandboxSpec, SandboxedProcess, SandboxExit } from './sandbox.js';

/** A command may run this long before it is stopped (the harness polls a long one; a dev server is not for here). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60 * 1000;
/** Bytes of output (stdout and stderr together) a command may write before it is stopped. */
export const DEFAULT_OUTPUT_CAP_BYTES = 16 * 1024 * 1024;

export interface CommandGate {
  judge(argv: readonly string[]): CommandVerdict;
  /** Starts the command confined; throws (SandboxUnavailableError) when no sandbox runs and bare runs are not allowed. */
  spawn(spec: SandboxSpec): SandboxedProcess;
  sandboxType: SandboxType;
  /** When no sandbox can run here: why (say it once, where the person sees it). */
  unavailable?: string;
  timeoutMs: number;
  outputCapBytes: number;
}

export interface CommandGateOptions {
  policy: Policy;
  /** Run commands without a sandbox where none can run. Off unless the person asked for it. */
  allowUnsandboxed: boolean;
  support?: SandboxSupport;
  timeoutMs?: number;
  outputCapBytes?: number;
}

export async function createCommandGate(options: CommandGateOptions): Promise<CommandGate> {
  const support = options.support ?? (await detectSandbox());
  const rules = commandRulesOf(options.policy);
  return {
    judge: (argv) => judgeWithPolicy(argv, options.policy, rules),
    spawn: (spec) => spawnSandboxed(spec, support, { allowUnsandboxed: options.allowUnsandboxed }),
    sandboxType: support.kind === 'bwrap' ? 'linuxSeccomp' : 'none',
    ...(support.kind === 'none' ? { unavailable: support.reason } : {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    outputCapBytes: options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
  };
}
