/**
 * Finds task markers (`TODO(agent): …`, `AGENT: …`, or whatever `deputy.codeLens.markers` names) in the comments of a
 * source file, for the "Dispatch to agent" code lenses. Editor-agnostic: it reads text, not documents.
 *
 * A marker counts only at the start of a comment's text (after the opener and its decoration: `///`, `//!`, `##`,
 * ` * ` in a block, …), so `x = "AGENT: hi"` or a comment that merely mentions a marker midway does not become a task.
 * The task is the marker's text plus the comment lines that continue it: following lines of the same line-comment
 * run, or following lines of the same block, up to a blank comment line, another marker, or the end of the comment.
 *
 * Comment syntax comes from the document's language id when it is known (so `#` is a comment in Python but
 * `#include` is not one in C); for any other language every common syntax is tried, since a false lens costs a
 * person one glance and a missed one costs the feature.
 */

/** A marker found in a comment. Positions are 0-based lines and UTF-16 columns, as in LSP. */
export interface TaskMarker {
  /** The marker as configured, e.g. `TODO(agent):`. */
  marker: string;
  line: number;
  /** Where the marker starts and where the marker's first line ends on `line`. */
  start: number;
  end: number;
  /** The last line the task's text continues on. */
  endLine: number;
  /** The task: the text after the marker, continuation lines joined with a newline, trimmed. */
  task: string;
}

export const DEFAULT_MARKERS = ['TODO(agent):', 'AGENT:'] as const;

interface Syntax {
  line: readonly string[];
  block: readonly (readonly [string, string])[];
}

const C_LIKE: Syntax = { line: ['//'], block: [['/*', '*/']] };
const HASH: Syntax = { line: ['#'], block: [] };
const PYTHON: Syntax = { line: ['#'], block: [['"""', '"""'], ["'''", "'''"]] };
const MARKUP: Syntax = { line: [], block: [['<!--', '-->']] };
const SQL: Syntax = { line: ['--'], block: [['/*', '*/']] };
const LUA: Syntax = { line: ['--'], block: [['--[[', ']]']] };
const HASKELL: Syntax = { line: ['--'], block: [['{-', '-}']] };
const ML: Syntax = { line: [], block: [['(*', '*)']] };
const LISP: Syntax = { line: [';'], block: [['#|', '|#']] };
const TEX: Syntax = { line: ['%'], block: [] };
const VB: Syntax = { line: ["'"], block: [] };
const CSS: Syntax = { line: [], block: [['/*', '*/']] };

/** Every syntax at once, for languages this table does not know. Longer openers first (`--[[` before `--`). */
const ANY: Syntax = {
  line: ['//', '#', '--', ';', '%', "'"],
  block: [['/*', '*/'], ['<!--', '-->'], ['{-', '-}'], ['(*', '*)'], ['"""', '"""'], ["'''", "'''"]],
};

const BY_LANGUAGE: Record<string, Syntax> = {
  ...Object.fromEntries(
    [
      'c', 'cpp', 'csharp', 'java', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'swift',
      'kotlin', 'scala', 'dart', 'groovy', 'objective-c', 'objective-cpp', 'php', 'jsonc', 'zig', 'proto', 'solidity',
    ].map((l) => [l, C_LIKE]),
  ),
  ...Object.fromEntries(['shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell', 'elixir', 'nix', 'terraform', 'properties', 'coffeescript', 'julia', 'graphql', 'cmake'].map((l) => [l, HASH])),
  python: PYTHON,
  ...Object.fromEntries(['html', 'xml', 'markdown', 'vue-html', 'svg'].map((l) => [l, MARKUP])),
  ...Object.fromEntries(['sql', 'plsql', 'ada', 'vhdl'].map((l) => [l, SQL])),
  lua: LUA,
  ...Object.fromEntries(['haskell', 'elm', 'purescript'].map((l) => [l, HASKELL])),
  ...Object.fromEntries(['ocaml', 'fsharp', 'pascal', 'coq'].map((l) => [l, ML])),
  ...Object.fromEntries(['clojure', 'lisp', 'scheme', 'racket', 'ini', 'asm'].map((l) => [l, LISP])),
  ...Object.fromEntries(['latex', 'tex', 'bibtex', 'matlab', 'erlang', 'prolog'].map((l) => [l, TEX])),
  ...Object.fromEntries(['vb', 'vba', 'vbscript'].map((l) => [l, VB])),
  ...Object.fromEntries(['css', 'scss', 'less'].map((l) => [l, CSS])),
};

// Languages whose comments mix families.
BY_LANGUAGE.fsharp = { line: ['//'], block: [['(*', '*)']] };
BY_LANGUAGE.scss = { line: ['//'], block: [['/*', '*/']] };
BY_LANGUAGE.less = BY_LANGUAGE.scss;
BY_LANGUAGE.php = { line: ['//', '#'], block: [['/*', '*/']] };
BY_LANGUAGE.powershell = { line: ['#'], block: [['<#', '#>']] };
BY_LANGUAGE.julia = { line: ['#'], block: [['#=', '=#']] };
BY_LANGUAGE.ruby = { line: ['#'], block: [['=begin', '=end']] };

export function commentSyntax(languageId: string | undefined): Syntax {
  return (languageId && BY_LANGUAGE[languageId]) || ANY;
}

/** Where a comment starts on a line: its opener's column, the opener, and the block's closer if it is a block. */
interface Opening {
  at: number;
  open: string;
  close?: string;
}

