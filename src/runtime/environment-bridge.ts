/**
 * The self-hosted environments connected to this runtime: which registration of an environment is current, the
 * live connection of each (an exec-server JSON-RPC client), and the `agent.session.environment.*` events and session
 * state that follow a connection as it comes and goes. The turn runner asks `client(id)` for the connection to run
 * `exec_command` and `apply_patch` through.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { EventHub } from './event-hub.js';
import { EnvironmentRpcClient } from './environment-rpc.js';
import type { RuntimeStore } from './store.js';
import { environmentState, type StoredEnvironment } from './wire.js';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';

type OmitId<T> = T extends unknown ? Omit<T, 'event_id'> : never;

/** The name the runtime gives itself in `initialize`, as a harness does. */
export const RUNTIME_CLIENT_NAME = 'deputy-runtime';

export interface EnvironmentBridgeDeps {
  store: RuntimeStore;
  hub: EventHub;
  emit(sessionId: string, body: OmitId<AgentSessionEvent>): void;
  /** A session's environment just connected: a turn waiting for it can go on. */
  onConnected(sessionId: string): void;
  log(line: string): void;
}

export class EnvironmentBridge {
  /** Environment id → its current registration id; a handshake for any other is answered 409 (register again). */
  private readonly registrations = new Map<string, string>();
  private readonly live = new Map<string, { rpc: EnvironmentRpcClient; sessionId: string }>();
  private stopped = false;

  constructor(private readonly deps: EnvironmentBridgeDeps) {}

  /** A new registration for the environment; it replaces any earlier one. */
  register(environmentId: string): string {
    const registrationId = `reg_${randomBytes(12).toString('hex')}`;
    this.registrations.set(environmentId, registrationId);
    return registrationId;
  }

  isCurrent(environmentId: string, registrationId: string): boolean {
    return this.registrations.get(environmentId) === registrationId;
  }

  /** The live connection of an environment, or null when none is connected. */
  client(environmentId: string): EnvironmentRpcClient | null {
    const live = this.live.get(environmentId);
    return live && live.rpc.isOpen ? live.rpc : null;
  }

  /** Takes over an accepted websocket: handshake, then the environment is the session's until the socket closes. */
  async attach(sessionId: string, environment: StoredEnvironment, socket: WebSocket): Promise<void> {
    const rpc = new EnvironmentRpcClient(socket);
    try {
      await rpc.handshake(RUNTIME_CLIENT_NAME);
    } catch (err) {
      this.deps.log(`runtime: environment ${environment.id} failed its handshake: ${err instanceof Error ? err.message : String(err)}`);
      rpc.close();
      return;
    }
    if (!rpc.isOpen || this.stopped) return;
    // The session was deleted during the handshake (`close` dropped its registration): nothing to serve.
    if (!this.registrations.has(environment.id)) {
      rpc.close();
      return;
    }
    // One connection per environment: a newer one (after a drop the old side has not noticed yet) wins.
    this.live.get(environment.id)?.rpc.close();
    this.live.set(environment.id, { rpc, sessionId });
    this.setStatus(sessionId, 'connected');
    this.deps.log(`runtime: environment ${environment.id} of session ${sessionId} connected`);
    void rpc.closed.then(() => {
      if (this.stopped || this.live.get(environment.id)?.rpc !== rpc) return;
      this.live.delete(environment.id);
      this.setStatus(sessionId, 'disconnected');
      this.deps.log(`runtime: environment ${environment.id} of session ${sessionId} disconnected`);
    });
    this.deps.onConnected(sessionId);
  }

  /** Closes every connection (runtime shutdown); `markDisconnected` then records it. */
  stop(): void {
    this.stopped = true;
    for (const { rpc } of this.live.values()) rpc.close();
    this.live.clear();
  }

  /**
   * Environments the store says are connected but that have no connection here — every one, at a start after a
   * shutdown or a crash, and at shutdown itself — become `disconnected`, with the event, so a client's view of the
   * session is true and a reconnecting environment is announced `connected` again. Returns how many.
   */
  markDisconnected(): number {
    let count = 0;
    for (const session of this.deps.store.sessionsWithConnectedEnvironment()) {
      if (this.live.has(session.environment!.id)) continue;
      this.setStatus(session.id, 'disconnected');
      count++;
    }
    return count;
  }

  /** The session is gone (deleted): its environment's connection is closed and no registration of it is current. */
  close(environmentId: string): void {
    this.registrations.delete(environmentId);
    const live = this.live.get(environmentId);
    // Out of `live` first: the closing socket then records no `disconnected` for a session that no longer exists.
    this.live.delete(environmentId);
    live?.rpc.close();
  }

  private setStatus(sessionId: string, status: 'connected' | 'disconnected'): void {
    const { hub, store } = this.deps;
    hub.atomically(() => {
      const session = store.getSession(sessionId);
      if (!session?.environment) return;
      session.environment.status = status;
      store.saveSession(session);
      this.deps.emit(sessionId, {
        type: status === 'connected' ? 'agent.session.environment.connected' : 'agent.session.environment.disconnected',
        session_id: sessionId,
        turn_id: session.activeTurnId,
        environment: environmentState(session.environment),
      });
    });
  }
}
