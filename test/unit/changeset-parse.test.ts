import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHunks, createdText } from '../../src/core/changeset/apply-hunks.js';
import { renderDisplayDiff } from '../../src/core/changeset/display-diff.js';
import { joinText, splitText } from '../../src/core/changeset/file-text.js';
import { parsePatch } from '../../src/core/changeset/parse-patch.js';
import { PatchError } from '../../src/core/changeset/patch.js';

function update(content: string, diff: string): string {
  return joinText(applyHunks(splitText(content), parsePatch(diff, 'update', 'f.txt')).file);
}
function create(diff: string): string {
  return joinText(createdText(parsePatch(diff, 'create', 'f.txt')).file);
}
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PatchError, `expected PatchError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the patch to be refused');
}

const TEN = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

test('V4A envelope: update with anchor, several hunks', () => {
  const src = 'class A {\n  a() {\n    return 1;\n  }\n  b() {\n    return 1;\n  }\n}\n';
  const diff = [
    '*** Begin Patch',
    '*** Update File: f.txt',
    '@@ class A {',
    '   a() {',
    '-    return 1;',
    '+    return 10;',
    '@@   b() {',
    '-    return 1;',
    '+    return 20;',
    '+    // twenty',
    '*** End Patch',
  ].join('\n');
  assert.equal(update(src, diff), 'class A {\n  a() {\n    return 10;\n  }\n  b() {\n    return 20;\n    // twenty\n  }\n}\n');
});

test('V4A bare body without envelope', () => {
  assert.equal(update(TEN, '@@\n line 2\n-line 3\n+line three\n line 4\n'), TEN.replace('line 3\n', 'line three\n'));
  // Without even an @@ line.
  assert.equal(update(TEN, ' line 9\n-line 10\n'), TEN.replace('line 10\n', ''));
});

test('V4A add at start and end, End of File marker', () => {
  assert.equal(update('a\nb\n', '+first\n a\n'), 'first\na\nb\n');
  assert.equal(update('a\nb\n', ' b\n+last\n*** End of File\n'), 'a\nb\nlast\n');
  assert.equal(update('x\ny\nx\ny\n', '@@\n y\n+end\n*** End of File'), 'x\ny\nx\ny\nend\n');
});

test('V4A add file creates content with a final newline', () => {
  assert.equal(create('*** Begin Patch\n*** Add File: f.txt\n+hello\n+\n+world\n*** End Patch\n'), 'hello\n\nworld\n');
  assert.equal(create('+only\n'), 'only\n');
});

test('V4A envelope must name the change\'s own path and operation', () => {
  assert.match(refusal(() => parsePatch('*** Begin Patch\n*** Update File: other.txt\n-a\n*** End Patch', 'update', 'f.txt')), /names the file "other.txt" but the change's path is "f.txt"/);
  assert.match(refusal(() => parsePatch('*** Begin Patch\n*** Add File: f.txt\n+a\n*** End Patch', 'update', 'f.txt')), /Add File" but the change's operation is update/);
  assert.match(refusal(() => parsePatch('*** Begin Patch\n*** Update File: f.txt\n*** Move to: g.txt\n-a\n+b\n*** End Patch', 'update', 'f.txt')), /Move to/);
  assert.match(
    refusal(() => parsePatch('*** Begin Patch\n*** Update File: f.txt\n-a\n*** Update File: g.txt\n-b\n*** End Patch', 'update', 'f.txt')),
    /touches 2 files/,
  );
  assert.match(refusal(() => parsePatch('*** Begin Patch\n*** Update File: f.txt\n-a\n+b\n', 'update', 'f.txt')), /End Patch/);
  // ./ prefix is the same file.
  assert.equal(update('a\n', '*** Begin Patch\n*** Update File: ./f.txt\n-a\n+b\n*** End Patch'), 'b\n');
});

test('unified: multi-hunk with headers', () => {
  const diff = [
    'diff --git a/f.txt b/f.txt',
    'index 111..222 100644',
    '--- a/f.txt',
    '+++ b/f.txt',
    '@@ -1,3 +1,3 @@',
    '-line 1',
    '+LINE 1',
    ' line 2',
    ' line 3',
    '@@ -8,3 +8,4 @@ some function',
    ' line 8',
    ' line 9',
    '+line 9.5',
    ' line 10',
  ].join('\n');
  assert.equal(update(TEN, diff), TEN.replace('line 1\n', 'LINE 1\n').replace('line 10\n', 'line 9.5\nline 10\n'));
});

test('unified: remove at start and end, add at start', () => {
  assert.equal(update(TEN, '@@ -1,2 +1,1 @@\n-line 1\n line 2\n'), TEN.replace('line 1\n', ''));
  assert.equal(update(TEN, '@@ -9,2 +9,1 @@\n line 9\n-line 10\n'), TEN.replace('line 10\n', ''));
  assert.equal(update(TEN, '@@ -0,0 +1,1 @@\n+line 0\n'), `line 0\n${TEN}`);
  assert.equal(update(TEN, '@@ -10,0 +11,1 @@\n+line 11\n'), `${TEN}line 11\n`);
});

test('unified: no newline at end of file, both directions', () => {
  assert.equal(update('a\nb', '@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n'), 'a\nb\n');
  assert.equal(update('a\nb\n', '@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n'), 'a\nb');
  assert.equal(update('a\nb', '@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n'), 'a\nc');
  // Editing the middle of a file without a final newline keeps it that way.
  assert.equal(update('a\nb\nc\nd\ne', '@@ -1,2 +1,2 @@\n-a\n+A\n b\n'), 'A\nb\nc\nd\ne');
  assert.equal(create('--- /dev/null\n+++ b/f.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n'), 'x\ny');
});

test('V4A keeps a missing final newline', () => {
  assert.equal(update('a\nb', ' a\n-b\n+c\n'), 'a\nc');
  assert.equal(update('a\nb', ' b\n+c\n'), 'a\nb\nc');
});

test('CRLF files stay CRLF; mixed files keep each line\'s ending', () => {
  assert.equal(update('a\r\nb\r\nc\r\n', '@@\n a\n-b\n+B\n+B2\n c\n'), 'a\r\nB\r\nB2\r\nc\r\n');
  assert.equal(update('a\r\nb\nc\r\n', ' a\n+x\n b\n'), 'a\r\nx\r\nb\nc\r\n');
  // A patch sent with CRLF throughout is read as LF and still keeps the file's endings.
  assert.equal(update('a\nb\n', ' a\r\n-b\r\n+c\r\n'), 'a\nc\n');
  assert.match(refusal(() => update('a\nb\n', ' a\n-b\r\n+c\n')), /mixes CRLF and LF/);
});

test('a byte-order mark survives an edit of the first line', () => {
  assert.equal(update('\uFEFFa\nb\n', '-a\n+A\n b\n'), '\uFEFFA\nb\n');
});

test('hunks apply exactly: no fuzz, no whitespace slack, named in the reason', () => {
  assert.match(refusal(() => update(TEN, '@@\n line 2\n-line 3x\n+y\n')), /^Hunk 1 does not match the file: the line "line 3x" is not in the file/);
  assert.match(refusal(() => update('  a\nb\n', '-a\n+c\n b\n')), /only if whitespace is ignored/);
  assert.match(
    refusal(() => update(TEN, '@@ -1,1 +1,1 @@\n-line 1\n+one\n@@ -5,2 +5,2 @@\n line 5\n-line 7\n+seven\n')),
    /^Hunk 2 \(@@ -5,2 \+5,2 @@\) does not match the file: its 2 context and removed lines do not appear together after line 1/,
  );
});

test('ambiguous hunks are refused unless an anchor or header line pins them', () => {
  const src = 'f() {\n  x = 1;\n}\ng() {\n  x = 1;\n}\n';
  assert.match(refusal(() => update(src, '-  x = 1;\n+  x = 2;\n')), /matches the file at 2 places \(lines 2, 5\)/);
  assert.equal(update(src, '@@ g() {\n-  x = 1;\n+  x = 2;\n'), 'f() {\n  x = 1;\n}\ng() {\n  x = 2;\n}\n');
  assert.equal(update(src, '@@ -5,1 +5,1 @@\n-  x = 1;\n+  x = 2;\n'), 'f() {\n  x = 1;\n}\ng() {\n  x = 2;\n}\n');
  assert.match(refusal(() => update(src, '@@ -3,1 +3,1 @@\n-  x = 1;\n+  x = 2;\n')), /2 places/);
  assert.match(refusal(() => update('a\nb\n', '+x\n')), /only adds lines and has no context/);
  assert.match(refusal(() => update('a\n', '@@ nothere\n-a\n')), /"@@" line "nothere" was not found/);
});

test('malformed patches are refused with the offending line', () => {
  assert.match(refusal(() => parsePatch('@@ -1,x +1 @@\n-a\n+b\n', 'update', 'f.txt')), /Hunk 1's header "@@ -1,x \+1 @@" \(line 1\) is malformed/);
  assert.match(refusal(() => parsePatch('@@ -1 +1 @@\n-a\n*b\n', 'update', 'f.txt')), /Line 3, "\*b", in hunk 1/);
  assert.match(refusal(() => parsePatch('@@\n-a\nb\n', 'update', 'f.txt')), /Line 3 of the patch, "b", starts with neither/);
  assert.match(refusal(() => parsePatch('', 'update', 'f.txt')), /diff is empty/);
  assert.match(refusal(() => parsePatch(' a\n b\n', 'update', 'f.txt')), /changes nothing/);
  assert.match(refusal(() => parsePatch('x\n', 'delete', 'f.txt')), /delete takes an empty diff/);
  assert.match(refusal(() => parsePatch(' a\n+b\n', 'create', 'f.txt')), /Line 1 of the patch does not start with "\+"; every line of a new file must/);
  assert.match(refusal(() => parsePatch('@@ -1,1 +1,2 @@\n a\n+b\n', 'create', 'f.txt')), /create may only add lines/);
  assert.match(
    refusal(() => parsePatch('--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-a\n+b\n', 'update', 'f.txt')),
    /another file's diff/,
  );
  assert.match(refusal(() => parsePatch('Binary files a/f and b/f differ\n', 'update', 'f.txt')), /binary patch/);
  assert.doesNotThrow(() => parsePatch('*** Begin Patch\n*** Delete File: f.txt\n*** End Patch', 'delete', 'f.txt'));
});

test('the reviewer\'s diff has git headers, 3 lines of context and exact counts', () => {
  const file = splitText(TEN);
  const applied = applyHunks(file, parsePatch(' line 5\n-line 6\n+six\n+6\n line 7\n', 'update', 'src/a.ts'));
  const shown = renderDisplayDiff('src/a.ts', 'update', applied.script);
  assert.equal(
    shown.text,
    [
      'diff --git a/src/a.ts b/src/a.ts',
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -3,7 +3,8 @@',
      ' line 3',
      ' line 4',
      ' line 5',
      '-line 6',
      '+six',
      '+6',
      ' line 7',
      ' line 8',
      ' line 9',
      '',
    ].join('\n'),
  );
  assert.deepEqual([shown.added, shown.removed], [2, 1]);
});

test('the reviewer\'s diff shows a final newline being added', () => {
  const diff = '@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n';
  const applied = applyHunks(splitText('a\nb'), parsePatch(diff, 'update', 'f'));
  assert.equal(joinText(applied.file), 'a\nb\nc\n');
  const shown = renderDisplayDiff('f', 'update', applied.script);
  assert.match(shown.text, /@@ -1,2 \+1,3 @@\n a\n-b\n\\ No newline at end of file\n\+b\n\+c\n$/);
  const created = renderDisplayDiff('n', 'create', createdText(parsePatch('+x\n', 'create', 'n')).script);
  assert.equal(created.text, 'diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1,1 @@\n+x\n');
});
