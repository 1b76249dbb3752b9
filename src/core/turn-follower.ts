/**
 * Follows one turn of a session to its end: shows the agent's text, runs each client-tool call once (in order,
 * through the ToolRunner) and returns its result, and tells when the turn completed, failed or was cancelled.
 * It holds up when the event stream cannot be trusted to be whole: a stream that had to reconnect without a
 * resume point triggers a resync from the session's own state, and a `requires_action` event re-offers any
 * pending call whose announcement was missed.
 */
import type OpenAI from 'openai';
import type {
  AgentFunctionCallItem,
  AgentSession,
  AgentSessionEvent,
} from 'openai/resources/beta/agents/agents';
import { agentSessions, type ToolResultEvent } from '../agents/session-client.js';
import type { EngineEvents } from './event-channel.js';
import { newEventId } from './event-ids.js';
import type { ToolRunner } from './tool-runner.js';
import { limitToolOutput } from './tool-output.js';
import type { CapReached, TurnLimits } from './turn-limits.js';
import type { BudgetMeter, BudgetReached } from './budget.js';
import type { TaskEnvironment } from './task-environment.js';

/** A client-tool call as both the item and the session's required action describe it (only the item has an id). */
type FunctionCall = Pick<AgentFunctionCallItem, 'call_id' | 'name' | 'arguments' | 'turn_id'> & { id?: string };

export interface TurnOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
  /** Set when the turn ended because it reached one of its caps (the status is then `failed`). */
  capReached?: CapReached;
  /** Set when the turn ended because a budget was reached (the status is then `failed`). */
  budgetReached?: BudgetReached;
  finalText: string;
  lastSession: AgentSession;
  filesChanged: string[];
}

export interface TurnFollowerDeps {
  client: OpenAI;
  session: AgentSession;
  taskId: string;
  runner: ToolRunner;
  /** Where the agent's words and the follower's notices are reported (the agent's messages reach the trail there). */
  events: EngineEvents;
  /** Idempotency key of this turn's cancel; default `<taskId>:cancel` (one turn per task). A multi-turn host gives each turn its own. */
  cancelKey?: string;
  /** The turn's caps on tool calls and prompts; the first call over one cancels the turn. */
  limits?: TurnLimits;
  /** Largest tool output the endpoint accepts (UTF-8 bytes); a larger one is cut with a note. */
  maxOutputBytes?: number;
  /** The task's budgets: told every usage the endpoint reports, asked before any more work is sent. */
  budget?: BudgetMeter;
  /** Deputy is the session's execution environment: told when the endpoint needs it and how it reports it. */
  environment?: TaskEnvironment;
}

export class TurnFollower {
  /**
   * Calls already taken on, by turn and call id (what the service keys pending calls on), with the id of the item
   * that announced the call, or null when it was taken from the session's required actions (which carry no id).
   * Some servers reuse a call id in a later step, once the earlier call was answered: that comes as a new item,
   * so an item with another id under a known key is a new call and runs.
   */
  private readonly handled = new Map<string, string | null>();
  /** Calls whose result the service accepted; a fresh read of the session that still lists one means a new call. */
  private readonly answered = new Set<string>();
  /** Results submitted per turn and call id, so each submission has its own idempotency key. */
  private readonly submissions = new Map<string, number>();
  /** Aborted when the turn is being cancelled: a workspace walk in progress stops at once. */
  private readonly toolAbort = new AbortController();
  private readonly filesChanged = new Set<string>();
  /** Tool calls run one after another, whichever path (event or resync) offered them. */
  private work: Promise<void> = Promise.resolve();
  private turnId: string | undefined;
  private turnEnded = false;
  private status: TurnOutcome['status'] = 'completed';
  private error: string | undefined;
  private finalText = '';
  /** The agent message being streamed: its id ties its deltas to its completion. */
  private messageId = newEventId('msg');
  private lastSession: AgentSession;
  private cancelRequested = false;
  private cancelling: Promise<void> = Promise.resolve();
  private capReached: CapReached | undefined;
  private budgetReached: BudgetReached | undefined;
  private readonly unwatchBudget: (() => void) | undefined;
  /** A tool call failed beyond its own result (the trail or the endpoint refused): the turn is over. */
  private settledOnFailure = false;
  private settle!: () => void;
  /** Resolves when a resync finds the session at rest, so following can end without a closing event. */
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(private readonly deps: TurnFollowerDeps) {
    this.lastSession = deps.session;
    deps.limits?.onReached((reached) => {
      this.status = 'failed';
      this.error = reached.message;
      this.capReached = reached;
      // The turn is over for this task whether or not the endpoint confirms the cancel: nothing more will run.
      void this.sendCancel().then(() => this.settle());
    });
    this.unwatchBudget = deps.budget?.onReached((reached) => this.stopForBudget(reached));
  }

