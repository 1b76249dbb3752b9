/**
 * A session's event stream that survives dropped connections. The `openai` stream ends on EOF or a network
 * error; this follows the session across reconnects, asking the server for what it missed with the SSE
 * `Last-Event-ID` header, and drops any event it has already delivered (by `event_id`), so the consumer sees
 * every event once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, APIError } from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this event (a previous run's last seen `event_id`). */
  lastEventId?: string;
  /** Reconnect attempts in a row without receiving an event before giving up. Default 5. */
  maxReconnects?: number;
  /** Base delay between reconnects; doubles each failed attempt, capped at 5 s. Default 200 ms. */
  backoffMs?: number;
  /** Told about each reconnect, for a progress line. */
  onReconnect?: (attempt: number, cause: unknown) => void;
  /**
   * Told when a reconnect could not name a resume point (nothing had arrived yet), so events between the drop and
   * the new stream may be missing: the consumer should re-read the session's state.
   */
  onGap?: () => void;
}

/** How many delivered ids to remember for de-duplication; the server replays from Last-Event-ID, so a window suffices. */
const SEEN_WINDOW = 4096;

export class StreamLostError extends Error {
  constructor(
    readonly sessionId: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Lost the event stream of session ${sessionId} after ${attempts} reconnect attempts: ${describe(cause)}. ` +
        'The session goes on at the endpoint; run the task again or check the endpoint is reachable.',
    );
    this.name = 'StreamLostError';
  }
}

/**
 * Yields the session's events until the consumer stops iterating (or the signal aborts). Opening the stream
 * resolves before the first event arrives, so a caller that must subscribe before sending input awaits `opened`.
 */
export function followSession(
  client: OpenAI,
  sessionId: string,
  options: FollowOptions = {},
): { opened: Promise<void>; events: AsyncGenerator<AgentSessionEvent> } {
  let markOpened!: () => void;
  let failOpen!: (e: unknown) => void;
  const opened = new Promise<void>((resolve, reject) => {
    markOpened = resolve;
    failOpen = reject;
  });
  // The promise may reject before anyone awaits it; the generator rethrows the same error.
  opened.catch(() => undefined);

  async function* run(): AsyncGenerator<AgentSessionEvent> {
    try {
      yield* follow();
    } catch (err) {
      // Whatever ends the generator before the stream ever opened also ends the wait for it.
      failOpen(err);
      throw err;
    } finally {
      failOpen(new StreamLostError(sessionId, 0, new Error('the stream was closed before it opened')));
    }
  }

  async function* follow(): AsyncGenerator<AgentSessionEvent> {
    const seen = new Set<string>();
    let lastId = options.lastEventId;
    let failures = 0;
    let first = true;
    const maxReconnects = options.maxReconnects ?? 5;
    const backoff = options.backoffMs ?? 200;
    for (;;) {
      let stream: Awaited<ReturnType<typeof client.beta.agents.sessions.events.stream>>;
      try {
        stream = await client.beta.agents.sessions.events.stream(sessionId, undefined, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(lastId ? { headers: { 'Last-Event-ID': lastId } } : {}),
        });
      } catch (err) {
        if (first && !isTransient(err)) throw err;
        failures++;
        if (failures > maxReconnects || !isTransient(err)) throw new StreamLostError(sessionId, failures - 1, err);
        options.onReconnect?.(failures, err);
        await sleep(Math.min(backoff * 2 ** (failures - 1), 5000), options.signal);
        continue;
      }
      if (first) {
        first = false;
        markOpened();
      } else if (lastId === undefined) {
        options.onGap?.();
      }
      try {
        for await (const event of stream) {
          failures = 0;
          if (event.event_id) {
            if (seen.has(event.event_id)) continue;
            seen.add(event.event_id);
            if (seen.size > SEEN_WINDOW) seen.delete(seen.values().next().value as string);
            lastId = event.event_id;
          }
          yield event;
        }
        // A clean end of stream without the consumer stopping: the server closed it; reconnect and resume.
        failures++;
        if (failures > maxReconnects) throw new StreamLostError(sessionId, failures - 1, new Error('stream ended'));
        options.onReconnect?.(failures, new Error('stream ended'));
      } catch (err) {
        if (err instanceof StreamLostError || !isTransient(err)) throw err;
        failures++;
        if (failures > maxReconnects) throw new StreamLostError(sessionId, failures - 1, err);
        options.onReconnect?.(failures, err);
      }
      await sleep(Math.min(backoff * 2 ** (failures - 1), 5000), options.signal);
    }
  }

  return { opened, events: run() };
}

function isTransient(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError || err instanceof APIConnectionTimeoutError) return true;
  if (err instanceof APIError) return err.status === undefined || err.status >= 500 || err.status === 429;
  // Errors from the body reader after headers (socket reset, "terminated") are plain errors.
  const code = (err as { code?: string; cause?: { code?: string } })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  if (code && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) return true;
  return err instanceof TypeError && /terminated|fetch failed|socket/i.test(err.message);
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
}

/** Waits between reconnects; an abort ends the wait as the `openai` client's own aborts do. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throw new APIUserAbortError();
  }
}
