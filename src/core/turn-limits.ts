/**
 * Per-turn caps on what the model can make the engine do: tool calls (model steps) and permission prompts. A model
 * stuck in a loop, or one that asks for the same secret over and over, would otherwise keep a turn (and the person
 * answering) busy without end. The first call over a cap ends the turn: the follower cancels it at the endpoint and
 * the task ends saying which cap was reached, so the front end can say how to raise it.
 */

export const DEFAULT_MAX_STEPS = 100;
export const DEFAULT_MAX_PROMPTS = 25;

export interface TurnCaps {
  /** Most tool calls one turn may make. */
  maxSteps: number;
  /** Most permission prompts one turn may put to the person. */
  maxPrompts: number;
}

/** Which cap a turn reached; the front end words how to raise it. */
export interface CapReached {
  cap: 'steps' | 'prompts';
  max: number;
  message: string;
}

export class TurnLimits {
  private steps = 0;
  private prompts = 0;
  private hit: CapReached | undefined;
  private readonly listeners = new Set<(reached: CapReached) => void>();

  constructor(readonly caps: TurnCaps = { maxSteps: DEFAULT_MAX_STEPS, maxPrompts: DEFAULT_MAX_PROMPTS }) {}

  /** The cap reached, once one is. */
  get reached(): CapReached | undefined {
    return this.hit;
  }

  onReached(listener: (reached: CapReached) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts one tool call; false (and the turn is over) when it is over the cap. */
  step(): boolean {
    if (this.hit) return false;
    if (this.steps >= this.caps.maxSteps) {
      return this.reach({
        cap: 'steps',
        max: this.caps.maxSteps,
        message: `The agent reached the cap of ${this.caps.maxSteps} tool calls in one turn, so the turn was cancelled.`,
      });
    }
    this.steps++;
    return true;
  }

  /** Counts one permission prompt; false (and the turn is over) when it is over the cap. */
  prompt(): boolean {
    if (this.hit) return false;
    if (this.prompts >= this.caps.maxPrompts) {
      return this.reach({
        cap: 'prompts',
        max: this.caps.maxPrompts,
        message: `The agent reached the cap of ${this.caps.maxPrompts} permission prompts in one turn, so the turn was cancelled.`,
      });
    }
    this.prompts++;
    return true;
  }

  private reach(reached: CapReached): false {
    this.hit = reached;
    for (const listener of this.listeners) listener(reached);
    return false;
  }
}
