/**
 * Glob patterns over workspace-relative, `/`-separated paths, shared by the workspace tools and the policy module.
 *
 * Syntax: `*` any run of characters except `/`; `**` as a whole segment any number of segments (including none);
 * `?` one character except `/`; `{a,b}` alternatives (nestable); `[abc]`, `[a-z]`, `[!abc]` one character from a set;
 * `\x` the character `x` literally. A pattern matches the whole path, never a substring.
 *
 * A glob can come from the model, so it is compiled for RE2 (linear time in the path, no backtracking): a pattern
 * such as `**` repeated many times, which makes a JavaScript RegExp explore an exponential number of splits, costs
 * no more than a plain one. Its length and its number of wildcards are capped as well, so compiling stays cheap.
 */
import { RE2JS } from 're2js';

/** Longest glob accepted, in characters. */
export const MAX_GLOB_LENGTH = 1000;
/** Most wildcards (`*`/`**` runs, `?`, `[…]`, `{…}`) one glob may hold. */
export const MAX_GLOB_WILDCARDS = 32;

/** A compiled glob. */
export interface GlobMatcher {
  /** True when the whole `relPath` (`/`-separated, no leading `/`) matches. */
  test(relPath: string): boolean;
}

/** Thrown for a glob that is malformed or over the caps; the message says what to change. */
export class GlobError extends SyntaxError {}

const REGEX_SPECIAL = /[.+^$()|[\]{}\\*?]/;

function escapeChar(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** Compiles `glob`. Throws `GlobError` for an unterminated `{` or `[`, or a glob over the caps. */
export function compileGlob(glob: string): GlobMatcher {
  if (glob.length > MAX_GLOB_LENGTH) {
    throw new GlobError(`The glob is ${glob.length} characters long; at most ${MAX_GLOB_LENGTH} are accepted. Use a shorter pattern.`);
  }
  const wildcards = countWildcards(glob);
  if (wildcards > MAX_GLOB_WILDCARDS) {
    throw new GlobError(
      `The glob has ${wildcards} wildcards; at most ${MAX_GLOB_WILDCARDS} are accepted. Use a simpler pattern, or several calls.`,
    );
  }
  const source = translate(glob, 0, false).source;
  let re: RE2JS;
  try {
    // DOTALL: a trailing `**` must also cover a name containing a line break, or a deny rule could be sidestepped.
    re = RE2JS.compile(`^(?:${source})$`, RE2JS.DOTALL);
  } catch (err) {
    throw new GlobError(`Glob "${glob}" is not valid: ${(err as Error).message}`);
  }
  return { test: (relPath) => re.matches(relPath) };
}

/**
 * Compiled globs by pattern, so a policy that matches the same few globs against every listed path compiles each
 * once. Pure memoisation (a glob always compiles to the same matcher), bounded so model-chosen globs cannot grow it.
 */
const compiled = new Map<string, GlobMatcher>();
const MAX_CACHED = 256;

/** True when the whole `relPath` (`/`-separated, no leading `/`) matches `glob`. */
export function matchGlob(glob: string, relPath: string): boolean {
  let matcher = compiled.get(glob);
  if (!matcher) {
    matcher = compileGlob(glob);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(glob, matcher);
  }
  return matcher.test(relPath);
}

function countWildcards(glob: string): number {
  let n = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') i++;
    else if (c === '*') {
      n++;
      while (glob[i + 1] === '*') i++;
    } else if (c === '?' || c === '[' || c === '{') n++;
  }
  return n;
}

interface Translated {
  source: string;
  /** Index just past the consumed text (past the closing `}` when translating an alternative). */
  end: number;
  /** Which character ended an alternative: `,` or `}`; undefined at end of input. */
  stop?: ',' | '}';
}

function translate(glob: string, start: number, inBraces: boolean): Translated {
  let out = '';
  let i = start;
  while (i < glob.length) {
    const c = glob[i]!;
    if (inBraces && (c === ',' || c === '}')) return { source: out, end: i + 1, stop: c };
    if (c === '\\' && i + 1 < glob.length) {
      out += escapeChar(glob[i + 1]!);
      i += 2;
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegmentStart = i === 0 || glob[i - 1] === '/';
        const after = glob[i + 2];
        if (atSegmentStart && after === '/') {
          // `**/` : zero or more whole segments.
          out += '(?:[^/]*/)*';
          i += 3;
          continue;
        }
        if (atSegmentStart && after === undefined) {
          out += '.*';
          i += 2;
          continue;
        }
        // `**` inside a segment behaves like `*`.
        out += '[^/]*';
        i += 2;
        continue;
      }
      out += '[^/]*';
      i += 1;
    } else if (c === '?') {
      out += '[^/]';
      i += 1;
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new GlobError(`Glob "${glob}" has a "[" without a closing "]".`);
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const set = body.replace(/[\\\]^[]/g, (m) => `\\${m}`);
      out += negate ? `[^/${set}]` : `[${set}]`;
      i = close + 1;
    } else if (c === '{') {
      const alternatives: string[] = [];
      let j = i + 1;
      for (;;) {
        const alt = translate(glob, j, true);
        if (alt.stop === undefined) throw new GlobError(`Glob "${glob}" has a "{" without a closing "}".`);
        alternatives.push(alt.source);
        j = alt.end;
        if (alt.stop === '}') break;
      }
      out += `(?:${alternatives.join('|')})`;
      i = j;
    } else {
      out += escapeChar(c);
      i += 1;
    }
  }
  return { source: out, end: i };
}
