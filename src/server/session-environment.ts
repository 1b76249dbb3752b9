/**
 * Deputy as the execution environment of an editor session (DESIGN.md §2 B, the editor's `deputy run --environment`):
 * the shadow, the command gate and the review, wired to the editor. The shadow's changeset is put to the person
 * through the same broker as a `propose_changes` changeset (the same card, diff editors, hunks and comments), and
 * approved text is applied through the editor's file port (one WorkspaceEdit, unsaved buffers respected).
 */
import type { Policy } from '../core/policy.js';
import type { EngineEvents } from '../core/event-channel.js';
import type { WorkspaceFiles } from '../core/workspace-files.js';
import { createCommandGate } from '../environment/process-types.js';
import { DeputyTaskEnvironment, type TaskEnvironmentOptions } from '../environment/task-environment.js';
import type { ServerSettings } from '../protocol/lsp.js';
import type { Connection } from './endpoint.js';
import type { Folder } from './folder.js';
import type { PromptBroker } from './prompt-broker.js';

export interface SessionEnvironmentSetup {
  folder: Folder;
  connection: Connection;
  broker: PromptBroker;
  files: WorkspaceFiles;
  settings: ServerSettings;
  policy: Policy;
  taskId: string;
  /** The session's event channel (made before the session, with the task): the review reports there. */
  events: EngineEvents;
  /** A line for the person about the environment (its connection, a command sandbox that is missing). */
  notice: (message: string) => void;
}

/** Why the editor cannot offer the environment with this endpoint, or undefined when it can. */
export function environmentUnavailable(connection: Connection): string | undefined {
  return connection.environmentAuth ? undefined : `Deputy cannot be the agent's environment with ${connection.describe}: dispatch without it.`;
}

export async function openSessionEnvironment(setup: SessionEnvironmentSetup): Promise<DeputyTaskEnvironment> {
  const { connection, settings, notice } = setup;
  const auth = connection.environmentAuth;
  if (!auth) throw new Error(environmentUnavailable(connection));
  const allowUnsandboxed = settings.environmentAllowUnsandboxed === true;
  const commands = await createCommandGate({ policy: setup.policy, allowUnsandboxed });
  // Said once, when the session starts, rather than on every command the agent tries.
  const sandboxNote = commands.unavailable
    ? `No command sandbox can run here (${commands.unavailable}). ${allowUnsandboxed ? 'Commands run unsandboxed (deputy.environment.allowUnsandboxed), still under policy and your approval.' : 'The agent\'s commands will be refused; install bubblewrap, or set deputy.environment.allowUnsandboxed.'}`
    : undefined;
  const environment = await DeputyTaskEnvironment.open({
    workspace: setup.folder.workspace,
    policy: setup.policy,
    audit: setup.folder.audit,
    prompter: setup.broker.prompter,
    actor: connection.actor,
    task: setup.taskId,
    commands,
    promptTimeoutMs: settings.promptTimeoutMinutes * 60_000,
    auth,
    files: setup.files,
    events: setup.events,
    onState: (state) => {
      const line = describeState(state);
      if (line) notice(line);
    },
  });
  if (sandboxNote) notice(sandboxNote);
  return environment;
}

/** One line per state change worth the person's attention. */
function describeState(state: Parameters<NonNullable<TaskEnvironmentOptions['onState']>>[0]): string | null {
  switch (state.state) {
    case 'registering':
      return state.attempt === 1 ? 'Environment: connecting to the session.' : null;
    case 'connected':
      return 'Environment: connected. The agent works in a shadow of this folder; you review its changes after each turn.';
    case 'disconnected':
      return `Environment: ${state.reason}; reconnecting in ${(state.retryInMs / 1000).toFixed(1)} s.`;
    case 'stopped':
      return null;
    case 'reported':
      return state.status === 'failed' || state.status === 'expired' ? `Environment: the endpoint reports it ${state.status}${state.error ? `: ${state.error}` : ''}.` : null;
  }
}
