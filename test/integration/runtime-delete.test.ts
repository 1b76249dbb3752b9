// DELETE of a session removes what it said from the store (rows and their bytes), unless retention keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { Database } from 'node-sqlite3-wasm';
import { startHarness, type Harness } from '../fixtures/model-runtime-harness.js';

const SECRET_ANSWER = 'the launch code is TANGERINE-4471';
const SECRET_QUESTION = 'what is the launch code? QUESTION-9931';

async function sessionWithHistory(h: Harness): Promise<string> {
  const sessions = h.client.beta.agents.sessions;
  const kept = await sessions.create({ environment: { type: 'none' }, metadata: { keep: 'yes' } });
  await sessions.stream(kept.id, { input: 'unrelated question' }).finalResult();
  const session = await sessions.create({ environment: { type: 'none' } });
  const result = await sessions.stream(session.id, { input: SECRET_QUESTION }).finalResult();
  assert.equal(result.output_text, SECRET_ANSWER);
  await sessions.events.create(session.id, { events: [{ type: 'agent.session.input.cancel' }], 'Idempotency-Key': 'k-1' });
  return session.id;
}

/** Rows of each table that belong to the session, read from the closed store. */
function rowsOf(dataDir: string, id: string): { sessions: number; turns: number; items: number; events: number; idempotency: number } {
  const db = new Database(path.join(dataDir, 'runtime.db'));
  try {
    // The store is a WAL database and the WASM build has no shared memory for its index: exclusive mode does without.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const count = (sql: string) => db.get(sql, [id])!.n as number;
    return {
      sessions: count('SELECT COUNT(*) AS n FROM sessions WHERE id = ?'),
      turns: count('SELECT COUNT(*) AS n FROM turns WHERE session_id = ?'),
      items: count('SELECT COUNT(*) AS n FROM items WHERE session_id = ?'),
      events: count('SELECT COUNT(*) AS n FROM events WHERE session_id = ?'),
      idempotency: count('SELECT COUNT(*) AS n FROM idempotency WHERE session_id = ?'),
    };
  } finally {
    db.close();
  }
}

function storeBytes(dataDir: string): string {
  return ['runtime.db', 'runtime.db-wal']
    .map((f) => path.join(dataDir, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

const script = () => [{ text: 'unrelated answer' }, { text: SECRET_ANSWER }];

test('DELETE removes the session\'s turns, items, events and keys, and their text is gone from the store file', async () => {
  const h = await startHarness(script());
  try {
    const id = await sessionWithHistory(h);
    await h.client.beta.agents.sessions.delete(id);
    await assert.rejects(h.client.beta.agents.sessions.retrieve(id), (err: unknown) => err instanceof OpenAI.APIError && err.status === 404);
    assert.deepEqual((await h.client.beta.agents.sessions.list()).data.map((s) => s.metadata), [{ keep: 'yes' }]);
    await h.runtime.close();
    assert.deepEqual(rowsOf(h.dataDir, id), { sessions: 0, turns: 0, items: 0, events: 0, idempotency: 0 });
    const bytes = storeBytes(h.dataDir);
    assert.ok(bytes.includes('unrelated answer'), 'control: the other session\'s text is in the file as written');
    assert.ok(!bytes.includes('TANGERINE-4471') && !bytes.includes('QUESTION-9931'), 'the deleted session\'s text was zeroed');
  } finally {
    await h.close();
  }
});

test('with retention on (keepDeletedSessions), DELETE hides the session but keeps its rows', async () => {
  const h = await startHarness(script(), { runtime: { keepDeletedSessions: true } });
  try {
    const id = await sessionWithHistory(h);
    await h.client.beta.agents.sessions.delete(id);
    await assert.rejects(h.client.beta.agents.sessions.retrieve(id), (err: unknown) => err instanceof OpenAI.APIError && err.status === 404);
    await h.runtime.close();
    const rows = rowsOf(h.dataDir, id);
    assert.equal(rows.sessions, 1);
    assert.ok(rows.items >= 2 && rows.events > 5 && rows.turns === 1 && rows.idempotency >= 1, JSON.stringify(rows));
  } finally {
    await h.close();
  }
});
