/**
 * One turn of a task on the real runtime with the scripted model, end to end through the engine: a plain read, a
 * read the policy gates (the person allows it), a reviewed change (approved), the agent's last words. The audit trail
 * it writes is pinned record by record: its kinds and fields are a stable format (DESIGN.md §5, the report, the
 * timeline, the OTLP export read them), so moving how the engine reports must not move a single field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, readAudit, type AuditRecord } from '../../src/core/audit.js';
import { verifyAudit } from '../../src/core/audit-verify.js';
import { Policy } from '../../src/core/policy.js';
import type { Prompter } from '../../src/core/prompter.js';
import { runTask } from '../../src/core/task.js';
import { Workspace } from '../../src/core/workspace.js';
import { EngineEvents, type EventListener } from '../../src/core/event-channel.js';
import { auditRecordFor, TRAIL_FACT_TYPES, type EventDetail } from '../../src/core/audit-events.js';
import type { EngineEventInput } from '../../src/protocol/events.js';
import { startHarness } from '../fixtures/model-runtime-harness.js';

const actor = { principal: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' };

/** Allows what it is asked, approves every file with a comment. */
const person: Prompter = {
  askPermission: async (q) => ({ binding: q.binding, allow: true }),
  reviewFile: async (q) => ({ binding: q.binding, verdict: 'approve', comment: 'fine' }),
};

export const SCRIPT = [
  { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] },
  { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] },
  {
    toolCalls: [
      { name: 'propose_changes', arguments: { summary: 'shout', changes: [{ path: 'a.txt', operation: 'update', diff: '-alpha\n+ALPHA\n' }] } },
    ],
  },
  { text: 'Done: a.txt shouts now.' },
];

