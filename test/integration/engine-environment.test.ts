/**
 * The engine's `--environment` task loop (runTask with Deputy's environment as its TaskEnvironment port) against a real
 * runtime: a plain rejection is final (no further turn), while the end-of-turn review is still applied; and an
 * environment the endpoint refuses ends the task with the refusal instead of leaving the turn waiting for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import { runTask } from '../../src/core/task.js';
import { Workspace } from '../../src/core/workspace.js';
import { createCommandGate } from '../../src/environment/process-types.js';
import { DeputyTaskEnvironment, type DirectTransportAuth } from '../../src/environment/task-environment.js';
import { startHarness, type Harness } from '../fixtures/model-runtime-harness.js';
import type { ScriptEntry } from '../fixtures/model-server.js';
import { ScriptedPerson } from '../helpers/environment.js';
import { makeRepo } from '../helpers/git.js';

const PATCH = ['*** Begin Patch', '*** Add File: kept.txt', '+kept', '*** Update File: a.txt', '@@', '-alpha', '+beta', '*** End Patch', ''].join('\n');
const actor = { principal: 'local:test' };

async function setUp(t: { after(fn: () => Promise<void>): void }, script: ScriptEntry[], auth: (h: Harness) => DirectTransportAuth) {
  const harness = await startHarness(script);
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  const workspace = await Workspace.open(repo.root);
  const policy = Policy.defaults();
  const audit = await AuditLog.open(workspace.root);
  const person = new ScriptedPerson(
    () => true,
    (q) => (q.file.path === 'kept.txt' ? { verdict: 'approve' } : { verdict: 'reject' }),
  );
  const environment = await DeputyTaskEnvironment.open({
    workspace,
    policy,
    audit,
    prompter: person,
    actor,
    task: 'task_env',
    commands: await createCommandGate({ policy, allowUnsandboxed: false }),
    auth: auth(harness),
  });
  t.after(async () => {
    await environment.close();
    await audit.close();
    await harness.close();
    await repo.cleanup();
  });
  const run = () =>
    runTask(
      { client: harness.client, workspace, policy, audit, prompter: person, actor, provenance: { client: 'test', workspaceHash: 'sha256:0', provider: 'deputy' }, environment },
      { task: 'edit', taskId: 'task_env' },
    );
  return { harness, repo, person, run };
}

test('a plain rejection is final: the review is applied and no further turn is started', async (t) => {
  const s = await setUp(
    t,
    [{ toolCalls: [{ name: 'apply_patch', callId: 'p', kind: 'custom', arguments: PATCH }] }, { text: 'Edited.' }, { text: 'a turn nobody asked for' }],
    (h) => ({ authHeaders: async () => ({ authorization: `Bearer ${h.runtime.token}` }) }),
  );
  const summary = await s.run();
  assert.equal(summary.status, 'completed', summary.error);
  assert.deepEqual(summary.filesChanged, ['kept.txt']);
  assert.equal(await fs.readFile(join(s.repo.root, 'kept.txt'), 'utf8'), 'kept\n');
  assert.equal(await fs.readFile(join(s.repo.root, 'a.txt'), 'utf8'), 'alpha\n');
  assert.deepEqual(s.person.reviews.map((r) => r.file.path).sort(), ['a.txt', 'kept.txt']);
  assert.equal(s.harness.model.remaining(), 1, 'the third scripted turn was never asked for');
});

test('an environment the endpoint refuses ends the task with the refusal', async (t) => {
  const s = await setUp(t, [{ text: 'never reached' }], () => ({ authHeaders: async () => ({ authorization: 'Bearer not-the-runtime-token' }) }));
  const summary = await s.run();
  assert.equal(summary.status, 'failed');
  assert.match(summary.error ?? '', /refused the registration \(HTTP 401\)/);
  assert.equal(s.harness.model.remaining(), 1, 'no model call without an environment');
});
