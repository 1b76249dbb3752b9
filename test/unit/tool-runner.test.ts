/**
 * The ToolRunner's gatekeeping with real workspace, policy and audit: what policy denies never runs, an answer
 * not bound to the exact request counts as no, `.deputy/` is off limits to changes, a file edited after the
 * agent read it is a conflict, and every decision lands on the audit trail. The test plays the person.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, readAudit, verifyAudit } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import type { FileReviewAnswer, FileReviewQuestion, PermissionAnswer, PermissionQuestion, Prompter } from '../../src/core/prompter.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { Workspace } from '../../src/core/workspace.js';

/** A person who answers from a list, and remembers what they were asked. */
class Person implements Prompter {
  asked: (PermissionQuestion | FileReviewQuestion)[] = [];
  constructor(private readonly answers: ((q: PermissionQuestion | FileReviewQuestion) => PermissionAnswer | FileReviewAnswer)[]) {}
  async askPermission(q: PermissionQuestion): Promise<PermissionAnswer> {
    this.asked.push(q);
    return this.answers.shift()!(q) as PermissionAnswer;
  }
  async reviewFile(q: FileReviewQuestion): Promise<FileReviewAnswer> {
    this.asked.push(q);
    return this.answers.shift()!(q) as FileReviewAnswer;
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }, files: Record<string, string>, policy = Policy.defaults(), person = new Person([])) {
  const root = await mkdtemp(join(tmpdir(), 'deputy-runner-'));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), c);
  }
  const audit = await AuditLog.open(root);
  // An append resolves once its record is on disk, before its burst lets go of the lock file: close first, so the
  // lock's removal cannot race the folder's (ENOTEMPTY seen under load).
  t.after(async () => {
    await audit.close();
    await rm(root, { recursive: true, force: true });
  });
  const runner = new ToolRunner({
    workspace: await Workspace.open(root),
    policy,
    audit,
    prompter: person,
    actor: { principal: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' },
    task: 'task_1',
  });
  let n = 0;
  const call = (name: string, args: unknown) => runner.run({ session: 'sess_1', callId: `call_${++n}`, name, args });
  return { root, audit, call, person };
}

test('a policy deny stops a read before it runs, and says which rule', async (t) => {
  const policy = Policy.combine(
    Policy.defaults(),
    Policy.parse({ rules: [{ tools: ['workspace_read'], paths: ['private/**'], decision: 'deny', reason: 'private notes' }] }, 'org.json'),
  );
  const { call, audit } = await setup(t, { 'private/n.txt': 'secret plan\n' }, policy);
  const out = await call('workspace_read', { path: 'private/n.txt' });
  assert.equal(out.success, false);
  assert.match(out.error!, /Denied by policy: .*private notes/);
  assert.doesNotMatch(JSON.stringify(out), /secret plan/);
  const records = await readAudit(audit.file);
  assert.deepEqual(
    records.map((r) => r.type),
    ['tool.call', 'policy.decision', 'tool.result'],
  );
  assert.equal(records[1]!.data.decision, 'deny');
});

test('an answer bound to another request is a no, and the trail says so', async (t) => {
  const person = new Person([(q) => ({ binding: `${q.binding}-other`, allow: true })]);
  const { call, audit } = await setup(t, { '.env': 'TOKEN=abc\n' }, Policy.defaults(), person);
  const out = await call('workspace_read', { path: '.env' });
  assert.equal(out.success, false);
  assert.match(out.error!, /denied/);
  assert.equal(person.asked.length, 1);
  const answered = (await readAudit(audit.file)).find((r) => r.type === 'prompt.answered');
  assert.equal(answered?.data.answer, 'deny');
  assert.match(String(answered?.data.note), /not bound/);
});

test('the same arguments always bind the same; different arguments never do', async (t) => {
  const bindings: string[] = [];
  const person = new Person([0, 1, 2].map(() => (q) => (bindings.push(q.binding), { binding: q.binding, allow: false })));
  const { call } = await setup(t, { '.env': 'x\n', '.env.local': 'y\n' }, Policy.defaults(), person);
  await call('workspace_read', { path: '.env' });
  await call('workspace_read', { path: '.env.local' });
  await call('workspace_read', { path: '.env', start_line: 1 });
  assert.equal(new Set(bindings).size, 3);
});

