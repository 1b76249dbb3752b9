/**
 * `deputy run --environment` end to end through the built CLI, against the embedded runtime and the scripted model:
 * the session is created `self_hosted`, the engine connects Deputy's environment when the runtime asks for it (bearer
 * token, no AWS credentials), the agent's commands run under policy in the shadow (one allowed, one approved, one
 * refused), its patch lands in the shadow, and the end-of-turn review applies exactly the approved files. A rejection
 * with a comment becomes the agent's next message.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const PATCH = [
  '*** Begin Patch',
  '*** Add File: notes/new.txt',
  '+kept',
  '*** Update File: app.txt',
  '@@',
  '-line two',
  '+line 2',
  '*** Delete File: old.txt',
  '*** End Patch',
  '',
].join('\n');

function turns(model: { requests: RecordedRequest[] }): RecordedRequest[] {
  return model.requests.filter((r) => r.path.endsWith('/responses'));
}

/** Everything the model was sent in one request, as text. */
function sent(req: RecordedRequest): string {
  return JSON.stringify(req.body.input);
}

test('deputy run --environment: commands under policy, the patch reviewed at the end of the turn, a comment sent back to the agent', async (t) => {
  const repo = await makeRepo({ 'app.txt': 'line one\nline two\n', 'old.txt': 'old\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'exec_command', callId: 'c1', arguments: { cmd: 'cat app.txt' } }] },
    { toolCalls: [{ name: 'exec_command', callId: 'c2', arguments: { cmd: 'touch made-by-command.txt' } }] },
    { toolCalls: [{ name: 'exec_command', callId: 'c3', arguments: { cmd: 'git push --force origin main' } }] },
    { toolCalls: [{ name: 'apply_patch', callId: 'c4', kind: 'custom', arguments: PATCH }] },
    { text: 'Edited app.txt, added notes, removed old.txt.' },
    { text: 'Understood: app.txt stays as it is.' },
  ]);
  t.after(() => model.close());

  const result = await runCli(
    ['run', '--environment', '--model-base-url', model.baseURL, '--model', 'scripted', 'Tidy up the workspace'],
    // The held `touch` is allowed; then the review, file by file in path order: app.txt rejected with a comment,
    // the command's file, the new note and the deletion approved.
    { cwd: repo.root, input: 'y\nc keep "two" spelled out\na\na\na\n' },
  );
  assert.equal(result.code, 0, `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);

  // The environment's state, as the person saw it.
  assert.match(result.stdout, /environment: connecting to the session/);
  assert.match(result.stdout, /environment: connected/);

  // Exactly the approved files reached the workspace.
  assert.equal(await fs.readFile(join(repo.root, 'app.txt'), 'utf8'), 'line one\nline two\n');
  assert.equal(await fs.readFile(join(repo.root, 'notes/new.txt'), 'utf8'), 'kept\n');
  assert.equal(await fs.readFile(join(repo.root, 'made-by-command.txt'), 'utf8'), '');
  await assert.rejects(fs.stat(join(repo.root, 'old.txt')), { code: 'ENOENT' });
  assert.match(result.stdout, /✔ applied notes\/new\.txt/);
  assert.match(result.stdout, /Files changed \(3\): .*made-by-command\.txt/);

  const requests = turns(model);
  assert.equal(requests.length, 6, `model requests: ${requests.length}`);
  // The session offered Codex's tools, not Deputy's client tools.
  const tools = (requests[0]!.body.tools as Array<{ name: string }>).map((x) => x.name);
  assert.ok(tools.includes('exec_command') && tools.includes('apply_patch') && !tools.includes('propose_changes'), tools.join(','));
  // The allowed command read the workspace's content; the refused one never ran and the model was told why.
  assert.match(sent(requests[1]!), /line one\\nline two/);
  assert.match(sent(requests[3]!), /Denied by policy/);
  // The agent's next message is the review: kept, rejected with the comment.
  const input = requests[5]!.body.input as Array<{ role?: string; content?: Array<{ text?: string }> }>;
  const next = input.filter((i) => i.role === 'user').at(-1)!.content![0]!.text!;
  assert.equal(
    next,
    [
      "Deputy's review of your changes:",
      '- rejected and reverted in your workspace: app.txt (reviewer: "keep "two" spelled out")',
      '- kept: made-by-command.txt',
      '- kept: notes/new.txt',
      '- kept: old.txt',
    ].join('\n'),
  );
  assert.match(result.stdout, /The review asks for changes; the agent is told in its next message:/);

  // The trail: the refused command, the approved one with its approver, the review's files.
  const audit = (await fs.readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  const decisions = audit.filter((r) => r.type === 'policy.decision').map((r) => r.data.decision);
  assert.deepEqual(decisions.filter((d) => d !== undefined).slice(0, 3), ['allow', 'ask', 'deny']);
  assert.ok(audit.some((r) => r.type === 'changeset.proposed' && r.data.source === 'environment'));
  const verify = await runCli(['audit', 'verify'], { cwd: repo.root });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
