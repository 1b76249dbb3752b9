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
import { readFile, stat } from 'node:fs/promises';
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

async function serveEnvironment(workspace: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'environment', 'serve', '--workspace', workspace], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
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

function runCodex(workspace: string, home: string, url: string, task: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(codexBinary(), ['exec', '--skip-git-repo-check', '-C', workspace, task], {
      env: { ...process.env, CODEX_HOME: home, CODEX_EXEC_SERVER_URL: url },
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
