/**
 * Deputy's environment for one task of `deputy run --environment` (the engine's TaskEnvironment port): a shadow of the
 * workspace, served to the session's endpoint over the remote direct transport once the endpoint asks for it, and
 * reviewed after every turn through the same review as `propose_changes`.
 */
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import type { EnvironmentReview, TaskEnvironment } from '../core/task-environment.js';
import { SignInRequiredError } from '../identity/errors.js';
import { runDirectTransport, DirectTransportError, type DirectTransportOptions, type DirectTransportState } from './direct-transport.js';
import { openEnvironment, serveEnvironmentConnection, type Environment, type EnvironmentOptions } from './index.js';

/** How the transport proves who it is to the endpoint: the options of `runDirectTransport` that say so. */
export type DirectTransportAuth = Pick<DirectTransportOptions, 'credentials' | 'region' | 'service' | 'authHeaders'>;

export interface TaskEnvironmentOptions extends EnvironmentOptions {
  auth: DirectTransportAuth;
  /** The transport's own state, and the endpoint's word on the environment, for the person to see. */
  onState?: (state: DirectTransportState | { state: 'reported'; status: string; error: string | null }) => void;
  /** Reconnect backoff of the transport (tests shorten it). */
  backoff?: DirectTransportOptions['backoff'];
}

export class DeputyTaskEnvironment implements TaskEnvironment {
  private readonly stop = new AbortController();
  private transport: Promise<void> | undefined;
  /** The connections being served, so closing waits for their processes to end. */
  private readonly connections = new Set<Promise<void>>();

  private constructor(
    private readonly environment: Environment,
    private readonly options: TaskEnvironmentOptions,
  ) {}

  static async open(options: TaskEnvironmentOptions): Promise<DeputyTaskEnvironment> {
    return new DeputyTaskEnvironment(await openEnvironment(options), options);
  }

  /** The real workspace: the harness names files by it, and Deputy maps them into the shadow. */
  get workspaceDirectory(): string {
    return this.environment.context.shadow.workspaceRoot;
  }

  get shadowRoot(): string {
    return this.environment.context.shadow.root;
  }

  needed(session: AgentSession, fail: (message: string) => void): void {
    if (this.transport || this.stop.signal.aborted) return;
    const env = session.environment;
    if (env.type !== 'self_hosted' || !env.remote_url) {
      fail(`The endpoint asked for an environment but the session names none to connect to (environment type ${env.type}).`);
      return;
    }
    this.transport = runDirectTransport({
      ...this.options.auth,
      remoteUrl: env.remote_url,
      environmentId: env.id,
      signal: this.stop.signal,
      serve: (socket) => {
        const closed = serveEnvironmentConnection(socket, this.environment.context).closed;
        this.connections.add(closed);
        void closed.finally(() => this.connections.delete(closed));
        return closed;
      },
      ...(this.options.onState ? { onState: this.options.onState } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    }).catch((err: unknown) => {
      // Fatal: a refused registration or an expired sign-in. The turn would wait for the environment for ever.
      const message = err instanceof SignInRequiredError || err instanceof DirectTransportError ? err.message : `The environment stopped: ${err instanceof Error ? err.message : String(err)}`;
      fail(message);
    });
  }

  reported(status: string, error: string | null): void {
    this.options.onState?.({ state: 'reported', status, error });
  }

  async review(sessionId: string, why: string, signal?: AbortSignal): Promise<EnvironmentReview> {
    return this.environment.review.review(sessionId, why, signal);
  }

  /** Stops the transport (ending every process the agent started) and removes the shadow. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.transport;
    await Promise.allSettled([...this.connections]);
    await this.environment.dispose();
  }
}