  /** A budget is reached: the turn is over for this task, cancelled at the endpoint unless it already ended there. */
  private stopForBudget(reached: BudgetReached): void {
    // A turn that completed with its last step over the line did its work: the next one is what the budget refuses.
    if (this.budgetReached || (this.turnEnded && this.status === 'completed')) return;
    this.status = 'failed';
    this.error = reached.message;
    this.budgetReached = reached;
    if (this.turnEnded) this.settle();
    else void this.sendCancel().then(() => this.settle());
  }

  /** Reads events from `iterator` (whose first read, `first`, is already pending) until the turn is over. */
  async follow(
    iterator: AsyncIterator<AgentSessionEvent>,
    first: Promise<IteratorResult<AgentSessionEvent>>,
  ): Promise<TurnOutcome> {
    const settled = this.settled.then((): null => null);
    let next = first;
    for (;;) {
      const r = await Promise.race([next, settled]);
      if (r === null) break;
      if (r.done) {
        // The stream ended before the turn did (the caller stopped following): it did not complete.
        if (!this.turnEnded && this.status === 'completed') this.status = this.cancelRequested ? 'cancelled' : 'failed';
        break;
      }
      if (await this.handle(r.value)) break;
      next = iterator.next();
    }
    await this.work;
    this.unwatchBudget?.();
    return this.outcome();
  }

  /**
   * The outcome when the caller stopped following before the endpoint confirmed the end of the turn (a cancel
   * that was not confirmed in time): cancelled, with `message` saying so.
   */
  abandoned(message: string): TurnOutcome {
    if (this.status === 'completed') this.status = 'cancelled';
    this.error ??= message;
    return this.outcome();
  }

  private outcome(): TurnOutcome {
    if (this.status === 'failed' && !this.error) this.error = this.lastSession.error ?? 'The turn failed.';
    return {
      status: this.status,
      ...(this.error ? { error: this.error } : {}),
      ...(this.capReached ? { capReached: this.capReached } : {}),
      ...(this.budgetReached ? { budgetReached: this.budgetReached } : {}),
      finalText: this.finalText,
      lastSession: this.lastSession,
      filesChanged: [...this.filesChanged],
    };
  }

  /** Asks the endpoint to cancel the turn; results of calls still running are then no longer sent. */
  requestCancel(): void {
    void this.sendCancel();
  }

  /** Sends the cancel once; resolves when the endpoint took it or refused it (never rejects). */
  private sendCancel(): Promise<void> {
    if (this.cancelRequested) return this.cancelling;
    this.cancelRequested = true;
    this.toolAbort.abort();
    this.cancelling = agentSessions(this.deps.client)
      .cancel(this.deps.session.id, this.deps.cancelKey ?? `${this.deps.taskId}:cancel`)
      .then(
        () => undefined,
        (err: unknown) => {
          // The turn goes on, so its tool results must go on too, or it would wait for them forever.
          this.cancelRequested = false;
          void this.deps.events.emit(this.deps.session.id, { type: 'notice', message: `Could not cancel the turn: ${err instanceof Error ? err.message : String(err)}` });
        },
      );
    return this.cancelling;
  }

  /**
   * The stream reconnected without a resume point: events may be missing, so read the session's state instead.
   * Nothing here may escape as an unhandled rejection (it would take the host process down): a failure ends the
   * turn, failed, with a message saying why.
   */
  resync(): void {
    void this.resyncOnce().catch((err: unknown) => {
      this.fail(`Could not re-read the session after a reconnect: ${err instanceof Error ? err.message : String(err)}`);
      this.requestCancel();
    });
  }

