/**
 * `.deputy/.gitignore`: what goes into git is decided by an allow-list Deputy writes when it prepares `.deputy/`:
 * the audit trail and the workspace policy are committed; the runtime's store and token, locks, temporary files and
 * anything else never are. The file is never written through a symlink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareStateDir, STATE_GITIGNORE } from '../../src/core/state-dir.js';
import { makeRepo } from '../helpers/git.js';

const untracked = (root: string) =>
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root })
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .sort();

test('git sees the audit trail and the policy, never the runtime store, token, locks or temporary files', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const dir = await prepareStateDir(repo.root);
  for (const [path, content] of Object.entries({
    'audit/audit.jsonl': '{}\n',
    'audit/audit.head': '{}\n',
    'audit/audit.jsonl.lock': '123\n',
    'audit/audit.head.4242.tmp': '{}',
    'runtime/runtime.db': 'sqlite',
    'runtime/runtime.db-journal': 'sqlite',
    'runtime/token': 'secret-token',
    'policy.json': '{"rules":[]}',
    'policy.cedar': 'forbid (principal, action, resource);',
    'grants.cedar': 'permit (principal, action, resource);',
    'state-added-later.json': '{}',
    '.gitignore.99.tmp': 'x',
  })) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  assert.deepEqual(untracked(repo.root), ['.deputy/.gitignore', '.deputy/audit/audit.head', '.deputy/audit/audit.jsonl', '.deputy/policy.cedar', '.deputy/policy.json']);
});

test('an existing .gitignore someone wrote is left alone; Deputy\'s earlier one is replaced', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  await mkdir(join(repo.root, '.deputy'));
  await writeFile(join(repo.root, '.deputy', '.gitignore'), 'runtime/\n');
  await prepareStateDir(repo.root);
  assert.equal(await readFile(join(repo.root, '.deputy', '.gitignore'), 'utf8'), STATE_GITIGNORE);
  await writeFile(join(repo.root, '.deputy', '.gitignore'), '# ours\nruntime/\naudit/\n');
  await prepareStateDir(repo.root);
  assert.equal(await readFile(join(repo.root, '.deputy', '.gitignore'), 'utf8'), '# ours\nruntime/\naudit/\n');
});

test('a symlink in place of .deputy/.gitignore is never written through', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n', 'victim.txt': 'runtime/\n' });
  t.after(() => repo.cleanup());
  await mkdir(join(repo.root, '.deputy'));
  await symlink(join(repo.root, 'victim.txt'), join(repo.root, '.deputy', '.gitignore'));
  await prepareStateDir(repo.root);
  assert.equal(await readFile(join(repo.root, 'victim.txt'), 'utf8'), 'runtime/\n', 'the link target kept its content');
});
