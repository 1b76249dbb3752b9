/**
 * The direct transport of a self-hosted environment, served the way Bedrock Managed Agents serves it to
 * `codex exec-server --remote <remote_url> --remote-transport direct`:
 *
 *   POST {remote_url}/cloud/environment/{id}/direct/register   {"transport": "direct_jsonrpc_v1"}
 *     → {environment_id, transport: "direct_jsonrpc_v1", registration_id, url}
 *   GET  {url} (websocket upgrade) → the environment serves exec-server JSON-RPC to the runtime on it;
 *     a handshake for a registration that is no longer current is answered 409, which makes the harness register again.
 *
 * `remote_url` is `{runtime}/v1/agents/sessions/{session}/environment/{secret}`: the secret is a per-session capability
 * only the session's owner learns. On top of it the caller must authenticate as the runtime's other routes do, as the
 * session's owner: the bearer token or a Deputy IAM proof; or a SigV4-signed request (what the Codex direct transport
 * sends: it always signs), checked by a SigV4 verifier when the runtime has one. A token-mode runtime has none (it
 * cannot check a signature without the signer's secret key), so there the capability alone admits a signed request.
 */
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Authenticator } from './auth.js';
import type { EnvironmentBridge } from './environment-bridge.js';
import { isRecord } from './http-util.js';
import type { RuntimeStore } from './store.js';
import type { StoredSession } from './wire.js';

export const DIRECT_TRANSPORT = 'direct_jsonrpc_v1';

/** A SigV4-signed request as received, for a verifier that knows who signed it. */
export interface SignedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Who signed a SigV4 request (principal ARN), or null when the signature does not hold. */
export type SigV4Verifier = (req: SignedRequest) => Promise<{ principal: string } | null>;

export interface EnvironmentRouteDeps {
  store: RuntimeStore;
  bridge: EnvironmentBridge;
  authenticate: Authenticator;
  verifySigV4: SigV4Verifier | null;
  /** Token mode: a signed request nobody here can verify is admitted by the capability in its URL. */
  capabilityAdmitsSigned: boolean;
  log(line: string): void;
}

const ROUTE = /^\/(?:openai\/)?v1\/agents\/sessions\/([^/]+)\/environment\/([^/]+)\/cloud\/environment\/([^/]+)\/direct\/([^/]+)$/;
const MAX_REGISTER_BODY = 16 * 1024;
/** As Deputy's own environment transport: room for a large file write in one frame. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function environmentRemoteUrl(base: string, sessionId: string, secret: string): string {
  return `${base.replace(/\/$/, '')}/v1/agents/sessions/${encodeURIComponent(sessionId)}/environment/${secret}`;
}

export function isEnvironmentRoute(pathname: string): boolean {
  return ROUTE.test(pathname);
}

interface Target {
  session: StoredSession;
  environmentId: string;
  last: string;
}

export class EnvironmentRoutes {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });

  constructor(private readonly deps: EnvironmentRouteDeps) {}

  /** `POST …/direct/register`. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_REGISTER_BODY);
    const target = this.find(req);
    if (!target || target.last !== 'register') return reply(res, 404, { error: { message: 'Not found.', type: 'invalid_request_error', param: null, code: 'unknown_route' } });
    if (req.method !== 'POST') return reply(res, 405, { error: { message: 'Register with POST.', type: 'invalid_request_error', param: null, code: 'method_not_allowed' } });
    if (body === null) return reply(res, 413, { error: { message: 'The registration body is too large.', type: 'invalid_request_error', param: null, code: 'request_too_large' } });
    if (!(await this.authorized(req, body, target.session))) return unauthorized(res);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = null;
    }
    if (!isRecord(parsed) || parsed.transport !== DIRECT_TRANSPORT) {
      return reply(res, 400, {
        error: { message: `Register with {"transport": "${DIRECT_TRANSPORT}"}: the only transport this runtime serves.`, type: 'invalid_request_error', param: 'transport', code: 'unsupported_transport' },
      });
    }
    const environment = target.session.environment!;
    const registrationId = this.deps.bridge.register(environment.id);
    const url = `${environment.remoteUrl.replace(/^http/, 'ws')}/cloud/environment/${encodeURIComponent(environment.id)}/direct/${registrationId}`;
    reply(res, 200, { environment_id: environment.id, transport: DIRECT_TRANSPORT, registration_id: registrationId, url });
  }

  /** The websocket handshake at a registration's `url`. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.acceptUpgrade(req, socket, head).catch((err: unknown) => {
      this.deps.log(`runtime: environment handshake failed: ${err instanceof Error ? err.message : String(err)}`);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private async acceptUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Browsers always send Origin on a websocket; a harness never does. No web page may drive an environment.
    if (req.headers.origin !== undefined) return refuseUpgrade(socket, 403, 'Forbidden');
    const target = this.find(req);
    if (!target || target.last === 'register') return refuseUpgrade(socket, 404, 'Not Found');
    if (!(await this.authorized(req, Buffer.alloc(0), target.session))) return refuseUpgrade(socket, 401, 'Unauthorized');
    const environment = target.session.environment!;
    if (!this.deps.bridge.isCurrent(environment.id, target.last)) return refuseUpgrade(socket, 409, 'Conflict');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.deps.bridge.attach(target.session.id, environment, ws);
    });
  }

  /** The session and environment a path names, when its capability matches; null for anything else. */
  private find(req: http.IncomingMessage): Target | null {
    const pathname = (req.url ?? '').split('?')[0]!;
    const m = ROUTE.exec(pathname);
    if (!m) return null;
    let sessionId: string;
    let environmentId: string;
    try {
      sessionId = decodeURIComponent(m[1]!);
      environmentId = decodeURIComponent(m[3]!);
    } catch {
      return null;
    }
    const session = this.deps.store.getSession(sessionId);
    const environment = session?.environment;
    if (!session || !environment || environment.id !== environmentId || !sameSecret(m[2]!, environment.secret)) return null;
    return { session, environmentId, last: m[4]! };
  }

  private async authorized(req: http.IncomingMessage, body: Buffer, session: StoredSession): Promise<boolean> {
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      if (!this.deps.verifySigV4) return this.deps.capabilityAdmitsSigned;
      const signer = await this.deps.verifySigV4({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      if (!signer) this.deps.log('runtime: refused an environment request whose SigV4 signature did not verify');
      return signer?.principal === session.principal;
    }
    const caller = await this.deps.authenticate({ headers: req.headers });
    return caller?.principal === session.principal;
  }
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The raw body (a SigV4 signature covers its bytes), or null when it is larger than `max`. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function unauthorized(res: http.ServerResponse): void {
  reply(res, 401, { error: { message: 'Missing or invalid credentials for this environment.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
