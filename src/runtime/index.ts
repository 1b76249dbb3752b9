/**
 * The Deputy runtime: an Agents API server (sessions, events, items) with its own agent loop against an
 * OpenAI-compatible upstream model, durable in embedded SQLite. The embedded default (loopback, per-start
 * bearer token) and the self-hosted option (pass `authenticate`) are the same server. See DESIGN.md §2.
 *
 * Event streams (`GET …/sessions/{id}/events`):
 * - with `Last-Event-ID: <event_id>` (or `?after=<event_id>`): every stored event after that one, then live;
 * - without: live events from the moment of subscription only. The `openai` package's `sessions.stream`
 *   helper subscribes before it sends input and follows the first turn it sees, so replaying history to a
 *   fresh stream would make it follow an old turn. A client that needs history reads `items.list`, or
 *   resumes from the `agent.session.created` event's id.
 *
 * A failed turn ends with `agent.session.turn.failed` and the session goes back to `idle`, its `error` saying why;
 * the next message starts a fresh turn.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { bearerAuthenticator, newToken, writeTokenFile, type Authenticator } from './auth.js';
import { EventHub } from './event-hub.js';
import { createRequestHandler } from './routes.js';
import { SessionService } from './sessions.js';
import { RuntimeStore } from './store.js';
import { TurnRunner } from './turn-runner.js';
import { ensureStateDir } from '../core/state-dir.js';
import { createUpstreamClient, type UpstreamConfig } from './upstream.js';
import { KnownSecrets, redactText } from '../core/redact.js';

export type { UpstreamConfig } from './upstream.js';
export type { AuthContext, Authenticator } from './auth.js';

export interface RuntimeOptions {
  /** Holds `runtime.db` (and the token file by default); created 0700 when missing. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default `<dataDir>/token`. Rewritten with a fresh token on every start, mode 0600. */
  tokenFile?: string;
  upstream: UpstreamConfig;
  /** Replaces the bearer-token check (self-hosted IAM auth); the token file is still written but not accepted. */
  authenticate?: Authenticator;
  /** Largest accepted request body. Default 8 MiB. */
  maxBodyBytes?: number;
  /** One line per request (method, path, status) and per failure; credentials are redacted before it is called. */
  log?: (line: string) => void;
}

export interface RuntimeHandle {
  /** `http://HOST:PORT`; clients use `${url}/v1` (or `${url}/openai/v1`) as their base URL. */
  url: string;
  token: string;
  tokenFile: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

export async function startRuntime(options: RuntimeOptions): Promise<RuntimeHandle> {
  await ensureStateDir(options.dataDir);
  const tokenFile = options.tokenFile ?? path.join(options.dataDir, 'token');
  const token = newToken();
  await writeTokenFile(tokenFile, token);
  // The runtime's own secrets never reach its log or its store, in any encoding (redact.ts).
  const known = new KnownSecrets([token, options.upstream.apiKey]);
  const log = (line: string) => options.log?.(redactText(line, known));

  const store = RuntimeStore.open(path.join(options.dataDir, 'runtime.db'), { known });
  const hub = new EventHub(store);
  const runner = new TurnRunner({ store, hub, upstream: options.upstream, client: createUpstreamClient(options.upstream), log });
  const service = new SessionService(store, hub, runner, options.upstream.model);
  const interrupted = service.recover();
  if (interrupted > 0) log(`runtime: ${interrupted} turn(s) interrupted by the last shutdown were marked failed`);

  const server = http.createServer(
    createRequestHandler({
      service,
      hub,
      store,
      authenticate: options.authenticate ?? bearerAuthenticator(token),
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
      log,
      tokenFile: options.authenticate ? null : tokenFile,
    }),
  );
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    store.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `The Deputy runtime could not listen on ${host}:${options.port ?? 0}${code ? ` (${code})` : ''}. ` +
        'Choose another port, or stop the process using it.',
    );
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log(`runtime: listening on http://${urlHost}:${port}, data in ${options.dataDir}`);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    token,
    tokenFile,
    close() {
      closing ??= (async () => {
        hub.end();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // Model calls in flight are aborted; their turns are failed on the next start (see SessionService.recover).
        await runner.stop();
        await closed;
        store.close();
      })();
      return closing;
    },
  };
}
