// What the runtime keeps: idempotent inputs, event replay on reconnect, state across a restart, spend limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { collectEvents, startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';

const message = (text: string) => ({
  type: 'agent.session.input.message' as const,
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text }] }],
});

test('the same Idempotency-Key twice starts one turn; reusing it for another request is refused', async () => {
  const h = await startHarness([{ text: 'only once' }, { text: 'unexpected second turn' }]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' } });
    await sessions.events.create(session.id, { events: [message('hello')], 'Idempotency-Key': 'key-1' });
    await waitForSession(h.client, session.id, (s) => s.status === 'idle' && s.usage !== null);
    await sessions.events.create(session.id, { events: [message('hello')], 'Idempotency-Key': 'key-1' });
    await assert.rejects(sessions.events.create(session.id, { events: [message('different')], 'Idempotency-Key': 'key-1' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 409);
      return true;
    });
    const after = await sessions.retrieve(session.id);
    assert.equal(after.status, 'idle');
    assert.equal(h.model.requests.length, 1, 'the retried input did not reach the model again');
    const items = (await sessions.items.list(session.id, { order: 'asc' })).data;
    assert.equal(items.filter((i) => i.type === 'message' && i.role === 'user').length, 1);
  } finally {
    await h.close();
  }
});

test('reconnecting with Last-Event-ID (or ?after=) replays exactly what was missed, then continues live', async () => {
  const h = await startHarness([
    { toolCalls: [{ name: 'workspace_list', arguments: {}, callId: 'c1' }], text: 'Listing the workspace now.' },
    { text: 'All done here.' },
    { text: 'Live again after the replay.' },
  ]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({
      environment: { type: 'none' },
      agent: { tools: [{ type: 'function', name: 'workspace_list', description: 'list', parameters: { type: 'object', properties: {} } }] },
    });
    // First connection: drops after the turn starts waiting for the tool.
    const first = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.requires_action');
    await sessions.events.create(session.id, { events: [message('list it')] });
    const before = await first.done;
    const lastSeen = before.at(-1)!.event_id;

    // While disconnected, the turn goes on.
    await sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.tool_result', call_id: 'c1', turn_id: before[0]!.type === 'agent.session.turn.created' ? before[0].turn_id : '', success: true, output: '[]' }],
    });
    await waitForSession(h.client, session.id, (s) => s.status === 'idle');

    // Resume: the missed events come first, then the stream stays live for the next turn.
    const idles = (all: { type: string }[]) => all.filter((e) => e.type === 'agent.session.idle').length;
    const resumed = await collectEvents(h.client, session.id, (_e, all) => idles(all) === 2, { lastEventId: lastSeen });
    while (idles(resumed.events) === 0) await new Promise((r) => setTimeout(r, 5));
    await sessions.events.create(session.id, { events: [message('once more')] });
    const resumedAll = await resumed.done;
    const firstIdle = resumedAll.findIndex((e) => e.type === 'agent.session.idle');
    const after = resumedAll.slice(0, firstIdle + 1);
    const liveAfter = resumedAll.slice(firstIdle + 1);
    assert.equal(liveAfter[0]!.type, 'agent.session.turn.created');
    assert.ok(liveAfter.some((e) => e.type === 'agent.session.turn.output_text.delta' && e.delta.includes('Live')));
    const viaQuery = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.idle', { after: lastSeen });
    // (stops at the first idle: the replayed one)
    assert.deepEqual((await viaQuery.done).map((e) => e.event_id), after.map((e) => e.event_id));

    const ids = [...before, ...resumedAll].map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
    assert.equal(after[0]!.type, 'agent.session.turn.item.added', 'replay starts right after the last seen event');
    assert.ok(after.some((e) => e.type === 'agent.session.turn.completed'));

    // Replaying from the session's first event gives the whole log: exactly both halves, in order.
    const everything = await collectEvents(h.client, session.id, (_e, all) => all.length === ids.length - 1, {
      after: ids[0]!,
    });
    const all = await everything.done;
    assert.deepEqual(all.map((e) => e.event_id), ids.slice(1));

    await assert.rejects(
      collectEvents(h.client, session.id, () => true, { lastEventId: 'event_unknown' }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400,
    );
  } finally {
    await h.close();
  }
});

