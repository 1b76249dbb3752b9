// Turns on the Deputy runtime, driven only through the `openai` client: client tools by hand and through the
// package's own `sessions.stream` helper, chat-completions mode, cancel mid-turn, upstream failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { collectEvents, startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';

const READ_TOOL = {
  type: 'function' as const,
  name: 'workspace_read',
  description: 'Read a file',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

test('a client tool turn: requires_action, tool_result, then idle with the answer', async () => {
  const h = await startHarness([
    { text: 'Let me look.', toolCalls: [{ name: 'workspace_read', arguments: { path: 'README.md' }, callId: 'call_read' }], usage: { input_tokens: 20, output_tokens: 4 } },
    { text: 'The readme says hello.', usage: { input_tokens: 30, output_tokens: 6 } },
  ]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({
      environment: { type: 'none' },
      agent: { model: 'gpt-test', instructions: 'Be brief.', tools: [READ_TOOL] },
      metadata: { task: 't1' },
    });
    assert.equal(session.status, 'idle');
    assert.equal(session.agent.model, 'gpt-test');
    assert.deepEqual(session.metadata, { task: 't1' });
    assert.equal(session.agent.tools[0]?.type === 'function' && session.agent.tools[0].name, 'workspace_read');

    const live = await collectEvents(h.client, session.id, (e, all) => e.type === 'agent.session.idle' && all.some((x) => x.type === 'agent.session.turn.completed'));
    await sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'What does the readme say?' }] }] }],
    });
    const waiting = await waitForSession(h.client, session.id, (s) => s.status === 'requires_action');
    assert.equal(waiting.required_actions.length, 1);
    const action = waiting.required_actions[0]!;
    assert.equal(action.type, 'function_call');
    if (action.type !== 'function_call') return;
    assert.equal(action.name, 'workspace_read');
    assert.equal(action.call_id, 'call_read');
    assert.deepEqual(JSON.parse(action.arguments as string), { path: 'README.md' });

    await sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.tool_result', call_id: action.call_id, turn_id: action.turn_id, success: true, output: '# hello' }],
    });
    const events = await live.done;
    const idle = await waitForSession(h.client, session.id, (s) => s.status === 'idle');
    assert.deepEqual(idle.required_actions, []);
    assert.equal(idle.usage?.input_tokens, 50);
    assert.equal(idle.usage?.output_tokens, 10);

    // What the model saw: instructions, tools, and on the second call the tool's output.
    const [first, second] = h.model.requests;
    assert.equal(first!.body.model, 'gpt-test');
    assert.equal(first!.body.instructions, 'Be brief.');
    assert.equal(first!.body.tools[0].name, 'workspace_read');
    assert.equal(first!.headers.authorization, 'Bearer upstream-secret');
    const output = second!.body.input.find((i: { type?: string }) => i.type === 'function_call_output');
    assert.deepEqual(output, { type: 'function_call_output', call_id: 'call_read', output: '# hello' });

    const types = events.map((e) => e.type);
    assert.equal(types[0], 'agent.session.turn.created');
    assert.ok(types.includes('agent.session.requires_action'));
    assert.ok(types.includes('agent.session.turn.output_text.delta'));
    assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'event ids are unique');
    const deltas = events.filter((e): e is Extract<AgentSessionEvent, { type: 'agent.session.turn.output_text.delta' }> => e.type === 'agent.session.turn.output_text.delta');
    assert.equal(deltas.map((d) => d.delta).join(''), 'Let me look.The readme says hello.');

    const items = [];
    for await (const item of sessions.items.list(session.id, { order: 'asc', limit: 2 })) items.push(item);
    assert.deepEqual(
      items.map((i) => (i.type === 'message' ? `${i.type}:${i.role}` : i.type)),
      ['message:user', 'message:assistant', 'function_call', 'function_call_output', 'message:assistant'],
    );
    const final = items[4]!;
    assert.ok(final.type === 'message' && final.content[0]?.type === 'output_text' && final.content[0].text === 'The readme says hello.');
  } finally {
    await h.close();
  }
});

test('the openai sessions.stream helper with toolHandlers and finalResult works unchanged (via /openai/v1)', async () => {
  const h = await startHarness([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }, { name: 'workspace_read', arguments: { path: 'b.txt' } }] },
    (req) => {
      const outputs = req.body.input.filter((i: { type?: string }) => i.type === 'function_call_output').map((i: { output: string }) => i.output);
      return { text: `Both files: ${outputs.join(' + ')}` };
    },
  ]);
  try {
    const client = h.clientAt('/openai/v1');
    const session = await client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { tools: [READ_TOOL] } });
    assert.equal(session.agent.model, 'scripted-default', 'the upstream default model applies');
    const seen: string[] = [];
    const result = await client.beta.agents.sessions
      .stream(session.id, {
        input: 'Read a.txt and b.txt',
        toolHandlers: {
          workspace_read: async (args) => {
            seen.push(String(args.path));
            return `content of ${String(args.path)}`;
          },
        },
      })
      .finalResult();
    assert.deepEqual(seen, ['a.txt', 'b.txt'], 'both parallel calls were pending at once and each ran');
    assert.equal(result.output_text, 'Both files: content of a.txt + content of b.txt');
    assert.equal(result.turn.status, 'completed');
    assert.equal(h.model.remaining(), 0);
  } finally {
    await h.close();
  }
});

