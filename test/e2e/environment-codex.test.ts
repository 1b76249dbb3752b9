/**
 * End to end with the real Codex CLI (pinned, installed by test/setup/codex.sh) as the harness, the scripted model
 * as its model provider, and `deputy environment serve` (the built CLI) as its execution environment over the
 * loopback websocket. The agent's apply_patch adds, updates and deletes files; they are staged in the shadow,
 * reviewed on the terminal when the harness disconnects (two approved, one rejected with a comment), and exactly the
 * approved files change in the real workspace. The audit trail verifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { codexBinary, codexHome } from '../fixtures/codex.js';
import { CLI, runCli } from '../helpers/cli.js';
import { gitStatus, makeRepo } from '../helpers/git.js';

const PATCH = [
  '*** Begin Patch',
  '*** Add File: notes/todo.md',
  '+# TODO',
  '+- ship it',
  '*** Update File: src/greet.js',
  '@@',
  "-export const greet = (name) => 'Hello ' + name;",
  '+export const greet = (name) => `Hello, ${name}!`;',
  '*** Delete File: legacy.txt',
  '*** End Patch',
  '',
].join('\n');

/** The outputs of tool calls the harness sent back to the model, by call id. */
function toolOutputs(requests: RecordedRequest[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of requests) {
    for (const item of (r.body?.input ?? []) as Array<Record<string, unknown>>) {
      if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') out.set(String(item.call_id), String(item.output));
    }
  }
  return out;
}

interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves when the output matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  answer(line: string): void;
  stop(): Promise<number | null>;
}

