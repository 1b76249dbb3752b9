/**
 * 10,000 engine events streamed into the panel (dist/webview.js in headless Chromium, under its own CSP), against
 * the same events appended as plain text nodes in the same page (the floor: the least any view can do to show them).
 *
 * Both sides get the events the way the extension sends them: one `postMessage` per batch of 100, one batch per
 * animation frame, the page drawn after each. Per round, untimed: a Chrome trace of the run gives the longest
 * main-thread task; after the run a forced GC and the JS heap size. Timed: the whole stream, from the first batch
 * to the frame after the last. Goals (issue 7): longest task at most 2× the floor's, heap under 150 MB.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { launch, openPanel, servePanel, type PanelServer } from '../test/webview/fixtures/panel-page.js';
import { longSession, settingsMessage, summary } from '../test/webview/fixtures/events.js';
import type { EngineEvent } from '../src/protocol/events.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { envInt, median, compare, type Side } from './measure.js';
import { formatRatio } from './report.js';

const SESSION = 'sess_bench';
const BATCH = 100;
export const LONGEST_TASK_GOAL = 2;
export const HEAP_GOAL_MB = 150;

/** What one round measured besides its time. */
interface RoundFacts {
  longestTaskMs: number;
  heapMb: number;
  /** Rows (panel) or text nodes (floor) in the DOM at the end: the proof the events arrived. */
  shown: number;
}

interface Round {
  page: Page;
}

/** Streams `events` into the page in batches, one per frame, through `window.postMessage` with the given type. */
function streamScript(mode: 'panel' | 'floor', batches: number): string {
  return `(async () => {
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    const events = window.__benchEvents;
    for (let i = 0; i < ${batches}; i++) {
      const slice = events.slice(i * ${BATCH}, (i + 1) * ${BATCH});
      window.postMessage(${mode === 'panel' ? `{ type: 'events', sessionId: '${SESSION}', events: slice, replace: false }` : `{ type: 'floor', events: slice }`}, '*');
      await frame();
    }
    await frame();
    await frame();
  })()`;
}

/** The longest task on the renderer's main thread in a Chrome trace, in ms. */
export function longestMainThreadTaskMs(trace: Buffer): number {
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: { name: string; ph: string; pid: number; tid: number; dur?: number; args?: { name?: string } }[] }).traceEvents;
  const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  let longest = 0;
  for (const e of events) {
    if (e.ph === 'X' && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && main.has(`${e.pid}:${e.tid}`)) longest = Math.max(longest, (e.dur ?? 0) / 1000);
  }
  if (main.size === 0) throw new Error('The trace names no renderer main thread; the longest task cannot be measured.');
  return longest;
}

function side(label: string, mode: 'panel' | 'floor', browser: Browser, server: PanelServer, events: EngineEvent[], facts: RoundFacts[]): Side<Round> {
  const batches = Math.ceil(events.length / BATCH);
  return {
    label,
    async setup() {
      const panel = await openPanel(browser, server, { width: 420, height: 900 });
      if (mode === 'panel') await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(SESSION)], selectedSessionId: SESSION });
      await panel.page.evaluate(`window.__benchEvents = ${JSON.stringify(events)}`);
      await panel.settle();
      await browser.startTracing(panel.page, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'] });
      return { page: panel.page };
    },
    async run({ page }) {
      await page.evaluate(streamScript(mode, batches));
      return events.length;
    },
    async teardown({ page }) {
      const longestTaskMs = longestMainThreadTaskMs(await browser.stopTracing());
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      const shown = (await page.evaluate(
        mode === 'panel'
          ? `document.querySelector('deputy-panel').shadowRoot.querySelector('deputy-session').shadowRoot.querySelector('deputy-transcript').shadowRoot.querySelectorAll('deputy-row').length`
          : `document.getElementById('floor').childNodes.length`,
      )) as number;
      const problems = await page.evaluate('window.__violations');
      if ((problems as string[]).length > 0) throw new Error(`CSP violations during the benchmark: ${JSON.stringify(problems)}`);
      facts.push({ longestTaskMs, heapMb: heap.usedSize / 2 ** 20, shown });
      await page.close();
    },
  };
}