function firstOpening(line: string, from: number, syntax: Syntax): Opening | null {
  // Plain loops, no closures: this runs for every line of every document the lenses see.
  let best: Opening | null = null;
  for (const [open, close] of syntax.block) {
    const at = line.indexOf(open, from);
    // Earliest wins; at the same column the longer opener (`--[[` over `--`).
    if (at >= 0 && (!best || at < best.at || (at === best.at && open.length > best.open.length))) best = { at, open, close };
  }
  for (const open of syntax.line) {
    const at = line.indexOf(open, from);
    if (at >= 0 && (!best || at < best.at || (at === best.at && open.length > best.open.length))) best = { at, open };
  }
  return best;
}

function containsMarker(line: string, markers: readonly string[], from = 0): boolean {
  for (const m of markers) if (line.indexOf(m, from) >= 0) return true;
  return false;
}

function markerAt(text: string, at: number, markers: readonly string[]): string | undefined {
  for (const m of markers) if (text.startsWith(m, at)) return m;
  return undefined;
}

/** Where a comment's text starts once its decoration (`///`, ` * `, `;;`…) is skipped. */
function skipDecoration(line: string, from: number, to: number): number {
  let i = from;
  while (i < to && DECORATION_CHARS.has(line.charCodeAt(i))) i++;
  return i;
}

/** Characters that decorate a comment's text after its opener (`///`, `//!`, `##`, `;;`, ` * `, `--|`). */
const DECORATION_CHARS = new Set([...' \t*!/#;%\'|-'].map((c) => c.charCodeAt(0)));

function onlySpaceBefore(line: string, at: number): boolean {
  for (let i = 0; i < at; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * The comment that starts first on a line, unless a later opener introduces a marker and the first does not: with
 * every syntax tried, `'` or `%` inside code (`s = 'a' // AGENT: …`) must not hide the real comment after it.
 */
function openingOnLine(line: string, from: number, syntax: Syntax, markers: readonly string[]): Opening | null {
  const first = firstOpening(line, from, syntax);
  if (!first || first.close || !containsMarker(line, markers, first.at)) return first;
  let o: Opening | null = first;
  // Only line comments are skipped: a block skipped here would lose track of where it ends.
  while (o && !o.close) {
    if (markerAt(line, skipDecoration(line, o.at + o.open.length, line.length), markers)) return o;
    o = firstOpening(line, o.at + 1, syntax);
  }
  return first;
}

/** Where a line's comment text is, without copying it: the marker is looked for there. */
interface CommentLine {
  line: number;
  /** The comment text is `[col, end)` of the line. */
  col: number;
  end: number;
  /** Identifies one comment: a block, or a run of line comments with the same opener on consecutive lines. */
  comment: number;
}

function commentLines(lines: readonly string[], syntax: Syntax, markers: readonly string[]): CommentLine[] {
  const out: CommentLine[] = [];
  let comment = 0;
  let inBlock: string | null = null;
  let lastLineComment: { line: number; open: string } | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    let from = 0;
    if (inBlock !== null) {
      const end = line.indexOf(inBlock);
      out.push({ line: n, col: 0, end: end < 0 ? line.length : end, comment });
      if (end < 0) continue;
      from = end + inBlock.length;
      inBlock = null;
    }
    const o = openingOnLine(line, from, syntax, markers);
    if (!o) continue;
    const textStart = o.at + o.open.length;
    if (o.close) {
      const end = line.indexOf(o.close, textStart);
      comment++;
      out.push({ line: n, col: textStart, end: end < 0 ? line.length : end, comment });
      if (end < 0) inBlock = o.close;
      lastLineComment = null;
      continue;
    }
    // A line comment continues the run above when it has the same opener and nothing but space before it.
    const alone = onlySpaceBefore(line, o.at);
    const continues = alone && lastLineComment !== null && lastLineComment.line === n - 1 && lastLineComment.open === o.open;
    if (!continues) comment++;
    out.push({ line: n, col: textStart, end: line.length, comment });
    lastLineComment = alone ? { line: n, open: o.open } : null;
  }
  return out;
}

/**
 * Every task marker in `text`. `markers` are matched literally and case-sensitively (so `Agent: …` in prose is not a
 * task); an empty list finds nothing.
 */
export function findTaskMarkers(text: string, options: { languageId?: string; markers?: readonly string[] } = {}): TaskMarker[] {
  const markers = (options.markers ?? DEFAULT_MARKERS).filter((m) => m.trim() !== '');
  if (markers.length === 0) return [];
  // Cheap exit for the common case: most files hold no marker at all.
  if (!containsMarker(text, markers)) return [];
  const lines = text.split(/\r\n|\r|\n/);
  const found: TaskMarker[] = [];
  const all = commentLines(lines, commentSyntax(options.languageId), markers);
  for (let i = 0; i < all.length; i++) {
    const c = all[i]!;
    const line = lines[c.line]!;
    if (!containsMarker(line, markers, c.col)) continue;
    const start = skipDecoration(line, c.col, c.end);
    const marker = markerAt(line, start, markers);
    if (!marker) continue;
    const parts = [line.slice(start + marker.length, c.end).trim()];
    let endLine = c.line;
    // Continuation: the same comment's next lines, until a blank one, another marker or the comment's end.
    for (let j = i + 1; j < all.length; j++) {
      const next = all[j]!;
      if (next.comment !== c.comment || next.line !== endLine + 1) break;
      const nextLine = lines[next.line]!;
      const from = skipDecoration(nextLine, next.col, next.end);
      const body = nextLine.slice(from, next.end).trim();
      if (body === '' || markerAt(nextLine, from, markers)) break;
      parts.push(body);
      endLine = next.line;
    }
    const task = parts.filter((p) => p !== '').join('\n');
    if (task === '') continue;
    found.push({ marker, line: c.line, start, end: start + line.slice(start, c.end).trimEnd().length, endLine, task });
  }
  return found;
}
