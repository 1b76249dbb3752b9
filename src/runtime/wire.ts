/**
 * The runtime's stored records and how they look on the wire: the Agents API objects (`agent.session`,
 * `agent.session.turn`, token usage) in exactly the shapes the `openai` package's types declare.
 */
import type {
  AgentCommandExecutionItem,
  AgentSession,
  AgentSessionEnvironmentState,
  AgentSessionItem,
  AgentTool,
  Environment,
  TokenUsage,
} from 'openai/resources/beta/agents/agents';
import type { Turn } from 'openai/resources/beta/agents/sessions/turns/turns';

export type SessionStatus = AgentSession['status'];
export type TurnStatus = Turn['status'];
export type FunctionCallAction = AgentSession.SessionRequiredActionResourceFunctionCall;
export type EnvironmentConnectionAction = AgentSession.SessionRequiredActionResourceEnvironmentConnection;
export type RequiredAction = FunctionCallAction | EnvironmentConnectionAction;
export type TurnErrorCode = NonNullable<Turn['error']>['code'];

/** A function tool as the session stores it (the Agents API `function` tool). */
export interface FunctionTool {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One session row. Spend is kept in exact (fractional) USD cents; the wire shows it floored. */
export interface StoredSession {
  id: string;
  principal: string;
  createdAt: number;
  lastActiveAt: number;
  status: SessionStatus;
  error: string | null;
  model: string;
  instructions: string | null;
  tools: FunctionTool[];
  metadata: Record<string, string>;
  spendLimit: number | null;
  spendCents: number;
  usage: TokenUsage | null;
  requiredActions: RequiredAction[];
  activeTurnId: string | null;
  /** A self-hosted execution environment (`environment: {type: "self_hosted"}`); absent for `none`. */
  environment?: StoredEnvironment | null;
}

/** The client tool calls among a session's required actions. */
export function pendingCalls(actions: RequiredAction[]): FunctionCallAction[] {
  return actions.filter((a): a is FunctionCallAction => a.type === 'function_call');
}

/**
 * A session's self-hosted environment. `remoteUrl` embeds `secret`, a per-session capability: only the session's
 * owner learns it, and the register endpoint and websocket are served under it (see environment-routes.ts).
 */
export interface StoredEnvironment {
  id: string;
  workspaceDirectory: string;
  capabilityDirectories: string[];
  secret: string;
  remoteUrl: string;
  status: 'pending' | 'connected' | 'disconnected';
}

export interface StoredTurn {
  id: string;
  sessionId: string;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  status: TurnStatus;
  error: Turn['error'];
  usage: TokenUsage | null;
}

/** The id every session's agent reports: the runtime has one built-in agent configured per session. */
export const RUNTIME_AGENT_ID = 'agent_deputy_runtime';

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function sessionObject(s: StoredSession): AgentSession {
  const tools: AgentTool[] = s.tools.map((t) => ({
    type: 'function',
    name: t.name,
    description: t.description,
    parameters: t.parameters,
    defer_loading: false,
  }));
  return {
    id: s.id,
    object: 'agent.session',
    agent: {
      id: RUNTIME_AGENT_ID,
      instructions: s.instructions,
      model: s.model,
      multi_agent: { enabled: false, max_concurrent_subagents: null },
      name: null,
      reasoning: { effort: null, summary: null },
      service_tier: 'auto',
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tools,
    },
    created_at: s.createdAt,
    environment: environmentObject(s.environment ?? null),
    error: s.error,
    last_active_at: s.lastActiveAt,
    metadata: { ...s.metadata },
    required_actions: s.requiredActions.map((a) => ({ ...a })),
    status: s.status,
    usage: s.usage ? structuredClone(s.usage) : null,
    vault_ids: [],
    ...(s.spendLimit !== null ? { spend_control: { limit: s.spendLimit, consumed: Math.floor(s.spendCents) } } : {}),
  };
}

function environmentObject(env: StoredEnvironment | null): Environment {
  if (!env) return { type: 'none' };
  return {
    type: 'self_hosted',
    id: env.id,
    capability_directories: [...env.capabilityDirectories],
    remote_url: env.remoteUrl,
    workspace_directory: env.workspaceDirectory,
  };
}

/** The `environment` of `agent.session.environment.*` events. */
export function environmentState(env: StoredEnvironment): AgentSessionEnvironmentState {
  return { id: env.id, error: null, status: env.status, type: 'self_hosted' };
}

export function turnObject(t: StoredTurn): Turn {
  return {
    id: t.id,
    object: 'agent.session.turn',
    agent_id: RUNTIME_AGENT_ID,
    session_id: t.sessionId,
    subagent_id: null,
    created_at: t.createdAt,
    started_at: t.startedAt,
    completed_at: t.completedAt,
    status: t.status,
    error: t.error ? { ...t.error } : null,
    usage: t.usage ? structuredClone(t.usage) : null,
  };
}

export function emptyUsage(): TokenUsage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}

export function addUsage(total: TokenUsage | null, add: TokenUsage): TokenUsage {
  const base = total ?? emptyUsage();
  return {
    input_tokens: base.input_tokens + add.input_tokens,
    input_tokens_details: {
      cached_tokens: base.input_tokens_details.cached_tokens + add.input_tokens_details.cached_tokens,
    },
    output_tokens: base.output_tokens + add.output_tokens,
    output_tokens_details: {
      reasoning_tokens: base.output_tokens_details.reasoning_tokens + add.output_tokens_details.reasoning_tokens,
    },
    total_tokens: base.total_tokens + add.total_tokens,
  };
}

/** The model's call behind a `command_execution` item, kept to replay the conversation to the model; never on the wire. */
export interface ModelCallRecord {
  call_id: string;
  name: string;
  /** `custom` for a Responses API custom tool call (`apply_patch`), whose input is free text. */
  kind: 'function' | 'custom';
  input: string;
  /** What the model was told; null until the tool finished. */
  output: string | null;
}

export type StoredCommandExecution = AgentCommandExecutionItem & { model_call?: ModelCallRecord };

/** Item kinds the runtime produces; a subset of the Agents API's `AgentSessionItem`. */
export type RuntimeItem =
  | Extract<AgentSessionItem, { type: 'message' } | { type: 'function_call' } | { type: 'function_call_output' }>
  | StoredCommandExecution;

/**
 * The stored field holding the model's own id of a call whose client-facing `call_id` had to be made unique. It is
 * the runtime's bookkeeping, never shown on the wire (`wireItem`).
 */
export const UPSTREAM_CALL_ID = 'upstream_call_id';

/** The id the upstream model gave the call (or the output's call). */
export function upstreamCallId(item: RuntimeItem | undefined): string | undefined {
  if (!item || (item.type !== 'function_call' && item.type !== 'function_call_output')) return undefined;
  return ((item as unknown as Record<string, unknown>)[UPSTREAM_CALL_ID] as string | undefined) ?? item.call_id ?? undefined;
}

/**
 * An item as clients see it: without the runtime's bookkeeping (the model's own call id, and the stored model call
 * of a command execution).
 */
export function wireItem<T extends RuntimeItem>(item: T): T {
  if (!(UPSTREAM_CALL_ID in item) && !('model_call' in item)) return item;
  const { [UPSTREAM_CALL_ID]: _upstream, model_call: _modelCall, ...rest } = item as T & Record<string, unknown>;
  return rest as T;
}
