/**
 * One turn of a long-lived session, for hosts that keep a session across many turns (the language server): send a
 * message and follow the turn it starts, or attach to a session whose turn is already under way (after a restart or
 * a reload) and follow that one. Unlike `runTask`, the ToolRunner is the caller's, so what the agent read in one turn
 * still counts in the next (its read ledger is the base later changes must match), and every turn has its own
 * idempotency keys.
 */
import type OpenAI from 'openai';
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import { followSession } from '../agents/event-stream.js';
import type { AuditActor, AuditLog } from './audit.js';
import { MAX_REVISION_TURNS, type TaskObserver } from './task.js';
import { reviewAsksForChanges, type TaskEnvironment } from './task-environment.js';
import type { ToolRunner } from './tool-runner.js';
import { TurnFollower, type TurnOutcome } from './turn-follower.js';

export interface SessionTurnDeps {
  client: OpenAI;
  session: AgentSession;
  taskId: string;
  runner: ToolRunner;
  audit: AuditLog;
  actor: AuditActor;
  observer?: TaskObserver;
  /** Deputy is the session's execution environment: connected when the endpoint asks, reviewed after every turn. */
  environment?: TaskEnvironment;
}

export interface TurnControl {
  /** Unique per turn: prefixes the turn's input and cancel idempotency keys. */
  turnKey: string;
  /** Aborting asks the endpoint to cancel the turn. */
  cancel?: AbortSignal;
  /** Aborting stops following at once (the endpoint's turn goes on). */
  signal?: AbortSignal;
}

/**
 * Sends `message` and follows the turn it starts to its end. With Deputy as the environment, what the agent changed
 * in its shadow is then reviewed (the same review as `propose_changes`); a review that asks for changes is the
 * agent's next message, as in `deputy run --environment`, up to MAX_REVISION_TURNS times.
 */
export async function sendTurn(deps: SessionTurnDeps, message: string, control: TurnControl): Promise<TurnOutcome> {
  const environment = deps.environment;
  const filesChanged = new Set<string>();
  let text = message;
  for (let round = 0; ; round++) {
    const key = round === 0 ? control.turnKey : `${control.turnKey}:review${round}`;
    const outcome = await followOne(deps, { ...control, turnKey: key }, async () => {
      await deps.client.beta.agents.sessions.events.create(deps.session.id, {
        events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }],
        'Idempotency-Key': `${key}:input`,
      });
      await deps.audit.append({ type: 'message.user', session: deps.session.id, task: deps.taskId, actor: deps.actor, data: { text, ...(round > 0 ? { from: 'environment review' } : {}) } });
    });
    if (!environment) return outcome;
    for (const path of outcome.filesChanged) filesChanged.add(path);
    // Stopped following without the endpoint's word: the turn may still be running, so its copy is not final.
    if (control.signal?.aborted) return { ...outcome, filesChanged: [...filesChanged] };
    const review = await environment.review(deps.session.id, outcome.status === 'completed' ? 'end of turn' : `the turn ended ${outcome.status}`);
    for (const result of review.results) if (result.status === 'applied') filesChanged.add(result.path);
    const again = outcome.status === 'completed' && reviewAsksForChanges(review) && round < MAX_REVISION_TURNS && !control.cancel?.aborted;
    if (review.notes) deps.observer?.environmentReviewed?.(review.notes, again);
    if (!again) return { ...outcome, filesChanged: [...filesChanged] };
    text = review.notes;
  }
}

/**
 * Follows the turn already under way in the session: live events from now on, plus the session's state read once
 * (a call waiting for its result is offered again, so its prompt comes back; a session already at rest ends at once).
 */
export function attachTurn(deps: SessionTurnDeps, control: TurnControl): Promise<TurnOutcome> {
  return followOne(deps, control, async (follower) => {
    follower.resync();
  });
}

async function followOne(
  deps: SessionTurnDeps,
  control: TurnControl,
  start: (follower: TurnFollower) => Promise<void>,
): Promise<TurnOutcome> {
  const { client, session, observer } = deps;
  const follower = new TurnFollower({
    client,
    session,
    taskId: deps.taskId,
    runner: deps.runner,
    audit: deps.audit,
    actor: deps.actor,
    cancelKey: `${control.turnKey}:cancel`,
    ...(deps.environment ? { environment: deps.environment } : {}),
    ...(observer?.text ? { text: (d: string) => observer.text!(d) } : {}),
    ...(observer?.messageDone ? { messageDone: () => observer.messageDone!() } : {}),
    ...(observer?.notice ? { notice: (m: string) => observer.notice!(m) } : {}),
  });
  const streamAbort = new AbortController();
  const stopFollowing = () => streamAbort.abort();
  control.signal?.addEventListener('abort', stopFollowing, { once: true });
  const stream = followSession(client, session.id, {
    signal: streamAbort.signal,
    onReconnect: (attempt) => observer?.reconnecting?.(attempt),
    onGap: () => follower.resync(),
  });
  const requestCancel = () => follower.requestCancel();
  try {
    // Subscribe before sending input (or reading state) so no event of the turn is missed.
    const first = stream.events.next();
    first.catch(() => undefined);
    await stream.opened;
    await start(follower);
    if (control.cancel?.aborted) requestCancel();
    else control.cancel?.addEventListener('abort', requestCancel, { once: true });
    return await follower.follow(stream.events, first);
  } finally {
    control.cancel?.removeEventListener('abort', requestCancel);
    control.signal?.removeEventListener('abort', stopFollowing);
    stopFollowing();
    await stream.events.return(undefined).catch(() => undefined);
  }
}

export type { TurnOutcome };
