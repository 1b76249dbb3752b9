/**
 * Activation in real VS Code (code-server, ../shared/E2E.md): Deputy's against an empty extension's and against the
 * registration floor's (`bench/activation/floor`: what Deputy must have registered when its activation settles, with
 * empty handlers), in the same extension host, every round, one after the other, the order turning from round to
 * round.
 *
 * Method: a benchmark-only probe extension (`bench/activation/probe`, activated on `*`, in a workspace where no
 * watched extension activates by itself) wraps Node's module loader inside the extension host, then activates the
 * watched extensions itself through VS Code's own path (`Extension.activate()`), one at a time, in an order that
 * turns from one extension host to the next (each order once every six rounds; left to their activation event,
 * VS Code started them in one batch in an order of its own, and the batch's first load took tens of milliseconds on
 * a busy machine, whichever extension it was). It
 * times, with `performance.now()`, loading each extension's main file and calling its `activate` (until its promise
 * settles, when it returns one) — the two steps VS Code itself counts as an extension's activation (its
 * `code/extHost/willLoadExtensionCode` … `didActivateExtension` marks) — and the CPU time of the extension host's
 * main thread over the same steps (`process.threadCpuUsage()`), which the machine's other work does not inflate but
 * which is coarse here (Linux advances a running thread's CPU clock in steps of 0.2–3 ms, measured): a cross-check.
 * VS Code's marks are whole milliseconds (Date.now()), too coarse for an extension that does nothing, and their
 * activate span ends in a microtask, after whatever other activations were queued before it: they are kept only as a
 * cross-check of Deputy's load time. The reference loads VS Code's API (`require('vscode')`) as every extension does,
 * and does nothing else.
 *
 * The probe appends one line per extension host to `activation.jsonl` in the workspace. Round 1 is the window's
 * start-up; every further round reloads the page, which starts a new extension host process (code-server's palette
 * has no "Restart Extension Host") that activates them again. `DEPUTY_BENCH_CPU_PROFILE=<folder>` makes the probe
 * write a CPU profile of each extension host there (see the probe).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, launch, packageVsix, waitFor } from '../test/e2e/vscode/code-server.js';
import type { Benchmark, BenchConfig, BenchmarkResult } from './benchmark.js';
import { median, pairedFigures, type Comparison } from './measure.js';
import { formatRatio } from './report.js';
import { BODY_ONLY_COMMAND_IDS, COMMAND_IDS, REVIEW_COMMAND_IDS } from '../src/extension/manifest-ids.js';

export const DEPUTY_ID = 'deputy-dev.deputy';
export const EMPTY_ID = 'deputy-bench.empty';
export const FLOOR_ID = 'deputy-bench.floor';
export const ACTIVATION_GOAL = 1.5;
const EXTENSIONS = path.join(__dirname, 'activation');
const TEST_ONLY = ['--skip-license', '--allow-missing-repository'];

/** One extension host's line from the probe. */
export interface ProbeLine {
  pid: number;
  /** The order the probe activated the extensions in (absent in lines of an older probe). */
  order?: string[];
  figures: Record<string, { loadMs?: number; activateMs?: number; loadCpuMs?: number; activateCpuMs?: number; apiMs?: number; apiCpuMs?: number }>;
  hostMarks: Record<string, { loadMs: number; activateMs: number } | null>;
}

