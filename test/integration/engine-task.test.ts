/**
 * The engine's task loop against a real runtime where the event stream cannot be trusted to be whole: a follower
 * that missed a call's announcement finds it again from the session's state; a stream that never opens ends the
 * wait with an error; a task that breaks off still closes its audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followSession } from '../../src/agents/event-stream.js';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { AuditLog, readAudit } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import type { Prompter } from '../../src/core/prompter.js';
import { runTask } from '../../src/core/task.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { TurnFollower } from '../../src/core/turn-follower.js';
import { EngineEvents } from '../../src/core/event-channel.js';
import { Workspace } from '../../src/core/workspace.js';
import { startHarness, waitForSession } from '../fixtures/model-runtime-harness.js';

const nobody: Prompter = {
  askPermission: async (q) => ({ binding: q.binding, allow: false }),
  reviewFile: async (q) => ({ binding: q.binding, verdict: 'reject' }),
};
const actor = { principal: 'local:test' };

async function workspace(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'deputy-task-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  const audit = await AuditLog.open(root);
  return { root, audit, ws: await Workspace.open(root) };
}

test('a follower that missed the call announcement finds it in the session state and finishes the turn', async (t) => {
  const h = await startHarness([{ toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] }, { text: 'read it' }]);
  t.after(() => h.close());
  const { audit, ws } = await workspace(t);
  const session = await h.client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { tools: [] } });
  await h.client.beta.agents.sessions.events.create(session.id, {
    events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: 'read a' }] }] }],
  });
  // The call was announced before anyone followed: a stream opened now carries only what comes next.
  await waitForSession(h.client, session.id, (s) => s.status === 'requires_action');
  const runner = new ToolRunner({ workspace: ws, policy: Policy.defaults(), audit, prompter: nobody, actor, task: 'task_gap' });
  const follower = new TurnFollower({ client: h.client, session, taskId: 'task_gap', runner, events: EngineEvents.forTask(audit, actor, 'task_gap') });
  const stream = followSession(h.client, session.id);
  const first = stream.events.next();
  await stream.opened;
  follower.resync();
  const outcome = await follower.follow(stream.events, first);
  await stream.events.return(undefined);
  assert.equal(outcome.status, 'completed');
  assert.equal(outcome.finalText, 'read it');
  const sent = JSON.stringify(h.model.requests[1]!.body);
  assert.match(sent, /alpha/, 'the tool result reached the model');
});

test('a stream that never opens ends the wait with an error instead of hanging', async () => {
  const client = createAgentsClient({ kind: 'runtime', baseURL: 'http://127.0.0.1:59998/v1', token: 't' }, { maxRetries: 0 });
  const stream = followSession(client, 'sess_x', { maxReconnects: 1, backoffMs: 1 });
  const first = stream.events.next();
  first.catch(() => undefined);
  await assert.rejects(stream.opened, /Lost the event stream of session sess_x|Connection error/);
  await assert.rejects(first);
});

test('a task that breaks off still ends its audit trail', async (t) => {
  const h = await startHarness([]);
  t.after(() => h.close());
  const { audit, ws } = await workspace(t);
  const deps = {
    client: h.client,
    workspace: ws,
    policy: Policy.defaults(),
    audit,
    prompter: nobody,
    actor,
    provenance: { client: 'deputy-test/0', workspaceHash: 'sha256:0', provider: 'deputy' },
  };
  // The endpoint refuses the session (a spend limit must be a positive whole number of cents).
  await assert.rejects(runTask(deps, { task: 'anything', spendLimitCents: -5 }), /spend_control\.limit/);
  const records = await readAudit(audit.file);
  assert.deepEqual(records.map((r) => r.type), ['task.started', 'error', 'task.finished']);
  assert.equal(records[2]!.data.status, 'failed');
  assert.equal(records[1]!.task, records[0]!.task);
});