export async function oneTurn(t: { after(fn: () => Promise<void>): void }) {
  const h = await startHarness(SCRIPT);
  t.after(() => h.close());
  const root = await mkdtemp(join(tmpdir(), 'deputy-events-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  await writeFile(join(root, '.env'), 'TOKEN=abc\n');
  const audit = await AuditLog.open(root);
  t.after(() => audit.close());
  const deps = {
    client: h.client,
    workspace: await Workspace.open(root),
    policy: Policy.defaults(),
    audit,
    prompter: person,
    actor,
    provenance: { client: 'deputy-test/0', workspaceHash: 'sha256:0', provider: 'deputy' },
  };
  return { h, root, audit, deps };
}

/** A record with what changes from run to run (ids, times, hashes) replaced by what it is. */
function shape(r: AuditRecord, ids: Map<string, string>): unknown {
  const name = (kind: string, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (!ids.has(value)) ids.set(value, `<${kind}${[...ids.values()].filter((v) => v.startsWith(`<${kind}`)).length + 1}>`);
    return ids.get(value);
  };
  const data = JSON.parse(JSON.stringify(r.data), (key, value: unknown) => {
    if (key === 'call_id') return name('call', value);
    if (key === 'agent_id') return name('agent', value);
    if (key === 'deputy.task') return name('task', value);
    if (key === 'before_sha256') return typeof value === 'string' ? '<sha256>' : value;
    return value;
  }) as Record<string, unknown>;
  return { type: r.type, session: name('session', r.session), task: name('task', r.task), principal: r.actor.principal, data };
}

/** Asserts the trail one turn writes, record by record. */
async function assertTrail(audit: AuditLog): Promise<AuditRecord[]> {
  const records = await readAudit(audit.file);
  const ids = new Map<string, string>();
  const s = '<session1>';
  const k = '<task1>';
  const p = actor.principal;
  const usage = records.find((r) => r.type === 'usage')!.data;
  assert.ok(typeof usage.input_tokens === 'number' && usage.input_tokens > 0, 'the runtime reported usage');
  assert.deepEqual(
    records.map((r) => shape(r, ids)),
    [
      { type: 'task.started', session: null, task: k, principal: p, data: { task: 'make a.txt shout', client: 'deputy-test/0' } },
      {
        type: 'session.created',
        session: s,
        task: k,
        principal: p,
        data: {
          model: 'scripted-default',
          agent_id: '<agent1>',
          provider: 'deputy',
          metadata: { 'deputy.principal': p, 'deputy.client': 'deputy-test/0', 'deputy.task': k, 'deputy.workspace': 'sha256:0' },
        },
      },
      { type: 'message.user', session: s, task: k, principal: p, data: { text: 'make a.txt shout' } },
      { type: 'tool.call', session: s, task: k, principal: p, data: { call_id: '<call1>', tool: 'workspace_read', summary: 'read a.txt' } },
      {
        type: 'policy.decision',
        session: s,
        task: k,
        principal: p,
        data: { call_id: '<call1>', tool: 'workspace_read', path: 'a.txt', decision: 'allow', reason: records[4]!.data.reason, policies: records[4]!.data.policies },
      },
      { type: 'tool.result', session: s, task: k, principal: p, data: { call_id: '<call1>', tool: 'workspace_read', success: true } },
      { type: 'tool.call', session: s, task: k, principal: p, data: { call_id: '<call2>', tool: 'workspace_read', summary: 'read .env' } },
      {
        type: 'policy.decision',
        session: s,
        task: k,
        principal: p,
        data: { call_id: '<call2>', tool: 'workspace_read', path: '.env', decision: 'ask', reason: records[7]!.data.reason, policies: records[7]!.data.policies },
      },
      { type: 'prompt.asked', session: s, task: k, principal: p, data: { call_id: '<call2>', tool: 'workspace_read', summary: 'read .env', reason: records[7]!.data.reason } },
      { type: 'prompt.answered', session: s, task: k, principal: p, data: { call_id: '<call2>', tool: 'workspace_read', answer: 'allow' } },
      { type: 'tool.result', session: s, task: k, principal: p, data: { call_id: '<call2>', tool: 'workspace_read', success: true } },
      { type: 'tool.call', session: s, task: k, principal: p, data: { call_id: '<call3>', tool: 'propose_changes', summary: 'propose changes to 1 file' } },
      {
        type: 'policy.decision',
        session: s,
        task: k,
        principal: p,
        data: { call_id: '<call3>', tool: 'propose_changes', decision: records[12]!.data.decision, reason: records[12]!.data.reason, policies: records[12]!.data.policies },
      },
      {
        type: 'changeset.proposed',
        session: s,
        task: k,
        principal: p,
        data: { call_id: '<call3>', summary: 'shout', files: [{ path: 'a.txt', operation: 'update', status: 'ready', added: 1, removed: 1 }] },
      },
      { type: 'changeset.approved', session: s, task: k, principal: p, data: { call_id: '<call3>', path: 'a.txt', approver: p, comment: 'fine' } },
      {
        type: 'changeset.applied',
        session: s,
        task: k,
        principal: p,
        data: { call_id: '<call3>', path: 'a.txt', operation: 'update', approver: p, before_sha256: '<sha256>', added: 1, removed: 1 },
      },
      { type: 'tool.result', session: s, task: k, principal: p, data: { call_id: '<call3>', tool: 'propose_changes', success: true } },
      { type: 'message.agent', session: s, task: k, principal: p, data: { text: 'Done: a.txt shouts now.' } },
      {
        type: 'usage',
        session: s,
        task: k,
        principal: p,
        data: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, total_tokens: usage.total_tokens, model: 'scripted-default' },
      },
      { type: 'task.finished', session: s, task: k, principal: p, data: { status: 'completed', files_changed: ['a.txt'] } },
    ],
  );
  // The policy's own words are there, whatever they are.
  assert.equal(typeof records[7]!.data.reason, 'string');
  const verified = await verifyAudit(audit.file);
  assert.equal(verified.ok, true, JSON.stringify(verified));
  return records;
}

test('one turn writes the same audit records, in the same order, with the same fields', async (t) => {
  const { root, audit, deps } = await oneTurn(t);
  const summary = await runTask(deps, { task: 'make a.txt shout' });
  assert.equal(summary.status, 'completed');
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'ALPHA\n');
  await assertTrail(audit);
});

