import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_GLOB_LENGTH, MAX_GLOB_WILDCARDS, compileGlob, matchGlob } from '../../src/core/glob.js';

test('* and ? stay within one segment', () => {
  assert.equal(matchGlob('*.ts', 'a.ts'), true);
  assert.equal(matchGlob('*.ts', 'src/a.ts'), false);
  assert.equal(matchGlob('src/?.ts', 'src/a.ts'), true);
  assert.equal(matchGlob('src/?.ts', 'src/ab.ts'), false);
  assert.equal(matchGlob('src/*', 'src/a/b'), false);
});

test('** spans any number of segments, including none', () => {
  assert.equal(matchGlob('**/*.ts', 'a.ts'), true);
  assert.equal(matchGlob('**/*.ts', 'src/x/y/a.ts'), true);
  assert.equal(matchGlob('src/**/test/*.ts', 'src/test/a.ts'), true);
  assert.equal(matchGlob('src/**/test/*.ts', 'src/a/b/test/a.ts'), true);
  assert.equal(matchGlob('src/**', 'src/a/b.ts'), true);
  assert.equal(matchGlob('src/**', 'srcx/a'), false);
  assert.equal(matchGlob('**', '.env'), true);
});

test('{a,b} alternatives, nested, and character classes', () => {
  assert.equal(matchGlob('*.{ts,js}', 'a.js'), true);
  assert.equal(matchGlob('*.{ts,js}', 'a.py'), false);
  assert.equal(matchGlob('{src,test/{unit,e2e}}/*.ts', 'test/e2e/a.ts'), true);
  assert.equal(matchGlob('{src,test/{unit,e2e}}/*.ts', 'test/other/a.ts'), false);
  assert.equal(matchGlob('file[0-9].txt', 'file7.txt'), true);
  assert.equal(matchGlob('file[!0-9].txt', 'file7.txt'), false);
});

test('regex characters are literal and the whole path must match', () => {
  assert.equal(matchGlob('a.b', 'axb'), false);
  assert.equal(matchGlob('(x)+', '(x)+'), true);
  assert.equal(matchGlob('src', 'src/a.ts'), false);
  assert.equal(matchGlob('\\*.ts', '*.ts'), true);
  assert.equal(matchGlob('\\*.ts', 'a.ts'), false);
  assert.throws(() => compileGlob('{a,b'), /without a closing "}"/);
  assert.throws(() => compileGlob('[ab'), /without a closing "]"/);
});

test('a glob over the length or wildcard cap is refused with a message saying what to change', () => {
  assert.throws(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH + 1)), /at most 1000 are accepted/);
  assert.throws(() => compileGlob('*a'.repeat(MAX_GLOB_WILDCARDS + 1)), /wildcards; at most 32/);
  // Control: at the caps the glob compiles and matches.
  assert.equal(compileGlob('*a'.repeat(MAX_GLOB_WILDCARDS)).test('xa'.repeat(MAX_GLOB_WILDCARDS)), true);
  assert.equal(compileGlob(`${'a'.repeat(MAX_GLOB_LENGTH - 2)}/*`).test(`${'a'.repeat(MAX_GLOB_LENGTH - 2)}/b`), true);
});

test('a trailing ** also covers a name with a line break (a deny rule cannot be sidestepped that way)', () => {
  assert.equal(matchGlob('secrets/**', 'secrets/a\nb'), true);
  assert.equal(matchGlob('**', 'x\ny/z'), true);
});

/**
 * Runs `code` (TypeScript, with the repository's modules importable by path) in a child process and returns what it
 * printed. A matcher that backtracks blocks its thread for good, so it cannot be timed out from inside the test;
 * the child is killed after `budgetMs` instead, and the test then fails saying so. The budget is generous (a busy
 * machine starts tsx slowly); a linear matcher needs milliseconds, a backtracking one would need years.
 */
function runIsolated(code: string, budgetMs: number): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', `(async () => { ${code} })().catch((e) => { console.error(e); process.exit(1); });`], {
    cwd: resolve(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: budgetMs,
  });
  assert.equal(result.signal, null, `did not finish within ${budgetMs} ms (killed by ${result.signal})`);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('pathological globs finish: ** repeated against a deep path, and a run of stars', () => {
  const out = runIsolated(
    `const { matchGlob } = require('./src/core/glob.ts');
     const deep = Array(60).fill('a').join('/') + '/y';
     console.log(JSON.stringify([
       matchGlob(Array(20).fill('**').join('/') + '/x', deep),
       matchGlob(Array(20).fill('**').join('/') + '/y', deep),
       matchGlob('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)),
     ]));`,
    60_000,
  );
  assert.equal(out, JSON.stringify([false, true, false]));
});

test('a workspace search with a pathological glob and regex finishes', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-glob-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  let dir = root;
  for (let i = 0; i < 30; i++) dir = join(dir, 'a');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'y.txt'), `${'a'.repeat(10_000)}\n`);
  const out = runIsolated(
    `const { Workspace } = require('./src/core/workspace.ts');
     const ws = await Workspace.open(${JSON.stringify(root)});
     const r = await ws.search({ query: '(a+)+$', regex: true, glob: ${JSON.stringify(`${Array(20).fill('**').join('/')}/x`)} });
     const s = await ws.search({ query: '(a|aa)*c', regex: true });
     console.log(JSON.stringify([r.matches.length, s.matches.length]));`,
    60_000,
  );
  assert.equal(out, '[0,0]');
});
