/**
 * How agent-made text appears on the terminal. Two rules, so a person can always tell what the agent wrote from
 * what Deputy says and from the diff they approve:
 * - every character that could hide or rewrite something is shown as an escape (`visibleText`, the one sanitiser
 *   shared with the editor);
 * - the agent's free text (its messages, a proposal's summary, a file's rationale) is quoted: a label saying the
 *   agent wrote it, then every line behind a `│ ` gutter. No line of it can begin like a diff line, a question or
 *   a Deputy status line. On a terminal, long lines are broken at its width with the gutter repeated, so the
 *   terminal's own wrapping cannot start a line at column 0 either; diff lines get a continuation mark likewise.
 */
import type { Style } from './style.js';
import { visibleLine, visibleText } from '../core/visible-text.js';

export { visibleText as clean, visibleLine as cleanLine };

export const GUTTER = '│ ';
/** Marks the rest of a diff line that did not fit the terminal's width. */
export const CONTINUATION = '↪ ';

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

/** Terminal cells a code point takes: 2 for wide East Asian characters and emoji, 1 otherwise (after sanitising). */
function cellWidth(char: string): number {
  const cp = char.codePointAt(0)!;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd) ||
    PICTOGRAPHIC.test(char)
  ) {
    return 2;
  }
  return char === '\t' ? 8 : 1;
}

/**
 * One already-sanitised line cut into pieces of at most `width` cells (over-estimating wide characters errs on the
 * side of breaking early). `width` undefined or too small: the line as it is.
 */
export function fitToWidth(line: string, width: number | undefined): string[] {
  if (!width || width < 8) return [line];
  const pieces: string[] = [];
  let piece = '';
  let used = 0;
  for (const char of line) {
    const w = cellWidth(char);
    if (used + w > width && piece) {
      pieces.push(piece);
      piece = '';
      used = 0;
    }
    piece += char;
    used += w;
  }
  pieces.push(piece);
  return pieces;
}

/** The agent's free text as a quoted block: `label` on its own line, then each line behind the gutter. */
export function quoteAgent(label: string, text: string, style: Style, columns?: number): string {
  const width = columns ? columns - GUTTER.length : undefined;
  const lines = visibleText(text)
    .replace(/\n+$/, '')
    .split('\n')
    .flatMap((line) => fitToWidth(line, width));
  return [style.dim(label), ...lines.map((line) => `${style.dim(GUTTER)}${line}`)].join('\n');
}

/** A diff's lines, each cut to the terminal's width with the rest marked as its continuation. */
export function fitDiff(diff: string, columns?: number): string {
  if (!columns) return diff;
  return diff
    .split('\n')
    .map((line) => {
      const [first, ...rest] = fitToWidth(line, columns);
      const more = rest.flatMap((r) => fitToWidth(r, columns - CONTINUATION.length));
      return [first, ...more.map((r) => `${CONTINUATION}${r}`)].join('\n');
    })
    .join('\n');
}

/**
 * The agent's message as it streams in: the label when a message starts, the gutter at the start of every line
 * (also after Deputy interrupted it with a line of its own), and a break before the terminal's edge.
 */
export class AgentTextStream {
  private inMessage = false;
  private column = 0;
  private atLineStart = true;
  /** A carriage return or high surrogate ending a delta: its partner may start the next one. */
  private held = '';

  constructor(
    private readonly write: (s: string) => void,
    private readonly style: Style,
    private readonly columns?: number,
    private readonly label = 'agent says:',
  ) {}

  /** True while the cursor is inside an agent line (Deputy must start a new line before writing its own). */
  get midLine(): boolean {
    return !this.atLineStart;
  }

  text(delta: string): void {
    if (!this.inMessage) {
      this.write(`${this.style.dim(this.label)}\n`);
      this.inMessage = true;
    }
    let text = this.held + delta;
    // Sanitised alone, half of a CRLF or of a surrogate pair would show as an escape.
    this.held = /[\r\uD800-\uDBFF]$/.test(text) ? text.slice(-1) : '';
    if (this.held) text = text.slice(0, -1);
    this.show(text);
  }

  private show(text: string): void {
    const width = this.columns ? this.columns - GUTTER.length : undefined;
    let out = '';
    for (const char of visibleText(text)) {
      if (char === '\n') {
        if (this.atLineStart) out += this.style.dim(GUTTER.trimEnd());
        out += '\n';
        this.atLineStart = true;
        continue;
      }
      const w = cellWidth(char);
      if (!this.atLineStart && width && width >= 8 && this.column + w > width) {
        out += '\n';
        this.atLineStart = true;
      }
      if (this.atLineStart) {
        out += this.style.dim(GUTTER);
        this.column = 0;
        this.atLineStart = false;
      }
      out += char;
      this.column += w;
    }
    if (out) this.write(out);
  }

  /** Ends the current line, if any; the message goes on with the gutter (without a new label). */
  breakLine(): void {
    if (this.held) {
      // Deputy writes a line of its own now: what was held back is shown (escaped) before it.
      this.show(this.held);
      this.held = '';
    }
    if (!this.atLineStart) this.write('\n');
    this.atLineStart = true;
  }

  /** The message is complete: the next text starts a new labelled block. */
  end(): void {
    this.breakLine();
    this.inMessage = false;
  }
}
