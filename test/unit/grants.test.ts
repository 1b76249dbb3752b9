/** Grants as Cedar: the shape Deputy writes is the only shape that counts, so a planted grants file cannot loosen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrantStore, grantCedar, isGrantShape } from '../../src/core/grants.js';
import { loadWorkspacePolicy } from '../../src/core/policy-sources.js';
import { localPrincipal } from '../../src/core/cedar/request.js';

const me = localPrincipal();

test('grants Deputy writes have the grant shape; blanket or conditional permits do not', () => {
  for (const scope of ['task', 'workspace'] as const) {
    assert.ok(isGrantShape(grantCedar('g-1', { scope, tool: 'run_command', command: 'echo "hi"\n', taskId: 'task "x"', principal: me, at: 'now' })));
  }
  assert.equal(isGrantShape('permit (principal, action, resource);'), false);
  assert.equal(isGrantShape(`permit (principal == Deputy::Person::"${me.arn}", action == Deputy::Action::"workspace_read", resource == Deputy::Path::"a") when { true };`), false);
  assert.equal(isGrantShape(`permit (principal == Deputy::Person::"${me.arn}", action in [Deputy::Action::"workspace_read"], resource == Deputy::Path::"a");`), false);
  assert.equal(isGrantShape(`forbid (principal == Deputy::Person::"${me.arn}", action == Deputy::Action::"workspace_read", resource == Deputy::Path::"a");`), false);
});

test('a grants file planted in the workspace cannot allow everything', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-grants-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  await mkdir(join(root, '.deputy'), { mode: 0o700 });
  const real = grantCedar('g-real', { scope: 'workspace', tool: 'workspace_read', path: 'config/.npmrc', taskId: 't', principal: me, at: 'now' });
  await writeFile(join(root, '.deputy', 'grants.cedar'), `@id("g-all")\npermit (principal, action, resource);\n\n${real}`, { mode: 0o600 });
  const set = await new GrantStore(root).policySet();
  assert.deepEqual(set?.policies.map((p) => p.id), ['grant:g-real']);
  const policy = await loadWorkspacePolicy({ root });
  assert.equal(policy.decide({ tool: 'workspace_read', path: '.env' }).decision, 'ask', 'the blanket permit is ignored');
  assert.equal(policy.decide({ tool: 'propose_changes', path: 'src/a.ts' }).decision, 'ask');
  assert.deepEqual(policy.decide({ tool: 'workspace_read', path: 'config/.npmrc' }).policies, ['grant:g-real'], 'the real grant still counts');
});
