/**
 * The remote *direct* transport: how Deputy's environment reaches a session that runs elsewhere (Bedrock Managed
 * Agents, an OpenAI self-hosted session, Deputy's own runtime). The environment is the client here:
 *
 * 1. `POST {remote_url}/cloud/environment/{id}/direct/register` with `{"transport":"direct_jsonrpc_v1"}`,
 *    SigV4-signed with the developer's credentials (service `bedrock-mantle` for BMA);
 * 2. the answer `{environment_id, transport, registration_id, url}` names a websocket, dialled with a
 *    SigV4-signed handshake;
 * 3. the open socket carries plain exec-server JSON-RPC, served by the caller's `serve`.
 *
 * A 409 on the handshake means the registration went stale: register again at once (as the Codex exec-server
 * does; a 409 on the registration itself is retried too, a few times). A dropped connection reconnects
 * (registering again) with exponential backoff; the abort signal stops everything cleanly. The request shapes (signed headers, body,
 * handshake signing) are what `codex exec-server --remote-transport direct --aws-sigv4` 0.171 sends, checked
 * by a test that runs it against the same stand-in as this client.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '../identity/credentials.js';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { SignInRequiredError, redactSecrets } from '../identity/errors.js';

export const DIRECT_TRANSPORT = 'direct_jsonrpc_v1';
/** The SigV4 service of Bedrock Managed Agents' environment endpoints. */
export const BMA_SIGNING_SERVICE = 'bedrock-mantle';

export interface DirectRegistration {
  environment_id: string;
  transport: typeof DIRECT_TRANSPORT;
  registration_id: string;
  url: string;
}

export type DirectTransportState =
  | { state: 'registering'; attempt: number }
  | { state: 'connected'; registrationId: string }
  | { state: 'disconnected'; reason: string; retryInMs: number }
  | { state: 'stopped' };

export interface DirectTransportOptions {
  /** The session's `remote_url`. */
  remoteUrl: string;
  environmentId: string;
  /**
   * The developer's credentials (src/identity's providers): the register request and the handshake are SigV4-signed
   * with them, as Bedrock Managed Agents requires. A SignInRequiredError from it stops the transport.
   */
  credentials?: () => Promise<AwsCredentialIdentity>;
  /** The SigV4 region; required with `credentials`. */
  region?: string;
  /** SigV4 service; `bedrock-mantle` by default. */
  service?: string;
  /**
   * Instead of SigV4: the headers that authenticate this caller to the endpoint, for each request (a Deputy runtime
   * takes its bearer token or an IAM proof on these routes as on its others, and needs no AWS credentials then).
   */
  authHeaders?: () => Promise<Record<string, string>>;
  /** Serves exec-server JSON-RPC on an open socket; resolves when the connection is done with. */
  serve: (socket: WebSocket) => Promise<void>;
  signal: AbortSignal;
  onState?: (state: DirectTransportState) => void;
  /** Reconnect backoff; defaults 500 ms doubling to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** How many 409s in a row before giving up (default 5). */
  maxConflicts?: number;
}

/** The handshake answered 409: the registration is stale, register again. */
class StaleRegistration extends Error {
  constructor() {
    super('the websocket handshake answered 409 (stale registration)');
  }
}

/** A refusal that retrying will not fix: a bad URL, a 4xx other than 409/429, an answer of the wrong shape. */
export class DirectTransportError extends Error {
  override readonly name = 'DirectTransportError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Registers, connects and serves until `signal` aborts (resolves) or a fatal error (rejects: SignInRequiredError,
 * DirectTransportError). Transient failures — network errors, 5xx, 429, a dropped socket — retry with backoff.
 */
