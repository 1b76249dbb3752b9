// Who may call the runtime and what it refuses: 401s, owner isolation, and each bad-input case in the
// OpenAI error shape, with the session left consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { Authenticator } from '../../src/runtime/index.js';
import { startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

/** The server's own message, as the `openai` helper compares it (APIError.message adds the status). */
function errorMessage(err: InstanceType<typeof OpenAI.APIError>): unknown {
  return (err.error as { message?: unknown } | undefined)?.message;
}

test('missing or wrong bearer token: 401 in the OpenAI error shape on both prefixes; the token is never logged', async () => {
  const lines: string[] = [];
  const h = await startHarness([], { runtime: { log: (l) => lines.push(l) } });
  try {
    for (const prefix of ['/v1', '/openai/v1'] as const) {
      const wrong = await apiError(h.clientAt(prefix, 'not-the-token').beta.agents.sessions.list());
      assert.equal(wrong.status, 401);
      assert.equal(wrong.type, 'invalid_request_error');
      assert.equal(wrong.code, 'invalid_api_key');
      assert.match(wrong.message, /Bearer/);
    }
    const none = await fetch(`${h.runtime.url}/v1/agents/sessions`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(body.error.code, 'invalid_api_key');

    await h.client.beta.agents.sessions.create({ environment: { type: 'none' } });
    assert.ok(lines.some((l) => l.includes('POST /v1/agents/sessions 200')));
    assert.ok(!lines.some((l) => l.includes(h.runtime.token) || l.includes('upstream-secret')));
  } finally {
    await h.close();
  }
});

test('sessions belong to the principal a custom authenticator returns; others get 404 and do not see them', async () => {
  const authenticate: Authenticator = async ({ headers }) => {
    const user = headers['x-test-user'];
    return typeof user === 'string' ? { principal: user } : null;
  };
  const h = await startHarness([{ text: 'hi alice' }], { runtime: { authenticate } });
  try {
    const alice = h.clientAt('/v1', 'ignored', { 'x-test-user': 'alice' }).beta.agents.sessions;
    const bob = h.clientAt('/openai/v1', 'ignored', { 'x-test-user': 'bob' }).beta.agents.sessions;
    const session = await alice.create({ environment: { type: 'none' } });

    assert.equal((await apiError(bob.retrieve(session.id))).status, 404);
    assert.equal((await apiError(bob.events.create(session.id, { events: [{ type: 'agent.session.input.cancel' }] }))).status, 404);
    assert.equal((await apiError(bob.items.list(session.id))).status, 404);
    assert.equal((await apiError(bob.events.stream(session.id))).status, 404);
    assert.equal((await apiError(bob.delete(session.id))).status, 404);
    assert.deepEqual((await bob.list()).data, []);
    assert.deepEqual((await alice.list()).data.map((s) => s.id), [session.id]);

    const noUser = await apiError(h.clientAt('/v1', h.runtime.token).beta.agents.sessions.list());
    assert.equal(noUser.status, 401, 'the bearer token is not accepted when a custom authenticator is configured');

    const deleted = await alice.delete(session.id);
    assert.deepEqual(deleted, { id: session.id, object: 'agent.session.deleted', deleted: true });
    assert.equal((await apiError(alice.retrieve(session.id))).status, 404);
  } finally {
    await h.close();
  }
});

test('bad input: 404, 400, 413 in the OpenAI shape, and the session stays as it was', async () => {
  const h = await startHarness([{ toolCalls: [{ name: 'workspace_list', arguments: {}, callId: 'real-call' }] }], {
    runtime: { maxBodyBytes: 4096 },
  });
  try {
    const client = h.client;
    const sessions = client.beta.agents.sessions;

    const missing = await apiError(sessions.retrieve('sess_does_not_exist'));
    assert.equal(missing.status, 404);
    assert.equal(missing.type, 'invalid_request_error');
    assert.match(missing.message, /sess_does_not_exist/);

    const malformed = await apiError(client.post('/agents/sessions', { body: '{"environment": ', headers: { 'content-type': 'application/json' } }));
    assert.equal(malformed.status, 400);
    assert.equal(malformed.type, 'invalid_request_error');
    assert.match(malformed.message, /not valid JSON/);

    const huge = await apiError(sessions.create({ environment: { type: 'none' }, agent: { instructions: 'x'.repeat(10_000) } }));
    assert.equal(huge.status, 413);
    assert.match(huge.message, /4096 bytes/);

    const badTool = await apiError(sessions.create({ environment: { type: 'none' }, agent: { tools: [{ type: 'web_search' } as never] } }));
    assert.equal(badTool.status, 400);
    assert.equal(badTool.param, 'agent.tools[0].type');

    const badMetadata = await apiError(sessions.create({ environment: { type: 'none' }, metadata: { k: 5 as unknown as string } }));
    assert.equal(badMetadata.status, 400);

    const session = await sessions.create({
      environment: { type: 'none' },
      agent: { tools: [{ type: 'function', name: 'workspace_list', description: 'list', parameters: { type: 'object' } }] },
    });

    const unknownType = await apiError(sessions.events.create(session.id, { events: [{ type: 'agent.session.input.bogus' } as never] }));
    assert.equal(unknownType.status, 400);
    assert.equal(unknownType.param, 'events[0].type');
    assert.match(unknownType.message, /Unknown event type/);

    const notPending = await apiError(
      sessions.events.create(session.id, {
        events: [{ type: 'agent.session.input.tool_result', call_id: 'ghost', turn_id: 'turn_x', success: true, output: 'x' }],
      }),
    );
    assert.equal(notPending.status, 400);
    assert.equal(errorMessage(notPending), 'Unknown pending tool call: ghost');
    assert.equal(notPending.code, 'invalid_request_error');
    assert.equal((await sessions.retrieve(session.id)).status, 'idle');

    // A batch with one bad event applies none of it.
    const mixed = await apiError(
      sessions.events.create(session.id, {
        events: [
          { type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] },
          { type: 'agent.session.input.tool_result', call_id: 'ghost', turn_id: 't', success: true, output: '' },
        ],
      }),
    );
    assert.equal(mixed.status, 400);
    assert.equal((await sessions.retrieve(session.id)).status, 'idle');
    assert.equal((await sessions.items.list(session.id)).data.length, 0);
    assert.equal(h.model.requests.length, 0);

    // With a real call pending: a message is refused (busy), a result for another call is unknown, the real one works.
    await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'go' }] }] }] });
    const waiting = await waitForSession(client, session.id, (s) => s.status === 'requires_action');
    const busy = await apiError(
      sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'more' }] }] }] }),
    );
    assert.equal(busy.status, 409);
    const action = waiting.required_actions[0]!;
    assert.ok(action.type === 'function_call');
    const wrongTurn = await apiError(
      sessions.events.create(session.id, {
        events: [{ type: 'agent.session.input.tool_result', call_id: 'real-call', turn_id: 'turn_other', success: true, output: '' }],
      }),
    );
    assert.equal(errorMessage(wrongTurn), 'Unknown pending tool call: real-call');
    const still = await sessions.retrieve(session.id);
    assert.equal(still.status, 'requires_action');
    assert.deepEqual(still.required_actions, waiting.required_actions);

    const unknownRoute = await apiError(client.get('/agents/nothing-here'));
    assert.equal(unknownRoute.status, 404);
  } finally {
    await h.close();
  }
});
