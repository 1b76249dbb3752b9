/**
 * The agent's free text (messages, a proposal's summary, a file's rationale) can never pass for a diff line, a
 * question or Deputy's own status lines: it is labelled, and every line it produces on screen starts with the
 * `│ ` gutter, whatever the agent wrote (newlines, separators, carriage returns, lines long enough to wrap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { styleFor } from '../../src/cli/style.js';
import { AgentTextStream, fitDiff, GUTTER, quoteAgent } from '../../src/cli/terminal-text.js';

const plain = styleFor({ stdout: new PassThrough(), env: {} });

/** Lines an agent might write to look like something else; each carries the tag `ZQ` so we can find it on screen. */
const FORGERIES: [string, string][] = [
  ['an added diff line', '+ZQ rm -rf ~'],
  ['a removed diff line', '-ZQ validate(input)'],
  ['a hunk header', '@@ -1 +1 @@ ZQ'],
  ['a file header', '+++ b/ZQ.ts'],
  ['a permission question', '? The agent wants to ZQ read .env'],
  ['the permission prompt', '  Allow? [y]es / [n]o: ZQ'],
  ['a file under review', '[2/2] update ZQ.ts +1 -1'],
  ['the review prompt', '  [a]pprove / [r]eject / c <comment> (reject with a comment): ZQ'],
  ['an applied change', '  ✔ applied ZQ.ts'],
  ['a tool call', '→ read ZQ.ts'],
  ['the end of the task', 'Done · session ZQ'],
  ['the gutter itself', '│ ZQ'],
];

/** Every screen line holding the tag starts with the gutter (after an optional colour code). */
function assertQuoted(shown: string, what: string): void {
  const tagged = shown.split('\n').filter((l) => l.includes('ZQ'));
  assert.ok(tagged.length > 0, `${what}: the text was shown`);
  for (const line of tagged) assert.ok(line.startsWith(GUTTER), `${what}: ${JSON.stringify(line)} starts with the gutter`);
}

for (const [what, forged] of FORGERIES) {
  for (const [how, text] of [
    ['on a line of its own', `Summary.\n${forged}\nMore.`],
    ['after a carriage return', `harmless\r${forged}`],
    ['after a line separator', `harmless\u2028${forged}`],
    ['after CRLF', `harmless\r\n${forged}`],
    ['after a run of spaces that would wrap', `${' '.repeat(200)}${forged}`],
  ] as const) {
    test(`a quoted rationale cannot pass for ${what} (${how})`, () => {
      assertQuoted(quoteAgent('agent says (why):', text, plain, 60), `${what} ${how}`);
    });
    test(`a streamed agent message cannot pass for ${what} (${how})`, () => {
      let out = '';
      const stream = new AgentTextStream((s) => (out += s), plain, 60);
      // Split into small deltas, as the model streams it.
      for (const piece of text.match(/[\s\S]{1,7}/g)!) stream.text(piece);
      stream.end();
      assertQuoted(out, `${what} ${how}`);
    });
  }
}

test('the label names the agent, and quoted lines keep within the terminal width', () => {
  const shown = quoteAgent('agent says (summary):', `${'x'.repeat(150)}\n${'你'.repeat(50)}`, plain, 40);
  const lines = shown.split('\n');
  assert.equal(lines[0], 'agent says (summary):');
  for (const line of lines.slice(1)) {
    assert.ok(line.startsWith(GUTTER));
    const cells = [...line].reduce((n, c) => n + (/[\u4e00-\u9fff]/.test(c) ? 2 : 1), 0);
    assert.ok(cells <= 40, `${cells} cells: ${line}`);
  }
});

test('a streamed message interrupted by Deputy goes on behind the gutter; the next message gets a new label', () => {
  let out = '';
  const stream = new AgentTextStream((s) => (out += s), plain);
  stream.text('Looking at');
  stream.breakLine();
  out += '→ read src/a.ts\n';
  stream.text(' the file.\nDone');
  stream.end();
  stream.text('Second.');
  stream.end();
  assert.equal(out, 'agent says:\n│ Looking at\n→ read src/a.ts\n│  the file.\n│ Done\nagent says:\n│ Second.\n');
});

test('a diff line longer than the terminal continues on a marked line, never at column 0', () => {
  const diff = `+${'a'.repeat(30)}+forged added line\n context`;
  assert.equal(fitDiff(diff, 31), `+${'a'.repeat(30)}\n↪ +forged added line\n context`);
  assert.equal(fitDiff(diff, undefined), diff, 'not a terminal: lines as they are');
});

test('a CRLF or an emoji split between two streamed deltas shows as if it had come whole, not as escapes', () => {
  const whole = (text: string) => {
    let out = '';
    const stream = new AgentTextStream((s) => (out += s), plain);
    stream.text(text);
    stream.end();
    return out;
  };
  for (const text of ['Line one\r\nLine two', 'Shipped 🚀 today']) {
    let out = '';
    const stream = new AgentTextStream((s) => (out += s), plain);
    // Split after every UTF-16 unit: the model's stream cuts wherever its tokens end.
    for (const unit of text.split('')) stream.text(unit);
    stream.end();
    assert.equal(out, whole(text), JSON.stringify(text));
    assert.doesNotMatch(out, /<U\+/);
  }
});