export async function runDirectTransport(opts: DirectTransportOptions): Promise<void> {
  const base = checkedUrl(opts.remoteUrl, 'remote URL');
  if (!opts.authHeaders && !(opts.credentials && opts.region)) throw new DirectTransportError('The direct transport needs credentials and a region to sign with, or authentication headers.');
  const backoff = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
  let delay = backoff.initialMs;
  let attempt = 0;
  const aborted = (): boolean => opts.signal.aborted;
  try {
    while (!aborted()) {
      attempt++;
      opts.onState?.({ state: 'registering', attempt });
      let reason: string;
      try {
        let socket: WebSocket | null = null;
        for (let stale = 0; socket === null; stale++) {
          const registration = await register(base, opts);
          try {
            socket = await dial(registration, opts);
          } catch (err) {
            if (!(err instanceof StaleRegistration) || stale + 1 >= (opts.maxConflicts ?? 5)) throw err;
          }
          if (socket) {
            opts.onState?.({ state: 'connected', registrationId: registration.registration_id });
            break;
          }
        }
        delay = backoff.initialMs;
        reason = await serveUntilClosed(socket!, opts);
      } catch (err) {
        if (aborted()) break;
        if (err instanceof SignInRequiredError || err instanceof DirectTransportError) throw err;
        reason = redactSecrets(err instanceof Error ? err.message : String(err));
      }
      if (aborted()) break;
      const retryInMs = Math.round(delay * (0.75 + Math.random() * 0.5));
      opts.onState?.({ state: 'disconnected', reason, retryInMs });
      try {
        await sleep(retryInMs, undefined, { signal: opts.signal });
      } catch {
        break;
      }
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  } finally {
    opts.onState?.({ state: 'stopped' });
  }
}

/**
 * Registers the environment; 409 registers again (up to `maxConflicts` times), and so does a first refusal (401/403),
 * with the credentials read again: they may have changed between the read and the request (a runtime that restarted
 * wrote a new token, keys rotated). A second refusal in a row is the service's answer.
 */
export async function register(base: URL, opts: DirectTransportOptions): Promise<DirectRegistration> {
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/cloud/environment/${encodeURIComponent(opts.environmentId)}/direct/register`, base);
  const body = JSON.stringify({ transport: DIRECT_TRANSPORT });
  const maxConflicts = opts.maxConflicts ?? 5;
  let refused = 0;
  for (let conflicts = 0; ; conflicts++) {
    const headers = await signedHeaders(url, 'POST', { 'content-type': 'application/json' }, body, opts);
    const response = await fetch(url, { method: 'POST', headers, body, signal: opts.signal, redirect: 'error' });
    const text = await response.text();
    if (response.status === 409) {
      if (conflicts + 1 >= maxConflicts) throw new DirectTransportError(`Registration kept conflicting (409 ${maxConflicts} times in a row).`, 409);
      continue;
    }
    if (response.status === 429 || response.status >= 500) {
      throw new Error(`registration failed with HTTP ${response.status}: ${summary(text)}`);
    }
    if (response.status === 401 || response.status === 403) {
      // An expired or revoked session surfaces as the provider's SignInRequiredError on the next resolve; the
      // service's own refusal (no permission on this environment) is fatal with its text.
      await (opts.credentials ?? opts.authHeaders)?.();
      if (++refused < 2) {
        conflicts--;
        continue;
      }
      throw new DirectTransportError(`The environment endpoint refused the registration (HTTP ${response.status}): ${summary(text)}`, response.status);
    }
    if (!response.ok) throw new DirectTransportError(`Registration failed (HTTP ${response.status}): ${summary(text)}`, response.status);
    return parseRegistration(text);
  }
}

function parseRegistration(text: string): DirectRegistration {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DirectTransportError(`The registration answer is not JSON: ${summary(text)}`);
  }
  const r = json as Partial<Record<keyof DirectRegistration, unknown>>;
  for (const field of ['environment_id', 'registration_id', 'url'] as const) {
    if (typeof r?.[field] !== 'string' || r[field] === '') throw new DirectTransportError(`The registration answer has no ${field}.`);
  }
  if (r.transport !== DIRECT_TRANSPORT) throw new DirectTransportError(`The registration answer names transport ${JSON.stringify(r.transport)}, not ${DIRECT_TRANSPORT}.`);
  checkedUrl(r.url as string, 'websocket URL');
  return r as DirectRegistration;
}

async function dial(registration: DirectRegistration, opts: DirectTransportOptions): Promise<WebSocket> {
  const url = checkedUrl(registration.url, 'websocket URL');
  const headers = await signedHeaders(url, 'GET', {}, undefined, opts);
  const socket = new WebSocket(url, { headers, followRedirects: false, handshakeTimeout: 30_000, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      socket.terminate();
      reject(new Error('aborted'));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('open', () => {
      // Hold incoming frames until `serve` has its listeners on: the harness's `initialize` can arrive in the same
      // packet as the handshake answer, and a frame with no listener is lost.
      socket.pause();
      opts.signal.removeEventListener('abort', onAbort);
      resolve();
    });
    socket.once('unexpected-response', (_req, res) => {
      opts.signal.removeEventListener('abort', onAbort);
      socket.terminate();
      const status = res.statusCode ?? 0;
      reject(status === 409 ? new StaleRegistration() : new Error(`the websocket handshake was refused with HTTP ${status}`));
    });
    socket.once('error', (err) => {
      opts.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
  return socket;
}

/** Hands the socket to `serve` and resolves with why the connection ended. */
async function serveUntilClosed(socket: WebSocket, opts: DirectTransportOptions): Promise<string> {
  const closed = new Promise<string>((resolve) => {
    socket.once('close', (code, reason) => resolve(`the connection closed (${code}${reason.length ? ` ${reason.toString('utf8')}` : ''})`));
  });
  const onAbort = (): void => socket.close(1000, 'environment stopped');
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const serving = opts.serve(socket);
    socket.resume();
    await serving;
  } catch (err) {
    socket.terminate();
    return `serving failed: ${redactSecrets(err instanceof Error ? err.message : String(err))}`;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
  return closed;
}

/**
 * The headers of a request: SigV4-signed as the Codex exec-server signs them (host, x-amz-date, token, and
 * content-type for a body), or the caller's own authentication headers.
 */
async function signedHeaders(url: URL, method: string, extra: Record<string, string>, body: string | undefined, opts: DirectTransportOptions): Promise<Record<string, string>> {
  if (opts.authHeaders) return { ...extra, ...(await opts.authHeaders()) };
  const credentials = await opts.credentials!();
  // No x-amz-content-sha256 header: the Codex exec-server does not sign one, and the payload hash is part of the
  // canonical request either way.
  const signer = new SignatureV4({ service: opts.service ?? BMA_SIGNING_SERVICE, region: opts.region!, credentials, sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { host: url.host, ...extra },
    ...(body !== undefined ? { body } : {}),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== 'host') headers[name] = String(value);
  return headers;
}

/** Non-loopback URLs must be https / wss: credentials-signed requests and the agent's traffic never go in clear. */
export function checkedUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DirectTransportError(`The ${what} is not a URL.`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const plain = url.protocol === 'http:' || url.protocol === 'ws:';
  if (!secure && !plain) throw new DirectTransportError(`The ${what} must be https or wss, not ${url.protocol}`);
  if (plain && !isLoopback(url.hostname)) throw new DirectTransportError(`The ${what} ${url.origin} is not encrypted: only loopback addresses may use ${url.protocol.slice(0, -1)}.`);
  if (url.username || url.password) throw new DirectTransportError(`The ${what} must not carry a user name or password.`);
  return url;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function summary(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return redactSecrets(one.length > 300 ? `${one.slice(0, 300)}…` : one) || '(empty answer)';
}
