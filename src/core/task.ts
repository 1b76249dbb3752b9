/**
 * One task, start to finish, on any Agents API endpoint: create a session that carries Deputy's client tools
 * and provenance metadata, subscribe to its events, send the task, run each client-tool call through the
 * ToolRunner (policy, person, audit), return results, and end with a summary. The same code serves Deputy's
 * runtime, OpenAI and Bedrock: the endpoint only changes the `openai` client it receives.
 */
import type OpenAI from 'openai';
import { randomUUID } from 'node:crypto';
import type {
  AgentSession,
  AgentSessionEvent,
  AgentFunctionCallItem,
  TokenUsage,
} from 'openai/resources/beta/agents/agents';
import { followSession } from '../agents/event-stream.js';
import { TOOL_DEFINITIONS } from '../protocol/tools.js';
import type { AuditActor, AuditLog } from './audit.js';
import { ToolRunner, type ToolObserver } from './tool-runner.js';
import type { ToolRunnerDeps } from './tool-runner.js';

export const DEFAULT_INSTRUCTIONS = [
  'You are Deputy, a careful software engineer working in the user\'s workspace on their behalf.',
  'Use workspace_list, workspace_search and workspace_read to understand the code before changing it.',
  'Read every file you intend to change, then change code only through propose_changes, giving a diff per file',
  '(apply_patch format or unified diff) and a short rationale. A person reviews each file; the result tells you',
  'which files were applied, rejected (with the reviewer\'s comment) or in conflict. Revise when asked.',
  'Finish with a short summary of what you did.',
].join(' ');

/** Model prices in USD per million tokens, for the cost line of the summary. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

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
  price?: ModelPrice;
  /** Aborting stops following the session at once (the endpoint's turn goes on). */
  signal?: AbortSignal;
  /** Aborting asks the endpoint to cancel the turn; the task then ends `cancelled` once the endpoint confirms. */
  cancel?: AbortSignal;
}

export interface TaskObserver extends ToolObserver {
  sessionCreated?(session: AgentSession): void;
  text?(delta: string): void;
  /** A whole assistant message ended (after its deltas). */
  messageDone?(): void;
  reconnecting?(attempt: number): void;
}

export interface TaskSummary {
  taskId: string;
  sessionId: string;
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
  filesChanged: string[];
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  costUsd?: number;
  finalText: string;
}

export interface TaskDeps extends Omit<ToolRunnerDeps, 'task' | 'observer'> {
  client: OpenAI;
  /** Provenance stamped on the session: who acts, through which client, for which workspace. */
  provenance: {
    actor: AuditActor;
    client: string;
    workspaceHash: string;
    /** Who serves the agent, as OpenTelemetry's `gen_ai.provider.name` says it: `openai`, `aws.bedrock`, `deputy`. */
    provider: string;
  };
  observer?: TaskObserver;
  audit: AuditLog;
}