  private async resyncOnce(): Promise<void> {
    const { client, session } = this.deps;
    const answeredBefore = new Set(this.answered);
    const s = await agentSessions(client).retrieve(session.id);
    this.lastSession = s;
    await this.offerRequiredActions(s, answeredBefore);
    if ((s.status === 'idle' || s.status === 'failed') && !this.turnEnded) {
      await this.work;
      // Re-read after the calls were answered: the turn may have moved on.
      const now = await agentSessions(client).retrieve(session.id);
      this.lastSession = now;
      if (now.status === 'idle' || now.status === 'failed') {
        if (now.status === 'failed' && this.status !== 'failed') {
          this.status = 'failed';
          this.error = now.error ?? 'The session failed.';
        }
        this.settle();
      }
    }
  }

  /** Ends the turn, failed, with `message` (unless it already failed for a reason of its own). */
  private fail(message: string): void {
    if (this.status !== 'failed') {
      this.status = 'failed';
      this.error = message;
    }
    this.settle();
  }

  /** Handles one event; true when following should stop. */
  private async handle(event: AgentSessionEvent): Promise<boolean> {
    const { events, session } = this.deps;
    // Every state of the session the endpoint sends carries its usage so far: the budget counts it before anything runs.
    const reported = (event as { session?: AgentSession }).session;
    if (reported && this.deps.budget) await this.deps.budget.observe(reported);
    switch (event.type) {
      case 'agent.session.turn.created':
        if (this.turnId === undefined && event.turn.subagent_id === null) this.turnId = event.turn_id;
        return false;
      case 'agent.session.turn.output_text.delta':
        void events.emit(session.id, { type: 'message.delta', messageId: this.messageId, delta: event.delta });
        return false;
      case 'agent.session.turn.item.done':
        if (event.item.type === 'message') {
          const text = messageText(event.item);
          if (text) {
            this.finalText = text;
            const messageId = this.messageId;
            this.messageId = newEventId('msg');
            await events.emit(session.id, { type: 'message.completed', messageId, text });
          }
        }
        return false;
      case 'agent.session.turn.item.added':
        if (event.item.type === 'function_call') await this.dispatch(event.item as AgentFunctionCallItem);
        return this.stopped;
      case 'agent.session.turn.completed':
      case 'agent.session.turn.failed':
      case 'agent.session.turn.cancelled':
        // A turn whose start was missed (reconnect without a resume point) is adopted by its end.
        this.turnId ??= event.turn_id;
        if (event.turn_id === this.turnId) {
          this.turnEnded = true;
          if (event.type === 'agent.session.turn.failed') {
            this.status = 'failed';
            this.error = turnError(event) ?? this.error;
          } else if (event.type === 'agent.session.turn.cancelled' && this.status !== 'failed') {
            // A turn cancelled because it reached a cap stays failed: the person did not stop it.
            this.status = 'cancelled';
          }
        }
        return false;
      case 'agent.session.idle':
        this.lastSession = event.session;
        return this.turnEnded;
      case 'agent.session.failed':
        this.lastSession = event.session;
        this.status = 'failed';
        this.error = event.session.error ?? this.error ?? 'The session failed.';
        return true;
      case 'agent.session.requires_action':
        this.lastSession = event.session;
        await this.offerRequiredActions(event.session);
        return this.stopped;
      case 'agent.session.environment.pending':
      case 'agent.session.environment.ready':
      case 'agent.session.environment.connected':
      case 'agent.session.environment.disconnected':
      case 'agent.session.environment.failed':
      case 'agent.session.environment.expired':
        this.deps.environment?.reported?.(event.environment.status, event.environment.error?.message ?? null);
        // Pending, ready or lost: the endpoint waits for an environment to (re)connect.
        if (event.type === 'agent.session.environment.pending' || event.type === 'agent.session.environment.ready') this.environmentNeeded();
        return false;
      default:
        return false;
    }
  }

