/**
 * The engine's one reporting channel: the trail is awaited (the engine acts only on a fact that is on disk), a trail
 * that fails fails the emit (the engine stops rather than act unrecorded), and a front end can never hurt the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, readAudit } from '../../src/core/audit.js';
import { auditRecordFor } from '../../src/core/audit-events.js';
import { EngineEvents, type TrailSubscriber } from '../../src/core/event-channel.js';
import type { EngineEventInput } from '../../src/protocol/events.js';

const actor = { principal: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' };
const called: EngineEventInput = { type: 'tool.called', callId: 'c1', tool: 'workspace_read', argsSummary: 'read a.txt', status: 'running' };

test('emit resolves only once the trail has the event, so what follows it happens after the record', async () => {
  const order: string[] = [];
  let release!: () => void;
  const trail: TrailSubscriber = {
    event: () => new Promise<void>((resolve) => (release = () => (order.push('recorded'), resolve()))),
    fact: async () => undefined,
  };
  const events = new EngineEvents();
  events.keep(trail);
  events.listen(() => order.push('shown'));
  const emitted = events.emit('sess_1', called).then(() => order.push('acted'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['shown'], 'nothing acts before the trail has it');
  release();
  await emitted;
  assert.deepEqual(order, ['shown', 'recorded', 'acted']);
});

test('a trail that fails fails the emit; the front ends still heard the event', async () => {
  const events = new EngineEvents();
  const heard: string[] = [];
  events.listen((_s, e) => heard.push(e.type));
  events.keep({ event: () => Promise.reject(new Error('disk full')), fact: () => Promise.reject(new Error('disk full')) });
  await assert.rejects(events.emit('sess_1', called), /disk full/);
  await assert.rejects(events.record('sess_1', { type: 'policy.decision', data: {} }), /disk full/);
  assert.deepEqual(heard, ['tool.called']);
});

test('a listener that throws, rejects, or whose error report throws is contained; the rest and the trail go on', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-channel-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  const audit = await AuditLog.open(root);
  t.after(() => audit.close());
  const reported: string[] = [];
  const events = EngineEvents.forTask(audit, actor, 'task_c', {
    onListenerError: (err) => {
      reported.push((err as Error).message);
      throw new Error('the log is gone too');
    },
  });
  events.listen(() => {
    throw new Error('renderer bug');
  });
  events.listen(() => Promise.reject(new Error('panel gone')) as unknown as void);
  const heard: string[] = [];
  events.listen((_s, e) => heard.push(e.type));
  await events.emit('sess_1', called);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(heard, ['tool.called']);
  assert.deepEqual(reported.sort(), ['panel gone', 'renderer bug']);
  const records = await readAudit(audit.file);
  assert.deepEqual(records.map((r) => [r.type, r.session, r.task, r.data]), [['tool.call', 'sess_1', 'task_c', { call_id: 'c1', tool: 'workspace_read', summary: 'read a.txt' }]]);
});

test('a prompt closed without an answer is on the trail as the deny it stands for; a review file\'s is its verdict', () => {
  const withdrawn: EngineEventInput = { type: 'prompt.withdrawn', binding: 'b1', reason: 'timedOut' };
  assert.deepEqual(auditRecordFor(withdrawn, { call: { callId: 'c1', tool: 'workspace_read' } }, actor), {
    type: 'prompt.answered',
    data: { call_id: 'c1', tool: 'workspace_read', answer: 'deny', withdrawn: 'timedOut' },
  });
  assert.equal(auditRecordFor(withdrawn, {}, actor), null);
  const reject: EngineEventInput = {
    type: 'changeset.verdict',
    changesetId: 'c2',
    binding: 'b2',
    path: 'a.txt',
    verdict: 'reject',
    decision: 'requestChanges',
    comment: 'smaller',
    lineComments: [{ line: 1, side: 'proposed', text: 'no' }],
  };
  assert.deepEqual(auditRecordFor(reject, { note: 'unknown hunk' }, actor), {
    type: 'changeset.rejected',
    data: { call_id: 'c2', path: 'a.txt', approver: actor.principal, changes_requested: true, comment: 'smaller', line_comments: 1, note: 'unknown hunk' },
  });
  // Screen-only events have no record.
  for (const e of [{ type: 'message.delta', messageId: 'm', delta: 'x' }, { type: 'session.status', status: 'idle' }, { type: 'usage', inputTokens: 1, outputTokens: 1, totalTokens: 2 }] as EngineEventInput[]) {
    assert.equal(auditRecordFor(e, {}, actor), null);
  }
});
