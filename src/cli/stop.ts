/**
 * `deputy stop --all`: the kill switch from a terminal. Every Deputy process of this person on this machine — each
 * `deputy run`, each editor window's language server, each `deputy environment serve` — cancels its turns at their
 * endpoints, denies its open questions and disconnects its environments; this command waits until each has reported
 * stopped and says how long that took (`src/core/kill-switch.ts`).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { pullKillSwitch } from '../core/kill-switch.js';
import { visibleLine } from '../core/visible-text.js';
import { UserError, type Command } from './io.js';

const USAGE = `Usage: deputy stop --all [--timeout SECONDS]

Stop every running Deputy session of yours on this machine: every \`deputy run\`, every VS Code window's sessions
and every \`deputy environment serve\`. Turns are cancelled at their endpoints, open permission questions become
denies, environments disconnect and their commands are ended; changes not yet applied stay for review and need a
fresh approval. Waits until each process has reported its sessions stopped.

Options:
  --all              Required: what is stopped is everything (a single session stops from its own terminal or panel).
  --timeout SECONDS  How long to wait for every process to report (default 30).
  -h, --help         Show this help.

Exit 0 when every process reported stopped, 1 when some did not answer in time.`;

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
  const result = await pullKillSwitch(io.env, { by: userInfo().username, from: 'deputy stop --all' }, { timeoutMs: timeout * 1000 });
  const sessions = result.answered.reduce((n, a) => n + a.stopped, 0);
  for (const a of result.answered) {
    io.stdout.write(`stopped  ${visibleLine(a.describe)} (pid ${a.pid}): ${a.stopped} session${a.stopped === 1 ? '' : 's'} after ${(a.afterMs / 1000).toFixed(2)} s\n`);
  }
  for (const p of result.silent) io.stdout.write(`no answer ${visibleLine(p.describe)} (pid ${p.pid}) within ${timeout} s\n`);
  if (result.answered.length === 0 && result.silent.length === 0) {
    io.stdout.write('No Deputy process of yours is running here.\n');
    return 0;
  }
  io.stdout.write(
    `${sessions} session${sessions === 1 ? '' : 's'} stopped in ${result.answered.length} process${result.answered.length === 1 ? '' : 'es'}; ` +
      `the last reported after ${(result.elapsedMs / 1000).toFixed(2)} s\n`,
  );
  return result.silent.length === 0 ? 0 : 1;
};
