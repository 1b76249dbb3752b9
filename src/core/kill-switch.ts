/**
 * Stop all: one gesture that stops every Deputy session of this person on this machine — every `deputy run`, every
 * editor window's language server, every `deputy environment serve` — whichever of them the gesture came from.
 *
 * The processes meet in the person's own state folder, `~/.deputy/kill-switch/` (`DEPUTY_HOME` moves `~/.deputy`):
 * - each process that hosts sessions registers in `live/<pid>.json` while it runs and watches `request.json`;
 * - `pullKillSwitch` writes a new `request.json` (a fresh id, who pulled it, when), then waits for every live
 *   process to answer in `acks/<request id>/<pid>.json` once its sessions have stopped (turns cancelled at their
 *   endpoints, open questions denied, environments disconnected), and reports who answered and how fast;
 * - a process that died without unregistering is recognised by its pid and skipped; so is a registration whose pid
 *   now belongs to another process (the start time recorded with it differs), which would otherwise make the
 *   pull wait for an answer that never comes.
 * Only the person can write there (the folder is Deputy's state: 0700, theirs, no links), and an agent's tools never
 * reach it (outside every workspace, hidden from the command sandbox). Stopping is always safe to honour.
 */
import { randomUUID } from 'node:crypto';
import { watch, type FSWatcher, promises as fs } from 'node:fs';
import { homedir, hostname } from 'node:os';
import * as path from 'node:path';
import { ensureStateDir, isSameProcessRunning, processStart, readStateFile, writeStateJson } from './state-dir.js';

/** Deputy's per-person folder: `DEPUTY_HOME`, else `~/.deputy`. */
export function deputyHome(env: NodeJS.ProcessEnv): string {
  return env.DEPUTY_HOME ? path.resolve(env.DEPUTY_HOME) : path.join(homedir(), '.deputy');
}

export function killSwitchDir(env: NodeJS.ProcessEnv): string {
  return path.join(deputyHome(env), 'kill-switch');
}

export interface StopRequest {
  id: string;
  requestedAt: string;
  /** Who pulled it: the principal or local user, and from where (`deputy stop --all`, an editor window). */
  by: string;
  from: string;
}

export interface LiveProcess {
  pid: number;
  host: string;
  kind: 'run' | 'editor' | 'environment';
  describe: string;
  since: string;
  /** When the process started (`processStart`): tells it from a later process given the same pid. */
  processStart?: string;
}

export interface StopAck {
  pid: number;
  kind: LiveProcess['kind'];
  describe: string;
  /** Sessions (or tasks) this process stopped. */
  stopped: number;
  /** When the last of them reported stopped. */
  at: string;
}

/** How often a watcher also looks, in case a file-system event was missed (network home folders, some editors). */
const POLL_MS = 1000;

/**
 * A process's registration: it answers every stop request pulled after it registered by calling `onStop` (which
 * resolves, with the number of sessions stopped, once they have stopped) and acknowledging.
 */