export const webviewStream: Benchmark = {
  id: 'webview',
  title: 'Webview: 10,000 streamed events in the panel vs plain text nodes',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = envInt('BENCH_WEBVIEW_EVENTS', 10_000, 100);
    const events = longSession(SESSION, count);
    const bundle = await fs.readFile(path.resolve(__dirname, '..', 'dist', 'webview.js'));
    const server = await servePanel();
    const browser = await launch();
    try {
      const ours: RoundFacts[] = [];
      const floor: RoundFacts[] = [];
      log(`webview: streaming ${count} events, ${config.warmup} warm-up + ${config.rounds} timed rounds per side`);
      const comparison = await compare(side('panel', 'panel', browser, server, events, ours), side('text nodes', 'floor', browser, server, events, floor), config);
      const timedOurs = ours.slice(config.warmup);
      const timedFloor = floor.slice(config.warmup);
      if (timedFloor.some((f) => f.shown !== count)) throw new Error(`The floor showed ${timedFloor.map((f) => f.shown).join(', ')} text nodes, not ${count}.`);
      if (timedOurs.some((f) => f.shown === 0 || f.shown > 200)) throw new Error(`The panel kept ${timedOurs.map((f) => f.shown).join(', ')} rows in the DOM; a window is 1–200.`);
      const taskRatios = timedOurs.map((o, i) => o.longestTaskMs / Math.max(timedFloor[i]!.longestTaskMs, 0.001));
      const taskRatio = median(taskRatios);
      const heap = median(timedOurs.map((o) => o.heapMb));
      const ms = (x: number) => `${x.toFixed(1)} ms`;
      const mb = (x: number) => `${x.toFixed(1)} MB`;
      const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
      return {
        id: this.id,
        title: this.title,
        unit: 'events',
        input: `${count.toLocaleString('en-US')} engine events of one session (text deltas with message ends every 50, tool calls, command output, reasoning, usage), ${BATCH} per \`postMessage\`, one batch per animation frame, in headless Chromium at 420×900; bundle \`dist/webview.js\` ${(bundle.length / 1024).toFixed(0)} KB (${(gzipSync(bundle).length / 1024).toFixed(0)} KB gzipped)`,
        ours: 'the panel (`dist/webview.js`) rendering the session: transcript rows windowed, Markdown, row updates per batch',
        reference: `the same events as plain text nodes appended to one \`<pre>\` in the same page (the panel hidden), scrolled to the end after each batch`,
        meaning:
          `events shown per second over the whole stream, ours ÷ floor: ${formatRatio(comparison.ratio)} means the panel gets through ${shareInWords(comparison.ratio)} events per second as plain text nodes (both are paced by one batch per frame, so near 1× means rendering keeps up with the stream). ` +
          `**Longest main-thread task:** median of per-round ratios ours ÷ floor ${formatRatio(taskRatio)} (min ${formatRatio(Math.min(...taskRatios))}, max ${formatRatio(Math.max(...taskRatios))}); ours ${timedOurs.map((o) => ms(o.longestTaskMs)).join(', ')}; floor ${timedFloor.map((o) => ms(o.longestTaskMs)).join(', ')} — goal ≤ ${LONGEST_TASK_GOAL}× ${verdict(taskRatio <= LONGEST_TASK_GOAL)}. ` +
          `**JS heap at the end** (after a forced GC): median ${mb(heap)} (rounds ${timedOurs.map((o) => mb(o.heapMb)).join(', ')}; floor ${timedFloor.map((o) => mb(o.heapMb)).join(', ')}) — goal < ${HEAP_GOAL_MB} MB ${verdict(heap < HEAP_GOAL_MB)}.`,
        verified: `every round the floor holds exactly ${count.toLocaleString('en-US')} text nodes and the panel a window of ${timedOurs.map((o) => o.shown).join(', ')} rows, with no CSP violation`,
        comparison,
      };
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