  /**
   * Offers the session's pending calls. `answeredBefore` is given only for a fresh read of the session: a call
   * answered before that read that is still pending there is a new call reusing the id.
   */
  private async offerRequiredActions(s: AgentSession, answeredBefore?: ReadonlySet<string>): Promise<void> {
    for (const action of s.required_actions ?? []) {
      if (action.type === 'environment_connection') this.environmentNeeded();
      if (action.type !== 'function_call') continue;
      const key = callKey(action);
      if (answeredBefore?.has(key) && this.answered.has(key)) {
        this.answered.delete(key);
        this.handled.delete(key);
      }
      await this.dispatch(action);
    }
  }

  /**
   * Starts Deputy's environment for the session (the port ignores repeats). The created session names the
   * environment's `remote_url`; a failure to connect ends the turn, as the endpoint would wait for ever otherwise.
   */
  private environmentNeeded(): void {
    this.deps.environment?.needed(this.deps.session, (message) => {
      this.fail(message);
      this.requestCancel();
    });
  }

  /** True once the turn is over for this follower (a failure or a cap): nothing more is run. */
  private get stopped(): boolean {
    return this.status === 'failed' && this.settledOnFailure;
  }

  /** Runs a call once, after the calls before it. A failure ends the turn instead of escaping. */
  private dispatch(call: FunctionCall): Promise<void> {
    const key = callKey(call);
    const known = this.handled.get(key);
    if (call.id === undefined) {
      if (known !== undefined) return this.work;
      this.handled.set(key, null);
    } else {
      if (known === call.id) return this.work;
      this.handled.set(key, call.id);
      // Announced after the required action it was already taken from: the same call.
      if (known === null) return this.work;
    }
    this.work = this.work.then(() => this.run(call)).catch((err: unknown) => {
      this.settledOnFailure = true;
      this.fail(`A tool call could not be completed: ${err instanceof Error ? err.message : String(err)}`);
      // The endpoint would otherwise wait for this result (and the ones after it) for ever.
      this.requestCancel();
    });
    return this.work;
  }

  private async run(call: FunctionCall): Promise<void> {
    const { runner, session, limits, client } = this.deps;
    if (this.cancelRequested || this.settledOnFailure) return;
    if (limits && !limits.step()) return; // The cap's listener cancels the turn.
    if (this.deps.budget) {
      // The call's announcement comes before the state that carries the step's usage, and another session may
      // have spent the day's budget meanwhile: read both before any of this call's work is done or sent.
      const now = await agentSessions(client).retrieve(session.id).catch(() => undefined);
      const overBudget = await this.deps.budget.observe(now);
      if (overBudget) return this.stopForBudget(overBudget);
    }
    const outcome = await runner.run(
      { session: session.id, callId: call.call_id, name: call.name, args: parseArguments(call.arguments) },
      this.toolAbort.signal,
      limits,
    );
    for (const path of outcome.applied) this.filesChanged.add(path);
    if (this.cancelRequested) return; // The turn is being cancelled: the endpoint no longer waits for this result.
    const max = this.deps.maxOutputBytes;
    const fit = (text: string) => (max === undefined ? text : limitToolOutput(text, max));
    await this.submit(call, {
      type: 'agent.session.input.tool_result',
      call_id: call.call_id,
      turn_id: call.turn_id,
      success: outcome.success,
      ...(outcome.success ? { output: fit(outcome.output ?? '') } : { error: fit(outcome.error ?? 'failed') }),
    });
    this.answered.add(callKey(call));
  }

  /** Sends a tool result (the session client waits briefly while the service registers the call). */
  private async submit(call: FunctionCall, result: ToolResultEvent): Promise<void> {
    const { client, session, taskId } = this.deps;
    // One key per submission, stable across its retries; a later call reusing the id is another submission.
    const key = callKey(call);
    const occurrence = this.submissions.get(key) ?? 0;
    this.submissions.set(key, occurrence + 1);
    await agentSessions(client).submitToolResult(session.id, result, `${taskId}:${key}${occurrence > 0 ? `:${occurrence}` : ''}`);
  }
}

function callKey(call: Pick<FunctionCall, 'turn_id' | 'call_id'>): string {
  return `${call.turn_id}:${call.call_id}`;
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
  const e = (event as { error?: unknown }).error ?? (event as { turn?: { error?: unknown } }).turn?.error;
  if (!e) return undefined;
  if (typeof e === 'string') return e;
  return (e as { message?: string }).message ?? JSON.stringify(e);
}
