/**
 * The runtime's side of an environment connection: the JSON-RPC *client* of the Codex exec-server protocol over
 * the websocket the environment dialled (the direct transport turns the usual roles around: the environment
 * connects, then serves). One object per text frame, no `"jsonrpc"` member, the way the Codex exec-server frames it.
 */
import type { WebSocket } from 'ws';
import { ExecMethods, type InitializeResult, type RpcError } from '../protocol/exec-server.js';

/** An error response from the environment, with its JSON-RPC code (e.g. -32004 for a missing path). */
export class EnvironmentRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'EnvironmentRpcError';
  }
}

/** The connection closed before an answer came. */
export class EnvironmentGoneError extends Error {
  constructor() {
    super('The environment disconnected before it answered.');
    this.name = 'EnvironmentGoneError';
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type NotificationListener = (method: string, params: Record<string, unknown>) => void;

/** How long one request may wait for its answer; a process is followed by notifications, not by one long call. */
const REQUEST_TIMEOUT_MS = 120_000;

export class EnvironmentRpcClient {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<NotificationListener>();
  private open = true;
  readonly closed: Promise<void>;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.receive(data.toString());
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.open = false;
        for (const p of this.pending.values()) p.reject(new EnvironmentGoneError());
        this.pending.clear();
        resolve();
      });
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** `initialize` then `initialized`: what a harness sends first on every connection. */
  async handshake(clientName: string): Promise<string> {
    const result = (await this.call(ExecMethods.initialize, { clientName })) as Partial<InitializeResult>;
    if (typeof result?.sessionId !== 'string') throw new EnvironmentRpcError(-32600, 'the environment answered initialize without a sessionId');
    this.notify(ExecMethods.initialized);
    return result.sessionId;
  }

  call(method: string, params: unknown): Promise<unknown> {
    if (!this.open) return Promise.reject(new EnvironmentGoneError());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EnvironmentRpcError(-32603, `the environment did not answer ${method} within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  notify(method: string, params?: unknown): void {
    if (!this.open) return;
    this.socket.send(JSON.stringify(params === undefined ? { method } : { method, params }));
  }

  /** Every notification the environment sends (`process/output|exited|closed`); returns the unsubscribe. */
  onNotification(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.close();
  }

  private receive(text: string): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      message = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.method === 'string') {
      if (message.id !== undefined && message.id !== null) {
        // The environment asks nothing of the runtime in this protocol; say so rather than leave it waiting.
        this.socket.send(JSON.stringify({ id: message.id, error: { code: -32601, message: `the Deputy runtime serves no method ${message.method}` } }));
        return;
      }
      const params = typeof message.params === 'object' && message.params !== null ? (message.params as Record<string, unknown>) : {};
      for (const listener of [...this.listeners]) listener(message.method, params);
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if ('error' in message && message.error) {
      const error = message.error as Partial<RpcError>;
      pending.reject(new EnvironmentRpcError(typeof error.code === 'number' ? error.code : -32603, String(error.message ?? 'error')));
    } else {
      pending.resolve(message.result);
    }
  }
}
