/**
 * `npm test` runs the lint (scripts/lint.mjs: ESLint with typescript-eslint's type-aware promise rules). This proves
 * the lint command really type-checks and fails: on a fixture with floating and misused promises it exits non-zero
 * and reports exactly the marked lines, and it does not report the allowed forms (`void`, `await`, `.catch`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const fixture = join('test', 'fixtures', 'lint', 'promises.ts');

test('the lint fails on floating and misused promises, and only on them', () => {
  const expected = readFileSync(join(root, fixture), 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const m = /\/\/ FLAG (\S+)$/.exec(line);
      return m ? [`${i + 1} ${m[1]}`] : [];
    });
  assert.equal(expected.length, 4, 'the fixture marks its findings');

  const r = spawnSync(process.execPath, [join(root, 'scripts', 'lint.mjs'), '--no-ignore', fixture], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1, `lint exit status\n${r.stdout}${r.stderr}`);
  const reported = [...r.stdout.matchAll(/^\s+(\d+):\d+\s+error\s.*\s(@typescript-eslint\/\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(reported.sort(), expected.sort(), r.stdout);
});
