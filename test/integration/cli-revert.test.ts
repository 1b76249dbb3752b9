/**
 * `deputy revert` from the built CLI, in a process of its own (nothing in memory from the run that applied the
 * changes): the task's files are put back, a file edited since is left as it is, and the revert is on the audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog, readAudit } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { Workspace } from '../../src/core/workspace.js';

const CLI = resolve(__dirname, '..', '..', 'dist', 'cli.js');

test('deputy revert puts back a task\'s files after the run ended; an edited file is left as it is', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-cli-revert-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(root, 'a.txt'), 'one\ntwo\n');
  await writeFile(join(root, 'b.txt'), 'keep\n');
  const audit = await AuditLog.open(root);
  const runner = new ToolRunner({
    workspace: await Workspace.open(root),
    policy: Policy.defaults(),
    audit,
    prompter: {
      askPermission: async (q) => ({ binding: q.binding, allow: true }),
      reviewFile: async (q) => ({ binding: q.binding, verdict: 'approve' }),
    },
    actor: { principal: 'tester' },
    task: 'task_cli',
  });
  for (const p of ['a.txt', 'b.txt']) await runner.run({ session: 'sess_cli', callId: `r_${p}`, name: 'workspace_read', args: { path: p } });
  const out = await runner.run({
    session: 'sess_cli',
    callId: 'c1',
    name: 'propose_changes',
    args: {
      summary: 's',
      changes: [
        { path: 'a.txt', operation: 'update', diff: '@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n' },
        { path: 'b.txt', operation: 'update', diff: '@@ -1 +1 @@\n-keep\n+changed\n' },
        { path: 'c.txt', operation: 'create', diff: '+new\n' },
      ],
    },
  });
  assert.deepEqual(out.applied, ['a.txt', 'b.txt', 'c.txt']);
  await audit.close();
  await writeFile(join(root, 'b.txt'), 'edited by me\n');

  const list = spawnSync(process.execPath, [CLI, 'revert', '--list', '--workspace', root], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /task_cli .* 3 files: a\.txt, b\.txt, c\.txt/);

  const run = spawnSync(process.execPath, [CLI, 'revert', 'sess_cli'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 1, 'a file was left as it is');
  assert.match(run.stdout, /restored {2}a\.txt/);
  assert.match(run.stdout, /left as is {2}b\.txt: .*changed after Deputy wrote it/);
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'one\ntwo\n');
  assert.equal(await readFile(join(root, 'b.txt'), 'utf8'), 'edited by me\n');
  assert.equal(existsSync(join(root, 'c.txt')), false);

  const records = (await readAudit(join(root, '.deputy', 'audit', 'audit.jsonl'))).filter((r) => r.type === 'changeset.reverted');
  assert.deepEqual(records.map((r) => [r.data.path, r.data.status]), [['a.txt', 'applied'], ['b.txt', 'conflict'], ['c.txt', 'applied']]);

  const again = spawnSync(process.execPath, [CLI, 'revert', 'task_cli'], { cwd: root, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stdout, /left as is {2}b\.txt/, 'only the conflict is left to revert');
});
