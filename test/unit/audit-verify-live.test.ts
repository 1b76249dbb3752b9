/**
 * Verifying a trail while Deputy appends to it (the editor's Verify during a running session) never reports the
 * append under way as a record "written behind Deputy's back": the head and the log's length are read as one moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, verifyAudit } from '../../src/core/audit.js';

test('a verify during appends sees a whole chain, never a record the head does not cover', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-verify-live-'));
  const log = await AuditLog.open(root);
  t.after(async () => {
    await log.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  await log.append({ type: 'task.started', task: 't', actor: { principal: 'alice' }, data: {} });
  let writing = true;
  const writer = (async () => {
    // Appends as a session makes them: one after another with a little time between (a burst never starves a reader).
    for (let i = 0; i < 150; i++) {
      await log.append({ type: 'message.user', task: 't', actor: { principal: 'alice' }, data: { text: `m${i}` } });
      await sleep(1);
    }
    writing = false;
  })();
  const problems: string[] = [];
  let checks = 0;
  while (writing) {
    const r = await verifyAudit(log.file);
    checks++;
    if (!r.ok) problems.push(r.reason);
  }
  await writer;
  assert.ok(checks > 5, `verified ${checks} times while appending`);
  assert.deepEqual(problems, []);
  const end = await verifyAudit(log.file);
  assert.equal(end.ok && end.records, 151);
});
