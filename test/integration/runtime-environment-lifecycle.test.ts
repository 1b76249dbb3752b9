/**
 * A self-hosted environment across the runtime's life: Deputy's environment (the `--environment` port, through the
 * direct transport with the runtime's bearer token) stays connected across a restart of the runtime — the session's
 * event history says `disconnected` while it was gone and `connected` once it is back, and a turn after the restart runs
 * its command through it — and a DELETE of the session ends the environment's connection for good.
 */
import assert from 'node:assert/strict';
import { promises as fs, realpathSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { AuditLog } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import { Workspace } from '../../src/core/workspace.js';
import type { DirectTransportState } from '../../src/environment/direct-transport.js';
import { createCommandGate } from '../../src/environment/process-types.js';
import { DeputyTaskEnvironment } from '../../src/environment/task-environment.js';
import { collectEvents, startHarness, type Harness } from '../fixtures/model-runtime-harness.js';
import type { ScriptEntry } from '../fixtures/model-server.js';
import { ScriptedPerson } from '../helpers/environment.js';
import { makeRepo } from '../helpers/git.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Setup {
  harness: Harness;
  env: DeputyTaskEnvironment;
  states: string[];
  repoRoot: string;
  failures: string[];
  waitFor(predicate: () => boolean, what: string): Promise<void>;
}

async function setUp(t: { after(fn: () => Promise<void>): void }, script: ScriptEntry[]): Promise<Setup> {
  // A fixed port: the session's remote_url names it, and the restarted runtime must answer there.
  const harness = await startHarness(script, { runtime: { port: await freePort() } });
  const repo = await makeRepo({ 'app.txt': 'hello from the workspace\n' });
  const workspace = await Workspace.open(repo.root);
  const policy = Policy.defaults();
  const audit = await AuditLog.open(workspace.root);
  const states: string[] = [];
  const env = await DeputyTaskEnvironment.open({
    workspace,
    policy,
    audit,
    prompter: new ScriptedPerson(),
    actor: { principal: 'local:tester@test' },
    task: 'task_lifecycle',
    commands: await createCommandGate({ policy, allowUnsandboxed: false }),
    // The runtime's own auth, re-read at every registration: a restarted runtime has a new token.
    auth: { authHeaders: async () => ({ authorization: `Bearer ${(await fs.readFile(harness.runtime.tokenFile, 'utf8')).trim()}` }) },
    onState: (s: DirectTransportState | { state: 'reported' }) => states.push(s.state),
    backoff: { initialMs: 50, maxMs: 200 },
  });
  t.after(async () => {
    await env.close();
    await audit.close();
    await harness.close();
    await repo.cleanup();
  });
  const failures: string[] = [];
  const waitFor = async (predicate: () => boolean, what: string) => {
    // Bounds a hung test only; nothing here measures time.
    for (let i = 0; i < 2000 && !predicate(); i++) await sleep(10);
    assert.ok(predicate(), `${what} (states: ${states.join(', ')}; failures: ${failures.join(' | ') || 'none'})`);
  };
  return { harness, env, states, repoRoot: realpathSync(repo.root), failures, waitFor };
}

it('a connected environment reconnects after the runtime restarts; the session says disconnected, then connected, and serves the next turn', async (t) => {
  const s = await setUp(t, [{ toolCalls: [{ name: 'exec_command', callId: 'c1', arguments: { cmd: 'cat app.txt' } }] }, { text: 'Read it.' }]);
  const session = await s.harness.client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: s.repoRoot } });
  // Follows the session's events until the restart ends the stream (resumed below from its last event).
  const before = await collectEvents(s.harness.client, session.id, () => false);
  const first = before.done.catch(() => before.events);
  s.env.needed(session, (m) => s.failures.push(m));
  await s.waitFor(() => s.states.includes('connected') && before.events.length > 0, 'the environment connected');

  await s.harness.restart();
  const lastBefore = (await first).at(-1)!;
  await s.waitFor(() => s.states.filter((x) => x === 'connected').length === 2, 'the environment reconnected after the restart');
  assert.deepEqual(s.failures, []);

  const client = s.harness.client;
  const after = await collectEvents(client, session.id, (e) => e.type === 'agent.session.turn.completed' || e.type === 'agent.session.turn.failed', { lastEventId: lastBefore.event_id });
  await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: 'Read app.txt.' }] } as never);
  const events: AgentSessionEvent[] = [...(await first), ...(await after.done)];
  assert.equal(events.at(-1)!.type, 'agent.session.turn.completed');
  const environmentEvents = events.filter((e) => e.type.startsWith('agent.session.environment.')).map((e) => e.type.slice('agent.session.environment.'.length));
  // Connected, then disconnected when the runtime stopped (not a stale "connected" the store kept), connected again.
  assert.deepEqual(environmentEvents, ['connected', 'disconnected', 'connected']);

  const items = (await client.beta.agents.sessions.items.list(session.id, { order: 'asc' } as never)).data;
  const command = items.find((i) => i.type === 'command_execution') as { exit_code: number; output: string } | undefined;
  assert.equal(command?.exit_code, 0);
  assert.ok(command.output.includes('hello from the workspace'), command.output);
});

it('deleting the session closes its environment connection, and the environment cannot register for it again', async (t) => {
  const s = await setUp(t, []);
  const session = await s.harness.client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: s.repoRoot } });
  s.env.needed(session, (m) => s.failures.push(m));
  await s.waitFor(() => s.states.includes('connected'), 'the environment connected');

  await s.harness.client.beta.agents.sessions.delete(session.id);
  await s.waitFor(() => s.failures.length > 0, 'the environment was told the session is gone');
  assert.ok(s.states.includes('disconnected'), s.states.join(', '));
  assert.match(s.failures[0]!, /HTTP 404/);
  await s.waitFor(() => s.states.at(-1) === 'stopped', 'the transport stopped');
});
