/**
 * The editor's Stop All: the same two halves as `deputy stop --all` (`src/cli/stop.ts`), from the same core functions
 * — the kill switch reaches every live Deputy process of this person, then every remembered endpoint is asked for the
 * sessions whose process is gone (a window whose server crashed or was killed, a killed `deputy run`).
 */
import { userInfo } from 'node:os';
import { pullKillSwitch } from '../core/kill-switch.js';
import type { StopAll } from '../protocol/lsp.js';
import { stopOrphansEverywhere } from '../cli/stop-orphans.js';

/** How long the live processes have to answer, and the orphans to report stopped (as `deputy stop --all`'s default). */
const WAIT_MS = 30_000;

export async function stopAll(env: NodeJS.ProcessEnv, redact: (text: string) => string): Promise<StopAll.Result> {
  const result = await pullKillSwitch(env, { by: userInfo().username, from: 'VS Code' }, { timeoutMs: WAIT_MS });
  const requestedAt = Date.parse(result.request.requestedAt);
  const outcomes = await stopOrphansEverywhere(env, {
    requestedAt,
    answered: new Set(result.answered.map((a) => a.pid)),
    deadline: Math.max(requestedAt + WAIT_MS, Date.now() + 5000),
  });
  const orphans = outcomes.flatMap((o) => o.stopped);
  return {
    stopped: result.answered.reduce((n, a) => n + a.stopped, 0),
    processes: result.answered.length,
    silent: result.silent.length,
    orphaned: orphans.filter((o) => o.afterMs !== null).length,
    orphanedLate: orphans.filter((o) => o.afterMs === null).length,
    unreachable: outcomes.filter((o) => o.error !== null).map((o) => ({ endpoint: o.endpoint.describe, reason: redact(o.error!) })),
    elapsedMs: Math.max(result.elapsedMs, ...orphans.map((o) => o.afterMs ?? 0)),
  };
}
