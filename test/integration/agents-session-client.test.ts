/**
 * The Agents-API session client against the embedded runtime with the scripted model, through the real `openai`
 * client: create, send, follow (and resume from an event id), submit a tool result, cancel; and failures classified
 * by status, code and type, never by their words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { classifyApiError } from '../../src/agents/api-errors.js';
import { AgentSessionClient } from '../../src/agents/session-client.js';
import { startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';

const tool = { type: 'function' as const, name: 'lookup', description: 'look something up', parameters: { type: 'object', properties: {} } };

/** Reads events until one of `type` arrives (the generator is left open for more). */
async function until(events: AsyncGenerator<AgentSessionEvent>, type: AgentSessionEvent['type'], seen: AgentSessionEvent[] = []): Promise<AgentSessionEvent[]> {
  for (;;) {
    const r = await events.next();
    if (r.done) throw new Error(`stream ended before ${type}; saw ${seen.map((e) => e.type).join(', ')}`);
    seen.push(r.value);
    if (r.value.type === type) return seen;
  }
}

test('a session through the client: send, follow, submit a tool result, and resume the stream after the last event seen', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([{ toolCalls: [{ name: 'lookup', arguments: {}, callId: 'call_1' }] }, { text: 'found it' }]);
  t.after(() => h.close());
  const agents = new AgentSessionClient(h.client);
  const session = await agents.create({ environment: { type: 'none' }, agent: { tools: [tool] } });
  const stream = agents.follow(session.id);
  const first = stream.events.next();
  await stream.opened;
  await agents.send(session.id, 'look it up', 'key-send-1');
  const seen: AgentSessionEvent[] = [(await first).value as AgentSessionEvent];
  await until(stream.events, 'agent.session.requires_action', seen);
  const call = (await agents.retrieve(session.id)).required_actions?.[0];
  assert.ok(call && call.type === 'function_call');
  await agents.submitToolResult(session.id, { type: 'agent.session.input.tool_result', call_id: call.call_id, turn_id: call.turn_id, success: true, output: '42' }, 'key-result-1');
  await until(stream.events, 'agent.session.idle', seen);
  await stream.events.return(undefined);
  const text = seen.filter((e) => e.type === 'agent.session.turn.output_text.delta').map((e) => (e as { delta: string }).delta).join('');
  assert.equal(text, 'found it');

  // Resuming after an event replays exactly what came after it.
  const cut = seen.findIndex((e) => e.type === 'agent.session.requires_action');
  const resumed = agents.follow(session.id, { lastEventId: seen[cut]!.event_id });
  const again = await until(resumed.events, 'agent.session.idle');
  await resumed.events.return(undefined);
  assert.deepEqual(again.map((e) => e.event_id), seen.slice(cut + 1).map((e) => e.event_id));
});

test('a result for a call the service has not registered is classified by its code and retried, then refused', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([]);
  t.after(() => h.close());
  const agents = new AgentSessionClient(h.client);
  const session = await agents.create({ environment: { type: 'none' }, agent: { tools: [tool] } });
  const sent: string[] = [];
  const counting = new OpenAI({
    apiKey: h.runtime.token,
    baseURL: `${h.runtime.url}/v1`,
    maxRetries: 0,
    fetch: (url, init) => {
      sent.push(String(url));
      return fetch(url, init);
    },
  });
  const err = await new AgentSessionClient(counting)
    .submitToolResult(session.id, { type: 'agent.session.input.tool_result', call_id: 'call_nobody', turn_id: 'turn_x', success: true, output: 'x' }, 'key-x')
    .then(() => null, (e: unknown) => e);
  assert.ok(err, 'refused');
  assert.equal(classifyApiError(err).kind, 'callNotRegistered');
  assert.equal(sent.length, 4, 'sent once and retried three times while the call might still be registering');
});

test('failures are classified by status and code, never by their text', { timeout: 60_000 }, async (t) => {
  const h = await startHarness([{ text: 'unused' }]);
  t.after(() => h.close());
  const badToken = new AgentSessionClient(h.clientAt('/v1', 'not-the-token'));
  assert.equal(classifyApiError(await badToken.retrieve('sess_x').catch((e: unknown) => e)).kind, 'unauthenticated');
  const agents = new AgentSessionClient(h.client);
  assert.equal(classifyApiError(await agents.retrieve('sess_does_not_exist').catch((e: unknown) => e)).kind, 'notFound');
  const nowhere = new AgentSessionClient(new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 }));
  assert.equal(classifyApiError(await nowhere.retrieve('sess_x').catch((e: unknown) => e)).kind, 'unreachable');
  // Words alone are nothing: an ordinary error that says what a service would say is not an API failure.
  assert.equal(classifyApiError(new Error('400 Unknown pending tool call: call_1')).kind, 'other');
  assert.equal(classifyApiError(new Error('401 Unauthorized')).kind, 'other');

  // Cancel goes through; the session comes to rest.
  const session = await agents.create({ environment: { type: 'none' }, agent: { tools: [] } });
  await agents.send(session.id, 'hello', 'k-send');
  await agents.cancel(session.id, 'k-cancel');
  const rested = await waitForSession(h.client, session.id, (s) => s.status === 'idle' || s.status === 'failed');
  assert.ok(rested);
});
