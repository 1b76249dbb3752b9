/**
 * Glob patterns over workspace-relative, `/`-separated paths, shared by the workspace tools and the policy module.
 *
 * Syntax: `*` any run of characters except `/`; `**` as a whole segment any number of segments (including none);
 * `?` one character except `/`; `{a,b}` alternatives (nestable); `[abc]`, `[a-z]`, `[!abc]` one character from a set;
 * `\x` the character `x` literally. A pattern matches the whole path, never a substring.
 */

const REGEX_SPECIAL = /[.+^$()|[\]{}\\*?]/;

function escapeChar(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** Compiles `glob` to an anchored RegExp. Throws `SyntaxError` for an unterminated `{` or `[`. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${translate(glob, 0, false).source}$`);
}

/** True when the whole `relPath` (`/`-separated, no leading `/`) matches `glob`. */
export function matchGlob(glob: string, relPath: string): boolean {
  return globToRegExp(glob).test(relPath);
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
          out += '(?:[^/]*(?:/[^/]*)*/)?';
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
      if (close < 0) throw new SyntaxError(`Glob "${glob}" has a "[" without a closing "]".`);
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const set = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      out += negate ? `[^/${set}]` : `[${set}]`;
      i = close + 1;
    } else if (c === '{') {
      const alternatives: string[] = [];
      let j = i + 1;
      for (;;) {
        const alt = translate(glob, j, true);
        if (alt.stop === undefined) throw new SyntaxError(`Glob "${glob}" has a "{" without a closing "}".`);
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
