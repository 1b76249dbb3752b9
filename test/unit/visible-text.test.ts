/**
 * The one sanitiser (src/core/visible-text.ts): every character that is invisible, changes how its neighbours
 * render or moves the cursor is shown as `<U+XXXX>`; ordinary text, newline and tab pass unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';

const ESCAPED: [string, string, string][] = [
  // [what, input, shown]
  ['escape (ANSI)', 'a\u001b[2Kb', 'a<U+001B>[2Kb'],
  ['bell', '\u0007', '<U+0007>'],
  ['lone carriage return', 'a\rb', 'a<U+000D>b'],
  ['DEL and C1 control', '\u007f\u009b', '<U+007F><U+009B>'],
  ['zero-width space', 'src/app\u200b.ts', 'src/app<U+200B>.ts'],
  ['zero-width non-joiner / joiner', '\u200c\u200d', '<U+200C><U+200D>'],
  ['word joiner', '\u2060', '<U+2060>'],
  ['right-to-left override (Trojan Source)', 'x\u202eyz', 'x<U+202E>yz'],
  ['bidi isolates', '\u2066\u2067\u2068\u2069', '<U+2066><U+2067><U+2068><U+2069>'],
  ['left-to-right / right-to-left marks, Arabic letter mark', '\u200e\u200f\u061c', '<U+200E><U+200F><U+061C>'],
  ['soft hyphen', 'pass\u00adword', 'pass<U+00AD>word'],
  ['byte order mark', '\ufeffx', '<U+FEFF>x'],
  ['Hangul filler', 'a\u3164b', 'a<U+3164>b'],
  ['Hangul choseong / jungseong fillers', '\u115f\u1160', '<U+115F><U+1160>'],
  ['halfwidth Hangul filler', '\uffa0', '<U+FFA0>'],
  ['braille blank', '\u2800', '<U+2800>'],
  ['tag characters (hidden ASCII)', 'ok\u{E0001}\u{E0069}\u{E0067}\u{E007F}', 'ok<U+E0001><U+E0069><U+E0067><U+E007F>'],
  ['tag range start', '\u{E0000}', '<U+E0000>'],
  ['variation selectors', '\u2764\ufe0f \u{E0100}', '\u2764<U+FE0F> <U+E0100>'],
  ['combining mark (Mn)', 'e\u0301', 'e<U+0301>'],
  ['combining grapheme joiner', '\u034f', '<U+034F>'],
  ['enclosing mark (Me)', '1\u20e3', '1<U+20E3>'],
  ['no-break space (Zs)', 'a\u00a0b', 'a<U+00A0>b'],
  ['em space, ideographic space', '\u2003\u3000', '<U+2003><U+3000>'],
  ['line and paragraph separators', '\u2028\u2029', '<U+2028><U+2029>'],
  ['Mongolian vowel separator', '\u180e', '<U+180E>'],
  ['interlinear annotation', '\ufff9x\ufffb', '<U+FFF9>x<U+FFFB>'],
  ['lone surrogate', 'a\ud800b', 'a<U+D800>b'],
  ['private use', '\ue000', '<U+E000>'],
  ['unassigned', '\u{10FFFD}\u0378', '<U+10FFFD><U+0378>'],
];

const KEPT: [string, string][] = [
  ['plain ASCII', "return `Hello, ${name}!`;"],
  ['newline and tab', 'a\n\tb\n'],
  ['precomposed accents', 'café déjà vu'],
  ['other scripts', 'Привет 你好 こんにちは مرحبا'],
  ['emoji without selectors', '🙂 🚀'],
  ['box drawing and arrows', '│ → ✔ ✗'],
];

for (const [what, input, shown] of ESCAPED) {
  test(`visibleText escapes ${what}`, () => {
    assert.equal(visibleText(input), shown);
  });
}

for (const [what, input] of KEPT) {
  test(`visibleText keeps ${what}`, () => {
    assert.equal(visibleText(input), input);
  });
}

test('CRLF becomes a plain newline; visibleLine escapes newlines and tabs too', () => {
  assert.equal(visibleText('a\r\nb'), 'a\nb');
  assert.equal(visibleLine('src/a\n+evil.ts\tx'), 'src/a<U+000A>+evil.ts<U+0009>x');
});

test('the output never holds a character the sanitiser escapes (idempotent)', () => {
  const all = ESCAPED.map(([, input]) => input).join('');
  const once = visibleText(all);
  assert.equal(visibleText(once), once);
  assert.doesNotMatch(once, /[^\t\n\x20-\x7e\u2764]/u);
});