test('changes under .deputy/ are refused without asking; others go to review and apply when approved', async (t) => {
  const person = new Person([(q) => ({ binding: q.binding, verdict: 'approve' })]);
  const { root, call, audit } = await setup(t, { 'a.txt': 'one\n' }, Policy.defaults(), person);
  await call('workspace_read', { path: 'a.txt' });
  const out = await call('propose_changes', {
    summary: 'edit',
    changes: [
      { path: 'a.txt', operation: 'update', diff: '@@\n-one\n+two\n' },
      { path: '.deputy/policy.json', operation: 'create', diff: '+{"rules":[{"decision":"allow"}]}\n' },
    ],
  });
  assert.equal(out.success, true);
  const results = JSON.parse(out.output!).results as { path: string; status: string; reason?: string }[];
  assert.equal(results[0]!.status, 'applied');
  assert.equal(results[1]!.status, 'invalid');
  assert.match(results[1]!.reason!, /\.deputy\/.*audit trail/);
  assert.equal(person.asked.length, 1, 'only the allowed file was reviewed');
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'two\n');
  await assert.rejects(readFile(join(root, '.deputy', 'policy.json')));
  const verified = await verifyAudit(audit.file);
  assert.equal(verified.ok, true);
  assert.equal(verified.records, (await readAudit(audit.file)).length);
});

test('a policy deny on a path refuses that file only', async (t) => {
  const person = new Person([(q) => ({ binding: q.binding, verdict: 'approve' })]);
  const policy = Policy.combine(Policy.defaults(), Policy.parse({ rules: [{ tools: ['propose_changes'], paths: ['infra/**'], decision: 'deny' }] }, 'org.json'));
  const { root, call } = await setup(t, { 'infra/main.tf': 'a\n', 'app.js': 'b\n' }, policy, person);
  await call('workspace_read', { path: 'infra/main.tf' });
  await call('workspace_read', { path: 'app.js' });
  const out = await call('propose_changes', {
    summary: 's',
    changes: [
      { path: 'infra/main.tf', operation: 'update', diff: '@@\n-a\n+A\n' },
      { path: 'app.js', operation: 'update', diff: '@@\n-b\n+B\n' },
    ],
  });
  const results = JSON.parse(out.output!).results as { path: string; status: string; reason?: string }[];
  assert.deepEqual(results.map((r) => r.status), ['invalid', 'applied']);
  assert.match(results[0]!.reason!, /Denied by policy/);
  assert.equal(await readFile(join(root, 'infra/main.tf'), 'utf8'), 'a\n');
});

test('a file edited by someone else after the agent read it is a conflict and is left alone', async (t) => {
  const person = new Person([]);
  const { root, call, audit } = await setup(t, { 'a.txt': 'one\n' }, Policy.defaults(), person);
  await call('workspace_read', { path: 'a.txt' });
  await writeFile(join(root, 'a.txt'), 'one\nand a human edit\n');
  const out = await call('propose_changes', { summary: 's', changes: [{ path: 'a.txt', operation: 'update', diff: '@@\n-one\n+two\n' }] });
  const [result] = JSON.parse(out.output!).results as { status: string; reason: string }[];
  assert.equal(result!.status, 'conflict');
  assert.equal(person.asked.length, 0, 'a conflict is not offered for approval');
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'one\nand a human edit\n');
  assert.ok((await readAudit(audit.file)).some((r) => r.type === 'changeset.conflict'));
});

test('unknown tools and non-object arguments fail clearly without asking anyone', async (t) => {
  const { call, person } = await setup(t, {});
  const unknown = await call('run_shell', { cmd: 'rm -rf /' });
  assert.match(unknown.error!, /Unknown tool "run_shell"/);
  const bad = await call('workspace_read', 'a.txt');
  assert.match(bad.error!, /must be a JSON object/);
  assert.equal(person.asked.length, 0);
});

test('search never shows the content of files that need permission; list hides denied paths', async (t) => {
  const policy = Policy.combine(Policy.defaults(), Policy.parse({ rules: [{ paths: ['vault/**'], decision: 'deny' }] }, 'org.json'));
  const { call, person } = await setup(t, { '.env': 'TOKEN=abc123\n', 'src/app.js': 'const TOKEN = process.env.TOKEN;\n', 'vault/keys.txt': 'TOKEN=zzz\n' }, policy);
  const found = JSON.parse((await call('workspace_search', { query: 'TOKEN' })).output!) as { matches: { path: string }[]; withheld_files?: string[] };
  assert.deepEqual(found.matches.map((m) => m.path), ['src/app.js']);
  assert.deepEqual(found.withheld_files?.sort(), ['.env', 'vault/keys.txt']);
  const listed = JSON.parse((await call('workspace_list', { depth: 3 })).output!) as { entries: { path: string }[] };
  const paths = listed.entries.map((e) => e.path);
  assert.ok(paths.includes('.env'), 'a secret-looking file is listed by name');
  assert.ok(!paths.some((p) => p.startsWith('vault/')), 'denied paths are not listed');
  assert.equal(person.asked.length, 0);
});