test('chat-completions mode runs the same loop, tool results as tool messages', async () => {
  const h = await startHarness(
    [
      { toolCalls: [{ name: 'workspace_read', arguments: { path: 'x' }, callId: 'c1' }] },
      { text: 'done via chat' },
    ],
    { api: 'chat' },
  );
  try {
    const session = await h.client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { instructions: 'sys', tools: [READ_TOOL] } });
    const result = await h.client.beta.agents.sessions
      .stream(session.id, { input: 'go', toolHandlers: { workspace_read: () => ({ text: 'file x' }) } })
      .finalResult();
    assert.equal(result.output_text, 'done via chat');
    const second = h.model.requests[1]!;
    assert.equal(second.path, '/v1/chat/completions');
    assert.deepEqual(second.body.messages[0], { role: 'system', content: 'sys' });
    const assistant = second.body.messages.find((m: { role: string }) => m.role === 'assistant');
    assert.equal(assistant.tool_calls[0].id, 'c1');
    const tool = second.body.messages.find((m: { role: string }) => m.role === 'tool');
    assert.deepEqual(tool, { role: 'tool', tool_call_id: 'c1', content: '{"text":"file x"}' });
    assert.equal(second.body.tools[0].function.name, 'workspace_read');
  } finally {
    await h.close();
  }
});

test('cancel mid-turn aborts the model call; the turn ends cancelled and the session is idle again', async () => {
  const h = await startHarness([{ text: 'too late', delayMs: 60_000 }, { text: 'second answer' }]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' } });
    const live = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.idle');
    await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] }] });
    while (h.model.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await sessions.retrieve(session.id)).status, 'in_progress');
    await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.cancel' }] });
    const events = await live.done;
    const cancelled = events.find((e) => e.type === 'agent.session.turn.cancelled');
    assert.ok(cancelled && cancelled.type === 'agent.session.turn.cancelled');
    assert.equal(cancelled.turn.status, 'cancelled');
    assert.equal((await sessions.retrieve(session.id)).status, 'idle');

    const result = await sessions.stream(session.id, { input: 'again' }).finalResult();
    assert.equal(result.output_text, 'second answer');
  } finally {
    await h.close();
  }
});

test('an unreachable upstream fails the turn with a message naming the URL, the model and the options to set', async () => {
  const h = await startHarness([], { upstream: { baseURL: 'http://127.0.0.1:9/v1', model: 'my-model' } });
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' } });
    await assert.rejects(sessions.stream(session.id, { input: 'hi' }).finalResult());
    const failed = await waitForSession(h.client, session.id, (s) => s.status === 'idle' && s.error !== null);
    assert.match(failed.error ?? '', /http:\/\/127\.0\.0\.1:9\/v1\/responses/);
    assert.match(failed.error ?? '', /"my-model"/);
    assert.match(failed.error ?? '', /--model-base-url/);
    assert.match(failed.error ?? '', /--model-api-key-env/);
    assert.doesNotMatch(failed.error ?? '', /upstream-secret/);
  } finally {
    await h.close();
  }
});

test('an upstream 404 says to check --model; the session takes a new message after a failure', async () => {
  const h = await startHarness([{ error: { status: 404, message: 'The model `nope` does not exist' } }, { text: 'recovered' }]);
  try {
    const sessions = h.client.beta.agents.sessions;
    const session = await sessions.create({ environment: { type: 'none' }, agent: { model: 'nope' } });
    const live = await collectEvents(h.client, session.id, (e) => e.type === 'agent.session.idle');
    await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] }] });
    const events = await live.done;
    const failedTurn = events.find((e) => e.type === 'agent.session.turn.failed');
    assert.ok(failedTurn && failedTurn.type === 'agent.session.turn.failed');
    assert.equal(failedTurn.turn.error?.code, 'resource_not_found');
    assert.match(failedTurn.turn.error?.message ?? '', /answered 404.*does not exist.*--model/);

    // The openai package's own helper goes on with the session after the failed turn.
    const result = await sessions.stream(session.id, { input: 'retry' }).finalResult();
    assert.equal(result.output_text, 'recovered');
    const s = await sessions.retrieve(session.id);
    assert.equal(s.status, 'idle');
    assert.equal(s.error, null);
  } finally {
    await h.close();
  }
});
