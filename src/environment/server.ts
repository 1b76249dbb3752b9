/**
 * One harness connection to Deputy's environment: the exec-server handshake, then `fs/*` and `process/*` requests
 * served over the shadow. Transports (the local websocket, the remote direct transport) hand an open socket to
 * `serveEnvironmentConnection`; everything after that is the same whoever dialled.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CODEX_PROTOCOL_VERSION, ExecErrorCodes, ExecMethods, type InitializeResult } from '../protocol/exec-server.js';
import { record, type EnvironmentContext } from './context.js';
import { fsHandlers } from './fs-handlers.js';
import { object, str } from './params.js';
import { ProcessTable } from './process-handlers.js';
import { ExecError, RpcConnection, type RequestHandler } from './rpc.js';

export interface EnvironmentConnection {
  /** The id `initialize` answered (empty until then). */
  readonly sessionId: string;
  /** Resolves once the socket closed, every running process was ended and every request answered or dropped. */
  readonly closed: Promise<void>;
}

export function serveEnvironmentConnection(socket: WebSocket, env: EnvironmentContext): EnvironmentConnection {
  let sessionId = '';
  let initialized = false;
  let calls = 0;
  // Before `initialize` the connection has no session; its records carry this placeholder.
  const session = () => sessionId || 'environment';
  const nextCallId = () => `env-${++calls}`;

  let connection: RpcConnection;
  const processes = new ProcessTable({
    env,
    get session() {
      return session();
    },
    nextCallId,
    notify: (method, params) => connection.notify(method, params),
  });
  const files = fsHandlers({
    env,
    get session() {
      return session();
    },
    nextCallId,
    allowedReads: new Set(),
  });

  const initialize: RequestHandler = async (params) => {
    const p = object(params);
    const clientName = str(p, 'clientName');
    if (sessionId) throw new ExecError(ExecErrorCodes.invalidRequest, 'initialize may be called only once per connection');
    sessionId = randomUUID();
    await record(env, 'session.created', sessionId, {
      provider: 'environment',
      client_name: clientName,
      protocol: `codex-exec-server/${CODEX_PROTOCOL_VERSION}`,
      workspace: env.shadow.workspaceRoot,
    });
    const result: InitializeResult = { sessionId };
    return result;
  };

  const guarded = (kind: 'fs' | 'process', handler: RequestHandler): RequestHandler => async (params) => {
    if (!sessionId) {
      throw new ExecError(ExecErrorCodes.invalidRequest, `client must call initialize before using ${kind === 'fs' ? 'filesystem' : 'exec'} methods`);
    }
    if (kind === 'process' && !initialized) throw new ExecError(ExecErrorCodes.invalidRequest, 'client must send initialized before using exec methods');
    return handler(params);
  };

  const requests = new Map<string, RequestHandler>([[ExecMethods.initialize, initialize]]);
  for (const [method, handler] of Object.entries(files)) requests.set(method, guarded('fs', handler));
  for (const [method, handler] of Object.entries(processes.handlers())) requests.set(method, guarded('process', handler));

  connection = new RpcConnection(
    socket,
    {
      request: (method) => requests.get(method),
      notification: (method) =>
        method === ExecMethods.initialized
          ? () => {
              if (sessionId) initialized = true;
            }
          : undefined,
    },
    (err) => {
      void record(env, 'error', session(), { message: `environment: ${err instanceof Error ? err.message : String(err)}` }).catch(() => undefined);
    },
  );

  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      void (async () => {
        await processes.terminateAll();
        await connection.drain();
        resolve();
      })();
    });
  });

  return {
    get sessionId() {
      return sessionId;
    },
    closed,
  };
}
