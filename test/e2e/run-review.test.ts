/**
 * End to end, through the built CLI: `deputy run` on a real git repository, the embedded runtime, and the
 * scripted upstream model. The agent lists and reads, proposes changes to two files; the person approves
 * one and rejects the other with a comment; the workspace ends exactly as expected, the agent is told the
 * per-file result, and the audit trail verifies — until a record is edited by hand.
 */
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { spawn } from 'node:child_process';
import { CLI, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const GREET_BEFORE = "export function greet(name) {\n  return 'Hello ' + name;\n}\n";
const GREET_AFTER = "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n";
const README = '# Demo\n\nSays hello.\n';

const GREET_PATCH = [
  '*** Begin Patch',
  '*** Update File: src/greet.js',
  '@@ export function greet(name) {',
  "-  return 'Hello ' + name;",
  '+  return `Hello, ${name}!`;',
  ' }',
  '*** End Patch',
].join('\n');

const README_DIFF = [
  '--- a/README.md',
  '+++ b/README.md',
  '@@ -1,3 +1,3 @@',
  ' # Demo',
  ' ',
  '-Says hello.',
  '+Says hello, loudly!',
  '',
].join('\n');

/** The model turns the runtime asked for (the CLI's preflight `GET /models` is recorded too, and skipped here). */
function turns(model: { requests: RecordedRequest[] }): RecordedRequest[] {
  return model.requests.filter((r) => r.path.endsWith('/responses') || r.path.endsWith('/chat/completions'));
}

/** The text of every function_call_output the model was sent, across the Responses and Chat shapes. */
function toolOutputs(req: RecordedRequest): string[] {
  const body = req.body as { input?: unknown[]; messages?: unknown[] };
  const items = (body.input ?? body.messages ?? []) as Array<Record<string, unknown>>;
  return items
    .filter((i) => i.type === 'function_call_output' || i.role === 'tool')
    .map((i) => String(i.output ?? i.content ?? ''));
}

for (const api of ['responses', 'chat'] as const) {
  test(`deputy run (${api} upstream): approve one file, reject another with a comment, audit verifies`, async (t) => {
    const repo = await makeRepo({ 'src/greet.js': GREET_BEFORE, 'README.md': README });
    t.after(() => repo.cleanup());
    const model = await startScriptedModel([
      { toolCalls: [{ name: 'workspace_list', arguments: {} }], usage: { input_tokens: 100, output_tokens: 10 } },
      {
        toolCalls: [
          { name: 'workspace_read', arguments: { path: 'src/greet.js' } },
          { name: 'workspace_read', arguments: { path: 'README.md' } },
        ],
        usage: { input_tokens: 200, output_tokens: 20 },
      },
      {
        toolCalls: [
          {
            name: 'propose_changes',
            arguments: {
              summary: 'Friendlier greeting and README',
              changes: [
                { path: 'src/greet.js', operation: 'update', diff: GREET_PATCH, rationale: 'template literal' },
                { path: 'README.md', operation: 'update', diff: README_DIFF },
              ],
            },
          },
        ],
        usage: { input_tokens: 300, output_tokens: 30 },
      },
      { text: 'Updated greet.js; left the README as you asked.', usage: { input_tokens: 400, output_tokens: 40 } },
    ]);
    t.after(() => model.close());

    const result = await runCli(
      [
        'run',
        '--model-base-url', model.baseURL,
        '--model', 'scripted',
        '--model-api', api,
        '--price-input', '2', '--price-output', '8',
        'Make the greeting friendlier',
      ],
      { cwd: repo.root, input: 'a\nc Keep the README wording as it is\n' },
    );
    assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);

    // The workspace: the approved file changed, the rejected one did not.
    assert.equal(await readFile(join(repo.root, 'src/greet.js'), 'utf8'), GREET_AFTER);
    assert.equal(await readFile(join(repo.root, 'README.md'), 'utf8'), README);

    // What the person saw: both diffs, the progress, and the summary with tokens and cost.
    assert.match(result.stdout, /→ list \./);
    assert.match(result.stdout, /→ read src\/greet\.js/);
    assert.match(result.stdout, /\+  return `Hello, \$\{name\}!`;/);
    assert.match(result.stdout, /-Says hello\./);
    assert.match(result.stdout, /✔ applied src\/greet\.js/);
    assert.match(result.stdout, /Updated greet\.js; left the README as you asked\./);
    assert.match(result.stdout, /Files changed \(1\): src\/greet\.js/);
    assert.match(result.stdout, /Tokens: 1000 in \/ 100 out \(1100 total\) · cost \$0\.0028/);

    // What the agent was told: per file, applied / rejected with the reviewer's comment.
    assert.equal(turns(model).length, 4);
    const outputs = toolOutputs(turns(model)[3]!).join('\n');
    const results = JSON.parse(outputs.slice(outputs.indexOf('{"results"'))) as { results: unknown[] };
    assert.deepEqual(results.results, [
      { path: 'src/greet.js', status: 'applied' },
      { path: 'README.md', status: 'rejected', comment: 'Keep the README wording as it is' },
    ]);

    // The audit trail verifies, and names the record a hand edit broke.
    const auditFile = join(repo.root, '.deputy', 'audit', 'audit.jsonl');
    const verified = await runCli(['audit', 'verify'], { cwd: repo.root });
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    const lines = (await readFile(auditFile, 'utf8')).trimEnd().split('\n');
    const types = lines.map((l) => (JSON.parse(l) as { type: string }).type);
    for (const type of ['task.started', 'session.created', 'tool.call', 'policy.decision', 'changeset.proposed', 'changeset.approved', 'changeset.applied', 'changeset.rejected', 'usage', 'task.finished']) {
      assert.ok(types.includes(type), `audit has a ${type} record`);
    }
    const approvedAt = types.indexOf('changeset.approved');
    const edited = lines[approvedAt]!.replace('"src/greet.js"', '"src/other.js"');
    assert.notEqual(edited, lines[approvedAt]);
    lines[approvedAt] = edited;
    await writeFile(auditFile, `${lines.join('\n')}\n`);
    const tampered = await runCli(['audit', 'verify'], { cwd: repo.root });
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout + tampered.stderr, new RegExp(`record ${approvedAt + 1}\\b`));

    // The runtime's store and the pre-images kept for `deputy revert` stay out of git; nothing else appeared.
    assert.deepEqual((await readdir(join(repo.root, '.deputy'))).sort(), ['.gitignore', 'audit', 'pre-images', 'runtime']);
    const untracked = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repo.root }).toString();
    assert.doesNotMatch(untracked, /pre-images|runtime/);
  });
}

