/**
 * One task, start to finish, on any Agents API endpoint: create a session that carries Deputy's client tools
 * and provenance metadata, subscribe to its events, send the task, run each client-tool call through the
 * ToolRunner (policy, person, audit), return results, and end with a summary. The same code serves Deputy's
 * runtime, OpenAI and Bedrock: the endpoint only changes the `openai` client it receives.
 */
import type OpenAI from 'openai';
import { randomUUID } from 'node:crypto';
import type { AgentSession, TokenUsage } from 'openai/resources/beta/agents/agents';
import { agentSessions } from '../agents/session-client.js';
import { sendTurn } from './session-turn.js';
import { TOOL_DEFINITIONS } from '../protocol/tools.js';
import type { AuditLog } from './audit.js';
import { cleanInterruptedApplies } from './changeset/index.js';
import { ToolRunner } from './tool-runner.js';
import { EngineEvents } from './event-channel.js';
import type { TurnOutcome } from './turn-follower.js';
import type { CapReached, TurnCaps } from './turn-limits.js';
import type { ToolRunnerDeps } from './tool-runner.js';
import type { TaskEnvironment } from './task-environment.js';
import { spendLimitCents, type BudgetMeter, type BudgetReached } from './budget.js';
import { costUsd, priceFor, type ModelPrice, type PriceOverrides } from './prices.js';

export const DEFAULT_INSTRUCTIONS = [
  'You are Deputy, a careful software engineer working in the user\'s workspace on their behalf.',
  'Use workspace_list, workspace_search and workspace_read to understand the code before changing it.',
  'Read every file you intend to change, then change code only through propose_changes, giving a diff per file',
  '(apply_patch format or unified diff) and a short rationale. A person reviews each file; the result tells you',
  'which files were applied, rejected (with the reviewer\'s comment) or in conflict. Revise when asked.',
  'Finish with a short summary of what you did.',
].join(' ');

export type { ModelPrice };

/** The agent's next message after a person raised the budget that stopped it. */
export const BUDGET_RAISED_MESSAGE = 'The person raised your budget. Go on with the task from where you stopped.';

export interface TaskParams {
  task: string;
  /** Identifies this task in session metadata and audit records; generated when absent. */
  taskId?: string;
  model?: string;
  instructions?: string;
  /** Extra session metadata (string map); Deputy's provenance keys win over these. */
  metadata?: Record<string, string>;
  /** Spending limit in USD cents, enforced by the endpoint. */
  spendLimitCents?: number;
  /** The model's price; else the price table's (`prices.ts`) with `prices` over it. */
  price?: ModelPrice;
  prices?: PriceOverrides;
  /** The task's budgets (`budget.ts`), enforced by the engine whatever the endpoint does. */
  budget?: BudgetMeter;
  /**
   * When a budget stopped the turn: asks the person whether to raise it (the front end calls `budget.raise` on their
   * answer, never on anything the agent sent) and resolves true when they did, so the agent is told to go on.
   */
  askRaise?: (reached: BudgetReached) => Promise<boolean>;
  /** Aborting stops following the session at once (the endpoint's turn goes on). */
  signal?: AbortSignal;
  /** Aborting asks the endpoint to cancel the turn; the task then ends `cancelled` once the endpoint confirms. */
  cancel?: AbortSignal;
  /** Caps on tool calls and permission prompts in the turn; `turn-limits.ts` defaults when absent. */
  caps?: TurnCaps;
}

export interface TaskSummary {
  taskId: string;
  sessionId: string;
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
  /** The cap the turn reached, when that is why it ended (status `failed`). */
  capReached?: CapReached;
  /** The budget that stopped the task, when one did (status `failed`). */
  budgetReached?: BudgetReached;
  filesChanged: string[];
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  costUsd?: number;
  finalText: string;
}

/**
 * The agent's instructions when Deputy is its execution environment: it works with the endpoint's own tools
 * (`exec_command`, `apply_patch`) in what it sees as the workspace, and learns the review's outcome afterwards.
 */
export const ENVIRONMENT_INSTRUCTIONS = [
  'You are Deputy, a careful software engineer working in the user\'s workspace on their behalf.',
  'Explore with exec_command (read-only commands and tests run at once; others wait for the user\'s approval) and edit',
  'files with apply_patch. Your edits stay in your working copy until the end of your turn, when a person reviews',
  'each changed file; the next message tells you which were kept, rejected (with the reviewer\'s comment) or in',
  'conflict. Revise when asked. Finish with a short summary of what you did.',
].join(' ');

/** Review rounds of one `--environment` task: the first turn and at most this many turns acting on a review's comments. */
export const MAX_REVISION_TURNS = 3;

