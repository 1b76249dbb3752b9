import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, matchGlob } from '../../src/core/glob.js';

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
  assert.throws(() => globToRegExp('{a,b'), /without a closing "}"/);
  assert.throws(() => globToRegExp('[ab'), /without a closing "]"/);
});