export async function runTask(deps: TaskDeps, params: TaskParams): Promise<TaskSummary> {
  const taskId = params.taskId ?? `task_${randomUUID()}`;
  const { client, audit, provenance, observer } = deps;
  const actor = provenance.actor;
  const runner = new ToolRunner({ ...deps, task: taskId, ...(observer ? { observer } : {}) });
  const metadata: Record<string, string> = {
    ...params.metadata,
    'deputy.principal': actor.principal,
    ...(actor.account ? { 'deputy.account': actor.account } : {}),
    'deputy.client': provenance.client,
    'deputy.task': taskId,
    'deputy.workspace': provenance.workspaceHash,
  };

  await audit.append({ type: 'task.started', task: taskId, actor, data: { task: params.task, client: provenance.client } });
  const session = await client.beta.agents.sessions.create(
    {
      environment: { type: 'none' },
      agent: {
        instructions: params.instructions ?? DEFAULT_INSTRUCTIONS,
        ...(params.model ? { model: params.model } : {}),
        tools: TOOL_DEFINITIONS.map((t) => ({ ...t })),
      },
      metadata,
      ...(params.spendLimitCents !== undefined ? { spend_control: { limit: params.spendLimitCents } } : {}),
    },
    params.signal ? { signal: params.signal } : undefined,
  );
  observer?.sessionCreated?.(session);
  await audit.append({
    type: 'session.created',
    session: session.id,
    task: taskId,
    actor,
    data: {
      model: session.agent?.model ?? params.model ?? null,
      agent_id: session.agent?.id ?? null,
      provider: provenance.provider,
      metadata,
    },
  });

  // Closing the stream is an abort: a pending read on the event stream ends at once rather than at its next event.
  const streamAbort = new AbortController();
  const stopFollowing = () => streamAbort.abort();
  params.signal?.addEventListener('abort', stopFollowing, { once: true });
  const stream = followSession(client, session.id, {
    signal: streamAbort.signal,
    onReconnect: (attempt) => observer?.reconnecting?.(attempt),
  });
  // Subscribe before sending input so no event of the turn is missed.
  const first = stream.events.next();
  // If opening fails, `opened` rejects with the same error; keep this copy from counting as unhandled.
  first.catch(() => undefined);
  try {
    await stream.opened;
    await client.beta.agents.sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: params.task }] }] }],
      'Idempotency-Key': `${taskId}:input`,
    });
  } catch (err) {
    stopFollowing();
    params.signal?.removeEventListener('abort', stopFollowing);
    throw err;
  }
  await audit.append({ type: 'message.user', session: session.id, task: taskId, actor, data: { text: params.task } });

  let cancelRequested = false;
  const requestCancel = () => {
    cancelRequested = true;
    void cancelTask(client, session.id, `${taskId}:cancel`).catch(() => undefined);
  };
  if (params.cancel?.aborted) requestCancel();
  else params.cancel?.addEventListener('abort', requestCancel, { once: true });

  const filesChanged = new Set<string>();
  const handled = new Set<string>();
  let turnId: string | undefined;
  let turnEnded = false;
  let status: TaskSummary['status'] = 'completed';
  let error: string | undefined;
  let finalText = '';
  let lastSession: AgentSession = session;

  const iterator = stream.events;
  let next = first;
  try {
    for (;;) {
      const r = await next;
      if (r.done) break;
      const event: AgentSessionEvent = r.value;
      let stop = false;
      switch (event.type) {
        case 'agent.session.turn.created':
          if (turnId === undefined && event.turn.subagent_id === null) turnId = event.turn_id;
          break;
        case 'agent.session.turn.output_text.delta':
          observer?.text?.(event.delta);
          break;
        case 'agent.session.turn.item.done':
          if (event.item.type === 'message') {
            const text = messageText(event.item);
            if (text) {
              finalText = text;
              observer?.messageDone?.();
              await audit.append({ type: 'message.agent', session: session.id, task: taskId, actor, data: { text } });
            }
          }
          break;
        case 'agent.session.turn.item.added':
          if (event.item.type === 'function_call') {
            const call = event.item as AgentFunctionCallItem;
            const key = `${call.turn_id}:${call.call_id}`;
            if (!handled.has(key)) {
              handled.add(key);
              await handleCall(call);
            }
          }
          break;
        case 'agent.session.turn.completed':
        case 'agent.session.turn.failed':
        case 'agent.session.turn.cancelled':
          if (event.turn_id === turnId) {
            turnEnded = true;
            if (event.type === 'agent.session.turn.failed') {
              status = 'failed';
              error = turnError(event) ?? error;
            } else if (event.type === 'agent.session.turn.cancelled') status = 'cancelled';
          }
          break;
        case 'agent.session.idle':
          lastSession = event.session;
          stop = turnEnded;
          break;
        case 'agent.session.failed':
          lastSession = event.session;
          status = 'failed';
          error = event.session.error ?? error ?? 'The session failed.';
          stop = true;
          break;
        case 'agent.session.requires_action':
          lastSession = event.session;
          break;
        default:
          break;
      }
      if (stop) break;
      next = iterator.next();
    }
  } finally {
    params.cancel?.removeEventListener('abort', requestCancel);
    params.signal?.removeEventListener('abort', stopFollowing);
    stopFollowing();
    await iterator.return(undefined).catch(() => undefined);
  }

  if (status === 'failed' && !error) error = lastSession.error ?? 'The turn failed.';
  const refreshed = await client.beta.agents.sessions.retrieve(session.id).catch(() => lastSession);
  const usage = toUsage(refreshed.usage ?? lastSession.usage);
  const summary: TaskSummary = {
    taskId,
    sessionId: session.id,
    status,
    ...(error ? { error } : {}),
    filesChanged: [...filesChanged],
    usage,
    ...(params.price ? { costUsd: cost(usage, params.price) } : {}),
    finalText,
  };
  await audit.append({
    type: 'usage',
    session: session.id,
    task: taskId,
    actor,
    data: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, total_tokens: usage.totalTokens, ...(summary.costUsd !== undefined ? { cost_usd: summary.costUsd } : {}) },
  });
  if (error) await audit.append({ type: 'error', session: session.id, task: taskId, actor, data: { message: error } });
  await audit.append({
    type: 'task.finished',
    session: session.id,
    task: taskId,
    actor,
    data: { status, files_changed: summary.filesChanged },
  });
  return summary;

  async function handleCall(call: AgentFunctionCallItem): Promise<void> {
    const args = parseArguments(call.arguments);
    const outcome = await runner.run({ session: session.id, callId: call.call_id, name: call.name, args });
    for (const path of outcome.applied) filesChanged.add(path);
    if (cancelRequested) return; // The turn is being cancelled: the endpoint no longer waits for this result.
    await client.beta.agents.sessions.events.create(session.id, {
      events: [
        {
          type: 'agent.session.input.tool_result',
          call_id: call.call_id,
          turn_id: call.turn_id,
          success: outcome.success,
          ...(outcome.success ? { output: outcome.output ?? '' } : { error: outcome.error ?? 'failed' }),
        },
      ],
      'Idempotency-Key': `${taskId}:${call.turn_id}:${call.call_id}`,
    });
  }
}

/** Cancels the session's current turn at the endpoint. */
export async function cancelTask(client: OpenAI, sessionId: string, idempotencyKey: string): Promise<void> {
  await client.beta.agents.sessions.events.create(sessionId, {
    events: [{ type: 'agent.session.input.cancel' }],
    'Idempotency-Key': idempotencyKey,
  });
}

function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function messageText(item: unknown): string {
  const content = (item as { content?: unknown }).content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c: { type?: string; text?: string }) => (c && (c.type === 'output_text' || c.type === 'text') ? c.text ?? '' : ''))
    .join('');
}

function turnError(event: AgentSessionEvent): string | undefined {
  const e = (event as { error?: unknown; turn?: { error?: unknown } }).error ?? (event as { turn?: { error?: unknown } }).turn?.error;
  if (!e) return undefined;
  if (typeof e === 'string') return e;
  return (e as { message?: string }).message ?? JSON.stringify(e);
}

function toUsage(u: TokenUsage | null | undefined): TaskSummary['usage'] {
  const inputTokens = u?.input_tokens ?? 0;
  const outputTokens = u?.output_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: u?.total_tokens ?? inputTokens + outputTokens };
}

function cost(u: TaskSummary['usage'], p: ModelPrice): number {
  return (u.inputTokens * p.inputPerMillion + u.outputTokens * p.outputPerMillion) / 1_000_000;
}
