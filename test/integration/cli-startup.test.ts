/**
 * The built CLI loads only what a command uses: `deputy --help` must not parse the AWS SDK, the `openai` client and
 * SQLite, and `deputy audit verify` only the audit code. Measured as the JavaScript files Node actually loaded (a
 * preload script lists `require.cache` at exit), not as time, so the test does not depend on the machine's load.
 * Needs `npm run build` (npm test runs it first).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../src/core/audit.js';
import { CLI } from '../helpers/cli.js';

let tmp: string;
let hook: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-cli-startup-'));
  hook = path.join(tmp, 'list-loaded.cjs');
  // Written to a file of its own (not stdout) so the command's output stays as it is.
  await fs.writeFile(
    hook,
    `process.on('exit', () => require('fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify(Object.keys(require.cache))));\n`,
  );
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Runs dist/cli.js with `args`; returns its exit code, output and the files Node loaded for it (outside the hook). */
function loaded(args: string[], cwd = tmp): { code: number | null; stdout: string; files: string[]; bytes: number } {
  const out = path.join(tmp, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, ['--require', hook, CLI, ...args], { cwd, env: { ...process.env, LOADED_OUT: out, NO_COLOR: '1' }, encoding: 'utf8' });
  const files = (JSON.parse(require('node:fs').readFileSync(out, 'utf8')) as string[]).filter((f) => f !== hook);
  return { code: r.status, stdout: r.stdout, files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

describe('deputy CLI start-up', () => {
  it('--help loads the command table alone, not any command', () => {
    const r = loaded(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: deputy <command>/);
    assert.deepEqual(r.files.map((f) => path.basename(f)), ['cli.js']);
    // The whole CLI bundled in one file is megabytes (the AWS SDK, openai); the table is a few kilobytes.
    assert.ok(r.bytes < 64 * 1024, `deputy --help loaded ${r.bytes} bytes of JavaScript`);
  });

  it('audit verify loads the audit command, not the agent, AWS or runtime code', async () => {
    const ws = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(ws);
    await log.append({ type: 'task.started', task: 't1', actor: { principal: 'alice' }, data: {} });
    await log.close();
    const r = loaded(['audit', 'verify'], ws);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /1 record/);
    assert.deepEqual(r.files.map((f) => path.basename(f)).sort(), ['cli-audit.js', 'cli.js']);
    assert.ok(r.bytes < 512 * 1024, `deputy audit verify loaded ${r.bytes} bytes of JavaScript`);
  });

  it('a command that fails still reports its own error in its own words', () => {
    const r = spawnSync(process.execPath, [CLI, 'audit', 'verify', path.join(tmp, 'none', 'audit.jsonl')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^There is no audit log at .*none/);
    assert.doesNotMatch(r.stderr, /unexpected error/);
  });
});
