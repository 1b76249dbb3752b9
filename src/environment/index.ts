/**
 * Deputy as a Codex execution environment (DESIGN.md §2 B): a shadow of the workspace the harness's commands and
 * file operations land in, under policy, prompts and audit, and a review that brings approved changes home.
 * `openEnvironment` builds what every transport shares; a transport hands each accepted socket to
 * `serveEnvironmentConnection`.
 */
import type { AuditActor, AuditLog } from '../core/audit.js';
import type { Policy } from '../core/policy.js';
import type { Prompter } from '../core/prompter.js';
import type { EngineEvents } from '../core/event-channel.js';
import type { Workspace } from '../core/workspace.js';
import type { WorkspaceFiles } from '../core/workspace-files.js';
import type { EnvironmentContext } from './context.js';
import type { CommandGate } from './process-types.js';
import { Shadow, type ShadowOptions } from './shadow.js';
import { ShadowReview } from './shadow-review.js';

export { serveEnvironmentConnection, type EnvironmentConnection } from './server.js';
export { startLocalTransport, parseListen, ListenError, type LocalTransport } from './local-transport.js';
export type { EnvironmentContext } from './context.js';
export type { ReviewOutcome } from './shadow-review.js';

/** Five minutes: a held command waits this long for a person before it is denied. */
export const DEFAULT_PROMPT_TIMEOUT_MS = 5 * 60 * 1000;

export interface EnvironmentOptions {
  workspace: Workspace;
  policy: Policy;
  audit: AuditLog;
  prompter: Prompter;
  actor: AuditActor;
  task: string;
  commands?: CommandGate;
  promptTimeoutMs?: number;
  shadow?: ShadowOptions;
  /** The editor's side of the workspace (buffers, WorkspaceEdit); the disk when absent. */
  files?: WorkspaceFiles;
  /** The task's event channel (the review's verdicts and applied files go there, and so on the trail). */
  events?: EngineEvents;
}

export interface Environment {
  context: EnvironmentContext;
  review: ShadowReview;
  dispose(): Promise<void>;
}

export async function openEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const shadow = await Shadow.create(options.workspace.root, options.shadow);
  const context: EnvironmentContext = {
    shadow,
    workspace: options.workspace,
    policy: options.policy,
    audit: options.audit,
    prompter: options.prompter,
    actor: options.actor,
    task: options.task,
    ...(options.commands ? { commands: options.commands } : {}),
    promptTimeoutMs: options.promptTimeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS,
    ...(options.files ? { files: options.files } : {}),
    ...(options.events ? { events: options.events } : {}),
  };
  return { context, review: new ShadowReview(context), dispose: () => shadow.dispose() };
}
