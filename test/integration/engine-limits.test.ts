/**
 * What the model chooses cannot hang or exhaust a task: a call id reused across steps, a tool result larger than
 * the endpoint accepts, a turn that calls tools or asks for permission without end, a cancel during a long walk,
 * and a failure while re-reading the session after a reconnect. Each runs the real engine against the real runtime
 * and the scripted model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followSession } from '../../src/agents/event-stream.js';
import { MAX_TOOL_OUTPUT_BYTES, createAgentsClient } from '../../src/agents/endpoints.js';
import { AuditLog, readAudit } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import type { Prompter } from '../../src/core/prompter.js';
import { runTask, type TaskDeps } from '../../src/core/task.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { EngineEvents } from '../../src/core/event-channel.js';
import { TurnFollower } from '../../src/core/turn-follower.js';
import { Workspace } from '../../src/core/workspace.js';
import type { RecordedRequest } from '../fixtures/model-server.js';
import { startHarness, waitForSession, type Harness } from '../fixtures/model-runtime-harness.js';

const actor = { principal: 'local:test' };

function prompter(answers: { allow?: boolean } = {}): Prompter & { asked: number } {
  const p = {
    asked: 0,
    askPermission: async (q: { binding: string }) => {
      p.asked++;
      return { binding: q.binding, allow: answers.allow ?? true };
    },
    reviewFile: async (q: { binding: string }) => ({ binding: q.binding, verdict: 'reject' as const }),
  };
  return p;
}

async function setup(t: { after(fn: () => Promise<void>): void }, files: Record<string, string> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'deputy-limits-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  for (const [rel, text] of Object.entries({ 'a.txt': 'alpha\n', ...files })) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
  }
  return { root, audit: await AuditLog.open(root), ws: await Workspace.open(root) };
}

function deps(h: Harness, env: Awaited<ReturnType<typeof setup>>, extra: Partial<TaskDeps> = {}): TaskDeps {
  return {
    // The client as `deputy run` builds it (retries included: a keep-alive socket the server just closed is retried).
    client: createAgentsClient({ kind: 'runtime', baseURL: `${h.runtime.url}/v1`, token: h.runtime.token }),
    workspace: env.ws,
    policy: Policy.defaults(),
    audit: env.audit,
    prompter: prompter(),
    actor,
    provenance: { client: 'deputy-test/0', workspaceHash: 'sha256:0', provider: 'deputy' },
    ...extra,
  };
}

function modelTurns(h: Harness): RecordedRequest[] {
  return h.model.requests.filter((r) => r.path.endsWith('/responses') || r.path.endsWith('/chat/completions'));
}

/** Each function_call / function_call_output the model was sent in a request, as [type, call_id]. */
function callIdsSent(req: RecordedRequest): string[][] {
  const input = (req.body as { input?: Array<Record<string, unknown>> }).input ?? [];
  return input.filter((i) => i.type === 'function_call' || i.type === 'function_call_output').map((i) => [String(i.type), String(i.call_id)]);
}

for (const api of ['responses', 'chat'] as const) {
  test(`a call id the model reuses in a later step runs again and the turn finishes (${api})`, { timeout: 60_000 }, async (t) => {
    const h = await startHarness(
      [
        { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' }, callId: 'call_1' }] },
        { toolCalls: [{ name: 'workspace_read', arguments: { path: 'b.txt' }, callId: 'call_1' }] },
        { text: 'read both' },
      ],
      { api },
    );
    t.after(() => h.close());
    const env = await setup(t, { 'b.txt': 'bravo\n' });
    const ran: string[] = [];
    const events = new EngineEvents();
    events.listen((_s, e) => void (e.type === 'tool.called' && ran.push(e.argsSummary)));
    const summary = await runTask(deps(h, env, { events }), { task: 'read a and b' });
    assert.equal(summary.status, 'completed');
    assert.equal(summary.finalText, 'read both');
    assert.deepEqual(ran, ['read a.txt', 'read b.txt']);
    // The client saw two distinct call ids; the model saw its own id both times, each call paired with its output.
    const items = await h.client.beta.agents.sessions.items.list(summary.sessionId, { order: 'asc' } as never);
    const calls = items.data.filter((i) => i.type === 'function_call') as Array<{ call_id: string }>;
    assert.equal(calls.length, 2);
    assert.notEqual(calls[0]!.call_id, calls[1]!.call_id);
    assert.ok(!JSON.stringify(items.data).includes('upstream_call_id'), 'the bookkeeping stays off the wire');
    const last = modelTurns(h).at(-1)!;
    if (api === 'responses') {
      assert.deepEqual(callIdsSent(last), [
        ['function_call', 'call_1'],
        ['function_call_output', 'call_1'],
        ['function_call', 'call_1'],
        ['function_call_output', 'call_1'],
      ]);
    } else {
      const messages = (last.body as { messages: Array<{ role: string; tool_call_id?: string; tool_calls?: Array<{ id: string }> }> }).messages;
      assert.deepEqual(
        messages.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : (m.tool_calls ?? []).map((c) => c.id))),
        ['call_1', 'call_1', 'call_1', 'call_1'],
      );
    }
    assert.match(JSON.stringify(last.body), /bravo/);
  });
}