export interface TaskDeps extends Omit<ToolRunnerDeps, 'task'> {
  client: OpenAI;
  /**
   * Provenance stamped on the session beside who acts (`actor`, the one source of it): through which client, for
   * which workspace.
   */
  provenance: {
    client: string;
    workspaceHash: string;
    /** Who serves the agent, as OpenTelemetry's `gen_ai.provider.name` says it: `openai`, `aws.bedrock`, `deputy`. */
    provider: string;
  };
  /**
   * The task's event channel, when the caller listens (the CLI's renderer) or shares it (Deputy's environment): its
   * trail must be this task's (`EngineEvents.forTask` with the `taskId` given in the params). Made for `audit` when absent.
   */
  events?: EngineEvents;
  audit: AuditLog;
  /** Largest tool output the endpoint accepts (`MAX_TOOL_OUTPUT_BYTES` of its kind); larger ones are cut with a note. */
  maxToolOutputBytes?: number;
  /**
   * Deputy as the session's execution environment (`environment: self_hosted`) instead of client tools: the agent's
   * commands and edits reach the workspace through it, and its changes are reviewed after every turn.
   */
  environment?: TaskEnvironment;
}

export async function runTask(deps: TaskDeps, params: TaskParams): Promise<TaskSummary> {
  const taskId = params.taskId ?? `task_${randomUUID()}`;
  const { provenance } = deps;
  const events = deps.events ?? EngineEvents.forTask(deps.audit, deps.actor, taskId);
  const withEvents: TaskDeps = { ...deps, events };
  // Temp files an apply killed mid-write left beside the user's files (Deputy's own names only).
  await cleanInterruptedApplies(deps.workspace);
  await events.record(null, { type: 'task.started', data: { task: params.task, client: provenance.client } });
  let sessionId: string | null = null;
  try {
    const session = await createSession(withEvents, params, taskId);
    sessionId = session.id;
    void events.emit(session.id, {
      type: 'session.started',
      taskId,
      task: params.task,
      endpoint: provenance.provider,
      ...(session.agent?.model ? { model: session.agent.model } : {}),
      folder: deps.workspace.root,
      ...(params.budget?.limit('task')?.unit === 'usd' ? { budgetUsd: params.budget.limit('task')!.amount } : {}),
      attached: false,
    });
    params.budget?.setSession(session.id);
    const outcome = deps.environment
      ? await followTurn(withEvents, params, taskId, session, params.task, 0)
      : await followRaisingBudget(withEvents, params, taskId, session);
    return await finish(withEvents, params, taskId, session, outcome);
  } catch (err) {
    // The trail ends every task it started, even one that broke off.
    const message = err instanceof Error ? err.message : String(err);
    await events.record(sessionId, { type: 'error', data: { message } });
    await events.record(sessionId, { type: 'task.finished', data: { status: 'failed', files_changed: [] } });
    throw err;
  }
}

/** The task's channel: the caller's, or one whose only subscriber is the task's audit trail. */
function eventsOf(deps: TaskDeps, taskId: string): EngineEvents {
  return deps.events ?? EngineEvents.forTask(deps.audit, deps.actor, taskId);
}

/** A session carrying Deputy's client tools and the provenance metadata of who acts, for which task and workspace. */
export async function createSession(deps: TaskDeps, params: TaskParams, taskId: string): Promise<AgentSession> {
  const { client, provenance, actor } = deps;
  const metadata: Record<string, string> = {
    ...params.metadata,
    'deputy.principal': actor.principal,
    ...(actor.account ? { 'deputy.account': actor.account } : {}),
    'deputy.client': provenance.client,
    'deputy.task': taskId,
    'deputy.workspace': provenance.workspaceHash,
  };
  const environment = deps.environment;
  const session = await agentSessions(client).create(
    {
      // With Deputy as the environment the endpoint offers its own tools (Codex's exec_command and apply_patch).
      environment: environment ? { type: 'self_hosted', workspace_directory: environment.workspaceDirectory } : { type: 'none' },
      agent: {
        instructions: params.instructions ?? (environment ? ENVIRONMENT_INSTRUCTIONS : DEFAULT_INSTRUCTIONS),
        ...(params.model ? { model: params.model } : {}),
        ...(environment ? {} : { tools: TOOL_DEFINITIONS.map((t) => ({ ...t })) }),
      },
      metadata,
      ...(params.spendLimitCents !== undefined ? { spend_control: { limit: params.spendLimitCents } } : {}),
    },
    params.signal,
  );
  await eventsOf(deps, taskId).record(session.id, {
    type: 'session.created',
    data: {
      model: session.agent?.model ?? params.model ?? null,
      agent_id: session.agent?.id ?? null,
      provider: provenance.provider,
      metadata,
    },
  });
  return session;
}

