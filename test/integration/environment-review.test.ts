/**
 * The environment's shadow review goes through the same review model as `propose_changes` (issue 9 §1): one
 * question for the whole difference, kept hunks written to the real workspace AND back into the shadow (so the
 * agent's next command sees what the person kept, and the next review does not offer the dropped hunks as new), and
 * request-changes comments, line comments and the general comment in the agent's next message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangesetReviewAnswer, ChangesetReviewQuestion } from '../../src/core/changeset/review.js';
import { makeRepo } from '../helpers/git.js';
import { ScriptedPerson, startTestEnvironment } from '../helpers/environment.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

class WholeSetPerson extends ScriptedPerson {
  readonly questions: ChangesetReviewQuestion[] = [];
  constructor(private readonly answer: (q: ChangesetReviewQuestion) => ChangesetReviewAnswer) {
    super();
  }
  async reviewChangeset(q: ChangesetReviewQuestion): Promise<ChangesetReviewAnswer> {
    this.questions.push(q);
    return this.answer(q);
  }
}

test('the shadow difference is one whole-changeset question: kept hunks reach the workspace and the shadow, comments reach the agent', async (t) => {
  const repo = await makeRepo({ 'big.txt': lines(40), 'small.txt': 'a\nb\nc\n' });
  const person = new WholeSetPerson((q) => {
    const big = q.items.find((i) => i.file.path === 'big.txt')!;
    const small = q.items.find((i) => i.file.path === 'small.txt')!;
    return {
      comment: 'Keep it tight.',
      decisions: [
        { binding: big.binding, decision: 'keepHunks', hunkIds: [big.hunks[0]!.hunkId] },
        { binding: small.binding, decision: 'requestChanges', comment: 'use a better name', lineComments: [{ line: 2, side: 'proposed', text: 'not B' }] },
      ],
    };
  });
  const env = await startTestEnvironment(repo.root, { person });
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const shadow = env.environment.context.shadow.root;
  await writeFile(join(shadow, 'big.txt'), lines(40).replace('line 5\n', 'FIRST\n').replace('line 30\n', 'SECOND\n'));
  await writeFile(join(shadow, 'small.txt'), 'a\nB\nc\n');

  const outcome = await env.environment.review.review('s1', 'end of turn');
  assert.equal(person.questions.length, 1);
  assert.equal(person.reviews.length, 0, 'no per-file questions');
  assert.equal(person.questions[0]!.source, 'environment');
  const status = Object.fromEntries(outcome.results.map((r) => [r.path, r.status]));
  assert.deepEqual(status, { 'big.txt': 'applied', 'small.txt': 'rejected' });

  const kept = lines(40).replace('line 5\n', 'FIRST\n');
  assert.equal(await readFile(join(repo.root, 'big.txt'), 'utf8'), kept, 'only the kept hunk reaches the workspace');
  assert.equal(await readFile(join(shadow, 'big.txt'), 'utf8'), kept, 'the shadow shows the agent what was kept');
  assert.equal(await readFile(join(shadow, 'small.txt'), 'utf8'), 'a\nb\nc\n', 'the file with changes requested is reverted in the shadow');
  assert.equal(await readFile(join(repo.root, 'small.txt'), 'utf8'), 'a\nb\nc\n');

  assert.match(outcome.notes, /partly kept: big\.txt/);
  assert.match(outcome.notes, /changes requested.*small\.txt.*use a better name/);
  assert.match(outcome.notes, /line 2 of your version: "not B"/);
  assert.match(outcome.notes, /Keep it tight\./);

  // Nothing is pending any more: the dropped hunk is not offered again as a new change.
  const again = await env.environment.review.review('s1', 'on demand');
  assert.deepEqual(again.results, []);
});