test('a tool result larger than the endpoint accepts is cut with a note, and the task goes on', { timeout: 120_000 }, async (t) => {
  // Retries as a real upstream client has them: a megabytes-long request on a keep-alive socket the model server
  // has just closed is reset, and is safe to send again.
  const h = await startHarness(
    [{ toolCalls: [{ name: 'workspace_read', arguments: { path: 'quotes.txt' } }] }, { text: 'too long, I will ask for less' }],
    { upstream: { maxRetries: 2 } },
  );
  t.after(() => h.close());
  // 2 MiB of quote characters: the largest readable file, which JSON escaping doubles twice on its way.
  const env = await setup(t, { 'quotes.txt': '"'.repeat(2 * 1024 * 1024) });
  const summary = await runTask(deps(h, env, { maxToolOutputBytes: MAX_TOOL_OUTPUT_BYTES.runtime }), { task: 'read quotes.txt' });
  assert.equal(summary.status, 'completed', summary.error);
  const sent = (modelTurns(h)[1]!.body as { input: Array<{ type?: string; output?: string }> }).input.find(
    (i) => i.type === 'function_call_output',
  )!.output!;
  assert.ok(Buffer.byteLength(sent) <= MAX_TOOL_OUTPUT_BYTES.runtime);
  const parsed = JSON.parse(sent) as { note: string; truncated_output: string };
  assert.match(parsed.note, /^output truncated: \d+ of \d+ bytes; ask for a narrower range/);
  assert.ok(parsed.truncated_output.startsWith('{"path":"quotes.txt"'));
});

test('a turn over its cap of tool calls is cancelled at the endpoint and the task says which cap', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([
    ...Array.from({ length: 5 }, () => ({ toolCalls: [{ name: 'workspace_list', arguments: {} }] })),
    { text: 'never reached' },
  ]);
  t.after(() => h.close());
  const env = await setup(t);
  const summary = await runTask(deps(h, env), { task: 'loop', caps: { maxSteps: 2, maxPrompts: 10 } });
  assert.equal(summary.status, 'failed');
  assert.deepEqual(
    summary.capReached && { cap: summary.capReached.cap, max: summary.capReached.max },
    { cap: 'steps', max: 2 },
  );
  assert.match(summary.error!, /cap of 2 tool calls in one turn/);
  // Two calls ran and were answered; the third was never run, and the endpoint's turn was cancelled.
  assert.equal(modelTurns(h).length, 3);
  const session = await waitForSession(h.client, summary.sessionId, (s) => s.status === 'idle');
  assert.deepEqual(session.required_actions ?? [], []);
  const items = await h.client.beta.agents.sessions.items.list(summary.sessionId, { order: 'asc' } as never);
  const calls = items.data.filter((i) => i.type === 'function_call') as Array<{ status: string }>;
  assert.deepEqual(calls.map((c) => c.status), ['completed', 'completed', 'incomplete']);
  const records = await readAudit(env.audit.file);
  assert.equal(records.filter((r) => r.type === 'tool.call').length, 2);
  assert.equal(records.find((r) => r.type === 'error')?.data.cap, 'steps');
});