async function serveEnvironment(workspace: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'environment', 'serve', '--workspace', workspace, ...extra], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out)) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${re} in:\n${out}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  await waitFor(/DEPUTY_ENVIRONMENT_URL=\S+/);
  return {
    child,
    url: /DEPUTY_ENVIRONMENT_URL=(\S+)/.exec(out)![1]!,
    output: () => out,
    waitFor,
    answer: (line) => child.stdin!.write(`${line}\n`),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

function runCodex(workspace: string, home: string, url: string, task: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(codexBinary(), ['exec', '--skip-git-repo-check', '-C', workspace, task], {
      env: { ...process.env, ...env, CODEX_HOME: home, CODEX_EXEC_SERVER_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('Codex CLI against deputy environment serve: apply_patch is staged, reviewed, and only approved files change', async (t) => {
  const repo = await makeRepo({ 'src/greet.js': "export const greet = (name) => 'Hello ' + name;\n", 'legacy.txt': 'old\n', 'README.md': '# demo\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'apply_patch', kind: 'custom', callId: 'patch_1', arguments: PATCH }] },
    { text: 'Added a TODO, modernised greet and removed legacy.txt.' },
  ]);
  t.after(() => model.close());
  const served = await serveEnvironment(repo.root);
  t.after(async () => {
    if (served.child.exitCode === null) await served.stop();
  });
  const home = await codexHome(model.baseURL);

  const codex = await runCodex(repo.root, home, served.url, 'tidy up');
  assert.equal(codex.code, 0, codex.output);
  // The harness reported the patch applied: from its side the environment behaved like a workspace.
  assert.match(toolOutputs(model.requests).get('patch_1') ?? '', /Success\. Updated the following files:\nA notes\/todo\.md\nM src\/greet\.js\nD legacy\.txt/);
  // Nothing reached the real workspace before review.
  assert.equal(gitStatus(repo.root).replace(/^\?\? \.deputy\/\n/m, ''), '');

  // The review starts when the harness disconnects: files in path order.
  await served.waitFor(/\[1\/3\] delete legacy\.txt/);
  served.answer('c keep legacy.txt, the installer still reads it');
  await served.waitFor(/\[2\/3\] create notes\/todo\.md/);
  served.answer('a');
  await served.waitFor(/\[3\/3\] update src\/greet\.js/);
  served.answer('a');
  await served.waitFor(/What the agent is told in its next message:[\s\S]*kept: src\/greet\.js/);
  assert.equal(await served.stop(), 0);

  assert.equal(await readFile(join(repo.root, 'src/greet.js'), 'utf8'), 'export const greet = (name) => `Hello, ${name}!`;\n');
  assert.equal(await readFile(join(repo.root, 'notes/todo.md'), 'utf8'), '# TODO\n- ship it\n');
  assert.equal(await readFile(join(repo.root, 'legacy.txt'), 'utf8'), 'old\n');
  assert.deepEqual(
    gitStatus(repo.root).split('\n').filter(Boolean).sort(),
    [' M src/greet.js', '?? .deputy/', '?? notes/'],
    'exactly the approved files changed',
  );
  assert.match(served.output(), /rejected and reverted in your workspace: legacy\.txt \(reviewer: "keep legacy\.txt, the installer still reads it"\)/);
  await assert.rejects(stat(join(repo.root, '.git', 'hooks', 'pre-commit')));

  const verify = await runCli(['audit', 'verify'], { cwd: repo.root });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('Codex CLI commands through Deputy: allowed runs, asked is approved and runs, denied never runs and the model sees why', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  t.after(() => repo.cleanup());
  const policyDir = await mkdtemp(join(tmpdir(), 'deputy-policy-'));
  const policyFile = join(policyDir, 'policy.json');
  await writeFile(policyFile, JSON.stringify({ rules: [], commandRules: [{ prefix: ['touch'], withArgs: [['forbidden.txt']], decision: 'deny', reason: 'that file is off limits' }] }));
  const model = await startScriptedModel([
    // Allowed by the built-in rules: runs at once, in the shadow, without the home folder or the credentials.
    { toolCalls: [{ name: 'exec_command', callId: 'allowed', arguments: { cmd: 'cat a.txt && pwd && ls -A ~ | wc -l && env | grep -c DEPUTY_TEST_SECRET' } }] },
    // No rule allows touch: Deputy asks, the person says yes.
    { toolCalls: [{ name: 'exec_command', callId: 'asked', arguments: { cmd: 'touch made.txt && echo made' } }] },
    // A policy rule denies it: never runs.
    { toolCalls: [{ name: 'exec_command', callId: 'denied', arguments: { cmd: 'touch forbidden.txt' } }] },
    { text: 'done' },
  ]);
  t.after(() => model.close());
  const served = await serveEnvironment(repo.root, ['--policy', policyFile]);
  t.after(async () => {
    if (served.child.exitCode === null) await served.stop();
  });
  await served.waitFor(/through the shadow \S+ ·/);
  const shadow = /through the shadow (\S+)/.exec(served.output())![1]!;
  const home = await codexHome(model.baseURL);

  const codexRun = runCodex(repo.root, home, served.url, 'run things', { DEPUTY_TEST_SECRET: 'sk-not-for-commands' });
  await served.waitFor(/The agent wants to run \/bin\/bash -lc touch made\.txt && echo made/);
  served.answer('y');
  const codex = await codexRun;
  assert.equal(codex.code, 0, codex.output);

  const outputs = toolOutputs(model.requests);
  const allowed = outputs.get('allowed') ?? '';
  assert.match(allowed, /Process exited with code 1/, 'grep -c found no secret (exit 1)');
  assert.match(allowed, new RegExp(`Output:\nalpha\n${shadow.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n0\n0\n`), 'ran in the shadow, saw no home folder and no secret');
  assert.match(outputs.get('asked') ?? '', /Process exited with code 0[\s\S]*Output:\nmade\n/);
  assert.match(outputs.get('denied') ?? '', /Denied by policy: .*that file is off limits.*The command was not run/);
  await assert.rejects(stat(join(shadow, 'forbidden.txt')), 'the denied command never ran');

  // Only the approved command's effect reaches review, then the workspace.
  await served.waitFor(/\[1\/1\] create made\.txt/);
  served.answer('a');
  await served.waitFor(/kept: made\.txt/);
  assert.equal(await served.stop(), 0);
  assert.deepEqual(gitStatus(repo.root).split('\n').filter(Boolean).sort(), ['?? .deputy/', '?? made.txt']);

  const exported = await runCli(['audit', 'export', '--format', 'jsonl'], { cwd: repo.root });
  const records = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const results = records.filter((r) => r.type === 'tool.result' && r.data?.tool === 'process/start');
  assert.ok(results.some((r) => r.data.exit_code === 1 && r.data.approver === 'policy' && /^[0-9a-f]{64}$/.test(r.data.output_sha256)), 'allowed run audited');
  assert.ok(results.some((r) => r.data.exit_code === 0 && r.data.approver.startsWith('local:')), 'approved run audited with its approver');
  assert.ok(results.some((r) => r.data.success === false && /off limits/.test(r.data.error)), 'denied run audited');
  assert.ok(!exported.stdout.includes('sk-not-for-commands'));
});
