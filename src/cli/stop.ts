/**
 * `deputy stop --all`: the kill switch from a terminal. Every Deputy process of this person on this machine — each
 * `deputy run`, each editor window's language server, each `deputy environment serve` — cancels its turns at their
 * endpoints, denies its open questions and disconnects its environments; this command waits until each has reported
 * stopped and says how long that took (`src/core/kill-switch.ts`).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { pullKillSwitch } from '../core/kill-switch.js';
import { knownEndpoints, stopOrphanedSessions, type KnownEndpoint, type OrphanStop } from '../core/kill-switch-orphans.js';
import type { RunOptions } from './run-options.js';
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

/**
 * The second half of Stop all: the sessions on every remembered endpoint whose Deputy process is gone
 * (`kill-switch-orphans.ts`). An endpoint that cannot be reached is reported and counted as a failure.
 */
async function stopOrphans(io: CliIO, requestedAt: number, answered: ReadonlySet<number>, deadline: number): Promise<{ stopped: OrphanStop[]; failed: number }> {
  const endpoints = await knownEndpoints(io.env);
  if (endpoints.length === 0) return { stopped: [], failed: 0 };
  // Loaded only here: connecting pulls in the AWS SDK and the runtime client, which a stop with no endpoint never needs.
  const { connect } = require('./run-endpoint.js') as typeof import('./run-endpoint.js');
  const results = await Promise.all(
    endpoints.map(async (e) => {
      let connection: Awaited<ReturnType<typeof connect>> | undefined;
      try {
        connection = await connect(optionsFor(e), io.env);
        const stopped = await stopOrphanedSessions(connection.client, { principal: connection.actor.principal, requestedAt, answered, deadline });
        return { e, stopped, error: null as string | null };
      } catch (err) {
        return { e, stopped: [] as OrphanStop[], error: err instanceof Error ? err.message : String(err) };
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }),
  );
  let failed = 0;
  const all: OrphanStop[] = [];
  for (const { e, stopped, error } of results) {
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

/** What `connect` needs to reach a remembered endpoint again; nothing about a task or a model. */
function optionsFor(e: KnownEndpoint): RunOptions {
  return {
    task: '',
    workspace: '.',
    endpoint: e.kind === 'url' ? { kind: 'url', url: e.url ?? '' } : { kind: e.kind },
    auth: e.auth ?? 'token',
    ...(e.tokenFile ? { tokenFile: e.tokenFile } : {}),
    ...(e.serverId ? { serverId: e.serverId } : {}),
    ...(e.profile ? { profile: e.profile } : {}),
    ...(e.region ? { region: e.region } : {}),
    apiKeyEnv: 'OPENAI_API_KEY',
    dataDir: '',
    policyFiles: [],
    model: '',
    modelBaseUrl: '',
    modelApi: 'responses',
  };
}