test('a turn over its cap of permission prompts stops asking and ends saying which cap', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([
    ...Array.from({ length: 4 }, () => ({ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] })),
    { text: 'never reached' },
  ]);
  t.after(() => h.close());
  const env = await setup(t, { '.env': 'TOKEN=x\n' });
  const person = prompter({ allow: false });
  const summary = await runTask(deps(h, env, { prompter: person }), { task: 'read .env', caps: { maxSteps: 50, maxPrompts: 2 } });
  assert.equal(summary.status, 'failed');
  assert.equal(summary.capReached?.cap, 'prompts');
  assert.match(summary.error!, /cap of 2 permission prompts/);
  assert.equal(person.asked, 2, 'the person was not asked past the cap');
});

test('a cancel while a search walks a large tree ends the walk at once', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([{ toolCalls: [{ name: 'workspace_search', arguments: { query: 'needle' } }] }, { text: 'unused' }]);
  t.after(() => h.close());
  const files: Record<string, string> = {};
  for (let d = 0; d < 20; d++) for (let f = 0; f < 50; f++) files[`d${d}/f${f}.txt`] = `needle ${d} ${f}\n`;
  const env = await setup(t, files);
  const cancel = new AbortController();
  let searched: Awaited<ReturnType<Workspace['search']>> | undefined;
  // What the search tool returned (the walk's own account of where it stopped), taken at the workspace.
  const workspace = new Proxy(env.ws, {
    get(target, prop, receiver) {
      if (prop !== 'search') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<Workspace['search']>) => (searched = await target.search(...args));
    },
  });
  const policy = Policy.defaults();
  let decided = 0;
  // The person presses Ctrl-C while the walk is under way (after it has looked at a few files).
  // The runner narrows the policy to its principal and task (new Policy objects): those are watched too.
  const watch = (p: Policy): Policy =>
    new Proxy(p, {
      get(target, prop, receiver) {
        if (prop === 'decide') {
          return (req: Parameters<Policy['decide']>[0]) => {
            if (req.tool === 'workspace_search' && req.path && ++decided === 20) cancel.abort();
            return target.decide(req);
          };
        }
        if (prop === 'withPrincipal' || prop === 'withTask') {
          return (arg: never) => watch((target[prop] as (a: never) => Policy).call(target, arg));
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  const watching = watch(policy);
  const summary = await runTask(deps(h, env, { policy: watching, workspace }), {
    task: 'search',
    cancel: cancel.signal,
  });
  assert.equal(summary.status, 'cancelled');
  const result = searched as { stopped?: { reason: string; visited: number } };
  assert.equal(result.stopped?.reason, 'cancelled');
  assert.ok(result.stopped!.visited < 100, `visited ${result.stopped!.visited} of 1020 entries`);
});

test('a failure while re-reading the session after a reconnect ends the turn failed, never as an unhandled rejection', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([{ toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] }, { text: 'unused' }]);
  t.after(() => h.close());
  const env = await setup(t);
  const unhandled: unknown[] = [];
  let sawUnhandled!: () => void;
  const unhandledSeen = new Promise<null>((resolve) => (sawUnhandled = () => resolve(null)));
  const onUnhandled = (reason: unknown) => {
    unhandled.push(reason);
    sawUnhandled();
  };
  process.on('unhandledRejection', onUnhandled);
  t.after(() => void process.off('unhandledRejection', onUnhandled));

  const session = await h.client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { tools: [] } });
  await h.client.beta.agents.sessions.events.create(session.id, {
    events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'read a' }] }] }],
  });
  await waitForSession(h.client, session.id, (s) => s.status === 'requires_action');
  // The audit trail cannot be written (a full disk, a revoked permission): running the pending call fails.
  await env.audit.close();
  const runner = new ToolRunner({ workspace: env.ws, policy: Policy.defaults(), audit: env.audit, prompter: prompter(), actor, task: 'task_x' });
  const follower = new TurnFollower({ client: h.client, session, taskId: 'task_x', runner, events: EngineEvents.forTask(env.audit, actor, 'task_x') });
  const stream = followSession(h.client, session.id);
  const first = stream.events.next();
  await stream.opened;
  follower.resync();
  const outcome = await Promise.race([follower.follow(stream.events, first), unhandledSeen]);
  await stream.events.return(undefined);
  assert.deepEqual(unhandled.map(String), []);
  assert.equal(outcome?.status, 'failed');
  assert.match(outcome!.error!, /audit log .* is closed/);
  // The endpoint's turn does not wait for ever on the call that could not be run.
  await waitForSession(h.client, session.id, (s) => s.status === 'idle');
});
