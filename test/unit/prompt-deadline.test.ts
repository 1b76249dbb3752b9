/**
 * The Prompter port: every question has a deadline and can be withdrawn. Unanswered in time is a deny; a stopped
 * turn withdraws its question as a deny; an answer given after the withdrawal approves nothing. The prompter is told
 * (its signal aborts) so it stops asking. Also the editor's implementation of the port (the server's broker, answered
 * from another process by binding): a withdrawn question leaves it and a late answer is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, readAudit } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import type { AskOptions, PermissionAnswer, PermissionQuestion, Prompter } from '../../src/core/prompter.js';
import { EngineEvents } from '../../src/core/event-channel.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { Workspace } from '../../src/core/workspace.js';
import type { EventInput } from '../../src/server/event-log.js';
import { PromptBroker } from '../../src/server/prompt-broker.js';
import { deferrals } from '../helpers/defer.js';

/** A person who is slow: answers only when told to, and notes whether the question was taken back. */
class SlowPerson implements Prompter {
  question: PermissionQuestion | undefined;
  signal: AbortSignal | undefined;
  private give: ((a: PermissionAnswer) => void) | undefined;
  readonly opened: Promise<void>;
  private markOpened!: () => void;
  constructor() {
    this.opened = new Promise((resolve) => (this.markOpened = resolve));
  }
  askPermission(q: PermissionQuestion, options: AskOptions): Promise<PermissionAnswer> {
    this.question = q;
    this.signal = options.signal;
    this.markOpened();
    return new Promise((resolve) => (this.give = resolve));
  }
  reviewFile(): never {
    throw new Error('not asked in this test');
  }
  allow(): void {
    this.give?.({ binding: this.question!.binding, allow: true });
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }, person: Prompter, promptTimeoutMs?: number) {
  const root = await mkdtemp(join(tmpdir(), 'deputy-deadline-'));
  // The trail's last appends can still be on their way when a test ends: it closes before its folder goes.
  const defer = deferrals(t);
  defer(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, '.env'), 'TOKEN=abc\n');
  const audit = await AuditLog.open(root);
  defer(() => audit.close());
  const withdrawn: string[] = [];
  const events = EngineEvents.forTask(audit, { principal: 'alice' }, 'task_d');
  events.listen((_s, e) => void (e.type === 'prompt.withdrawn' && withdrawn.push(e.reason)));
  const runner = new ToolRunner({
    events,
    workspace: await Workspace.open(root),
    policy: Policy.defaults(),
    audit,
    prompter: person,
    actor: { principal: 'alice' },
    task: 'task_d',
    ...(promptTimeoutMs !== undefined ? { promptTimeoutMs } : {}),
  });
  return { audit, runner, withdrawn };
}

const readEnv = { session: 'sess_d', callId: 'c1', name: 'workspace_read', args: { path: '.env' } };

test('a question nobody answers in time is a deny, and the prompter is told to stop asking', async (t) => {
  const person = new SlowPerson();
  const { audit, runner, withdrawn } = await setup(t, person, 50);
  const before = Date.now();
  const out = await runner.run(readEnv);
  assert.equal(out.success, false);
  assert.equal(out.error, 'The user denied this request.');
  assert.equal(person.signal?.aborted, true, 'the prompter was told the question is withdrawn');
  const deadline = Date.parse(person.question!.deadline!);
  assert.ok(deadline >= before + 50 && deadline <= Date.now() + 50, 'the question carries its deadline');
  assert.deepEqual(withdrawn, ['timedOut']);
  // The answer that comes after the deadline approves nothing.
  person.allow();
  await new Promise((resolve) => setImmediate(resolve));
  const answers = (await readAudit(audit.file)).filter((r) => r.type === 'prompt.answered');
  assert.deepEqual(answers.map((r) => [r.data.answer, r.data.withdrawn]), [['deny', 'timedOut']]);
});

test('a turn that stops withdraws its open question as a deny; an answer given afterwards approves nothing', async (t) => {
  const person = new SlowPerson();
  const { audit, runner, withdrawn } = await setup(t, person);
  const stop = new AbortController();
  const running = runner.run(readEnv, stop.signal);
  await person.opened;
  stop.abort();
  const out = await running;
  assert.equal(out.success, false);
  assert.equal(person.signal?.aborted, true);
  // The person says "yes" to a question that was already withdrawn.
  person.allow();
  await new Promise((resolve) => setImmediate(resolve));
  assert.doesNotMatch(JSON.stringify(out), /TOKEN=abc/);
  assert.deepEqual(withdrawn, ['sessionStopped']);
  const answers = (await readAudit(audit.file)).filter((r) => r.type === 'prompt.answered');
  assert.deepEqual(answers.map((r) => [r.data.answer, r.data.withdrawn]), [['deny', 'sessionStopped']]);
});

test('an answer in time still counts, and nothing is withdrawn', async (t) => {
  const person = new SlowPerson();
  const { runner, withdrawn } = await setup(t, person, 60_000);
  const running = runner.run(readEnv);
  await person.opened;
  person.allow();
  const out = await running;
  assert.equal(out.success, true);
  assert.match(out.output ?? '', /TOKEN=abc/);
  assert.equal(person.signal?.aborted, false);
  assert.deepEqual(withdrawn, []);
});

test('the editor broker: answered from outside by binding; a question the engine withdraws leaves it and a late answer is refused', async () => {
  const emitted: EventInput[] = [];
  const broker = new PromptBroker({ emit: (_s, e) => emitted.push(e), timeoutMs: () => 60_000, changed: () => undefined });
  const q = { binding: 'b'.repeat(64), session: 's1', callId: 'c1', tool: 'workspace_read', summary: 'read .env', reason: 'asks', args: {} };
  const answer = broker.prompter.askPermission(q, { signal: new AbortController().signal });
  assert.equal(broker.pending('s1'), 1);
  assert.equal(broker.answer('s1', 'f'.repeat(64), 'allowOnce'), false, 'another binding answers nothing');
  assert.equal(broker.answer('s2', q.binding, 'allowOnce'), false, 'another session answers nothing');
  assert.equal(broker.answer('s1', q.binding, 'allowOnce'), true);
  assert.deepEqual(await answer, { binding: q.binding, allow: true });

  const withdraw = new AbortController();
  const second = broker.prompter.askPermission({ ...q, binding: 'c'.repeat(64) }, { signal: withdraw.signal });
  assert.equal(broker.pending('s1'), 1);
  withdraw.abort('timedOut');
  assert.equal(broker.pending('s1'), 0);
  assert.deepEqual(await second, { binding: 'c'.repeat(64), allow: false });
  assert.equal(broker.answer('s1', 'c'.repeat(64), 'allowOnce'), false, 'a withdrawn question cannot be answered');
  const last = emitted.at(-1);
  assert.deepEqual(last, { type: 'prompt.withdrawn', binding: 'c'.repeat(64), reason: 'timedOut' });
});
