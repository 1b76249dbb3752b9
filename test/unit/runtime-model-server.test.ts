// The scripted upstream model, driven by the real `openai` client over both APIs, streaming and not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startScriptedModel } from '../fixtures/model-server.js';

function client(baseURL: string) {
  return new OpenAI({ apiKey: 'test-key', baseURL, maxRetries: 0 });
}

test('responses: streaming text and tool calls arrive as the SDK parses them', async () => {
  const model = await startScriptedModel([
    { text: 'Hello there, world', usage: { input_tokens: 7, output_tokens: 3 } },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.ts' }, callId: 'call_1' }, { name: 'workspace_list', arguments: {} }] },
  ]);
  try {
    const openai = client(model.baseURL);
    const stream = await openai.responses.create({ model: 'm1', input: 'hi', stream: true });
    let text = '';
    let usage: OpenAI.Responses.ResponseUsage | undefined;
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') usage = event.response.usage;
    }
    assert.equal(text, 'Hello there, world');
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 1);
    assert.deepEqual([usage?.input_tokens, usage?.output_tokens, usage?.total_tokens], [7, 3, 10]);

    const second = await openai.responses.create({ model: 'm1', input: 'go', stream: true });
    const calls: { name: string; args: string; callId: string }[] = [];
    let argDeltas = '';
    for await (const event of second) {
      if (event.type === 'response.function_call_arguments.delta') argDeltas += event.delta;
      if (event.type === 'response.output_item.done' && event.item.type === 'function_call') {
        calls.push({ name: event.item.name, args: event.item.arguments, callId: event.item.call_id });
      }
    }
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0], { name: 'workspace_read', args: '{"path":"a.ts"}', callId: 'call_1' });
    assert.equal(calls[1]!.args, '{}');
    assert.ok(calls[1]!.callId.length > 0);
    assert.equal(argDeltas, '{"path":"a.ts"}{}');
    assert.equal(model.remaining(), 0);
    assert.equal(model.requests[0]!.body.model, 'm1');
    assert.equal(model.requests[0]!.headers.authorization, 'Bearer test-key');
  } finally {
    await model.close();
  }
});

test('responses: non-streaming returns a Response with output_text and usage', async () => {
  const model = await startScriptedModel([{ text: 'plain answer' }]);
  try {
    const response = await client(model.baseURL).responses.create({ model: 'm2', input: 'hi' });
    assert.equal(response.output_text, 'plain answer');
    assert.equal(response.model, 'm2');
    assert.equal(response.usage?.total_tokens, 15);
  } finally {
    await model.close();
  }
});

test('chat completions: streaming deltas, tool calls and a final usage chunk', async () => {
  const model = await startScriptedModel([
    { text: 'one two three', usage: { input_tokens: 4, output_tokens: 2 } },
    { toolCalls: [{ name: 'propose_changes', arguments: { summary: 's', changes: [] }, callId: 'c9' }] },
  ]);
  try {
    const openai = client(model.baseURL);
    const stream = await openai.chat.completions.create({
      model: 'm3',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'one two three');
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [4, 2]);

    const tools = await openai.chat.completions.create({ model: 'm3', messages: [{ role: 'user', content: 'go' }], stream: true });
    const args: string[] = [];
    let name = '';
    let id = '';
    let finish: string | null = null;
    for await (const chunk of tools) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        if (call.function?.name) name = call.function.name;
        if (call.id) id = call.id;
        args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    assert.deepEqual([name, id, finish], ['propose_changes', 'c9', 'tool_calls']);
    assert.deepEqual(JSON.parse(args[0]!), { summary: 's', changes: [] });
  } finally {
    await model.close();
  }
});

test('chat completions: non-streaming message with tool calls', async () => {
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_list', arguments: { depth: 1 } }], text: 'looking' }]);
  try {
    const completion = await client(model.baseURL).chat.completions.create({ model: 'm4', messages: [{ role: 'user', content: 'x' }] });
    const message = completion.choices[0]!.message;
    assert.equal(message.content, 'looking');
    const call = message.tool_calls![0]!;
    assert.equal(call.type, 'function');
    assert.equal(call.type === 'function' && call.function.name, 'workspace_list');
    assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
  } finally {
    await model.close();
  }
});

test('function entries see the request; errors and an exhausted script answer with clear statuses', async () => {
  const model = await startScriptedModel([
    (req) => ({ text: `you said ${req.body.input}` }),
    { error: { status: 429, message: 'slow down' } },
  ]);
  try {
    const openai = client(model.baseURL);
    const first = await openai.responses.create({ model: 'm', input: 'ping' });
    assert.equal(first.output_text, 'you said ping');
    await assert.rejects(openai.responses.create({ model: 'm', input: 'x' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 429);
      assert.match(err.message, /slow down/);
      return true;
    });
    await assert.rejects(openai.responses.create({ model: 'm', input: 'y' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 500);
      assert.match(err.message, /request #3 .*no scripted turn left/);
      return true;
    });
    assert.equal(model.requests.length, 3);
  } finally {
    await model.close();
  }
});

test('delayMs holds the response; an aborted request does not keep the server busy', async () => {
  const model = await startScriptedModel([{ text: 'late', delayMs: 60_000 }]);
  try {
    const controller = new AbortController();
    const pending = client(model.baseURL).responses.create({ model: 'm', input: 'x', stream: true }, { signal: controller.signal });
    while (model.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof OpenAI.APIUserAbortError);
  } finally {
    await model.close();
  }
});