test('one turn reports one ordered event stream, and the trail keeps exactly what those events map to', async (t) => {
  const { audit, deps } = await oneTurn(t);
  const taskId = 'task_events';
  const events = EngineEvents.forTask(audit, actor, taskId);
  const seen: { sessionId: string; event: EngineEventInput; detail: EventDetail }[] = [];
  events.listen((sessionId, event, detail) => seen.push({ sessionId, event, detail }));
  const summary = await runTask({ ...deps, events }, { task: 'make a.txt shout', taskId });
  assert.equal(summary.status, 'completed');

  const kinds = seen.map((s) => s.event.type).filter((k) => k !== 'message.delta');
  assert.deepEqual(kinds, [
    'session.started',
    'message.user',
    'tool.called', 'tool.completed',
    'tool.called', 'prompt.asked', 'prompt.answered', 'tool.completed',
    'tool.called', 'changeset.proposed', 'changeset.verdict', 'changeset.applied', 'tool.completed',
    'message.completed',
  ]);
  assert.ok(seen.every((s) => s.sessionId === summary.sessionId));
  // The streamed words add up to the message the trail keeps, under one message id.
  const deltas = seen.flatMap((s) => (s.event.type === 'message.delta' ? [s.event] : []));
  const done = seen.find((s) => s.event.type === 'message.completed')!.event;
  assert.ok(done.type === 'message.completed');
  assert.ok(deltas.length > 0, 'the text streamed');
  assert.equal(deltas.map((d) => d.delta).join(''), done.text);
  assert.ok(deltas.every((d) => d.messageId === done.messageId));
  const tools = seen.flatMap((s) => (s.event.type === 'tool.completed' ? [s.event] : []));
  assert.deepEqual(tools.map((e) => [e.tool, e.status]), [['workspace_read', 'succeeded'], ['workspace_read', 'succeeded'], ['propose_changes', 'succeeded']]);
  assert.ok(tools.every((e) => e.resultBytes > 0 && e.durationMs >= 0));
  const asked = seen.find((s) => s.event.type === 'prompt.asked')!.event;
  assert.ok(asked.type === 'prompt.asked');
  assert.deepEqual(asked.args, { path: '.env' });
  assert.ok(Date.parse(asked.deadline) > Date.now() + 14 * 60_000, 'the default deadline is 15 minutes out');

  // The records that come from events are exactly those events, mapped, in order: one emission each.
  const records = await assertTrail(audit);
  const fromEvents = records.filter((r) => !(TRAIL_FACT_TYPES as readonly string[]).includes(r.type));
  const mapped = seen.map((s) => auditRecordFor(s.event, s.detail, actor)).filter((m) => m !== null);
  assert.deepEqual(fromEvents.map((r) => ({ type: r.type, data: r.data })), mapped);
});

test('a front end that throws (or rejects) on every event breaks neither the turn nor the trail', async (t) => {
  const { root, audit, deps } = await oneTurn(t);
  const failures: string[] = [];
  const events = EngineEvents.forTask(audit, actor, 'task_broken_ui', { onListenerError: (err, e) => failures.push(`${e.type}: ${(err as Error).message}`) });
  events.listen(() => {
    throw new Error('renderer bug');
  });
  // A listener written as async that rejects: nothing awaits it, and it must not become an unhandled rejection.
  events.listen((() => Promise.reject(new Error('panel gone'))) as unknown as EventListener);
  const after: string[] = [];
  events.listen((_s, e) => after.push(e.type));
  const summary = await runTask({ ...deps, events }, { task: 'make a.txt shout', taskId: 'task_broken_ui' });
  assert.equal(summary.status, 'completed');
  assert.equal(summary.finalText, 'Done: a.txt shouts now.');
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'ALPHA\n');
  await assertTrail(audit);
  // Each failure was reported, and the listener after the broken ones still heard everything.
  assert.ok(failures.includes('tool.called: renderer bug'));
  assert.ok(failures.includes('tool.called: panel gone'));
  assert.equal(failures.length, after.length * 2);
  assert.ok(after.includes('changeset.applied'));
});