test('.deputy/ is out of reach: no read of the runtime token, no change through a link into it', async (t) => {
  const person = new Person([(q) => ({ binding: q.binding, verdict: 'approve' })]);
  const { root, call } = await setup(t, { 'a.txt': 'a\n' }, Policy.defaults(), person);
  await mkdir(join(root, '.deputy', 'runtime'), { recursive: true });
  await writeFile(join(root, '.deputy', 'runtime', 'token'), 'runtime-bearer-token-value\n');
  await writeFile(join(root, '.deputy', 'policy.json'), '{"rules":[]}\n');
  await symlink('.deputy', join(root, 'config'));
  for (const path of ['.deputy/runtime/token', '.DEPUTY/runtime/token', 'config/runtime/token']) {
    const out = await call('workspace_read', { path });
    assert.equal(out.success, false, path);
    assert.match(out.error!, /\.deputy/, path);
    assert.doesNotMatch(JSON.stringify(out), /runtime-bearer-token-value/);
  }
  const proposed = await call('propose_changes', {
    summary: 'loosen policy',
    changes: [{ path: 'config/policy.json', operation: 'update', diff: '@@\n-{"rules":[]}\n+{"rules":[{"decision":"allow"}]}\n' }],
  });
  const [result] = JSON.parse(proposed.output!).results as { status: string; reason: string }[];
  assert.equal(result!.status, 'invalid');
  assert.match(result!.reason, /symbolic link into \.deputy/);
  assert.equal(person.asked.length, 0);
  assert.equal(await readFile(join(root, '.deputy', 'policy.json'), 'utf8'), '{"rules":[]}\n');
});

test('a link cannot dress a guarded file up: policy judges the real path too, and the reviewer sees it', async (t) => {
  const policy = Policy.combine(Policy.defaults(), Policy.parse({ rules: [{ paths: ['secrets/**'], decision: 'deny' }] }, 'org.json'));
  const person = new Person([(q) => ({ binding: q.binding, allow: false }), (q) => ({ binding: q.binding, verdict: 'approve' })]);
  const { root, call } = await setup(t, { '.env': 'TOKEN=abc\n', 'secrets/db.txt': 'password\n', 'lib/real.js': 'x\n' }, policy, person);
  await symlink('.env', join(root, 'env.example'));
  await symlink('secrets', join(root, 'docs'));
  await symlink('real.js', join(root, 'lib', 'alias.js'));

  const viaDocs = await call('workspace_read', { path: 'docs/db.txt' });
  assert.match(viaDocs.error!, /Denied by policy: .*docs\/db\.txt is a link to secrets\/db\.txt/);
  const viaExample = await call('workspace_read', { path: 'env.example' });
  assert.equal(viaExample.success, false, 'the read of a link to .env asked, and was refused');
  assert.equal((person.asked[0] as PermissionQuestion).summary, 'read env.example');

  await call('workspace_read', { path: 'lib/alias.js' });
  await call('propose_changes', { summary: 's', changes: [{ path: 'lib/alias.js', operation: 'update', diff: '@@\n-x\n+y\n' }] });
  assert.equal((person.asked[1] as FileReviewQuestion).realPath, 'lib/real.js');
  assert.equal(await readFile(join(root, 'lib', 'real.js'), 'utf8'), 'y\n');
});

test('a filesystem failure on one file is that file\'s result; files already written are still reported', async (t) => {
  const person = new Person([0, 1].map(() => (q) => ({ binding: q.binding, verdict: 'approve' as const })));
  const { root, call } = await setup(t, {}, Policy.defaults(), person);
  const long = `${'n'.repeat(300)}.txt`;
  const out = await call('propose_changes', {
    summary: 's',
    changes: [
      { path: 'a.txt', operation: 'create', diff: '+a\n' },
      { path: long, operation: 'create', diff: '+b\n' },
    ],
  });
  assert.equal(out.success, true);
  assert.deepEqual(out.applied, ['a.txt']);
  const results = JSON.parse(out.output!).results as { path: string; status: string; reason?: string }[];
  assert.equal(results[0]!.status, 'applied');
  assert.equal(results[1]!.status, 'invalid');
  assert.match(results[1]!.reason!, /ENAMETOOLONG|too long/i);
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'a\n');
});