test('deputy run says exactly what to configure when no model answers', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const result = await runCli(['run', '--model-base-url', 'http://127.0.0.1:9/v1', 'do something'], { cwd: repo.root });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /No model answered at http:\/\/127\.0\.0\.1:9\/v1/);
  assert.match(result.stderr, /--model-base-url URL --model NAME/);
  assert.match(result.stderr, /ollama serve/);
});

test('deputy run with end of input rejects every proposed file and writes nothing', async (t) => {
  const repo = await makeRepo({ 'README.md': README });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'README.md' } }] },
    {
      toolCalls: [
        { name: 'propose_changes', arguments: { summary: 's', changes: [{ path: 'README.md', operation: 'update', diff: README_DIFF }] } },
      ],
    },
    { text: 'ok' },
  ]);
  t.after(() => model.close());
  const result = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'edit the readme'], {
    cwd: repo.root,
    input: '',
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await readFile(join(repo.root, 'README.md'), 'utf8'), README);
  assert.match(result.stdout, /end of input: rejected/);
  assert.match(result.stdout, /Files changed: none/);
});

test('deputy run asks before reading secret-looking files and honours each answer', async (t) => {
  const repo = await makeRepo({ '.env': 'API_TOKEN=from-dotenv\n', 'keys/id_rsa': 'not really a key\n', 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'keys/id_rsa' } }] },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'a.txt' } }] },
    { text: 'done' },
  ]);
  t.after(() => model.close());
  const result = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'look around'], {
    cwd: repo.root,
    input: 'maybe\nyes\nno\n',
  });
  assert.equal(result.code, 0, result.stderr);
  // Two questions (the plain read of a.txt is allowed by the default policy), the first asked twice.
  assert.equal(result.stdout.match(/The agent wants to read/g)?.length, 2);
  assert.match(result.stdout, /Please answer y, n, t or w/);
  const sent = (i: number) => JSON.stringify(turns(model)[i]!.body);
  assert.match(sent(1), /API_TOKEN=from-dotenv/, 'the allowed read reached the agent');
  assert.match(sent(2), /denied this request/, 'the denied read told the agent so');
  assert.doesNotMatch(sent(2), /not really a key/);
  assert.match(sent(3), /a\.txt.*total_lines/, 'the allowed-by-default read went through');
  const audit = await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  assert.equal(audit.match(/"prompt.answered"/g)?.length, 2);
});

test('Ctrl-C cancels the turn at the endpoint and ends the task as cancelled', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ text: 'too late', delayMs: 20_000 }]);
  t.after(() => model.close());
  const child = spawn(process.execPath, [CLI, 'run', '--model-base-url', model.baseURL, '--model', 'scripted', 'think hard'], {
    cwd: repo.root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // Interrupt while the model is still thinking: the session exists and its first model call is in flight.
  while (!(/session sess_/.test(out) && turns(model).length === 1)) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  assert.equal(await exited, 130, `${out}\n${err}`);
  assert.match(err, /Cancelling the turn/);
  assert.match(out, /Cancelled · session sess_/);
  const audit = await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
  assert.match(audit, /"type":"task.finished".*"status":"cancelled"/);
});

test('--spend-limit: the embedded runtime stops the task when the priced usage reaches the limit', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  // 1,000 input + 500 output tokens at $20 / $40 per million = 4 cents, over a 3-cent limit after one model call.
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_list', arguments: {} }], usage: { input_tokens: 1000, output_tokens: 500 } },
    { text: 'never reached' },
  ]);
  t.after(() => model.close());
  const result = await runCli(
    ['run', '--model-base-url', model.baseURL, '--model', 'scripted', '--spend-limit', '3', '--price-input', '20', '--price-output', '40', 'list things'],
    { cwd: repo.root },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /Failed · session/);
  assert.match(result.stdout, /spend limit: 4 of 3 US cents used/);
  assert.match(result.stdout, /cost \$0\.0400/);
  assert.equal(turns(model).length, 1, 'no model call after the limit');
});
