/**
 * One turn of a session, the only place the engine sends input and follows a turn: `deputy run` (one task, and the
 * review rounds of `--environment`) and the language server (a session kept across many turns, and attaching to a
 * turn already under way after a restart or a reload) both go through here, so both get the same per-turn caps,
 * the same truncation of tool results, the same cancel and the same reports.
 *
 * The ToolRunner is the caller's: a host that keeps a session across turns keeps one runner, so what the agent read
 * in one turn still counts as the base its changes must match in the next. Every turn has its own idempotency keys
 * (`turnKey`) and its own caps.
 */
import type OpenAI from 'openai';
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import { agentSessions } from '../agents/session-client.js';
import type { EngineEvents } from './event-channel.js';
import { newEventId } from './event-ids.js';
import { MAX_REVISION_TURNS } from './task.js';
import { reviewAsksForChanges, type TaskEnvironment } from './task-environment.js';
import { budgetRefusal, type BudgetMeter } from './budget.js';
import type { ToolRunner } from './tool-runner.js';
import { TurnFollower, type TurnOutcome } from './turn-follower.js';
import { TurnLimits, type TurnCaps } from './turn-limits.js';

export interface SessionTurnDeps {
  client: OpenAI;
  session: AgentSession;
  taskId: string;
  runner: ToolRunner;
  /** The task's channel: everything the turn does is reported there (and so reaches the trail and the front end). */
  events: EngineEvents;
  /** Caps on tool calls and permission prompts per turn; `turn-limits.ts` defaults when absent. */
  caps?: TurnCaps;
  /** Largest tool output the endpoint accepts (UTF-8 bytes); a larger one is cut with a note to the agent. */
  maxOutputBytes?: number;
  /** Deputy is the session's execution environment: connected when the endpoint asks, reviewed after every turn. */
  environment?: TaskEnvironment;
  /** The session's budgets (`budget.ts`): no turn starts once one is reached, and a turn stops when it is. */
  budget?: BudgetMeter;
}

export interface TurnControl {
  /** Unique per turn: prefixes the turn's input and cancel idempotency keys. */
  turnKey: string;
  /** Aborting asks the endpoint to cancel the turn (and stops its walks in progress). */
  cancel?: AbortSignal;
  /** Aborting stops following at once (the endpoint's turn goes on); the turn then ends `cancelled`. */
  signal?: AbortSignal;
  /**
   * Aborted when the host goes away (the window closes): an environment review still waiting for the person is
   * withdrawn, never left open. A Stop only cancels the turn; the review of what the agent did stays the person's.
   */
  shutdown?: AbortSignal;
}

/** What a message is when it is not the person's own words, e.g. `budget raised` (its record's `from`). */
export interface MessageNote {
  from?: string;
}

/**
 * Sends `message` and follows the turn it starts to its end. With Deputy as the environment, what the agent changed
 * in its shadow is then reviewed (the same review as `propose_changes`); a review that asks for changes is the
 * agent's next message, as in `deputy run --environment`, up to MAX_REVISION_TURNS times. The review reports what it
 * applied on the channel (`changeset.applied`).
 */
