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
 *
 * One runtime per data directory (store-lock.ts): a start on a directory another live process owns fails with a
 * `StoreInUseError` naming it; a start after a crash breaks the dead owner's lock and recovers its store.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { bearerAuthenticator, newToken, writeTokenFile, type Authenticator } from './auth.js';
import { DEFAULT_STREAM_LIMITS, EventHub, type StreamLimits } from './event-hub.js';
import { createRequestHandler } from './routes.js';
import { SessionService } from './sessions.js';
import { RuntimeStore } from './store.js';
import { acquireStoreLock } from './store-lock.js';
import { TurnRunner } from './turn-runner.js';
import { ensureStateDir } from '../core/state-dir.js';
import { createUpstreamClient, type UpstreamConfig } from './upstream.js';
import { EnvironmentBridge } from './environment-bridge.js';
import { EnvironmentRoutes, type SigV4Verifier } from './environment-routes.js';
import { KnownSecrets, redactText } from '../core/redact.js';

export type { UpstreamConfig } from './upstream.js';
export type { AuthContext, Authenticator } from './auth.js';
export type { SigV4Verifier, SignedRequest } from './environment-routes.js';
export type { StreamLimits } from './event-hub.js';
export { StoreInUseError, type LockOwner } from './store-lock.js';

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
  /**
   * The URL environments dial (the base of a self-hosted session's `remote_url`): the runtime's own URL by default;
   * set it when the runtime is reached through another name (a load balancer, `--host 0.0.0.0`).
   */
  publicUrl?: string;
  /**
   * Checks a SigV4-signed environment request (what `codex exec-server --aws-sigv4` sends) and names its signer. With
   * `authenticate` (IAM mode) and no verifier, signed environment requests are refused: only IAM proofs get in.
   */
  verifySigV4?: SigV4Verifier;
  /** Retention: keep a deleted session's turns, items and events in the store (hidden). Default false: delete removes them. */
  keepDeletedSessions?: boolean;
  /** Bounds on event streams; defaults: 512 KiB buffered per stream, 256 streams per principal, 256-event replay pages, 30 s for a closed slow client to read what it was sent. */
  streams?: Partial<StreamLimits>;
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
  // Deputy's own folder, refused when any part of it is a link or another user's (state-dir.ts).
  await ensureStateDir(options.dataDir);
  // The lock comes first: a start refused because another runtime owns the store must not touch its token file.
  const lock = await acquireStoreLock(options.dataDir);
  const tokenFile = options.tokenFile ?? path.join(options.dataDir, 'token');
  const token = newToken();
  // The runtime's own secrets never reach its log or its store, in any encoding (redact.ts).
  const known = new KnownSecrets([token, options.upstream.apiKey]);
  const log = (line: string) => options.log?.(redactText(line, known));
  if (lock.broke) {
    log(`runtime: took over ${options.dataDir} from process ${lock.broke.pid} (${lock.broke.command}, since ${lock.broke.since}), which is no longer running`);
  }
  const dbFile = path.join(options.dataDir, 'runtime.db');
  let store: RuntimeStore | null = null;
  try {
    // SQLite's WASM file layer locks with a directory beside the database; a killed owner leaves it behind, and
    // holding the store lock means nobody else can be using it.
    await fs.rm(`${dbFile}.lock`, { recursive: true, force: true });
    await writeTokenFile(tokenFile, token);
    store = RuntimeStore.open(dbFile, { known });
    return await serveStore(options, log, store, token, tokenFile, async () => {
      await store?.close();
      await lock.release();
    });
  } catch (err) {
    await store?.close().catch(() => undefined);
    await lock.release();
    throw err;
  }
}

async function serveStore(
  options: RuntimeOptions,
  log: (line: string) => void,
  store: RuntimeStore,
  token: string,
  tokenFile: string,
  closeStore: () => Promise<void>,
): Promise<RuntimeHandle> {
  const hub = new EventHub(store, { ...DEFAULT_STREAM_LIMITS, ...options.streams });
  let publicUrl = '';
  const bridge: EnvironmentBridge = new EnvironmentBridge({
    store,
    hub,
    emit: (sessionId, body) => runner.emit(sessionId, body),
    onConnected: (sessionId) => runner.environmentConnected(sessionId),
    log,
  });
  const runner = new TurnRunner({ store, hub, upstream: options.upstream, client: createUpstreamClient(options.upstream), log, environments: bridge });
  const service = new SessionService(store, hub, runner, options.upstream.model, () => publicUrl, options.keepDeletedSessions ?? false, bridge);
  const authenticate = options.authenticate ?? bearerAuthenticator(token);
  const environments = new EnvironmentRoutes({
    store,
    bridge,
    authenticate,
    verifySigV4: options.verifySigV4 ?? null,
    capabilityAdmitsSigned: !options.authenticate,
    log,
  });
  const interrupted = service.recover();
  if (interrupted > 0) log(`runtime: ${interrupted} turn(s) interrupted by the last shutdown were marked failed`);
  const dropped = bridge.markDisconnected();
  if (dropped > 0) log(`runtime: ${dropped} environment(s) connected before the last shutdown are disconnected until they reconnect`);

  const server = http.createServer(
    createRequestHandler({
      service,
      hub,
      store,
      authenticate,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
      log,
      tokenFile: options.authenticate ? null : tokenFile,
      environments,
    }),
  );
  server.on('upgrade', (req, socket, head) => environments.upgrade(req, socket, head));
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
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `The Deputy runtime could not listen on ${host}:${options.port ?? 0}${code ? ` (${code})` : ''}. ` +
        'Choose another port, or stop the process using it.',
    );
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log(`runtime: listening on http://${urlHost}:${port}, data in ${options.dataDir}`);
  publicUrl = (options.publicUrl ?? `http://${urlHost}:${port}`).replace(/\/$/, '');

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    token,
    tokenFile,
    close() {
      closing ??= (async () => {
        // No new connections; requests are handled synchronously against the store, so none is left half-written.
        bridge.stop();
        environments.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Model calls in flight are aborted, and their turns failed now, with the reason on their streams, so the
        // next start has nothing to recover.
        await runner.stop();
        try {
          const stopped = service.recover();
          if (stopped > 0) log(`runtime: ${stopped} running turn(s) were stopped by the shutdown and marked failed`);
        } catch (err) {
          // The store cannot be written (its disk is gone): the next start fails these turns instead.
          log(`runtime: could not mark the stopped turns failed: ${String(err)}`);
        }
        try {
          bridge.markDisconnected();
        } catch (err) {
          // As above: the next start records it.
          log(`runtime: could not mark the environments disconnected: ${String(err)}`);
        }
        // Streams end cleanly after their last event (published once its commit is durable, group-commit.ts): a
        // client resumes from it (Last-Event-ID) on the next start.
        await store.durable().catch(() => undefined);
        hub.end();
        server.closeAllConnections();
        await closed;
        await closeStore();
      })();
      return closing;
    },
  };
}
