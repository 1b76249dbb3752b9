/**
 * `deputy run --environment`: Deputy's environment for the task (shadow, command gate, review), authenticated to
 * the endpoint the way the connection says, with its state shown on the terminal as it changes.
 */
import type { AuditLog } from '../core/audit.js';
import type { EngineEvents } from '../core/event-channel.js';
import type { Policy } from '../core/policy.js';
import type { Prompter } from '../core/prompter.js';
import type { Workspace } from '../core/workspace.js';
import { DEFAULT_PROMPT_TIMEOUT_MS } from '../environment/index.js';
import { createCommandGate } from '../environment/process-types.js';
import { DeputyTaskEnvironment, type TaskEnvironmentOptions } from '../environment/task-environment.js';
import type { CliIO } from './io.js';
import { UserError } from './io.js';
import type { Connection } from './run-endpoint.js';
import type { RunOptions } from './run-options.js';
import type { Style } from './style.js';
import { cleanLine } from './terminal-text.js';

export interface TaskEnvironmentSetup {
  options: RunOptions;
  connection: Connection;
  workspace: Workspace;
  policy: Policy;
  audit: AuditLog;
  /** The task's channel: the end-of-turn review reports there (the renderer prints what it applied). */
  events: EngineEvents;
  prompter: Prompter;
  taskId: string;
  io: CliIO;
  style: Style;
}

export async function openTaskEnvironment(setup: TaskEnvironmentSetup): Promise<DeputyTaskEnvironment> {
  const { options, connection, io, style } = setup;
  if (!connection.environmentAuth) throw new UserError(`--environment is not available with ${connection.describe}.`, 2);
  const out = (s: string) => io.stdout.write(`${s}\n`);
  const commands = await createCommandGate({ policy: setup.policy, allowUnsandboxed: options.allowUnsandboxed === true });
  if (commands.unavailable) {
    // Said once, here, rather than on every command the agent tries.
    out(style.yellow(`! No command sandbox can run here: ${commands.unavailable}.`));
    out(style.yellow(options.allowUnsandboxed ? '  Commands run unsandboxed (--allow-unsandboxed), still under policy and your approval.' : '  Commands will be refused; install bubblewrap, or pass --allow-unsandboxed to run them bare.'));
  }
  return DeputyTaskEnvironment.open({
    workspace: setup.workspace,
    policy: setup.policy,
    audit: setup.audit,
    events: setup.events,
    prompter: setup.prompter,
    actor: connection.actor,
    task: setup.taskId,
    commands,
    promptTimeoutMs: options.promptTimeoutMinutes !== undefined ? options.promptTimeoutMinutes * 60_000 : DEFAULT_PROMPT_TIMEOUT_MS,
    auth: connection.environmentAuth,
    onState: (state) => {
      const line = describeState(state);
      if (line) out(line.warn ? style.yellow(line.text) : style.dim(line.text));
    },
  });
}

/** One terminal line per state change of the environment, or null for a state not worth a line. */
function describeState(state: Parameters<NonNullable<TaskEnvironmentOptions['onState']>>[0]): { text: string; warn?: boolean } | null {
  switch (state.state) {
    case 'registering':
      return state.attempt === 1 ? { text: 'environment: connecting to the session' } : null;
    case 'connected':
      return { text: 'environment: connected' };
    case 'disconnected':
      return { text: `environment: ${cleanLine(state.reason)}; reconnecting in ${(state.retryInMs / 1000).toFixed(1)} s`, warn: true };
    case 'stopped':
      return null;
    case 'reported':
      if (state.status === 'failed' || state.status === 'expired') return { text: `environment: the endpoint reports it ${state.status}${state.error ? `: ${cleanLine(state.error)}` : ''}`, warn: true };
      return { text: `environment: the endpoint reports it ${state.status}` };
  }
}
