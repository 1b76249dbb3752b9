/**
 * The port through which a task uses Deputy as its session's execution environment (`deputy run --environment`,
 * DESIGN.md §2 B): the engine creates the session `self_hosted`, tells the port when the endpoint says the session
 * needs its environment, and has the port review the environment's changes after every turn. The implementation
 * (src/environment/task-environment.ts) owns the shadow, the transport and the review; the engine owns the turns.
 */
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import type { ChangeResult } from '../protocol/tools.js';

export interface EnvironmentReview {
  results: ChangeResult[];
  /** What the agent is told in its next message; empty when there was nothing to review. */
  notes: string;
}

export interface TaskEnvironment {
  /** The workspace folder named in the session's `environment.workspace_directory` (an absolute real path). */
  readonly workspaceDirectory: string;
  /**
   * The endpoint said the session needs its environment (an `environment_connection` action, a pending or lost
   * environment): connect to `session.environment.remote_url`, unless already connected or connecting. `fail` ends the
   * task with a message when the environment cannot connect at all (a refused registration, a sign-in that expired).
   */
  needed(session: AgentSession, fail: (message: string) => void): void;
  /** The endpoint reported the environment's state (`agent.session.environment.*`), for the person to see. */
  reported?(status: string, error: string | null): void;
  /**
   * Reviews what the agent changed in its environment since the last review (end of a turn). `signal`: the turn is no
   * longer followed (the window closes): a question still open is withdrawn, and every undecided file is rejected.
   */
  review(sessionId: string, why: string, signal?: AbortSignal): Promise<EnvironmentReview>;
}

/**
 * Whether the agent should get another turn to act on a review: some file came back rejected with the reviewer's
 * comment (a request for changes). A plain rejection is the person's final word, and a conflict is about the real
 * workspace, which the agent's shadow does not see.
 */
export function reviewAsksForChanges(review: EnvironmentReview): boolean {
  return review.results.some((r) => r.status === 'rejected' && Boolean(r.comment));
}
