import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choose } from '../../src/extension/panel-choice.js';

const offered = ['embedded', 'bedrock', 'openai', 'http://127.0.0.1:8739'] as const;

test('the panel picks only among the endpoints it was offered', () => {
  assert.deepEqual(choose('bedrock', offered, 'endpoint'), { ok: true, value: 'bedrock' });
  assert.deepEqual(choose('http://127.0.0.1:8739', offered, 'endpoint'), { ok: true, value: 'http://127.0.0.1:8739' });
  assert.deepEqual(choose(undefined, offered, 'endpoint'), { ok: true, value: undefined });
  for (const hostile of ['https://attacker.example', 'http://127.0.0.1:8739/', 'Bedrock', 'embedded ', 'http://127.0.0.1:8739@evil']) {
    const r = choose(hostile, offered, 'endpoint');
    assert.equal(r.ok, false, hostile);
    assert.match(!r.ok ? r.message : '', /did not offer/);
  }
});

test('a folder must be one of the open folders', () => {
  assert.deepEqual(choose('api', ['api', 'web'], 'folder'), { ok: true, value: 'api' });
  assert.equal(choose('../etc', ['api', 'web'], 'folder').ok, false);
});
