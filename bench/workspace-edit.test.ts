/**
 * How the WorkspaceEdit benchmark reads its probe's answer (bench/workspace-edit.ts); the real run needs code-server
 * and is `npm run bench -- review-apply-vscode`.
 * Run: node scripts/test.mjs bench/workspace-edit
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appliedCount } from './workspace-edit/job.js';

test('a round counts only when the editor applied every file of the set', () => {
  assert.equal(appliedCount({ ms: 12, statuses: ['a.ts: applied', 'b.ts: applied'] }, 2), 2);
  assert.throws(() => appliedCount({ ms: 12, statuses: ['a.ts: applied', 'b.ts: conflict (it changed since the agent read it)'] }, 2), /did not apply 1 file\(s\), first: b\.ts: conflict/);
  assert.throws(() => appliedCount({ ms: 12, statuses: ['a.ts: applied'] }, 2), /answered for 1 files, not 2/);
  assert.throws(() => appliedCount({ ms: 3, statuses: [], error: 'Error: boom' }, 2), /threw: Error: boom/);
});
