/**
 * The pinned Codex CLI's `write_stdin` through Deputy's environment: the harness starts a command that waits for input
 * (`exec_command` with a terminal), the model writes a line to it, and the harness delivers it as `process/write` to
 * Deputy, which feeds it to the sandboxed command — the command reads it and exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { codexBinary, codexHome } from '../fixtures/codex.js';
import { CLI } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

/** The output the harness sent back for a call id (in the latest request that carries it). */
function outputOf(requests: RecordedRequest[], callId: string): string {
  for (const r of [...requests].reverse()) {
    for (const item of (r.body?.input ?? []) as Array<Record<string, unknown>>) {
      if (item.type === 'function_call_output' && item.call_id === callId) return String(item.output);
    }
  }
  return '';
}

test('Codex CLI write_stdin reaches a running command through Deputy (process/write)', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([
    // Allowed by the built-in rules; it waits for a line on its terminal.
    { toolCalls: [{ name: 'exec_command', callId: 'start', arguments: { cmd: 'head -n 1', tty: true, yield_time_ms: 1000 } }] },
    (req) => {
      const started = outputOf([req], 'start');
      const session = /session ID (\d+)/i.exec(started)?.[1];
      if (!session) return { text: `no session in: ${started}` };
      return { toolCalls: [{ name: 'write_stdin', callId: 'write', arguments: { session_id: Number(session), chars: 'line-from-stdin\n', yield_time_ms: 3000 } }] };
    },
    { text: 'done' },
  ]);
  t.after(() => model.close());
  const served = spawn(process.execPath, [CLI, 'environment', 'serve', '--workspace', repo.root], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  served.stdout.on('data', (d: Buffer) => (out += d.toString()));
  served.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.after(() => {
    if (served.exitCode === null) served.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    served.stdout.on('data', () => {
      const m = /DEPUTY_ENVIRONMENT_URL=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    served.once('exit', () => reject(new Error(out)));
  });
  const home = await codexHome(model.baseURL);
  const codex = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(codexBinary(), ['exec', '--skip-git-repo-check', '-C', repo.root, 'answer the prompt'], {
      env: { ...process.env, CODEX_HOME: home, CODEX_EXEC_SERVER_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
  assert.equal(codex.code, 0, codex.output);

  const started = outputOf(model.requests, 'start');
  assert.match(started, /Process running with session ID \d+/, started);
  const written = outputOf(model.requests, 'write');
  // The command read the line from its terminal (head prints it) and exited.
  assert.match(written, /Process exited with code 0/, written);
  assert.match(written, /line-from-stdin/, written);
  served.kill('SIGINT');
});