/**
 * The task's turn, and after a budget stopped it and the person raised the budget, one more turn telling the agent
 * to go on (the endpoint's own limit raised with it), as often as they raise it.
 */
async function followRaisingBudget(deps: TaskDeps, params: TaskParams, taskId: string, session: AgentSession): Promise<TurnOutcome> {
  let outcome = await followTurn(deps, params, taskId, session, params.task, 0);
  const filesChanged = new Set(outcome.filesChanged);
  for (let raise = 1; outcome.budgetReached && params.askRaise && params.budget && !params.cancel?.aborted; raise++) {
    if (!(await params.askRaise(outcome.budgetReached))) break;
    const cents = spendLimitCents(params.budget.limit('task'));
    if (cents !== undefined && params.spendLimitCents !== undefined) {
      await agentSessions(deps.client).setSpendLimit(session.id, cents);
    }
    // Turn keys of their own, apart from the first turn's (0).
    outcome = await followTurn(deps, params, taskId, session, BUDGET_RAISED_MESSAGE, raise);
    for (const path of outcome.filesChanged) filesChanged.add(path);
  }
  return { ...outcome, filesChanged: [...filesChanged] };
}

/**
 * Sends `message` (the task, or a review's notes in a later round) and follows the turn to its end through the
 * engine's one turn implementation (`session-turn.ts`), with a runner of its own: each round is its own turn.
 */
function followTurn(deps: TaskDeps, params: TaskParams, taskId: string, session: AgentSession, message: string, round: number): Promise<TurnOutcome> {
  const events = eventsOf(deps, taskId);
  const runner = new ToolRunner({ ...deps, task: taskId, events });
  return sendTurn(
    {
      client: deps.client,
      session,
      taskId,
      runner,
      events,
      ...(params.caps ? { caps: params.caps } : {}),
      ...(deps.maxToolOutputBytes !== undefined ? { maxOutputBytes: deps.maxToolOutputBytes } : {}),
      ...(deps.environment ? { environment: deps.environment } : {}),
      ...(params.budget ? { budget: params.budget } : {}),
    },
    message,
    {
      // Each turn of a task has keys of its own (the first keeps the one-turn keys `<task>:input`, `<task>:cancel`).
      turnKey: round > 0 ? `${taskId}:round${round}` : taskId,
      ...(params.cancel ? { cancel: params.cancel } : {}),
      ...(params.signal ? { signal: params.signal } : {}),
    },
    round > 0 ? { from: 'budget raised' } : {},
  );
}

/** The summary the person sees, and the records that close the task on the trail. */
async function finish(
  deps: TaskDeps,
  params: TaskParams,
  taskId: string,
  session: AgentSession,
  outcome: TurnOutcome,
): Promise<TaskSummary> {
  const { client } = deps;
  const events = eventsOf(deps, taskId);
  const { status, error, finalText, lastSession, filesChanged, capReached, budgetReached } = outcome;
  const refreshed = await agentSessions(client).retrieve(session.id).catch(() => lastSession);
  const raw = refreshed.usage ?? lastSession.usage;
  const usage = toUsage(raw);
  const model = refreshed.agent?.model ?? session.agent?.model ?? params.model;
  const price = params.price ?? priceFor(model, params.prices);
  await params.budget?.observe(refreshed);
  const summary: TaskSummary = {
    taskId,
    sessionId: session.id,
    status,
    ...(error ? { error } : {}),
    ...(capReached ? { capReached } : {}),
    ...(budgetReached ? { budgetReached } : {}),
    filesChanged,
    usage,
    ...(price && raw ? { costUsd: costUsd(raw, price) } : {}),
    finalText,
  };
  const record = (type: 'usage' | 'error' | 'task.finished', data: Record<string, unknown>) => events.record(session.id, { type, data });
  await record('usage', {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    total_tokens: usage.totalTokens,
    ...(raw?.input_tokens_details?.cached_tokens ? { cached_input_tokens: raw.input_tokens_details.cached_tokens } : {}),
    ...(model ? { model } : {}),
    ...(summary.costUsd !== undefined ? { cost_usd: summary.costUsd } : {}),
  });
  if (error) await record('error', { message: error, ...(capReached ? { cap: capReached.cap, max: capReached.max } : {}), ...(budgetReached ? { budget: budgetReached.scope } : {}) });
  await record('task.finished', { status, files_changed: filesChanged });
  return summary;
}

function toUsage(u: TokenUsage | null | undefined): TaskSummary['usage'] {
  const inputTokens = u?.input_tokens ?? 0;
  const outputTokens = u?.output_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: u?.total_tokens ?? inputTokens + outputTokens };
}
