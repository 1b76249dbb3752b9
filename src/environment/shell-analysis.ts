/**
 * Reads a command the agent wants to run — an argv, or the script inside `bash -lc …` — into what the command
 * gate judges: every simple command that would run (each stage of a pipeline, each side of `&&`/`||`/`;`, inside
 * subshells, blocks, loops, substitutions, `bash -c` strings, `eval` arguments, and behind wrappers such as `env`,
 * `timeout`, `xargs`, `sudo` and `find -exec`), the constructs that need a person's eyes (redirects,
 * substitutions, here-docs, `eval`, newlines, …), and the shapes that are refused outright (a download piped into
 * a shell, a fork bomb, a write to a disk device).
 *
 * The parser is mvdan/sh (`shell-parser.ts`); a parsed script is walked by `shell-script-walk.ts`; wrappers are
 * unwrapped by `shell-wrappers.ts`. This file holds the entry points and the scan that gathers their findings.
 */
import { bashParser, type AnyNode } from './shell-parser.js';
import { SHELLS, commandName } from './shell-programs.js';
import { ScriptWalk } from './shell-script-walk.js';
import type { ShellWord } from './shell-words.js';
import { quoteArgv } from './shell-words.js';
import { unwrap } from './shell-wrappers.js';

export interface CommandAnalysis {
  /** The command line as a person reads it, and as exact rules compare it: the shell script, or the quoted argv. */
  line: string;
  /** Every simple command that would run, in source order, wrappers unwrapped (a runner also counts itself). */
  segments: ShellWord[][];
  /** Constructs that ask unless an exact rule allows the whole line; each a short description. */
  constructs: string[];
  /** Shapes refused whatever the rules say; each a short description. */
  dangers: string[];
}

/** Analyzes an argv as `process/start` sends it. */
export function analyzeArgv(argv: readonly string[]): CommandAnalysis {
  const scan = new Scan();
  const script = shellScript(argv);
  if (script !== null) {
    scan.script(script, 0);
    return scan.result(script);
  }
  scan.argv(argv.map(literal), 0);
  return scan.result(quoteArgv(argv));
}

/** The script of `bash -c SCRIPT`, `sh -lc SCRIPT`, … or null when argv is not a shell running a string. */
export function shellScript(argv: readonly string[]): string | null {
  if (argv.length < 2 || !SHELLS.has(commandName(argv[0]!))) return null;
  let sawC = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || a === '-') {
      return sawC ? (argv[i + 1] ?? null) : null;
    }
    if (a === '-o' || a === '+o' || a === '-O' || a === '+O' || a === '--rcfile' || a === '--init-file') {
      i++;
      continue;
    }
    if (a.startsWith('--')) continue;
    if (/^[-+][A-Za-z]+$/.test(a)) {
      if (a.startsWith('-') && a.includes('c')) sawC = true;
      continue;
    }
    return sawC ? a : null;
  }
  return null;
}


function literal(text: string): ShellWord {
  return { text, dynamic: false, pattern: null };
}

const MAX_DEPTH = 8;
/** Longer scripts are not parsed (a person could not review them anyway): they ask. */
const MAX_SCRIPT_CHARS = 32 * 1024;


export class Scan {
  readonly segments: ShellWord[][] = [];
  readonly constructs: string[] = [];
  readonly dangers: string[] = [];
  /** Names of the commands seen, for "downloaded code into a shell" checks across a pipeline or substitution. */
  private names: string[] = [];

  result(line: string): CommandAnalysis {
    if (this.segments.length === 0 && this.constructs.length === 0 && this.dangers.length === 0) {
      this.construct('an empty command');
    }
    return { line, segments: this.segments, constructs: dedupe(this.constructs), dangers: dedupe(this.dangers) };
  }

  construct(what: string): void {
    this.constructs.push(what);
  }

  script(text: string, depth: number): void {
    if (depth > MAX_DEPTH) {
      this.construct('shell strings nested too deeply to read');
      return;
    }
    if (/[\n\r]/.test(text)) this.construct('a line break (several commands on separate lines)');
    if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]/.test(text)) this.construct('control or bidi characters');
    if (text.length > MAX_SCRIPT_CHARS) {
      this.construct(`a script longer than ${MAX_SCRIPT_CHARS} characters (too long to show and judge)`);
      return;
    }
    let file: AnyNode;
    try {
      file = bashParser().Parse(text, '') as AnyNode;
    } catch (err) {
      const message = typeof (err as { Error?: unknown }).Error === 'function' ? (err as { Error(): string }).Error() : String(err);
      this.construct(`a line the shell parser cannot read (${message})`);
      return;
    }
    new ScriptWalk(this, Buffer.from(text, 'utf8'), depth).stmts(file.Stmts);
  }

  /** One simple command with known words: unwraps shells, wrappers and runners, then records the segment. */
  argv(words: ShellWord[], depth: number): void {
    if (words.length === 0) return;
    if (depth > MAX_DEPTH) {
      this.construct('commands nested too deeply to read');
      return;
    }
    const first = words[0]!;
    const name = first.dynamic || first.pattern ? first.text : commandName(first.text);
    this.names.push(name);
    const texts = words.map((w) => w.text);
    const allLiteral = words.every((w) => !w.dynamic && !w.pattern);

    if (SHELLS.has(name)) {
      const script = allLiteral ? shellScript(texts) : null;
      if (script !== null) {
        this.script(script, depth + 1);
        return;
      }
    }
    const inner = unwrap(name, words);
    if (inner) {
      if (inner.kind === 'runner') this.segments.push(words);
      for (const problem of inner.constructs) this.construct(problem);
      if (inner.script !== undefined) this.script(inner.script, depth + 1);
      if (inner.argv.length > 0) this.argv(inner.argv, depth + 1);
      else if (inner.kind === 'wrapper' && inner.script === undefined) this.segments.push(words);
      for (const more of inner.more ?? []) this.argv(more, depth + 1);
      return;
    }
    if (name === 'eval') {
      this.construct('eval');
      if (allLiteral) this.script(texts.slice(1).join(' '), depth + 1);
      this.segments.push(words);
      return;
    }
    this.segments.push(words);
  }

  /** Runs `fn` and returns the command names seen while it ran. */
  namesDuring(fn: () => void): string[] {
    const outer = this.names;
    this.names = [];
    try {
      fn();
      return this.names;
    } finally {
      // Appended, not copied: a script of thousands of commands must stay linear.
      const inner = this.names;
      this.names = outer;
      for (const name of inner) outer.push(name);
    }
  }
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
