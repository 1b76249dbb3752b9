/**
 * Stop all, measured as the issue asks: the time from the gesture to the last session reporting cancelled. The
 * sessions are the hard case, those whose Deputy process is gone: `BENCH_STOP_SESSIONS` sessions on each of two
 * Deputy runtimes (two endpoints), each waiting on a tool result that will never come, owned by a process that has
 * exited. Ours is `deputy stop --all` in-process (the kill-switch pull, the remembered endpoints, listing each
 * endpoint's sessions, the owner checks, then cancelling and watching each session). The reference is the least any
 * stop can do for the same sessions: a client that already knows every session id sends each its cancel and polls it
 * until it is no longer running, all at once — the direct API calls with no discovery at all. The ratio is what
 * finding the sessions costs on top of stopping them.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type OpenAI from 'openai';
import { createAgentsClient } from '../src/agents/endpoints.js';
import { actorFor } from '../src/cli/run-endpoint.js';
import { stopCommand } from '../src/cli/stop.js';
import { rememberEndpoint, OWNER_METADATA } from '../src/core/kill-switch-orphans.js';
import { TOOL_DEFINITIONS } from '../src/protocol/tools.js';
import { startRuntime, type RuntimeHandle } from '../src/runtime/index.js';
import { startScriptedModel, type ScriptedModel } from '../test/fixtures/model-server.js';
import { runCaptured } from '../test/fixtures/aws/cli-capture.js';
import type { Benchmark, BenchConfig } from './benchmark.js';
import { compareFigures, envInt } from './measure.js';
import { formatRatio } from './report.js';

const RUNNING = new Set(['in_progress', 'requires_action']);

interface Endpoint {
  runtime: RuntimeHandle;
  model: ScriptedModel;
  client: OpenAI;
}

interface Fleet {
  home: string;
  endpoints: Endpoint[];
  sessions: Array<{ client: OpenAI; id: string }>;
}

/** A pid that belonged to a process which has exited: the owner Stop all must find gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function fleet(perEndpoint: number): Promise<Fleet> {
  const home = await fs.mkdtemp(path.join(tmpdir(), 'deputy-bench-stop-'));
  const owner = `${hostname()}/${deadPid()}/1`;
  // Who `deputy run` says acts on a runtime reached by token: the sessions are that person's.
  const principal = (await actorFor({}, process.env)).principal;
  const endpoints: Endpoint[] = [];
  const sessions: Fleet['sessions'] = [];
  for (const i of [0, 1]) {
    const model = await startScriptedModel(Array.from({ length: perEndpoint }, () => ({ toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] })));
    const runtime = await startRuntime({ dataDir: path.join(home, `runtime-${i}`), upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses' } });
    const client = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token }, { maxRetries: 0 });
    endpoints.push({ runtime, model, client });
    await rememberEndpoint({ DEPUTY_HOME: path.join(home, 'state') }, { kind: 'url', url: runtime.url, auth: 'token', tokenFile: runtime.tokenFile, describe: `runtime ${i}` });
    for (let n = 0; n < perEndpoint; n++) {
      const s = await client.beta.agents.sessions.create({
        environment: { type: 'none' },
        agent: { instructions: 'bench', tools: TOOL_DEFINITIONS.map((t) => ({ ...t })) },
        metadata: { 'deputy.principal': principal, 'deputy.task': `task_${i}_${n}`, [OWNER_METADATA]: owner },
      });
      await client.beta.agents.sessions.events.create(s.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'read a.txt' }] }] }] });
      sessions.push({ client, id: s.id });
    }
  }
  // Every session waits on its tool result, as a dead run's would.
  for (const s of sessions) {
    for (;;) {
      const now = await s.client.beta.agents.sessions.retrieve(s.id);
      if (now.status === 'requires_action') break;
      if (!RUNNING.has(now.status)) throw new Error(`session ${s.id} is ${now.status}, not waiting on a tool result`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { home, endpoints, sessions };
}

async function teardown(f: Fleet): Promise<void> {
  for (const e of f.endpoints) {
    await e.runtime.close();
    await e.model.close();
  }
  await fs.rm(f.home, { recursive: true, force: true });
}

async function stillRunning(f: Fleet): Promise<number> {
  let n = 0;
  for (const s of f.sessions) if (RUNNING.has((await s.client.beta.agents.sessions.retrieve(s.id)).status)) n += 1;
  return n;
}

export const stopAll: Benchmark = {
  id: 'stop-all',
  title: 'Stop all: gesture to the last session cancelled',
  async run(config: BenchConfig, log) {
    const perEndpoint = envInt('BENCH_STOP_SESSIONS', 8);
    const total = perEndpoint * 2;
    const checked = { ours: 0, reference: 0 };
    const comparison = await compareFigures(
      {
        label: 'deputy stop --all',
        setup: () => fleet(perEndpoint),
        measure: async (f) => {
          const start = performance.now();
          const out = await runCaptured(stopCommand, ['--all', '--timeout', '60'], { DEPUTY_HOME: path.join(f.home, 'state'), PATH: process.env.PATH ?? '' });
          const ms = performance.now() - start;
          if (out.code !== 0 || !out.stdout.includes(`${total} sessions stopped`)) throw new Error(`deputy stop --all did not stop the ${total} sessions:\n${out.stdout}${out.stderr}`);
          if ((await stillRunning(f)) !== 0) throw new Error('a session still runs after deputy stop --all');
          checked.ours = total;
          return ms;
        },
        teardown,
      },
      {
        label: 'cancel each known session directly',
        setup: () => fleet(perEndpoint),
        measure: async (f) => {
          const start = performance.now();
          await Promise.all(
            f.sessions.map(async (s) => {
              await s.client.beta.agents.sessions.events.create(s.id, { events: [{ type: 'agent.session.input.cancel' }] } as never);
              while (RUNNING.has((await s.client.beta.agents.sessions.retrieve(s.id)).status)) await new Promise((r) => setTimeout(r, 50));
            }),
          );
          const ms = performance.now() - start;
          if ((await stillRunning(f)) !== 0) throw new Error('a session still runs after the direct cancels');
          checked.reference = total;
          return ms;
        },
        teardown,
      },
      config,
    );
    log(`stop-all: ${formatRatio(comparison.ratio)}`);
    return {
      id: 'stop-all',
      title: 'Stop all: gesture to the last session cancelled',
      unit: 'sessions',
      figure: 'ms',
      input: `${total} sessions whose process is gone (${perEndpoint} on each of 2 Deputy runtimes), each waiting on a tool result`,
      ours: '`deputy stop --all` in-process: the kill-switch pull (no live process), then each remembered endpoint: connect, list this person\'s sessions, check each owner, cancel, watch until no longer running',
      reference: 'a client that already holds every session id: one cancel per session and polling until it is no longer running, all sessions at once (the direct API calls, no discovery)',
      meaning: `milliseconds from the gesture to the last session reporting cancelled, ours ÷ reference: ${formatRatio(comparison.ratio)} means Stop all takes ${comparison.ratio.toFixed(2)} times as long as cancelling the same sessions by direct API calls; the difference is finding them (below 1 would mean ours is faster).`,
      verified: `both sides left none of the ${checked.ours === checked.reference ? checked.ours : `${checked.ours}/${checked.reference}`} sessions running (checked after each round); ours printed "${total} sessions stopped"`,
      comparison,
    };
  },
};