test('a restart keeps sessions, items and a pending tool call; the turn then finishes', async () => {
  const h = await startHarness([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'x' }, callId: 'c-restart' }] },
    { text: 'finished after restart' },
  ]);
  try {
    let sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({
      environment: { type: 'none' },
      agent: { tools: [{ type: 'function', name: 'workspace_read', description: 'read', parameters: { type: 'object' } }] },
      metadata: { owner: 'me' },
    });
    await sessions.events.create(session.id, { events: [message('read x')] });
    const waiting = await waitForSession(h.client, session.id, (s) => s.status === 'requires_action');
    const oldToken = h.runtime.token;

    await h.restart();
    assert.notEqual(h.runtime.token, oldToken, 'each start has a fresh token');
    sessions = h.client.beta.agents.sessions;
    const back = await sessions.retrieve(session.id);
    assert.equal(back.status, 'requires_action');
    assert.deepEqual(back.required_actions, waiting.required_actions);
    assert.deepEqual(back.metadata, { owner: 'me' });
    assert.equal((await sessions.list()).data.length, 1);

    const action = back.required_actions[0]!;
    assert.equal(action.type, 'function_call');
    if (action.type !== 'function_call') return;
    const live = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.idle');
    await sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.tool_result', call_id: action.call_id, turn_id: action.turn_id, success: true, output: 'x content' }],
    });
    await live.done;
    const items = (await sessions.items.list(session.id, { order: 'asc' })).data;
    assert.deepEqual(items.map((i) => i.type), ['message', 'function_call', 'function_call_output', 'message']);
    const last = items.at(-1)!;
    assert.ok(last.type === 'message' && last.content[0]?.type === 'output_text' && last.content[0].text === 'finished after restart');
  } finally {
    await h.close();
  }
});

test('a turn cut off by a shutdown comes back failed with a clear error, and the token file is 0600', async () => {
  const h = await startHarness([{ text: 'never sent', delayMs: 60_000 }]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' } });
    await sessions.events.create(session.id, { events: [message('slow one')] });
    while (h.model.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await h.restart();
    const back = await h.client.beta.agents.sessions.retrieve(session.id);
    assert.equal(back.status, 'idle', 'a turn cut off by a restart fails; the session goes on');
    assert.match(back.error ?? '', /stopped while this turn was running.*Send the message again/);

    const stat = await fs.stat(h.runtime.tokenFile);
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal(path.dirname(h.runtime.tokenFile), h.dataDir);
    assert.equal((await fs.readFile(h.runtime.tokenFile, 'utf8')).trim(), h.runtime.token);
  } finally {
    await h.close();
  }
});

test('spend_control: consumption is reported in cents and a session at its limit stops the next model call', async () => {
  // Default pricing: 250 cents per million input tokens; 20,000 input tokens = 5 cents.
  const h = await startHarness([
    { text: 'expensive answer', usage: { input_tokens: 20_000, output_tokens: 0 } },
    { text: 'must never be requested' },
  ]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' }, spend_control: { limit: 3 } });
    assert.deepEqual(session.spend_control, { limit: 3, consumed: 0 });
    const first = await sessions.stream(session.id, { input: 'one' }).finalResult();
    assert.equal(first.output_text, 'expensive answer');
    const spent = await sessions.retrieve(session.id);
    assert.deepEqual(spent.spend_control, { limit: 3, consumed: 5 });

    const live = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.idle');
    await sessions.events.create(session.id, { events: [message('two')] });
    const events = await live.done;
    const failed = events.find((e) => e.type === 'agent.session.turn.failed');
    assert.ok(failed && failed.type === 'agent.session.turn.failed');
    assert.equal(failed.turn.error?.code, 'session_budget_exceeded');
    assert.match(failed.turn.error?.message ?? '', /spend limit: 5 of 3 US cents/);
    assert.equal(h.model.requests.length, 1, 'no model call once the limit is reached');
  } finally {
    await h.close();
  }
});

test('spend_control stops a turn whose model call pushed it over the limit instead of asking for tools', async () => {
  const h = await startHarness([{ toolCalls: [{ name: 'workspace_list', arguments: {} }], usage: { input_tokens: 40_000, output_tokens: 0 } }]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({
      environment: { type: 'none' },
      spend_control: { limit: 1 },
      agent: { tools: [{ type: 'function', name: 'workspace_list', description: 'list', parameters: { type: 'object' } }] },
    });
    await sessions.events.create(session.id, { events: [message('go')] });
    const failed = await waitForSession(h.client, session.id, (s) => s.status === 'idle' && s.error !== null);
    assert.deepEqual(failed.required_actions, []);
    assert.match(failed.error ?? '', /spend limit/);
  } finally {
    await h.close();
  }
});
