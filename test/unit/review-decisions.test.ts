// A person's gesture on a proposed file, as the engine receives it: what is approved is exactly what was kept, and the
// comments go with every kind of decision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangesetHunk } from '../../src/protocol/events.js';
import { decisionFor } from '../../src/extension/review/decisions.js';

const B = 'a'.repeat(64);
const hunk = (hunkId: string): ChangesetHunk => ({ hunkId, header: '@@ -1 +1 @@', oldStart: 1, oldLines: 1, newStart: 1, newLines: 1, lines: ['-a', '+b'] });
const HUNKS = [hunk('1111111111111111'), hunk('2222222222222222'), hunk('3333333333333333')];
const none = { hunks: HUNKS, dropped: new Set<string>(), lineComments: [] };

test('decisions from gestures, drafts and comments', () => {
  const cases: [string, Parameters<typeof decisionFor>, ReturnType<typeof decisionFor>][] = [
    ['approve with nothing dropped is a plain approval (control)', [{ binding: B, choice: 'approve' }, none], { binding: B, decision: 'approve' }],
    [
      'approve with one hunk dropped keeps exactly the others, in order',
      [{ binding: B, choice: 'approve' }, { ...none, dropped: new Set(['2222222222222222']) }],
      { binding: B, decision: 'keepHunks', hunkIds: ['1111111111111111', '3333333333333333'] },
    ],
    [
      'approve with every hunk dropped applies nothing',
      [{ binding: B, choice: 'approve' }, { ...none, dropped: new Set(HUNKS.map((h) => h.hunkId)) }],
      { binding: B, decision: 'reject' },
    ],
    ['reject ignores hunk drafts', [{ binding: B, choice: 'reject' }, { ...none, dropped: new Set(['1111111111111111']) }], { binding: B, decision: 'reject' }],
    [
      'line comments and the comment travel with a rejection',
      [{ binding: B, choice: 'reject', comment: 'no' }, { ...none, lineComments: [{ line: 3, side: 'proposed', text: 'keep const here' }] }],
      { binding: B, decision: 'reject', comment: 'no', lineComments: [{ line: 3, side: 'proposed', text: 'keep const here' }] },
    ],
    [
      'and with kept hunks',
      [{ binding: B, choice: 'approve' }, { ...none, dropped: new Set(['3333333333333333']), lineComments: [{ line: 1, side: 'proposed', text: 'fine' }] }],
      { binding: B, decision: 'keepHunks', hunkIds: ['1111111111111111', '2222222222222222'], lineComments: [{ line: 1, side: 'proposed', text: 'fine' }] },
    ],
    ['request changes and redo pass through', [{ binding: B, choice: 'redo' }, none], { binding: B, decision: 'redo' }],
    ['a file without hunk ids is approved whole', [{ binding: B, choice: 'approve' }, { hunks: [], dropped: new Set(['x']), lineComments: [] }], { binding: B, decision: 'approve' }],
  ];
  for (const [name, args, expected] of cases) assert.deepEqual(decisionFor(...args), expected, name);
});
