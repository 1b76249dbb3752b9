/**
 * Words of a shell command as the command gate sees them: the literal text the program would receive when the
 * shell can know it, or a marker that the shell computes it at run time (a variable, a glob, a brace expansion),
 * so a rule can tell "is" from "might be".
 */

export interface ShellWord {
  /** The word with quotes removed; expansions keep their source text (`$HOME`, `$(id)`). */
  text: string;
  /** Part of the word is computed when the command runs (a variable, a substitution, arithmetic). */
  dynamic: boolean;
  /** Unquoted glob or brace characters: the shell may turn the word into other words (file names, alternatives). */
  pattern: RegExp | null;
}

export function literalWord(text: string): ShellWord {
  return { text, dynamic: false, pattern: null };
}

/** True when the word can only ever be exactly `text`. */
export function isExactly(word: ShellWord, text: string): boolean {
  return !word.dynamic && word.pattern === null && word.text === text;
}

/**
 * Compiles the unquoted glob and brace syntax of a word to a RegExp over the words it may become. `quoted` marks
 * which characters were quoted (literal). Returns null when the word has no such syntax.
 */
export function patternOf(chars: readonly { c: string; quoted: boolean }[]): RegExp | null {
  let source = '';
  let special = false;
  let braceDepth = 0;
  for (let i = 0; i < chars.length; i++) {
    const { c, quoted } = chars[i]!;
    if (quoted) {
      source += escapeRegExp(c);
      continue;
    }
    if (c === '*') {
      source += '.*';
      special = true;
    } else if (c === '?') {
      source += '.';
      special = true;
    } else if (c === '[') {
      // A bracket expression: any one character is the conservative reading (it may match, so a rule may apply).
      const close = chars.findIndex((x, j) => j > i + 1 && x.c === ']' && !x.quoted);
      if (close === -1) {
        source += '\\[';
      } else {
        source += '.';
        i = close;
        special = true;
      }
    } else if (c === '{') {
      source += '(?:';
      braceDepth++;
      special = true;
    } else if (c === ',' && braceDepth > 0) {
      source += '|';
    } else if (c === '}' && braceDepth > 0) {
      source += ')';
      braceDepth--;
    } else if (c === '.' && chars[i + 1]?.c === '.' && braceDepth > 0 && !chars[i + 1]!.quoted) {
      // `{1..9}` sequences: any text is the conservative reading.
      source += '.*';
      i++;
    } else {
      source += escapeRegExp(c);
    }
  }
  if (!special) return null;
  if (braceDepth > 0) source += ')'.repeat(braceDepth);
  try {
    return new RegExp(`^(?:${source})$`, 's');
  } catch {
    return /^.*$/s;
  }
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Decodes the body of a `$'…'` word (ANSI-C quoting); null for an escape whose meaning is not certain. */
export function decodeAnsiC(body: string): string | null {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === undefined) return null;
    const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (n in simple) {
      out += simple[n];
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out += String.fromCharCode(parseInt(m, 8));
      i += m.length - 1;
    } else if (n === 'x' || n === 'u' || n === 'U') {
      const max = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const m = new RegExp(`^[0-9a-fA-F]{1,${max}}`).exec(body.slice(i + 1));
      if (!m) return null;
      const code = parseInt(m[0], 16);
      if (code > 0x10ffff) return null;
      out += String.fromCodePoint(code);
      i += m[0].length;
    } else {
      // `\c` control characters and unknown escapes: bash's reading differs by version, so refuse to guess.
      return null;
    }
  }
  return out;
}

/** Quotes `argv` for display and for comparing with exact rules: bare where safe, else single-quoted. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