export class KillSwitch {
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private seen: string | null = null;
  private handling: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly me: LiveProcess,
    private readonly onStop: (request: StopRequest) => Promise<number>,
    private readonly log: (line: string) => void,
  ) {}

  static async register(
    env: NodeJS.ProcessEnv,
    who: Pick<LiveProcess, 'kind' | 'describe'>,
    onStop: (request: StopRequest) => Promise<number>,
    log: (line: string) => void = () => undefined,
  ): Promise<KillSwitch> {
    const dir = killSwitchDir(env);
    await ensureStateDir(path.join(dir, 'live'), deputyHome(env));
    const start = await processStart(process.pid);
    const me: LiveProcess = { pid: process.pid, host: hostname(), since: new Date().toISOString(), ...(start === undefined ? {} : { processStart: start }), ...who };
    const sw = new KillSwitch(dir, me, onStop, log);
    // A request already there was pulled before this process existed: not for it.
    sw.seen = (await readRequest(dir))?.id ?? null;
    await writeStateJson(path.join(dir, 'live', `${process.pid}.json`), me);
    try {
      sw.watcher = watch(dir, (_event, name) => {
        if (name === null || name === 'request.json') sw.check();
      });
      sw.watcher.on('error', () => undefined);
      sw.watcher.unref();
    } catch {
      // No watcher here (some file systems): the poll below still finds requests.
    }
    sw.poll = setInterval(() => sw.check(), POLL_MS);
    sw.poll.unref();
    return sw;
  }

  private check(): void {
    this.handling = this.handling.then(async () => {
      if (this.closed) return;
      const request = await readRequest(this.dir).catch(() => null);
      if (request === null || request.id === this.seen) return;
      this.seen = request.id;
      this.log(`Stop all (${request.by}, from ${request.from}): stopping every session here`);
      let stopped = 0;
      try {
        stopped = await this.onStop(request);
      } catch (err) {
        this.log(`Stop all: ${err instanceof Error ? err.message : String(err)}`);
      }
      const ack: StopAck = { pid: this.me.pid, kind: this.me.kind, describe: this.me.describe, stopped, at: new Date().toISOString() };
      const acks = path.join(this.dir, 'acks', request.id);
      await ensureStateDir(acks, path.dirname(this.dir));
      await writeStateJson(path.join(acks, `${this.me.pid}.json`), ack);
    }).catch((err: unknown) => {
      // The sessions were stopped; only the answer could not be written. The next request is still answered.
      this.log(`Stop all: could not answer (${err instanceof Error ? err.message : String(err)})`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    await this.handling.catch(() => undefined);
    await fs.rm(path.join(this.dir, 'live', `${this.me.pid}.json`), { force: true });
  }
}

export interface StopAllResult {
  request: StopRequest;
  /** The processes that answered, in the order they did, with how long after the gesture. */
  answered: Array<StopAck & { afterMs: number }>;
  /** Live processes that did not answer within the wait. */
  silent: LiveProcess[];
  elapsedMs: number;
}

/**
 * Pulls the switch and waits (up to `timeoutMs`) until every live Deputy process of this person answered. The
 * caller's own process, if registered, answers like any other.
 */
export async function pullKillSwitch(
  env: NodeJS.ProcessEnv,
  who: { by: string; from: string },
  options: { timeoutMs?: number } = {},
): Promise<StopAllResult> {
  const dir = killSwitchDir(env);
  await ensureStateDir(path.join(dir, 'live'), deputyHome(env));
  const started = Date.now();
  const request: StopRequest = { id: randomUUID(), requestedAt: new Date(started).toISOString(), ...who };
  const live = await liveProcesses(dir);
  // The answers already on file belong to earlier pulls, however recent (a pull a moment ago): none is this one's.
  const earlier = new Set(await fs.readdir(path.join(dir, 'acks')).catch(() => [] as string[]));
  await writeStateJson(path.join(dir, 'request.json'), request);
  const deadline = started + (options.timeoutMs ?? 30_000);
  const answered = new Map<number, StopAck & { afterMs: number }>();
  for (;;) {
    // A pull that overlaps this one (another window, another terminal) replaces request.json: a process that
    // answers only the later request has stopped its sessions for this one too, so both requests' answers count.
    for (const { name, folder } of await acksSince(dir, earlier)) {
      if (!/^\d+\.json$/.test(name)) continue;
      const pid = Number(name.slice(0, -'.json'.length));
      if (answered.has(pid)) continue;
      const text = await readStateFile(path.join(folder, name)).catch(() => null);
      if (text === null) continue;
      try {
        const ack = JSON.parse(text) as StopAck;
        answered.set(pid, { ...ack, afterMs: Date.parse(ack.at) - started });
      } catch {
        /* still being written */
      }
    }
    const waiting: LiveProcess[] = [];
    for (const p of live) if (!answered.has(p.pid) && (await isSameProcessRunning(p.pid, p.host === hostname() ? p.processStart : undefined))) waiting.push(p);
    if (waiting.length === 0 || Date.now() >= deadline) {
      // Answers of requests long over are of no further use (recent ones may still be awaited by another pull).
      await pruneAcks(dir, started - 10 * 60_000);
      return {
        request,
        answered: [...answered.values()].sort((a, b) => a.afterMs - b.afterMs),
        silent: waiting,
        elapsedMs: Date.now() - started,
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The registered processes still running (registrations of dead ones are removed). */
export async function liveProcesses(dir: string): Promise<LiveProcess[]> {
  const out: LiveProcess[] = [];
  for (const name of await fs.readdir(path.join(dir, 'live')).catch(() => [] as string[])) {
    const file = path.join(dir, 'live', name);
    const text = await readStateFile(file).catch(() => null);
    if (text === null) continue;
    let p: LiveProcess;
    try {
      p = JSON.parse(text) as LiveProcess;
    } catch {
      continue;
    }
    if (p.host === hostname() && !(await isSameProcessRunning(p.pid, p.processStart))) {
      await fs.rm(file, { force: true });
      continue;
    }
    out.push(p);
  }
  return out;
}

async function readRequest(dir: string): Promise<StopRequest | null> {
  const text = await readStateFile(path.join(dir, 'request.json'));
  if (text === null) return null;
  const value = JSON.parse(text) as Partial<StopRequest>;
  return typeof value.id === 'string' ? (value as StopRequest) : null;
}


/**
 * Every ack file in the answer folders that were not on file when this pull began (`earlier`): this pull's, and
 * those of pulls that overlap it. Not by the folders' times: a pull a moment before this one is within any slack a
 * clock tick needs, and its answers are not this pull's.
 */
async function acksSince(dir: string, earlier: ReadonlySet<string>): Promise<Array<{ name: string; folder: string }>> {
  const out: Array<{ name: string; folder: string }> = [];
  for (const id of await fs.readdir(path.join(dir, 'acks')).catch(() => [] as string[])) {
    if (earlier.has(id)) continue;
    const folder = path.join(dir, 'acks', id);
    const stat = await fs.lstat(folder).catch(() => null);
    if (!stat?.isDirectory()) continue;
    for (const name of await fs.readdir(folder).catch(() => [] as string[])) out.push({ name, folder });
  }
  return out;
}

async function pruneAcks(dir: string, before: number): Promise<void> {
  for (const id of await fs.readdir(path.join(dir, 'acks')).catch(() => [] as string[])) {
    const folder = path.join(dir, 'acks', id);
    const stat = await fs.lstat(folder).catch(() => null);
    if (stat && stat.mtimeMs < before) await fs.rm(folder, { recursive: true, force: true });
  }
}
