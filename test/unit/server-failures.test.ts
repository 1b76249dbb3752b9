/**
 * How the language server words a failure for the panel (src/server/failures.ts). An error the endpoint answered is
 * classified by its status and code (src/agents/api-errors.ts), never by its message: a server words its messages as
 * it likes, so "budget" or "token file" in a 400's text says nothing about what went wrong, and a 402 or a spend-limit
 * code is the budget whatever its text. Deputy's own errors (connect, the turn's outcome) keep their wording.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIConnectionError, APIError } from 'openai';
import { KnownSecrets } from '../../src/core/redact.js';
import { classify } from '../../src/server/failures.js';
import type { ServerSettings } from '../../src/protocol/lsp.js';

const settings: ServerSettings = {
  endpoint: 'http://127.0.0.1:9/',
  model: 'm',
  embeddedModelBaseUrl: 'http://127.0.0.1:11434/v1',
  embeddedModelApi: 'responses',
  promptTimeoutMinutes: 15,
  workspaceTrusted: true,
};

function api(status: number, message: string, body: { code?: string; type?: string; param?: string } = {}): APIError {
  return APIError.generate(status, { error: { message, ...body } }, message, new Headers());
}

const cases: Array<[string, unknown, { kind: string; action?: string }]> = [
  // From the API: status and code decide.
  ['402 whatever its text', api(402, 'Payment Required'), { kind: 'budgetReached', action: 'raiseBudget' }],
  ['a spend-limit code on a 429', api(429, 'Slow down', { code: 'spend_limit_reached' }), { kind: 'budgetReached', action: 'raiseBudget' }],
  ['a 400 that mentions a budget is not the budget', api(400, 'budget must be a positive number', { param: 'spend_control.limit' }), { kind: 'internal' }],
  ['a 500 that mentions a token file is not a setting', api(500, 'could not read token file /srv/x'), { kind: 'internal', action: 'retry' }],
  ['a 502 that mentions a region is not a setting', api(502, 'upstream needs a region'), { kind: 'internal', action: 'retry' }],
  ['429 busy: try again', api(429, 'Rate limit reached'), { kind: 'internal', action: 'retry' }],
  ['401', api(401, 'Missing or invalid credentials'), { kind: 'signInRequired', action: 'signIn' }],
  ['403', api(403, 'no'), { kind: 'accessDenied' }],
  ['connection refused', new APIConnectionError({ message: 'Connection error.' }), { kind: 'endpointUnreachable', action: 'retry' }],
  // Deputy's own errors keep their words (controls: the message checks still work where they belong).
  ['the turn ended at its spend limit', new Error('This session reached its spend limit: 120 of 100 US cents used'), { kind: 'budgetReached', action: 'raiseBudget' }],
  ['a runtime URL without its token', new Error('A runtime at http://x needs its bearer token: pass --token-file'), { kind: 'invalidSetting', action: 'openSetting' }],
  ['Bedrock without a region', new Error('Bedrock needs a region'), { kind: 'invalidSetting', action: 'openSetting' }],
  ['a plain fetch refused', new Error('fetch failed'), { kind: 'endpointUnreachable', action: 'retry' }],
];

for (const [name, err, want] of cases) {
  test(`classify: ${name}`, () => {
    const f = classify(err, settings);
    assert.deepEqual({ kind: f.kind, ...(f.action ? { action: f.action.kind } : {}) }, want, f.message);
  });
}

test('the endpoint\'s own text is shown redacted, and the status is named', () => {
  const key = 'k3y-abcdefghijklmnopqrstuvwxyz0123456789';
  const f = classify(api(500, `boom with ${key}`), settings, new KnownSecrets([key]));
  assert.doesNotMatch(f.message, /k3y-abcdef/);
  assert.match(f.message, /boom/);
  assert.match(f.message, /500/);
});
