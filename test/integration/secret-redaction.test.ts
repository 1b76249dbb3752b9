/**
 * Tokens of every format, and the exact secrets Deputy was configured with in every encoding, stay out of what it
 * writes down: the runtime's store (sessions, items and events in SQLite), its log, and the audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/core/audit.js';
import { KnownSecrets } from '../../src/core/redact.js';
import { startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';
import { CONTEXT_SAMPLES, CREDENTIAL_SAMPLES } from '../fixtures/credential-samples.js';

const API_KEY = 'upstream/Key+with=odd%chars-0123456789';

/** The forms a configured secret is found in. */
function encodings(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(`user:${secret}`).toString('base64'), secret.toUpperCase()];
}

const FORMAT_SECRETS = [...CREDENTIAL_SAMPLES.map(([, token]) => token), ...CONTEXT_SAMPLES.map(([, , secret]) => secret)];
const FORMAT_TEXT = [...CREDENTIAL_SAMPLES.map(([f, token]) => `${f}: ${token}`), ...CONTEXT_SAMPLES.map(([, text]) => text)].join('\n');

test('the runtime store and log never hold a credential: formats, the model API key and the runtime token', async (t) => {
  const logs: string[] = [];
  const h = await startHarness(
    [
      { text: `I saw ${CREDENTIAL_SAMPLES[0]![1]} and ${CONTEXT_SAMPLES[2]![1]}` },
      // The upstream echoes credentials back in its error, as servers do ("Incorrect API key provided: …").
      () => ({ error: { status: 401, message: `Incorrect API key provided: ${encodings(API_KEY).join(' ')}; also ${FORMAT_TEXT}` } }),
    ],
    { upstream: { apiKey: API_KEY }, runtime: { log: (line) => logs.push(line) } },
  );
  t.after(() => h.close());
  const sessions = h.client.beta.agents.sessions;
  const session = await sessions.create({ environment: { type: 'none' }, agent: { model: 'm', instructions: 'Be brief.', tools: [] } });
  const text = `marker-visible-text\n${FORMAT_TEXT}\nkey ${encodings(API_KEY).join(' ')}\ntoken ${encodings(h.runtime.token).join(' ')}`;
  await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }] });
  await waitForSession(h.client, session.id, (s) => s.status === 'idle' && (s.usage?.output_tokens ?? 0) > 0);
  await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'again' }] }] }] });
  const failed = await waitForSession(h.client, session.id, (s) => s.status === 'idle' && s.error !== null && s.error !== undefined);
  const token = h.runtime.token;
  await h.runtime.close();

  const db = (await readFile(join(h.dataDir, 'runtime.db'))).toString('latin1');
  assert.ok(db.includes('marker-visible-text'), 'the store holds the conversation (the test reads the right file)');
  const log = logs.join('\n');
  assert.match(log, /turn .* failed/, 'the failure was logged');
  const model = JSON.stringify(h.model.requests.map((r) => r.body));
  for (const secret of [...FORMAT_SECRETS, ...encodings(API_KEY), ...encodings(token)]) {
    assert.ok(!db.includes(secret), `the store holds ${secret}`);
    assert.ok(!log.includes(secret), `the log holds ${secret}`);
    assert.ok(!JSON.stringify(failed.error).includes(secret), `the session error holds ${secret}`);
    assert.ok(!model.includes(secret), `the conversation sent to the model holds ${secret}`);
  }
});

test('audit records never hold a credential: formats, and configured secrets in every encoding', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-audit-secrets-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  const known = new KnownSecrets([API_KEY]);
  const audit = await AuditLog.open(root, { known });
  const actor = { principal: 'local:test' };
  await audit.append({ type: 'message.agent', actor, data: { text: `marker-visible-text\n${FORMAT_TEXT}` } });
  await audit.append({ type: 'task.finished', actor, data: { error: `upstream said: ${encodings(API_KEY).join(' ')}`, nested: [{ url: CONTEXT_SAMPLES[2]![1] }] } });
  await audit.close();
  const trail = await readFile(join(root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  assert.ok(trail.includes('marker-visible-text'));
  for (const secret of [...FORMAT_SECRETS, ...encodings(API_KEY)]) {
    // JSON escapes `/` nowhere and newlines as \n: compare against the record's text as JSON writes it.
    assert.ok(!trail.includes(JSON.stringify(secret).slice(1, -1)), `the audit trail holds ${secret}`);
  }
});