export interface ActivationRounds {
  /** Load + activate per round, Deputy then the empty extension, warm-up rounds dropped. */
  deputyMs: number[];
  emptyMs: number[];
  /** Deputy's load and activate apart, per round. */
  deputyLoadMs: number[];
  deputyActivateMs: number[];
  /** Within each load, the extension's `require('vscode')` (VS Code building the API object for it), per round. */
  deputyApiMs: number[];
  emptyApiMs: number[];
  /** Deputy's load from the extension host's own millisecond marks, per round (the cross-check of `deputyLoadMs`). */
  hostLoadMs: number[];
  /** Main-thread CPU time of load + activate per round, when the probe measured it (every round or none). */
  deputyCpuMs: number[];
  emptyCpuMs: number[];
  /** Per-round ratios of those CPU times, Deputy ÷ empty. */
  cpuRatios: number[];
  /** Timed rounds in which Deputy was activated first. */
  deputyFirst: number;
  /**
   * The registration floor's load + activate per round (bench/activation/floor: what Deputy's entry must have
   * registered when activation settles, with empty handlers), with its per-round ratios over the empty extension and
   * Deputy's over it; empty when the lines carry no floor (an older probe).
   */
  floorMs: number[];
  floorLoadMs: number[];
  floorActivateMs: number[];
  floorRatios: number[];
  overFloorRatios: number[];
  /** The first line (the window's start-up), whether or not it was a warm-up round. */
  startup: { deputyMs: number; emptyMs: number };
  comparison: Comparison;
}

/**
 * The probe's lines as paired rounds. Refuses a line where an extension did not activate, and two lines from one
 * extension host (a round that did not restart it would measure nothing new).
 */
export function activationRounds(lines: readonly ProbeLine[], warmup: number): ActivationRounds {
  const pids = new Set<number>();
  const total = (line: ProbeLine, id: string): number => {
    const f = line.figures[id];
    if (f?.loadMs === undefined || f.activateMs === undefined) throw new Error(`${id} did not activate in extension host ${line.pid}`);
    return f.loadMs + f.activateMs;
  };
  for (const line of lines) {
    if (pids.has(line.pid)) throw new Error(`two rounds came from one extension host (${line.pid}): it was not restarted`);
    pids.add(line.pid);
    total(line, DEPUTY_ID);
    total(line, EMPTY_ID);
  }
  const first = lines[0];
  if (!first) throw new Error('the probe wrote no line: no extension host activated the watched extensions');
  const timed = lines.slice(warmup);
  if (timed.length === 0) throw new Error(`no timed rounds: ${lines.length} line(s), ${warmup} warm-up`);
  const deputyMs = timed.map((l) => total(l, DEPUTY_ID));
  const emptyMs = timed.map((l) => total(l, EMPTY_ID));
  // A probe that watched the floor names it in its order: then the floor must have activated in every round.
  const withFloor = lines.every((l) => l.order?.includes(FLOOR_ID));
  const floorMs = withFloor ? timed.map((l) => total(l, FLOOR_ID)) : [];
  const cpu = (l: ProbeLine, id: string): number | undefined => {
    const f = l.figures[id];
    return f?.loadCpuMs === undefined || f.activateCpuMs === undefined ? undefined : f.loadCpuMs + f.activateCpuMs;
  };
  const withCpu = timed.every((l) => cpu(l, DEPUTY_ID) !== undefined && cpu(l, EMPTY_ID) !== undefined);
  const deputyCpuMs = withCpu ? timed.map((l) => cpu(l, DEPUTY_ID)!) : [];
  const emptyCpuMs = withCpu ? timed.map((l) => cpu(l, EMPTY_ID)!) : [];
  return {
    deputyMs,
    emptyMs,
    deputyLoadMs: timed.map((l) => l.figures[DEPUTY_ID]!.loadMs!),
    deputyActivateMs: timed.map((l) => l.figures[DEPUTY_ID]!.activateMs!),
    deputyApiMs: timed.flatMap((l) => (l.figures[DEPUTY_ID]!.apiMs === undefined ? [] : [l.figures[DEPUTY_ID]!.apiMs!])),
    emptyApiMs: timed.flatMap((l) => (l.figures[EMPTY_ID]!.apiMs === undefined ? [] : [l.figures[EMPTY_ID]!.apiMs!])),
    hostLoadMs: timed.flatMap((l) => {
      const m = l.hostMarks[DEPUTY_ID];
      return m ? [m.loadMs] : [];
    }),
    deputyCpuMs,
    emptyCpuMs,
    // A thread's CPU clock can read 0 for an extension that does almost nothing: such a round has no CPU ratio.
    cpuRatios: deputyCpuMs.flatMap((d, i) => (emptyCpuMs[i]! > 0 ? [d / emptyCpuMs[i]!] : [])),
    floorMs,
    floorLoadMs: withFloor ? timed.map((l) => l.figures[FLOOR_ID]!.loadMs!) : [],
    floorActivateMs: withFloor ? timed.map((l) => l.figures[FLOOR_ID]!.activateMs!) : [],
    floorRatios: floorMs.map((f, i) => f / emptyMs[i]!),
    overFloorRatios: floorMs.map((f, i) => deputyMs[i]! / f),
    deputyFirst: timed.filter((l) => l.order?.[0] === DEPUTY_ID).length,
    startup: { deputyMs: total(first, DEPUTY_ID), emptyMs: total(first, EMPTY_ID) },
    comparison: pairedFigures({ ours: 'Deputy', reference: 'empty extension' }, deputyMs, emptyMs),
  };
}