export async function sendTurn(
  deps: SessionTurnDeps,
  message: string,
  control: TurnControl,
  note: MessageNote = {},
): Promise<TurnOutcome> {
  const environment = deps.environment;
  const filesChanged = new Set<string>();
  let text = message;
  for (let round = 0; ; round++) {
    // Nothing is sent once a budget is reached (this task's, or today's by any session).
    const refused = await budgetRefusal(deps.budget, deps.session);
    if (refused) return { ...refused, filesChanged: [...filesChanged] };
    const key = round === 0 ? control.turnKey : `${control.turnKey}:review${round}`;
    const outcome = await followOne(deps, { ...control, turnKey: key }, async () => {
      await agentSessions(deps.client).send(deps.session.id, text, `${key}:input`);
      const from = round > 0 ? 'environment review' : note.from;
      await deps.events.emit(deps.session.id, { type: 'message.user', messageId: newEventId('msg'), text }, from ? { from } : {});
    });
    if (!environment) return outcome;
    for (const path of outcome.filesChanged) filesChanged.add(path);
    // Stopped following without the endpoint's word: the turn may still be running, so its copy is not final.
    if (control.signal?.aborted) return { ...outcome, filesChanged: [...filesChanged] };
    // Reviewed whatever the turn's end: what the agent did before a failure or a cancel is the person's to keep.
    // Shutting down while the person has not answered: the review's question is withdrawn, never left waiting.
    const review = await environment.review(deps.session.id, outcome.status === 'completed' ? 'end of turn' : `the turn ended ${outcome.status}`, control.shutdown);
    for (const result of review.results) if (result.status === 'applied') filesChanged.add(result.path);
    const again = outcome.status === 'completed' && reviewAsksForChanges(review) && round < MAX_REVISION_TURNS && !control.cancel?.aborted && !control.signal?.aborted && !control.shutdown?.aborted;
    // Notes sent to the agent are the next round's message (`from: environment review`); the others are a notice.
    if (review.notes && !again) void deps.events.emit(deps.session.id, { type: 'notice', message: review.notes }, { reviewNotes: true });
    if (!again) return { ...outcome, filesChanged: [...filesChanged] };
    text = review.notes;
  }
}

/**
 * Follows the turn already under way in the session: live events from now on, plus the session's state read once
 * (a call waiting for its result is offered again, so its prompt comes back; a session already at rest ends at once).
 */
export function attachTurn(deps: SessionTurnDeps, control: TurnControl): Promise<TurnOutcome> {
  return followOne(deps, control, (follower) => {
    follower.resync();
    return Promise.resolve();
  });
}

async function followOne(deps: SessionTurnDeps, control: TurnControl, start: (follower: TurnFollower) => Promise<void>): Promise<TurnOutcome> {
  const { client, session, events } = deps;
  const follower = new TurnFollower({
    client,
    session,
    taskId: deps.taskId,
    runner: deps.runner,
    events,
    limits: new TurnLimits(deps.caps),
    cancelKey: `${control.turnKey}:cancel`,
    ...(deps.maxOutputBytes !== undefined ? { maxOutputBytes: deps.maxOutputBytes } : {}),
    ...(deps.environment ? { environment: deps.environment } : {}),
    ...(deps.budget ? { budget: deps.budget } : {}),
  });
  // Closing the stream is an abort: a pending read on the event stream ends at once rather than at its next event.
  const streamAbort = new AbortController();
  const stopFollowing = () => streamAbort.abort();
  control.signal?.addEventListener('abort', stopFollowing, { once: true });
  const stream = agentSessions(client).follow(session.id, {
    signal: streamAbort.signal,
    onReconnect: (attempt) =>
      void events.emit(session.id, { type: 'notice', message: `Connection to the endpoint lost; reconnecting (attempt ${attempt}).`, reconnectAttempt: attempt }),
    onGap: () => follower.resync(),
  });
  const requestCancel = () => follower.requestCancel();
  try {
    // Subscribe before sending input (or reading state) so no event of the turn is missed.
    const first = stream.events.next();
    // If opening fails, `opened` rejects with the same error; keep this copy from counting as unhandled.
    first.catch(() => undefined);
    await stream.opened;
    await start(follower);
    if (control.cancel?.aborted) requestCancel();
    else control.cancel?.addEventListener('abort', requestCancel, { once: true });
    try {
      return await follower.follow(stream.events, first);
    } catch (err) {
      if (!control.signal?.aborted) throw err;
      return follower.abandoned('Stopped following the turn before the endpoint confirmed its end; the session may still be running there.');
    }
  } finally {
    control.cancel?.removeEventListener('abort', requestCancel);
    control.signal?.removeEventListener('abort', stopFollowing);
    stopFollowing();
    await stream.events.return(undefined).catch(() => undefined);
  }
}

export type { TurnOutcome };
