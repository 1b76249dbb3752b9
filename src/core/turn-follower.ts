/**
 * Follows one turn of a session to its end: shows the agent's text, runs each client-tool call once (in order,
 * through the ToolRunner) and returns its result, and tells when the turn completed, failed or was cancelled.
 * It holds up when the event stream cannot be trusted to be whole: a stream that had to reconnect without a
 * resume point triggers a resync from the session's own state, and a `requires_action` event re-offers any
 * pending call whose announcement was missed.
 */
import type OpenAI from 'openai';
import { BadRequestError } from 'openai';
import type {
  AgentFunctionCallItem,
  AgentSession,
  AgentSessionEvent,
} from 'openai/resources/beta/agents/agents';
import type { AuditActor, AuditLog } from './audit.js';
import type { ToolRunner } from './tool-runner.js';

/** A client-tool call as both the item and the session's required action describe it. */
type FunctionCall = Pick<AgentFunctionCallItem, 'call_id' | 'name' | 'arguments' | 'turn_id'>;

export interface TurnOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
  finalText: string;
  lastSession: AgentSession;
  filesChanged: string[];
}

export interface TurnFollowerDeps {
  client: OpenAI;
  session: AgentSession;
  taskId: string;
  runner: ToolRunner;
  audit: AuditLog;
  actor: AuditActor;
  text?: (delta: string) => void;
  messageDone?: () => void;
  notice?: (message: string) => void;
  /** Idempotency key of this turn's cancel; default `<taskId>:cancel` (one turn per task). A multi-turn host gives each turn its own. */
  cancelKey?: string;
}

/** The official helper's waits for a tool result the service has not registered yet ("Unknown pending tool call"). */
const REGISTRATION_DELAYS_MS = [100, 300, 600];

export class TurnFollower {
  private readonly handled = new Set<string>();
  private readonly filesChanged = new Set<string>();
  /** Tool calls run one after another, whichever path (event or resync) offered them. */
  private work: Promise<void> = Promise.resolve();
  private turnId: string | undefined;
  private turnEnded = false;
  private status: TurnOutcome['status'] = 'completed';
  private error: string | undefined;
  private finalText = '';
  private lastSession: AgentSession;
  private cancelRequested = false;
  private settle!: () => void;
  /** Resolves when a resync finds the session at rest, so following can end without a closing event. */
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(private readonly deps: TurnFollowerDeps) {
    this.lastSession = deps.session;
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
      if (r === null || r.done) break;
      if (await this.handle(r.value)) break;
      next = iterator.next();
    }
    await this.work;
    if (this.status === 'failed' && !this.error) this.error = this.lastSession.error ?? 'The turn failed.';
    return {
      status: this.status,
      ...(this.error ? { error: this.error } : {}),
      finalText: this.finalText,
      lastSession: this.lastSession,
      filesChanged: [...this.filesChanged],
    };
  }

  /** Asks the endpoint to cancel the turn; results of calls still running are then no longer sent. */
  requestCancel(): void {
    this.cancelRequested = true;
    void this.deps.client.beta.agents.sessions.events
      .create(this.deps.session.id, {
        events: [{ type: 'agent.session.input.cancel' }],
        'Idempotency-Key': this.deps.cancelKey ?? `${this.deps.taskId}:cancel`,
      })
      .catch((err: unknown) => {
        // The turn goes on, so its tool results must go on too, or it would wait for them forever.
        this.cancelRequested = false;
        this.deps.notice?.(`Could not cancel the turn: ${err instanceof Error ? err.message : String(err)}`);
      });
  }

  /** The stream reconnected without a resume point: events may be missing, so read the session's state instead. */
  resync(): void {
    void this.deps.client.beta.agents.sessions.retrieve(this.deps.session.id).then(
      async (s) => {
        this.lastSession = s;
        await this.offerRequiredActions(s);
        if ((s.status === 'idle' || s.status === 'failed') && !this.turnEnded) {
          await this.work;
          // Re-read after the calls were answered: the turn may have moved on.
          const now = await this.deps.client.beta.agents.sessions.retrieve(this.deps.session.id);
          this.lastSession = now;
          if (now.status === 'idle' || now.status === 'failed') {
            if (now.status === 'failed') {
              this.status = 'failed';
              this.error = now.error ?? 'The session failed.';
            }
            this.settle();
          }
        }
      },
      (err: unknown) => this.deps.notice?.(`Could not re-read the session after a reconnect: ${String(err)}`),
    );
  }

  /** Handles one event; true when following should stop. */
  private async handle(event: AgentSessionEvent): Promise<boolean> {
    const { audit, session, taskId, actor } = this.deps;
    switch (event.type) {
      case 'agent.session.turn.created':
        if (this.turnId === undefined && event.turn.subagent_id === null) this.turnId = event.turn_id;
        return false;
      case 'agent.session.turn.output_text.delta':
        this.deps.text?.(event.delta);
        return false;
      case 'agent.session.turn.item.done':
        if (event.item.type === 'message') {
          const text = messageText(event.item);
          if (text) {
            this.finalText = text;
            this.deps.messageDone?.();
            await audit.append({ type: 'message.agent', session: session.id, task: taskId, actor, data: { text } });
          }
        }
        return false;
      case 'agent.session.turn.item.added':
        if (event.item.type === 'function_call') await this.dispatch(event.item as AgentFunctionCallItem);
        return false;
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
          } else if (event.type === 'agent.session.turn.cancelled') {
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
        return false;
      default:
        return false;
    }
  }

  private async offerRequiredActions(s: AgentSession): Promise<void> {
    for (const action of s.required_actions ?? []) {
      if (action.type === 'function_call') await this.dispatch(action);
    }
  }

  /** Runs a call once, after the calls before it. */
  private dispatch(call: FunctionCall): Promise<void> {
    const key = `${call.turn_id}:${call.call_id}`;
    if (this.handled.has(key)) return this.work;
    this.handled.add(key);
    this.work = this.work.then(() => this.run(call));
    return this.work;
  }

  private async run(call: FunctionCall): Promise<void> {
    const { runner, session } = this.deps;
    const outcome = await runner.run({ session: session.id, callId: call.call_id, name: call.name, args: parseArguments(call.arguments) });
    for (const path of outcome.applied) this.filesChanged.add(path);
    if (this.cancelRequested) return; // The turn is being cancelled: the endpoint no longer waits for this result.
    await this.submit(call, {
      type: 'agent.session.input.tool_result',
      call_id: call.call_id,
      turn_id: call.turn_id,
      success: outcome.success,
      ...(outcome.success ? { output: outcome.output ?? '' } : { error: outcome.error ?? 'failed' }),
    });
  }

  /** Sends a tool result, waiting briefly (as the official helper does) while the service registers the call. */
  private async submit(
    call: FunctionCall,
    result: Parameters<OpenAI['beta']['agents']['sessions']['events']['create']>[1]['events'][number],
  ): Promise<void> {
    const { client, session, taskId } = this.deps;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.beta.agents.sessions.events.create(session.id, {
          events: [result],
          'Idempotency-Key': `${taskId}:${call.turn_id}:${call.call_id}`,
        });
        return;
      } catch (err) {
        const delay = REGISTRATION_DELAYS_MS[attempt];
        const unregistered =
          err instanceof BadRequestError && err.message.includes(`Unknown pending tool call: ${call.call_id}`);
        if (delay === undefined || !unregistered) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
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
