/**
 * Task markers in comments (src/core/task-markers.ts), across the comment syntaxes of common languages: line comments,
 * block comments, docstrings, continuation lines, and the look-alikes that must not become tasks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTaskMarkers } from '../../src/core/task-markers.js';

// [language id, source, expected tasks in order (line: task)]
const FOUND: [string, string, [number, string][]][] = [
  ['typescript', 'const a = 1;\n// TODO(agent): add input validation\nfunction f() {}', [[1, 'add input validation']]],
  ['typescript', 'f(); // AGENT: inline after code', [[0, 'inline after code']]],
  ['rust', '/// TODO(agent): document the invariants\nfn f() {}', [[0, 'document the invariants']]],
  ['rust', '//! AGENT: crate-level docs', [[0, 'crate-level docs']]],
  ['python', 'x = 1\n# TODO(agent): cache this lookup\n', [[1, 'cache this lookup']]],
  ['python', 'def f():\n    """TODO(agent): write a docstring\n    that explains the edge cases.\n    """\n', [[1, 'write a docstring\nthat explains the edge cases.']]],
  ['python', "def g():\n    '''\n    AGENT: handle unicode input\n    '''\n", [[2, 'handle unicode input']]],
  ['shellscript', '#!/bin/sh\n## AGENT: make this POSIX\necho hi', [[1, 'make this POSIX']]],
  ['sql', 'SELECT 1; -- TODO(agent): add an index for this', [[0, 'add an index for this']]],
  ['lua', '-- AGENT: memoise\nlocal x = 1', [[0, 'memoise']]],
  ['haskell', '{- TODO(agent): make total -}\nf = head', [[0, 'make total']]],
  ['haskell', '-- | AGENT: explain the fold', [[0, 'explain the fold']]],
  ['ocaml', '(* AGENT: use a map here *)\nlet x = 1', [[0, 'use a map here']]],
  ['clojure', ';; TODO(agent): tail-recursive version', [[0, 'tail-recursive version']]],
  ['latex', '% AGENT: shorten this section', [[0, 'shorten this section']]],
  ['erlang', '%% TODO(agent): supervise this process', [[0, 'supervise this process']]],
  ['vb', "Dim x ' AGENT: rename x", [[0, 'rename x']]],
  ['html', '<div>\n<!-- TODO(agent): make this accessible -->\n</div>', [[1, 'make this accessible']]],
  ['markdown', '<!--\nAGENT: add a usage section\n-->', [[1, 'add a usage section']]],
  ['css', '/* AGENT: dark theme colours */', [[0, 'dark theme colours']]],
  ['java', '/**\n * TODO(agent): replace with a builder\n *   that validates its fields\n */\nclass A {}', [[1, 'replace with a builder\nthat validates its fields']]],
  ['go', '// TODO(agent): retry with backoff\n// on transient errors only\n//\n// unrelated note', [[0, 'retry with backoff\non transient errors only']]],
  ['c', '#include <x.h> // AGENT: drop this include', [[0, 'drop this include']]],
  ['python', '# TODO(agent): one\n# TODO(agent): two', [[0, 'one'], [1, 'two']]],
  // Unknown language: every syntax is tried.
  ['unknown-lang', '; AGENT: semicolon\n-- AGENT: dashes\n# AGENT: hash\n// AGENT: slashes', [[0, 'semicolon'], [1, 'dashes'], [2, 'hash'], [3, 'slashes']]],
  ['unknown-lang', "s = 'a' // AGENT: after a quote", [[0, 'after a quote']]],
  ['typescript', 'a\r\n// AGENT: windows line ends\r\nb', [[1, 'windows line ends']]],
];

const NOT_FOUND: [string, string, string][] = [
  // [why, language, source]
  ['a marker in a string is not a comment', 'typescript', 'const s = "TODO(agent): not a task";'],
  ['a marker midway through a comment', 'typescript', '// see the AGENT: section of the docs'],
  ['case matters', 'python', '# agent: lower case'],
  ['an empty task', 'python', '# TODO(agent):   '],
  ["# is not a comment in C", 'c', '#define AGENT: 1'],
  ['no comment at all', 'typescript', 'AGENT: label'],
];

for (const [lang, source, expected] of FOUND) {
  test(`${lang}: ${JSON.stringify(source.slice(0, 40))}`, () => {
    const got = findTaskMarkers(source, { languageId: lang }).map((m) => [m.line, m.task]);
    assert.deepEqual(got, expected);
  });
}

for (const [why, lang, source] of NOT_FOUND) {
  test(`not a task: ${why}`, () => {
    assert.deepEqual(findTaskMarkers(source, { languageId: lang }), []);
  });
}

test('the marker range covers the marker and the rest of its line; endLine is the last continuation line', () => {
  const src = 'x\n    // TODO(agent): split this\n    // into two functions\ny';
  const [m] = findTaskMarkers(src, { languageId: 'javascript' });
  assert.ok(m);
  assert.equal(m.marker, 'TODO(agent):');
  assert.equal(m.line, 1);
  assert.equal(src.split('\n')[1]!.slice(m.start, m.end), 'TODO(agent): split this');
  assert.equal(m.endLine, 2);
});

test('markers are configurable; an empty list finds nothing', () => {
  const src = '// FIXME(bot): tidy\n\n// AGENT: default marker';
  assert.deepEqual(
    findTaskMarkers(src, { languageId: 'go', markers: ['FIXME(bot):'] }).map((m) => m.task),
    ['tidy'],
  );
  assert.deepEqual(findTaskMarkers(src, { languageId: 'go', markers: [] }), []);
});

test('a block comment left open runs to the end of the file without breaking later lines', () => {
  const src = '/* AGENT: unterminated\nmore text\n\nint x; // AGENT: inside the open block, so part of it';
  const got = findTaskMarkers(src, { languageId: 'c' });
  assert.deepEqual(got.map((m) => m.task), ['unterminated\nmore text']);
});
