/**
 * The runtime's HTTP surface: the Agents API session routes, served under both `/v1` and `/openai/v1`
 * (the path Bedrock mantle uses), behind authentication. Requests are logged by method, path and status
 * only: never headers, so never a token.
 */
import type http from 'node:http';
import type { Authenticator } from './auth.js';
import type { EventHub } from './event-hub.js';
import { ApiError, readJsonBody, sendError, sendJson } from './http-util.js';
import type { SessionService } from './sessions.js';
import type { Page, RuntimeStore } from './store.js';
import { parseCreateSession, parseInputEvents, parseMetadataFilter, parsePageQuery, parseUpdateSession } from './validate.js';
import { wireItem, sessionObject } from './wire.js';
import { isEnvironmentRoute, type EnvironmentRoutes } from './environment-routes.js';

export interface RouteDeps {
  service: SessionService;
  hub: EventHub;
  store: RuntimeStore;
  authenticate: Authenticator;
  maxBodyBytes: number;
  log: (line: string) => void;
  /** Where a caller finds the token, for the 401 message; null when a custom authenticator is in use. */
  tokenFile: string | null;
  /** The self-hosted environments' direct transport (its own authentication: see environment-routes.ts). */
  environments?: EnvironmentRoutes;
}

const PREFIXES = ['/openai/v1', '/v1'];
const SESSION_ROUTE = /^\/agents\/sessions(?:\/([^/]+)(?:\/(events|items))?)?\/?$/;

export function createRequestHandler(deps: RouteDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const method = req.method ?? 'GET';
    const pathOnly = (req.url ?? '').split('?')[0];
    res.on('finish', () => deps.log(`${method} ${pathOnly} ${res.statusCode}`));
    handle(deps, req, res).catch((err: unknown) => {
      if (err instanceof ApiError) {
        sendError(res, err);
        return;
      }
      deps.log(`runtime: internal error on ${method} ${pathOnly}: ${err instanceof Error ? err.message : String(err)}`);
      sendError(res, new ApiError(500, 'The Deputy runtime hit an internal error; see its log for details.', 'internal_error'));
    });
  };
}

async function handle(deps: RouteDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://runtime.invalid');
  if (deps.environments && isEnvironmentRoute(url.pathname)) return deps.environments.handle(req, res);
  const auth = await deps.authenticate({ headers: req.headers });
  if (!auth) {
    req.resume();
    const where = deps.tokenFile ? ` The runtime's token is in ${deps.tokenFile}.` : '';
    sendJson(res, 401, {
      error: {
        message: `Missing or invalid credentials: send "Authorization: Bearer <token>".${where}`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    return;
  }
  const prefix = PREFIXES.find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
  const match = prefix ? SESSION_ROUTE.exec(url.pathname.slice(prefix.length)) : null;
  if (!match) {
    req.resume();
    throw new ApiError(404, `Unknown route ${req.method} ${url.pathname}. The Deputy runtime serves /v1/agents/sessions.`, 'unknown_route');
  }
  const [, rawId, sub] = match;
  let id: string | undefined;
  try {
    id = rawId === undefined ? undefined : decodeURIComponent(rawId);
  } catch {
    req.resume();
    throw new ApiError(400, `The session id in ${url.pathname} is not valid percent-encoding.`, 'invalid_session_id');
  }
  const method = req.method ?? 'GET';
  const { service } = deps;
  const principal = auth.principal;
  const body = () => readJsonBody(req, deps.maxBodyBytes);

  if (id === undefined) {
    if (method === 'POST') {
      const input = parseCreateSession(await body());
      const session = service.create(principal, input);
      await deps.store.durable();
      sendJson(res, 200, sessionObject(session));
      return;
    }
    if (method === 'GET') {
      sendJson(res, 200, listBody(service.list(principal, parsePageQuery(url.searchParams), parseMetadataFilter(url.searchParams)), sessionObject, (s) => s.id));
      return;
    }
    return notAllowed(req, method, url.pathname);
  }

  if (sub === undefined) {
    if (method === 'GET') {
      sendJson(res, 200, sessionObject(service.get(principal, id)));
      return;
    }
    if (method === 'POST') {
      const input = parseUpdateSession(await body());
      const session = service.update(principal, id, input);
      await deps.store.durable();
      sendJson(res, 200, sessionObject(session));
      return;
    }
    if (method === 'DELETE') {
      service.delete(principal, id);
      await deps.store.durable();
      sendJson(res, 200, { id, object: 'agent.session.deleted', deleted: true });
      return;
    }
    return notAllowed(req, method, url.pathname);
  }

  if (sub === 'items') {
    if (method !== 'GET') return notAllowed(req, method, url.pathname);
    sendJson(res, 200, listBody(service.items(principal, id, parsePageQuery(url.searchParams)), wireItem, (i) => i.id ?? ''));
    return;
  }

  if (method === 'POST') {
    const raw = await body();
    service.get(principal, id);
    const events = parseInputEvents(raw);
    const key = req.headers['idempotency-key'];
    service.submit(principal, id, events, typeof key === 'string' && key !== '' ? key : null);
    // Accepted means stored: the 202 goes out once the input is on stable storage.
    await deps.store.durable();
    sendJson(res, 202, { object: 'agent.session.events.accepted', accepted: events.length });
    return;
  }
  if (method === 'GET') {
    service.get(principal, id);
    const header = req.headers['last-event-id'];
    const cursor = (typeof header === 'string' && header !== '' ? header : null) ?? url.searchParams.get('after');
    let afterSeq: number | null = null;
    if (cursor) {
      afterSeq = deps.store.eventSeq(id, cursor);
      if (afterSeq === null) {
        throw new ApiError(
          400,
          `Session ${id} has no event '${cursor}' to resume after. Reconnect without Last-Event-ID to follow live events, and read what happened with items.list.`,
          'unknown_event_id',
          'Last-Event-ID',
        );
      }
    }
    deps.hub.stream(principal, id, afterSeq, res);
    return;
  }
  return notAllowed(req, method, url.pathname);
}

function notAllowed(req: http.IncomingMessage, method: string, path: string): never {
  req.resume();
  throw new ApiError(405, `${method} is not supported on ${path}.`, 'method_not_allowed');
}

function listBody<T, R>(page: Page<T>, map: (x: T) => R, idOf: (x: T) => string) {
  return {
    object: 'list',
    data: page.data.map(map),
    first_id: page.data.length ? idOf(page.data[0]!) : null,
    last_id: page.data.length ? idOf(page.data.at(-1)!) : null,
    has_more: page.hasMore,
  };
}
