// The panel's transcript model, without a browser: events fold into rows, a delta changes one row (not the list),
// repeats and replays are ignored, and only changed rows are told to render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_OUTPUT_KEEP, Transcript } from '../../webview/transcript.js';
import { EventLog, binding } from './fixtures/events.js';

test('deltas grow one message row; the list changes only when a row is added', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  t.apply([log.next('message.delta', { messageId: 'm', delta: 'Hel' })]);
  const listVersion = t.listVersion;
  let renders = 0;
  t.onRowChange('agent:m', () => renders++);
  t.apply([log.next('message.delta', { messageId: 'm', delta: 'lo' }), log.next('message.delta', { messageId: 'm', delta: '!' })]);
  t.flush();
  assert.equal(t.rows.length, 1);
  assert.equal(t.listVersion, listVersion, 'no new row, so the windowed list is not re-rendered');
  assert.equal(renders, 1, 'two deltas in one batch: one render of that row');
  assert.deepEqual(t.rows[0], { kind: 'agent', key: 'agent:m', version: 2, text: 'Hello!', done: false });
  t.apply([log.next('message.completed', { messageId: 'm', text: 'Hello, world.' }), log.next('message.delta', { messageId: 'm', delta: ' late' })]);
  assert.equal((t.rows[0] as { text: string }).text, 'Hello, world.', 'the completed text wins and later deltas are ignored');
});

test('an event seen before (replay after a reload, a repeated batch) or for another session is ignored', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  const batch = [log.next('message.user', { messageId: 'u', text: 'go' }), log.next('message.delta', { messageId: 'm', delta: 'ok' })];
  assert.equal(t.apply(batch), true);
  assert.equal(t.apply(batch), false);
  assert.equal(t.apply([{ ...log.next('notice', { message: 'x' }), sessionId: 'other' }]), false);
  assert.equal(t.rows.length, 2);
  assert.equal((t.rows[1] as { text: string }).text, 'ok');
});

test('a prompt is answered or withdrawn only by the engine, and a withdrawal never overrides an answer', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  const ask = (n: number) => log.next('prompt.asked', { binding: binding(n), callId: `c${n}`, tool: 't', summary: 's', args: {}, reason: 'r', deadline: new Date().toISOString() });
  t.apply([ask(1), ask(2)]);
  assert.equal(t.pending().length, 2);
  t.apply([log.next('prompt.answered', { binding: binding(1), decision: 'allowTask' }), log.next('prompt.withdrawn', { binding: binding(1), reason: 'timedOut' })]);
  t.apply([log.next('prompt.withdrawn', { binding: binding(2), reason: 'sessionStopped' })]);
  assert.deepEqual(
    t.rows.map((r) => r.kind === 'prompt' && [r.state, r.decision ?? r.withdrawnReason]),
    [['answered', 'allowTask'], ['withdrawn', 'sessionStopped']],
  );
  assert.equal(t.pending().length, 0);
});

test('the same error again is counted on its row, not shown again', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  const e = { kind: 'endpointUnreachable' as const, message: 'The runtime at http://127.0.0.1:8739 does not answer.', fatal: false };
  t.apply([log.next('error', e), log.next('error', e), log.next('error', e)]);
  assert.equal(t.rows.length, 1);
  assert.equal((t.rows[0] as { repeats: number }).repeats, 3);
  t.apply([log.next('error', { ...e, message: 'something else' })]);
  assert.equal(t.rows.length, 2);
});

test('command output is kept up to a cap and the row says it was cut', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  const chunk = 'x'.repeat(40 * 1024);
  t.apply([
    log.next('command.started', { commandId: 'x', command: 'yes', cwd: '.' }),
    log.next('command.output', { commandId: 'x', stream: 'stdout', chunk }),
    log.next('command.output', { commandId: 'x', stream: 'stdout', chunk }),
    log.next('command.output', { commandId: 'x', stream: 'stdout', chunk }),
    log.next('command.exited', { commandId: 'x', exitCode: null, signal: 'SIGTERM', durationMs: 5, truncated: true }),
  ]);
  const row = t.rows[0]!;
  assert.ok(row.kind === 'command');
  assert.equal(row.output.length, COMMAND_OUTPUT_KEEP);
  assert.equal(row.clipped, true);
  assert.equal(row.running, false);
  assert.equal(row.signal, 'SIGTERM');
});

test('a turn that ends leaves no message streaming; usage and status go to the header', () => {
  const log = new EventLog('s');
  const t = new Transcript('s');
  t.apply([
    log.next('session.status', { status: 'running' }),
    log.next('message.delta', { messageId: 'm', delta: 'half' }),
    log.next('usage', { inputTokens: 10, outputTokens: 2, totalTokens: 12, costUsd: 0.5 }),
    log.next('turn.ended', { turnId: 't', outcome: 'cancelled' }),
    log.next('session.status', { status: 'cancelled' }),
  ]);
  assert.equal((t.rows[0] as { done: boolean }).done, true);
  assert.equal(t.rows[1]!.kind, 'turnEnd');
  assert.equal(t.header.status, 'cancelled');
  assert.equal(t.header.costUsd, 0.5);
});
