/**
 * `deputy stop --all`: the kill switch from a terminal. Every Deputy process of this person on this machine — each
 * `deputy run`, each editor window's language server, each `deputy environment serve` — cancels its turns at their
 * endpoints, denies its open questions and disconnects its environments; this command waits until each has reported
 * stopped and says how long that took (`src/core/kill-switch.ts`).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { pullKillSwitch } from '../core/kill-switch.js';
import type { OrphanStop } from '../core/kill-switch-orphans.js';
import { stopOrphansEverywhere } from './stop-orphans.js';
import { visibleLine } from '../core/visible-text.js';
import { UserError, type CliIO, type Command } from './io.js';

const USAGE = `Usage: deputy stop --all [--timeout SECONDS]

Stop every running Deputy session of yours on this machine: every \`deputy run\`, every VS Code window's sessions
and every \`deputy environment serve\`; then, on every remote endpoint a \`deputy run\` of yours used (a runtime
URL, Bedrock, OpenAI), every session of yours Deputy started whose process is gone (killed, crashed). Turns are cancelled at their endpoints, open permission questions become
denies, environments disconnect and their commands are ended; changes not yet applied stay for review and need a
fresh approval. Waits until each process has reported its sessions stopped.

Options:
  --all              Required: what is stopped is everything (a single session stops from its own terminal or panel).
  --timeout SECONDS  How long to wait for every process to report (default 30).
  -h, --help         Show this help.

Exit 0 when every process and session reported stopped, 1 when some did not (or an endpoint could not be reached).`;

export const stopCommand: Command = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { all: { type: 'boolean' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!v.all) {
    io.stderr.write(`deputy stop needs --all.\n\n${USAGE}\n`);
    return 2;
  }
  const timeout = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UserError(`--timeout must be a positive number of seconds; got "${v.timeout}".`, 2);
  const deadline = Date.now() + timeout * 1000;
  const result = await pullKillSwitch(io.env, { by: userInfo().username, from: 'deputy stop --all' }, { timeoutMs: timeout * 1000 });
  const sessions = result.answered.reduce((n, a) => n + a.stopped, 0);
  for (const a of result.answered) {
    io.stdout.write(`stopped  ${visibleLine(a.describe)} (pid ${a.pid}): ${a.stopped} session${a.stopped === 1 ? '' : 's'} after ${(a.afterMs / 1000).toFixed(2)} s\n`);
  }
  for (const p of result.silent) io.stdout.write(`no answer ${visibleLine(p.describe)} (pid ${p.pid}) within ${timeout} s\n`);
  const orphans = await stopOrphans(io, Date.parse(result.request.requestedAt), new Set(result.answered.map((a) => a.pid)), Math.max(deadline, Date.now() + 5000));
  const orphaned = orphans.stopped.length;
  const lastOrphanMs = Math.max(0, ...orphans.stopped.map((o) => o.afterMs ?? 0));
  if (result.answered.length === 0 && result.silent.length === 0 && orphaned === 0 && orphans.failed === 0) {
    io.stdout.write('No Deputy process or session of yours is running here.\n');
    return 0;
  }
  const total = sessions + orphaned;
  const processes = `${result.answered.length} process${result.answered.length === 1 ? '' : 'es'}`;
  const left = orphaned > 0 ? ` and ${orphaned} whose process was gone` : '';
  io.stdout.write(
    `${total} session${total === 1 ? '' : 's'} stopped in ${processes}${left}; ` +
      `the last reported after ${(Math.max(result.elapsedMs, lastOrphanMs) / 1000).toFixed(2)} s\n`,
  );
  return result.silent.length === 0 && orphans.failed === 0 && orphans.stopped.every((o) => o.afterMs !== null) ? 0 : 1;
};

/** Reports the orphan pass (`stop-orphans.ts`): an endpoint that cannot be reached is counted as a failure. */
async function stopOrphans(io: CliIO, requestedAt: number, answered: ReadonlySet<number>, deadline: number): Promise<{ stopped: OrphanStop[]; failed: number }> {
  let failed = 0;
  const all: OrphanStop[] = [];
  for (const { endpoint: e, stopped, error } of await stopOrphansEverywhere(io.env, { requestedAt, answered, deadline })) {
    if (error !== null) {
      failed += 1;
      io.stdout.write(`unreachable ${visibleLine(e.describe)}: ${visibleLine(error)}\n`);
      continue;
    }
    for (const o of stopped) {
      const when = o.afterMs === null ? `not yet stopped after ${((deadline - requestedAt) / 1000).toFixed(0)} s` : `after ${(o.afterMs / 1000).toFixed(2)} s`;
      const denied = o.denied > 0 ? `, ${o.denied} pending approval${o.denied === 1 ? '' : 's'} denied` : '';
      io.stdout.write(`stopped  ${visibleLine(o.session)} on ${visibleLine(e.describe)} (its process ${visibleLine(o.owner.split('/')[1] ?? '?')} is gone): turn cancelled${denied} ${when}\n`);
      all.push(o);
    }
  }
  return { stopped: all, failed };
}
