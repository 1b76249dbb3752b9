/**
 * The local transport: a websocket on loopback for a harness on the same machine (`CODEX_EXEC_SERVER_URL=…` or
 * `$CODEX_HOME/environments.toml`). Loopback is reachable by every local user and, through the browser, by every web
 * page, so a connection is accepted only with:
 * - the per-start secret, as the URL's path (`ws://127.0.0.1:PORT/<secret>`, what the harness dials as given) or as
 *   `Authorization: Bearer <secret>`; 256 random bits, compared in constant time;
 * - no `Origin` header (browsers always send one; the harness never does), and a `Host` naming loopback (a DNS
 *   rebinding page sends its own host name).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from './rpc.js';

export interface LocalTransportOptions {
  /** `ws://127.0.0.1:PORT` (PORT 0 or absent: any free port). Only loopback addresses are accepted. */
  listen?: string;
  onConnection(socket: WebSocket): void;
  /** Told about each refused connection attempt (for the terminal and the audit trail). */
  onRefused?(reason: string): void;
}

export interface LocalTransport {
  /** The URL to give the harness, secret included. */
  url: string;
  close(): Promise<void>;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function parseListen(listen: string | undefined): { host: string; port: number } {
  if (!listen) return { host: '127.0.0.1', port: 0 };
  let url: URL;
  try {
    url = new URL(listen);
  } catch {
    throw new ListenError(`--listen takes ws://127.0.0.1:PORT; got "${listen}".`);
  }
  if (url.protocol !== 'ws:') throw new ListenError(`--listen takes a ws:// URL on loopback; got "${listen}".`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new ListenError(`--listen must name a loopback address (127.0.0.1, [::1] or localhost): the environment runs commands and must not be reachable from the network. Got "${url.hostname}".`);
  }
  if (url.pathname !== '/' && url.pathname !== '') throw new ListenError('--listen takes no path: Deputy adds its own secret path.');
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: url.port ? Number(url.port) : 0 };
}

export async function startLocalTransport(options: LocalTransportOptions): Promise<LocalTransport> {
  const { host, port } = parseListen(options.listen);
  const secret = randomBytes(32).toString('base64url');
  let boundPort = port;
  const refuse = (reason: string) => {
    options.onRefused?.(reason);
    return false;
  };
  const server = new WebSocketServer({
    host,
    port,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    verifyClient: (info: { req: IncomingMessage; origin: string }) => {
      const req = info.req;
      if (req.headers.origin !== undefined) return refuse(`a connection with Origin ${req.headers.origin} (a web page) was refused`);
      const hostHeader = (req.headers.host ?? '').toLowerCase();
      const allowedHosts = [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`];
      if (!allowedHosts.includes(hostHeader)) return refuse(`a connection for host "${hostHeader}" was refused (only loopback names are served)`);
      const pathSecret = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
      const auth = req.headers.authorization;
      const headerSecret = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!matches(pathSecret, secret) && !matches(headerSecret, secret)) return refuse('a connection without the environment secret was refused');
      return true;
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err) => reject(new ListenError(`Cannot listen on ${host}:${port}: ${err.message}`)));
  });
  boundPort = (server.address() as AddressInfo).port;
  server.on('connection', (socket) => options.onConnection(socket));
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `ws://${shownHost}:${boundPort}/${secret}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

function matches(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
