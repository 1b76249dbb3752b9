// How the runtime's session items become the upstream conversation, for both APIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { describeUpstreamError, toChatMessages, toResponsesInput } from '../../src/runtime/upstream.js';
import type { RuntimeItem } from '../../src/runtime/wire.js';

const history: RuntimeItem[] = [
  { id: 'm1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'read two files' }], phase: null, status: 'completed', turn_id: 't1' },
  { id: 'm2', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Reading.' }], phase: 'commentary', status: 'completed', turn_id: 't1' },
  { id: 'f1', type: 'function_call', call_id: 'a', name: 'workspace_read', arguments: '{"path":"a"}', status: 'completed', turn_id: 't1' },
  { id: 'f2', type: 'function_call', call_id: 'b', name: 'workspace_read', arguments: '{"path":"b"}', status: 'completed', turn_id: 't1' },
  { id: 'o1', type: 'function_call_output', call_id: 'a', output: 'A', error: null, status: 'completed', turn_id: 't1' },
  { id: 'o2', type: 'function_call_output', call_id: 'b', output: null, error: 'denied by the user', status: 'failed', turn_id: 't1' },
  // A later turn was cancelled while this call waited: it has no output and must not reach the model.
  { id: 'f3', type: 'function_call', call_id: 'c', name: 'workspace_list', arguments: '{}', status: 'incomplete', turn_id: 't2' },
  { id: 'm3', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'never mind' }], phase: null, status: 'completed', turn_id: 't3' },
];

test('responses input keeps calls with their outputs, reports failures as errors, drops unanswered calls', () => {
  const input = toResponsesInput(history);
  assert.deepEqual(input, [
    { role: 'user', content: [{ type: 'input_text', text: 'read two files' }] },
    { role: 'assistant', content: 'Reading.' },
    { type: 'function_call', call_id: 'a', name: 'workspace_read', arguments: '{"path":"a"}' },
    { type: 'function_call', call_id: 'b', name: 'workspace_read', arguments: '{"path":"b"}' },
    { type: 'function_call_output', call_id: 'a', output: 'A' },
    { type: 'function_call_output', call_id: 'b', output: 'Error: denied by the user' },
    { role: 'user', content: [{ type: 'input_text', text: 'never mind' }] },
  ]);
});

test('chat messages put parallel calls on the assistant message that preceded them', () => {
  const messages = toChatMessages('be careful', history);
  assert.deepEqual(messages, [
    { role: 'system', content: 'be careful' },
    { role: 'user', content: 'read two files' },
    {
      role: 'assistant',
      content: 'Reading.',
      tool_calls: [
        { id: 'a', type: 'function', function: { name: 'workspace_read', arguments: '{"path":"a"}' } },
        { id: 'b', type: 'function', function: { name: 'workspace_read', arguments: '{"path":"b"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'a', content: 'A' },
    { role: 'tool', tool_call_id: 'b', content: 'Error: denied by the user' },
    { role: 'user', content: 'never mind' },
  ]);
});

test('upstream failures name the endpoint and model and never carry the API key', () => {
  const config = { baseURL: 'http://models.internal/v1', model: 'm', apiKey: 'sk-very-secret', api: 'chat' as const };
  const auth = describeUpstreamError(new OpenAI.AuthenticationError(401, { message: 'bad key' }, undefined, new Headers()), config, 'big-model');
  assert.equal(auth.code, 'authentication_error');
  assert.match(auth.message, /POST http:\/\/models\.internal\/v1\/chat\/completions \(model "big-model"\) answered 401: bad key/);
  assert.match(auth.message, /--model-api-key-env/);
  assert.doesNotMatch(auth.message, /sk-very-secret/);
  const limited = describeUpstreamError(new OpenAI.RateLimitError(429, { message: 'slow' }, undefined, new Headers()), config, 'm');
  assert.equal(limited.code, 'rate_limit_exceeded');
});

test('upstream failures drop credentials in the URL and redact what a server echoes back', () => {
  const config = { baseURL: 'https://bob:hunter2pass@llm.example/v1', model: 'm', apiKey: 'plain-key-without-a-known-shape-123', api: 'responses' as const };
  const echoed = describeUpstreamError(
    new OpenAI.BadRequestError(400, { message: 'bad request with Authorization: Bearer plain-key-without-a-known-shape-123 and AKIAABCDEFGHIJKLMNOP' }, undefined, new Headers()),
    config,
    'm',
  );
  assert.doesNotMatch(echoed.message, /hunter2pass|bob:/);
  assert.doesNotMatch(echoed.message, /plain-key-without-a-known-shape-123/);
  assert.doesNotMatch(echoed.message, /AKIAABCDEFGHIJKLMNOP/);
  assert.match(echoed.message, /https:\/\/llm\.example\/v1\/responses/);
});

test('organization / project headers reach a model server only when configured for it (control for the e2e check)', async () => {
  const { startScriptedModel } = await import('../fixtures/model-server.js');
  const { callModel, createUpstreamClient } = await import('../../src/runtime/upstream.js');
  const model = await startScriptedModel([{ text: 'a' }, { text: 'b' }]);
  try {
    const request = { model: 'm', instructions: null, tools: [], history: [] };
    for (const config of [
      { baseURL: model.baseURL, model: 'm', api: 'responses' as const },
      { baseURL: model.baseURL, model: 'm', api: 'responses' as const, organization: 'org-configured', project: 'proj-configured' },
    ]) {
      await callModel(createUpstreamClient(config), config, request, new AbortController().signal, () => undefined);
    }
    assert.equal(model.requests[0]!.headers['openai-organization'], undefined);
    assert.equal(model.requests[1]!.headers['openai-organization'], 'org-configured');
    assert.equal(model.requests[1]!.headers['openai-project'], 'proj-configured');
  } finally {
    await model.close();
  }
});

test('the environment\'s organization / project ids go to api.openai.com only', async () => {
  const { createAgentsClient, openaiScope } = await import('../../src/agents/endpoints.js');
  const { createUpstreamClient } = await import('../../src/runtime/upstream.js');
  const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID };
  process.env.OPENAI_ORG_ID = 'org-env';
  process.env.OPENAI_PROJECT_ID = 'proj-env';
  try {
    assert.deepEqual(openaiScope('https://api.openai.com/v1'), { organization: undefined, project: undefined });
    assert.deepEqual(openaiScope('https://api.openai.com.evil.example/v1'), { organization: null, project: null });
    assert.equal(createUpstreamClient({ baseURL: 'https://api.openai.com/v1', model: 'm', api: 'responses' }).organization, 'org-env');
    assert.equal(createUpstreamClient({ baseURL: 'http://127.0.0.1:1/v1', model: 'm', api: 'responses' }).organization, null);
    assert.equal(createUpstreamClient({ baseURL: 'http://127.0.0.1:1/v1', model: 'm', api: 'responses' }).project, null);
    assert.equal(createAgentsClient({ kind: 'runtime', baseURL: 'http://127.0.0.1:1/v1', token: 't' }).organization, null);
    assert.equal(createAgentsClient({ kind: 'openai', apiKey: 'k' }).organization, 'org-env');
    assert.equal(createAgentsClient({ kind: 'openai', apiKey: 'k', baseURL: 'http://proxy.internal/v1' }).project, null);
  } finally {
    if (saved.org === undefined) delete process.env.OPENAI_ORG_ID;
    else process.env.OPENAI_ORG_ID = saved.org;
    if (saved.project === undefined) delete process.env.OPENAI_PROJECT_ID;
    else process.env.OPENAI_PROJECT_ID = saved.project;
  }
});
