/**
 * The editor's side of the review model (src/server/changeset-broker.ts): decisions accumulate per file and the
 * engine hears nothing until every file that needs one has it; a decision that does not fit its file is refused with
 * why; a set stopped or timed out before it was wholly decided applies nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewHunks } from '../../src/core/changeset/hunks.js';
import type { ChangesetReviewAnswer, ChangesetReviewQuestion, ReviewItem } from '../../src/core/changeset/review.js';
import type { PreparedFile } from '../../src/core/changeset/types.js';
import { ChangesetBroker } from '../../src/server/changeset-broker.js';
import type { EventInput } from '../../src/server/event-log.js';

function file(path: string, status: PreparedFile['status']): PreparedFile {
  const ready = status === 'ready';
  return {
    path,
    operation: 'update',
    status,
    ...(ready ? {} : { reason: `${path} changed since you read it` }),
    before: 'a\nb\n',
    after: ready ? 'a\nB\n' : null,
    baseSha256: 'c'.repeat(64),
    displayDiff: ready ? `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n` : '',
    stats: { added: ready ? 1 : 0, removed: ready ? 1 : 0 },
  };
}

function question(): ChangesetReviewQuestion {
  const items: ReviewItem[] = [file('a.ts', 'ready'), file('b.ts', 'ready'), file('c.ts', 'conflict'), file('d.ts', 'invalid')].map((f, i) => ({
    binding: String(i).repeat(64),
    file: f,
    hunks: reviewHunks(f),
  }));
  return { session: 's1', callId: 'call_1', changesetId: 'call_1', summary: 'four files', source: 'proposeChanges', round: 1, items };
}

function broker(timeoutMs = 60_000) {
  const events: EventInput[] = [];
  const b = new ChangesetBroker({ emit: (_id, e) => events.push(e), timeoutMs: () => timeoutMs, changed: () => undefined, describe: () => ({ task: 'the task', folder: 'ws' }) });
  return { b, events };
}

const [A, B, C, D] = ['0', '1', '2', '3'].map((d) => d.repeat(64)) as [string, string, string, string];

test('nothing reaches the engine until every ready or conflicting file is decided; refusals say why', async () => {
  const { b, events } = broker();
  let answer: ChangesetReviewAnswer | undefined;
  const asked = b.ask(question()).then((a) => (answer = a));
  assert.equal(events[0]?.type, 'changeset.proposed', 'the card goes out with the question');
  assert.equal(b.pending('s1'), 3, 'the invalid file needs no decision');
  assert.equal(b.list()[0]?.task, 'the task');

  const first = b.decide({
    sessionId: 's1',
    changesetId: 'call_1',
    files: [
      { binding: A, decision: 'approve' },
      { binding: C, decision: 'approve' },
      { binding: B, decision: 'keepHunks', hunkIds: ['ffffffffffffffff'] },
      { binding: D, decision: 'reject' },
      { binding: 'e'.repeat(64), decision: 'reject' },
    ],
  });
  assert.deepEqual(first.accepted, [A]);
  assert.deepEqual(first.refused.map((r) => r.binding), [C, B, D, 'e'.repeat(64)]);
  assert.match(first.refused[0]!.reason, /conflict cannot be approved/);
  assert.match(first.refused[1]!.reason, /no hunk ffffffffffffffff/);
  assert.equal(first.undecided, 2);
  const again = b.decide({ sessionId: 's1', changesetId: 'call_1', files: [{ binding: A, decision: 'reject' }] });
  assert.match(again.refused[0]!.reason, /already decided/);
  await new Promise((r) => setImmediate(r));
  assert.equal(answer, undefined, 'the engine still waits');

  const last = b.decide({ sessionId: 's1', changesetId: 'call_1', files: [{ binding: C, decision: 'redo' }], rest: 'approve', comment: 'ok' });
  assert.deepEqual(last.accepted, [C, B]);
  assert.equal(last.undecided, 0);
  await asked;
  assert.deepEqual(answer!.decisions.map((d) => [d.binding, d.decision]), [[A, 'approve'], [C, 'redo'], [B, 'approve']]);
  assert.equal(answer!.comment, 'ok');
  assert.deepEqual(b.list(), []);
});

test('a file in conflict before review names the version the agent read (its hash) beside the one there now', () => {
  const { b, events } = broker();
  const q = question();
  q.items[2]!.file.readSha256 = 'a'.repeat(64);
  void b.ask(q);
  const proposed = events[0] as unknown as { files: { conflict?: { baseSha256: string | null; currentSha256: string | null } }[] };
  assert.deepEqual(proposed.files[2]!.conflict && { read: proposed.files[2]!.conflict.baseSha256, now: proposed.files[2]!.conflict.currentSha256 }, { read: 'a'.repeat(64), now: 'c'.repeat(64) });
  assert.equal(b.conflict('s1', 'call_1', C)?.conflict.baseSha256, 'a'.repeat(64));
  b.decide({ sessionId: 's1', changesetId: 'call_1', files: [], rest: 'reject' });
});

test('"Approve all" never approves a file in conflict: it is rejected', async () => {
  const { b } = broker();
  const asked = b.ask(question());
  b.decide({ sessionId: 's1', changesetId: 'call_1', files: [], rest: 'approve' });
  const answer = await asked;
  assert.deepEqual(answer.decisions.map((d) => [d.binding, d.decision]), [[A, 'approve'], [B, 'approve'], [C, 'reject']]);
});

test('a set stopped before it was wholly decided applies nothing: approvals lapse, rejections keep their comments', async () => {
  const { b, events } = broker();
  const asked = b.ask(question());
  b.decide({ sessionId: 's1', changesetId: 'call_1', files: [{ binding: A, decision: 'approve' }, { binding: B, decision: 'reject', comment: 'no' }] });
  assert.equal(b.withdrawSession('s1', 'sessionStopped'), 1);
  const answer = await asked;
  assert.deepEqual(answer.decisions.map((d) => [d.binding, d.decision, d.comment]), [[B, 'reject', 'no']]);
  assert.ok(events.some((e) => e.type === 'prompt.withdrawn' && e.binding === C));
});

test('a set not decided by its deadline applies nothing', async () => {
  const { b } = broker(30);
  const asked = b.ask(question());
  b.decide({ sessionId: 's1', changesetId: 'call_1', files: [{ binding: A, decision: 'approve' }] });
  const answer = await asked;
  assert.deepEqual(answer.decisions, []);
});
