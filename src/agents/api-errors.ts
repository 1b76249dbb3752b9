/**
 * What an Agents API failure is, from its HTTP status, its `code`, `type` and `param`, and the `openai` client's
 * error classes: never from its message, which a server words as it likes (and may echo a credential into). The
 * engine decides on these (retry, wait for a call's registration, end the turn); the front ends word them.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';

export type ApiFailureKind =
  /** The endpoint could not be reached (refused, reset, DNS), or did not answer in time. */
  | 'unreachable'
  /** The caller stopped the request (an abort signal). */
  | 'aborted'
  /** 401: the credentials were refused. */
  | 'unauthenticated'
  /** 403: the identity may not do this. */
  | 'forbidden'
  /** 404: no such session (or route). */
  | 'notFound'
  /** A tool result for a call the service has not registered yet: wait briefly and send it again. */
  | 'callNotRegistered'
  /** 402 or a spend-limit code: the session's budget is spent. */
  | 'budgetReached'
  /** 413: the request (e.g. a tool result) is larger than the endpoint accepts. */
  | 'tooLarge'
  /** 409 / 429: try again later. */
  | 'busy'
  /** Any other 4xx: the request was wrong. */
  | 'invalidRequest'
  /** 5xx: the endpoint failed. */
  | 'serverError'
  /** Not an API failure at all. */
  | 'other';

export interface ApiFailure {
  kind: ApiFailureKind;
  status?: number;
  code?: string;
  type?: string;
  param?: string;
}

/** Codes a budget-enforcing endpoint answers with when a session's spend limit is reached. */
const BUDGET_CODES = new Set(['spend_limit_reached', 'budget_exceeded', 'insufficient_quota']);

export function classifyApiError(err: unknown): ApiFailure {
  if (err instanceof APIUserAbortError) return { kind: 'aborted' };
  if (err instanceof APIConnectionTimeoutError || err instanceof APIConnectionError) return { kind: 'unreachable' };
  if (!(err instanceof APIError) || err.status === undefined) return { kind: 'other' };
  const status = err.status;
  const body = (err.error ?? {}) as { code?: unknown; type?: unknown; param?: unknown };
  const code = typeof err.code === 'string' ? err.code : typeof body.code === 'string' ? body.code : undefined;
  const type = typeof err.type === 'string' ? err.type : typeof body.type === 'string' ? body.type : undefined;
  const param = typeof err.param === 'string' ? err.param : typeof body.param === 'string' ? body.param : undefined;
  const facts = { status, ...(code ? { code } : {}), ...(type ? { type } : {}), ...(param ? { param } : {}) };
  if (status === 401) return { kind: 'unauthenticated', ...facts };
  if (status === 403) return { kind: 'forbidden', ...facts };
  if (status === 404) return { kind: 'notFound', ...facts };
  if (status === 413) return { kind: 'tooLarge', ...facts };
  if (status === 402 || (code !== undefined && BUDGET_CODES.has(code))) return { kind: 'budgetReached', ...facts };
  if (status === 409 || status === 429) return { kind: 'busy', ...facts };
  // A result for a call not yet pending: a 400 of the request kind about the result's `call_id` (the field it names).
  if (status === 400 && code === 'invalid_request_error' && param !== undefined && /(^|\.)call_id$/.test(param)) {
    return { kind: 'callNotRegistered', ...facts };
  }
  if (status >= 500) return { kind: 'serverError', ...facts };
  return { kind: 'invalidRequest', ...facts };
}
