/**
 * JSON-RPC over one websocket, the way the Codex exec-server frames it: one object per text frame, no `"jsonrpc"`
 * member required. Requests are handled concurrently (a `process/start` held for a person's answer must not block
 * the harness's reads of other processes); each handler's failure is that request's error response.
 */
import type { WebSocket } from 'ws';
import { ExecErrorCodes, type RequestId, type RpcError } from '../protocol/exec-server.js';

/** A refusal with a JSON-RPC code; its message reaches the harness (and often the model) as is. */
export class ExecError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

export type RequestHandler = (params: unknown) => Promise<unknown>;
export type NotificationHandler = (params: unknown) => void;

export interface RpcHandlers {
  request(method: string): RequestHandler | undefined;
  notification(method: string): NotificationHandler | undefined;
}

/** Frames bigger than this are refused before parsing: a write of a large file still fits (base64 of 48 MiB). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class RpcConnection {
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly socket: WebSocket,
    private readonly handlers: RpcHandlers,
    private readonly onInternalError: (err: unknown) => void,
  ) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.send({ id: null, error: { code: ExecErrorCodes.invalidRequest, message: 'expected a text frame holding one JSON-RPC object' } });
        return;
      }
      this.receive(data.toString());
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  notify(method: string, params: unknown): void {
    this.send({ method, params });
  }

  /** Resolves when every request received so far has been answered (or dropped because the socket closed). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.send({ id: null, error: { code: -32700, message: 'parse error: the frame is not JSON' } });
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.send({ id: null, error: { code: ExecErrorCodes.invalidRequest, message: 'expected one JSON-RPC object per frame' } });
      return;
    }
    const m = message as Record<string, unknown>;
    const id = m.id;
    const hasId = id !== undefined && id !== null;
    if (hasId && typeof id !== 'number' && typeof id !== 'string') {
      this.send({ id: null, error: { code: ExecErrorCodes.invalidRequest, message: 'id must be a number or a string' } });
      return;
    }
    if (typeof m.method !== 'string') {
      // A response to something we never asked (the environment sends no requests): nothing to do.
      if (!hasId || !('result' in m || 'error' in m)) {
        this.send({ id: hasId ? (id as RequestId) : null, error: { code: ExecErrorCodes.invalidRequest, message: 'method must be a string' } });
      }
      return;
    }
    if (!hasId) {
      const handler = this.handlers.notification(m.method);
      try {
        handler?.(m.params);
      } catch (err) {
        this.onInternalError(err);
      }
      return;
    }
    const handler = this.handlers.request(m.method);
    if (!handler) {
      this.send({ id: id as RequestId, error: { code: ExecErrorCodes.methodNotFound, message: `method \`${m.method}\` is not implemented by Deputy's environment` } });
      return;
    }
    const run = this.answer(id as RequestId, handler, m.params);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async answer(id: RequestId, handler: RequestHandler, params: unknown): Promise<void> {
    try {
      const result = await handler(params);
      this.send({ id, result: result ?? {} });
    } catch (err) {
      if (err instanceof ExecError) {
        const error: RpcError = { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) };
        this.send({ id, error });
        return;
      }
      this.onInternalError(err);
      this.send({ id, error: { code: ExecErrorCodes.internal, message: err instanceof Error ? err.message : String(err) } });
    }
  }

  private send(message: unknown): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }
}