function readProbe(file: string): ProbeLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeLine);
}

const ms = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * A copy of the floor extension that registers as many commands as Deputy's entry has stand-ins (its list, less the
 * commands only the body registers), so the floor follows Deputy's command table.
 */
function floorPackage(): { dir: string; commands: number } {
  const bodyOnly: ReadonlySet<string> = new Set(BODY_ONLY_COMMAND_IDS);
  const commands = [...COMMAND_IDS, ...REVIEW_COMMAND_IDS].filter((id) => !bodyOnly.has(id)).length;
  const dir = mkdtempSync(path.join(tmpdir(), 'deputy-bench-floor-'));
  cpSync(path.join(EXTENSIONS, 'floor'), dir, { recursive: true });
  const main = path.join(dir, 'extension.js');
  const source = readFileSync(main, 'utf8');
  const counted = source.replace(/^const COMMANDS = \d+;$/m, `const COMMANDS = ${commands};`);
  if (counted === source && !source.includes(`const COMMANDS = ${commands};`)) throw new Error(`no COMMANDS line in ${main}`);
  writeFileSync(main, counted);
  return { dir, commands };
}

export const activation: Benchmark = {
  id: 'activation',
  title: 'Activation in code-server: Deputy vs an empty extension (load + activate)',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const ws = mkdtempSync(path.join(tmpdir(), 'deputy-bench-activation-'));
    const out = path.join(ws, 'activation.jsonl');
    const hosts = config.warmup + config.rounds;
    log(`activation: packaging Deputy, the empty extension, the registration floor and the probe; then ${hosts} extension hosts (${config.warmup} warm-up)`);
    const floor = floorPackage();
    const cleanUp = () => {
      rmSync(ws, { recursive: true, force: true });
      rmSync(floor.dir, { recursive: true, force: true });
    };
    let vscode: Awaited<ReturnType<typeof launch>>;
    try {
      vscode = await launch({
        vsix: packageVsix(ROOT),
        extraVsix: [packageVsix(path.join(EXTENSIONS, 'empty'), TEST_ONLY), packageVsix(floor.dir, TEST_ONLY), packageVsix(path.join(EXTENSIONS, 'probe'), TEST_ONLY)],
        workspace: ws,
        // No .deputy folder: no watched extension activates by itself, the probe activates them.
        fresh: true,
        settings: { 'workbench.startupEditor': 'none', 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'chat.commandCenter.enabled': false },
      });
    } catch (err) {
      cleanUp();
      throw err;
    }
    let lines: ProbeLine[];
    try {
      const expect = async (n: number) =>
        waitFor(async () => readProbe(out).length >= n, 180_000, () => `the probe wrote ${readProbe(out).length} of ${n} lines (${out})`);
      await expect(1);
      for (let n = 2; n <= hosts; n++) {
        await vscode.reload();
        await expect(n);
        log(`activation: extension host ${n} of ${hosts}`);
      }
      lines = readProbe(out);
    } finally {
      await vscode.close();
      cleanUp();
    }
    const r = activationRounds(lines, config.warmup);
    const c = r.comparison;
    const range = (v: readonly number[]) => `${formatRatio(median(v))} (${formatRatio(Math.min(...v))}–${formatRatio(Math.max(...v))})`;
    const cpuText =
      r.cpuRatios.length > 0
        ? ` Counted in CPU time of the extension host's main thread instead, which the machine's other work does not inflate but which Linux advances in steps of a fraction of a millisecond to a few (coarse at this scale: a cross-check, not the figure): Deputy ${ms(median(r.deputyCpuMs))} ms against ${ms(median(r.emptyCpuMs))} ms${median(r.emptyCpuMs) > 0 ? ` (${formatRatio(median(r.deputyCpuMs) / median(r.emptyCpuMs))} the median)` : ''}, per-round ratios ${range(r.cpuRatios)} over the ${r.cpuRatios.length} of ${r.deputyCpuMs.length} rounds in which the empty extension's CPU clock moved at all.`
        : '';
    const api =
      r.deputyApiMs.length > 0 && r.emptyApiMs.length > 0
        ? ` Of the loads, VS Code building its API object for the extension (its \`require('vscode')\`) took ${ms(median(r.deputyApiMs))} ms for Deputy and ${ms(median(r.emptyApiMs))} ms for the empty extension.`
        : '';
    const floorText =
      r.floorMs.length > 0
        ? ` The registration floor — an extension that registers what Deputy's entry must have registered when activation settles (${floor.commands} commands, a chat participant, a code lens provider, a document content provider) with empty handlers, and nothing else — took ${ms(median(r.floorMs))} ms (load ${ms(median(r.floorLoadMs))} ms, activate ${ms(median(r.floorActivateMs))} ms): ${range(r.floorRatios)} the empty extension's, so in this run ${median(r.floorRatios) <= ACTIVATION_GOAL ? 'the floor alone met the goal' : 'the floor alone exceeded the goal'}; Deputy took ${range(r.overFloorRatios)} the floor's.`
        : '';
    const marks = r.hostLoadMs.length > 0 ? `the extension host's own whole-millisecond marks say load ${ms(median(r.hostLoadMs))} ms` : 'the host marks were missing';
    return {
      id: this.id,
      title: this.title,
      unit: 'activations',
      figure: 'ms',
      input: `Deputy's packaged \`.vsix\`, an empty extension, the registration floor and the probe installed in one code-server (its extension host runs Node 24); an empty workspace; ${config.rounds} timed extension hosts after ${config.warmup} warm-up (the first is the window's start-up, then a page reload each round: a new extension host process), in each of which the probe activates the extensions one after the other, Deputy first in ${r.deputyFirst} of the ${config.rounds} timed rounds`,
      ours: `Deputy's \`dist/extension.js\`, the entry: loading it and \`activate\` (stand-ins for the commands a person can reach, the chat participant, the code lenses and the proposed-change documents) until it returns; the panel's and the Changes view's providers, the status item and the check for a session left running come right after it returns, the log channel on its first line; the extension's body, the language client and the server are loaded later, when first needed`,
      reference: "an extension that loads VS Code's API (`require('vscode')`, as every extension does) and whose `activate` is empty, activated the same way in the same extension host",
      meaning: `milliseconds to activate, ours ÷ reference (lower is better): ${formatRatio(c.ratio)} means Deputy takes ${c.ratio.toFixed(1)} times as long as an extension that does nothing; the goal is at most ${ACTIVATION_GOAL}× — ${c.ratio <= ACTIVATION_GOAL ? 'met' : 'not met'}. In absolute terms Deputy's median is ${ms(c.ours.median)} ms (load ${ms(median(r.deputyLoadMs))} ms, activate ${ms(median(r.deputyActivateMs))} ms; ${marks}) against the empty extension's ${ms(c.reference.median)} ms; at the window's start-up ${ms(r.startup.deputyMs)} ms against ${ms(r.startup.emptyMs)} ms.${floorText}${api}${cpuText}`,
      verified: `every extension host (${lines.length}, each a new process) loaded and activated every watched extension; ${r.hostLoadMs.length} of ${r.deputyMs.length} timed rounds also carried the host's own marks for Deputy`,
      comparison: c,
    };
  },
};
