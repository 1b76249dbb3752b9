/**
 * Reads a command the agent wants to run — an argv, or the script inside `bash -lc …` — into what the command
 * gate judges: every simple command that would run (each stage of a pipeline, each side of `&&`/`||`/`;`, inside
 * subshells, blocks, loops, substitutions, `bash -c` strings, `eval` arguments, and behind wrappers such as `env`,
 * `timeout`, `xargs`, `sudo` and `find -exec`), the constructs that need a person's eyes (redirects,
 * substitutions, here-docs, `eval`, newlines, …), and the shapes that are refused outright (a download piped into
 * a shell, a fork bomb, a write to a disk device).
 *
 * Parser: mvdan/sh (the parser behind shfmt) through its pure-JS build `mvdan-sh`. Evaluated against
 * `shell-quote` (a tokenizer: no grammar for subshells, substitutions or here-docs), `bash-parser` and its
 * maintained fork (read a here-doc's body as commands and hide `$(…)` inside `${x:-…}`), tree-sitter-bash and
 * `sh-syntax` (WASM, asynchronous only). mvdan/sh parses all of bash synchronously in plain JS.
 */
import shModule from 'mvdan-sh';
import type { ShellWord } from './shell-words.js';
import { decodeAnsiC, patternOf, quoteArgv } from './shell-words.js';

const { syntax } = shModule;
/**
 * Operator numbers of mvdan-sh 0.10 (its typings declare them as const enums the package does not export at run
 * time). A test parses each operator and checks these, so an upgrade that renumbers them fails loudly.
 */
export const REDIRECT = { RdrOut: 54, AppOut: 55, RdrIn: 56, RdrInOut: 57, DplIn: 58, DplOut: 59, ClbOut: 60, Hdoc: 61, DashHdoc: 62, WordHdoc: 63, RdrAll: 64, AppAll: 65 } as const;
export const BINARY = { AndStmt: 10, OrStmt: 11, Pipe: 12, PipeAll: 13 } as const;
type Node = import('mvdan-sh').Node;
// The typings describe the AST loosely; fields are read through this view, typed per use.
type AnyNode = Record<string, any> & Node;

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

const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish']);
const INTERPRETERS = new Set([...SHELLS, 'python', 'python2', 'python3', 'perl', 'ruby', 'node', 'php', 'lua', 'tclsh', 'osascript']);
const DOWNLOADERS = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https', 'lwp-download', 'nc', 'ncat']);
/** Variables whose value cannot make a command run other code; setting anything else asks. */
const HARMLESS_VARIABLES = new Set([
  'CI', 'FORCE_COLOR', 'NO_COLOR', 'TERM', 'COLUMNS', 'LINES', 'LANG', 'LANGUAGE', 'TZ', 'NODE_ENV', 'RUST_BACKTRACE',
  'RUST_LOG', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'PYTHONHASHSEED', 'DEBUG', 'VERBOSE', 'GIT_TERMINAL_PROMPT',
]);
/** Pager variables are harmless only when they name a plain pager: a pager command is run by git, man, … */
const PAGER_VARIABLES = new Set(['PAGER', 'GIT_PAGER', 'MANPAGER', 'SYSTEMD_PAGER']);
const PLAIN_PAGERS = new Set(['', 'cat', 'less', 'more']);
/** `/dev/…` targets that are not a disk. */
const HARMLESS_DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/\d+|full|random|urandom)$/;
const DISK_DEVICE = /^\/dev\/(sd|hd|vd|xvd|nvme|mmcblk|disk|dm-|md|loop|mapper\/|root)/;
const SYSTEM_BIN = /^\/(usr\/)?(local\/)?s?bin\/[^/]+$/;

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

/** The bare name a command is known by: `/usr/bin/git` → `git`; `./git` stays `./git` (it is not that program). */
export function commandName(word: string): string {
  return SYSTEM_BIN.test(word) ? word.slice(word.lastIndexOf('/') + 1) : word;
}

function literal(text: string): ShellWord {
  return { text, dynamic: false, pattern: null };
}

const MAX_DEPTH = 8;
/** Longer scripts are not parsed (a person could not review them anyway): they ask. */
const MAX_SCRIPT_CHARS = 32 * 1024;

/**
 * One parser, made on first use: making one costs several times a parse, and a parser is reusable (also after a
 * syntax error). It holds no state between `Parse` calls that a verdict depends on.
 */
let parser: import('mvdan-sh').Parser | undefined;
function bashParser(): import('mvdan-sh').Parser {
  parser ??= syntax.NewParser(syntax.KeepComments(false), syntax.Variant(syntax.LangBash));
  return parser;
}

class Scan {
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

interface Unwrapped {
  /** A wrapper only adjusts how the inner command runs; a runner is itself a command a rule must allow. */
  kind: 'wrapper' | 'runner';
  argv: ShellWord[];
  /** Further inner commands (a second `-exec`). */
  more?: ShellWord[][];
  script?: string;
  constructs: string[];
}

/** Options (of wrappers and runners) that take a value as the next word. */
const OPTION_VALUES: Record<string, ReadonlySet<string>> = {
  env: new Set(['-u', '--unset', '-C', '--chdir']),
  nice: new Set(['-n', '--adjustment']),
  timeout: new Set(['-s', '--signal', '-k', '--kill-after']),
  stdbuf: new Set(['-i', '-o', '-e', '--input', '--output', '--error']),
  ionice: new Set(['-c', '-n', '-p', '-P', '-u', '--class', '--classdata']),
  exec: new Set(['-a']),
  xargs: new Set(['-I', '-L', '-n', '-P', '-d', '-E', '-s', '-a', '--arg-file', '--delimiter', '--max-args', '--max-lines', '--max-procs', '--replace', '--eof', '--max-chars', '--process-slot-var']),
  sudo: new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-T', '-U', '--user', '--group', '--host', '--prompt', '--chdir', '--role', '--type']),
  doas: new Set(['-u', '-C']),
  watch: new Set(['-n', '-d', '--interval', '--differences']),
  flock: new Set(['-w', '-E', '--timeout', '--conflict-exit-code']),
  chroot: new Set(['--userspec', '--groups']),
  pkexec: new Set(['--user', '-u']),
};

function skipOptions(name: string, words: ShellWord[], from: number): number {
  const values = OPTION_VALUES[name] ?? new Set<string>();
  let i = from;
  while (i < words.length) {
    const w = words[i]!.text;
    if (w === '--') return i + 1;
    if (!w.startsWith('-') || w === '-') return i;
    i += values.has(w) ? 2 : 1;
  }
  return i;
}

function unwrap(name: string, words: ShellWord[]): Unwrapped | null {
  const wrapper = (argv: ShellWord[], constructs: string[] = []): Unwrapped => ({ kind: 'wrapper', argv, constructs });
  const runner = (argv: ShellWord[], constructs: string[] = []): Unwrapped => ({ kind: 'runner', argv, constructs });
  switch (name) {
    case 'env': {
      const constructs: string[] = [];
      let i = 1;
      while (i < words.length) {
        const w = words[i]!.text;
        if (w === '-S' || w.startsWith('--split-string') || /^-[a-zA-Z]*S/.test(w)) constructs.push('env -S (a string split into a command)');
        if (w === '--') {
          i++;
          break;
        }
        if (w.startsWith('-')) {
          i += OPTION_VALUES.env!.has(w) ? 2 : 1;
          continue;
        }
        const eq = w.indexOf('=');
        if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(w.slice(0, eq))) {
          const problem = assignmentProblem(w.slice(0, eq), words[i]!.dynamic ? null : w.slice(eq + 1));
          if (problem) constructs.push(problem);
          i++;
          continue;
        }
        break;
      }
      return wrapper(words.slice(i), constructs);
    }
    case 'command':
    case 'builtin': {
      if (words.slice(1).some((w) => w.text === '-v' || w.text === '-V')) return null;
      return wrapper(words.slice(skipOptions(name, words, 1)));
    }
    case 'exec':
    case 'nohup':
    case 'nice':
    case 'stdbuf':
    case 'ionice':
    case 'setsid':
      return wrapper(words.slice(skipOptions(name, words, 1)));
    case 'time': {
      const i = skipOptions(name, words, 1);
      const writes = words.slice(1, i).some((w) => w.text === '-o' || w.text.startsWith('--output') || w.text === '-a');
      return wrapper(words.slice(writes ? i + 1 : i), writes ? ['time -o (writes a file)'] : []);
    }
    case 'timeout': {
      const i = skipOptions(name, words, 1);
      return wrapper(words.slice(i + 1));
    }
    case 'xargs':
    case 'sudo':
    case 'doas':
    case 'pkexec':
      return runner(words.slice(skipOptions(name, words, 1)));
    case 'busybox':
      // `busybox rm …` is rm; `busybox sh -c …` is a shell.
      return wrapper(words.slice(1));
    case 'flock':
    case 'chroot': {
      // Both take one operand (the lock file, the new root) before the command, or `-c SCRIPT` (flock).
      const i = skipOptions(name, words, 1);
      const dashC = words.findIndex((w, j) => j > i && (w.text === '-c' || w.text === '--command'));
      if (name === 'flock' && dashC !== -1) return { kind: 'runner', argv: [], script: words[dashC + 1]?.text ?? '', constructs: [] };
      return runner(words.slice(i + 1));
    }
    case 'script': {
      // util-linux `script -c COMMAND` runs COMMAND through a shell.
      const dashC = words.findIndex((w) => w.text === '-c' || w.text === '--command');
      return dashC > 0 && words[dashC + 1] ? { kind: 'runner', argv: [], script: words[dashC + 1]!.text, constructs: [] } : null;
    }
    case 'watch':
    case 'su': {
      // Both run their argument through a shell.
      const dashC = words.findIndex((w) => w.text === '-c' || w.text === '--command');
      if (name === 'su') return dashC > 0 && words[dashC + 1] ? { kind: 'runner', argv: [], script: words[dashC + 1]!.text, constructs: [] } : runner([]);
      const rest = words.slice(skipOptions(name, words, 1));
      return { kind: 'runner', argv: [], script: rest.map((w) => w.text).join(' '), constructs: [] };
    }
    case 'find':
    case 'fd': {
      const inner: ShellWord[][] = [];
      for (let i = 1; i < words.length; i++) {
        const w = words[i]!.text;
        const exec = name === 'find' ? ['-exec', '-execdir', '-ok', '-okdir'].includes(w) : w === '-x' || w === '--exec' || w === '-X' || w === '--exec-batch';
        if (!exec) continue;
        const end = words.findIndex((x, j) => j > i && (x.text === ';' || x.text === '+'));
        inner.push(words.slice(i + 1, end === -1 ? words.length : end));
        i = end === -1 ? words.length : end;
      }
      if (inner.length === 0) return null;
      // Each -exec command is its own segment; the find itself is judged as written.
      return { kind: 'runner', argv: inner[0]!, more: inner.slice(1), constructs: [] };
    }
    default:
      return null;
  }
}

/** Why setting `name` (to `value`, null when computed) needs a person, or null when it is harmless. */
function assignmentProblem(name: string, value: string | null): string | null {
  if (HARMLESS_VARIABLES.has(name) || name.startsWith('LC_')) return null;
  if (PAGER_VARIABLES.has(name) && value !== null && PLAIN_PAGERS.has(value)) return null;
  return `sets ${name}`;
}

/** Walks one parsed script; `source` is its UTF-8 bytes (mvdan/sh positions are byte offsets). */
class ScriptWalk {
  constructor(
    private readonly scan: Scan,
    private readonly source: Buffer,
    private readonly depth: number,
  ) {}

  private text(node: AnyNode): string {
    return this.source.subarray(node.Pos().Offset(), node.End().Offset()).toString('utf8');
  }

  stmts(list: ReadonlyArray<AnyNode | null> | null | undefined): void {
    for (const stmt of list ?? []) if (stmt) this.stmt(stmt);
  }

  private stmt(stmt: AnyNode): void {
    if (stmt.Background) this.scan.construct('a command left running in the background (&)');
    if (stmt.Coprocess) this.scan.construct('a coprocess');
    for (const redirect of stmt.Redirs ?? []) if (redirect) this.redirect(redirect);
    if (stmt.Cmd) this.command(stmt.Cmd);
  }

  private redirect(r: AnyNode): void {
    const op = REDIRECT;
    const target = r.Word ? this.word(r.Word) : null;
    if (r.Op === op.Hdoc || r.Op === op.DashHdoc) {
      this.scan.construct('a here-document');
      if (r.Hdoc) this.word(r.Hdoc);
      return;
    }
    if (r.Op === op.WordHdoc) {
      this.scan.construct('a here-string (<<<)');
      return;
    }
    if (!target) return;
    if ((r.Op === op.DplOut || r.Op === op.DplIn) && !target.dynamic && /^(\d+|-)$/.test(target.text)) return;
    const writes = r.Op !== op.RdrIn && r.Op !== op.DplIn;
    if (writes && !target.dynamic && DISK_DEVICE.test(target.text)) {
      this.scan.dangers.push(`writes straight to the disk device ${target.text}`);
      return;
    }
    if (!target.dynamic && !target.pattern && HARMLESS_DEVICES.test(target.text)) return;
    this.scan.construct(`a redirect (${this.text(r)})`);
  }

  private command(cmd: AnyNode): void {
    switch (syntax.NodeType(cmd)) {
      case 'CallExpr': {
        for (const assign of cmd.Assigns ?? []) if (assign) this.assign(assign);
        let words: ShellWord[] = [];
        const substituted = this.scan.namesDuring(() => {
          words = (cmd.Args ?? []).filter(Boolean).map((w: AnyNode) => this.word(w));
        });
        if (words.length === 0) return;
        const runs = commandName(words[0]!.text);
        const fetched = substituted.find((n) => DOWNLOADERS.has(n));
        if (fetched && (INTERPRETERS.has(runs) || runs === 'eval' || runs === 'source' || runs === '.')) {
          this.scan.dangers.push(`runs code downloaded by ${fetched} in ${runs}`);
        }
        if (words[0]!.dynamic || words[0]!.pattern) this.scan.construct(`a command name computed when it runs (${words[0]!.text})`);
        this.scan.argv(words, this.depth);
        return;
      }
      case 'BinaryCmd': {
        const op = BINARY;
        if (cmd.Op === op.Pipe || cmd.Op === op.PipeAll) {
          const stages: string[][] = [];
          for (const stage of pipelineStages(cmd)) stages.push(this.scan.namesDuring(() => this.stmt(stage)));
          checkPipeline(this.scan, stages);
          return;
        }
        if (cmd.X) this.stmt(cmd.X);
        if (cmd.Y) this.stmt(cmd.Y);
        return;
      }
      case 'Subshell':
      case 'Block':
        this.stmts(cmd.Stmts);
        return;
      case 'IfClause':
        this.stmts(cmd.Cond);
        this.stmts(cmd.Then);
        if (cmd.Else) this.command(cmd.Else);
        return;
      case 'WhileClause':
        this.stmts(cmd.Cond);
        this.stmts(cmd.Do);
        return;
      case 'ForClause':
        this.deep(cmd.Loop);
        this.stmts(cmd.Do);
        return;
      case 'CaseClause':
        if (cmd.Word) this.word(cmd.Word);
        for (const item of cmd.Items ?? []) {
          if (!item) continue;
          for (const p of item.Patterns ?? []) if (p) this.word(p);
          this.stmts(item.Stmts);
        }
        return;
      case 'FuncDecl': {
        this.scan.construct('a function definition');
        const name = cmd.Name?.Value as string | undefined;
        const calls = this.scan.namesDuring(() => {
          if (cmd.Body) this.stmt(cmd.Body);
        });
        if (name !== undefined && calls.includes(name)) this.scan.dangers.push(`defines a function ${name} that calls itself (a fork bomb)`);
        return;
      }
      case 'TestClause':
      case 'ArithmCmd':
      case 'LetClause':
        this.deep(cmd);
        return;
      case 'DeclClause':
        for (const assign of cmd.Args ?? []) if (assign) this.assign(assign);
        return;
      case 'TimeClause':
        if (cmd.Stmt) this.stmt(cmd.Stmt);
        return;
      case 'CoprocClause':
        this.scan.construct('a coprocess');
        if (cmd.Stmt) this.stmt(cmd.Stmt);
        return;
      default:
        this.scan.construct(`a shell construct the gate does not know (${syntax.NodeType(cmd)})`);
    }
  }

  private assign(a: AnyNode): void {
    const value = a.Value ? this.word(a.Value) : null;
    if (a.Array) this.deep(a.Array);
    if (a.Index) this.deep(a.Index);
    if (a.Naked && !a.Value) return;
    const name = a.Name?.Value as string | undefined;
    if (name === undefined) return;
    const problem = assignmentProblem(name, value && !value.dynamic && !value.pattern ? value.text : value ? null : '');
    if (problem) this.scan.construct(problem);
  }

  /** Finds substitutions anywhere below `node` (arithmetic, test expressions, loop items) and analyzes them. */
  private deep(node: AnyNode | null | undefined): void {
    if (!node) return;
    syntax.Walk(node, (n: AnyNode | null) => {
      if (!n) return true;
      const type = syntax.NodeType(n);
      if (type === 'Word') {
        this.word(n);
        return false;
      }
      return true;
    });
  }

  /** One word: its text as the program receives it, and every substitution inside it analyzed. */
  word(word: AnyNode): ShellWord {
    const chars: { c: string; quoted: boolean }[] = [];
    let dynamic = false;
    const push = (s: string, quoted: boolean): void => {
      for (const c of s) chars.push({ c, quoted });
    };
    const part = (p: AnyNode, quoted: boolean): void => {
      switch (syntax.NodeType(p)) {
        case 'Lit':
          if (quoted) push(unescapeDoubleQuoted(p.Value), true);
          else pushUnquoted(chars, p.Value);
          return;
        case 'SglQuoted': {
          if (!p.Dollar) {
            push(p.Value, true);
            return;
          }
          const decoded = decodeAnsiC(p.Value);
          if (decoded === null) {
            dynamic = true;
            push(`$'${p.Value}'`, true);
          } else {
            push(decoded, true);
          }
          return;
        }
        case 'DblQuoted':
          for (const inner of p.Parts ?? []) part(inner, true);
          return;
        case 'ParamExp':
          dynamic = true;
          this.scan.construct(`a variable expansion (${this.text(p)})`);
          this.deep(p);
          push(this.text(p), true);
          return;
        case 'CmdSubst':
          dynamic = true;
          this.scan.construct(p.Backquotes ? 'a command substitution in backticks (`…`)' : 'a command substitution ($(…))');
          this.substitution(p);
          push(this.text(p), true);
          return;
        case 'ProcSubst':
          dynamic = true;
          this.scan.construct('a process substitution (<(…) or >(…))');
          this.substitution(p);
          push(this.text(p), true);
          return;
        case 'ArithmExp':
          dynamic = true;
          this.deep(p);
          push(this.text(p), true);
          return;
        case 'ExtGlob':
          push(this.text(p), false);
          chars.push({ c: '*', quoted: false });
          return;
        default:
          dynamic = true;
          this.scan.construct(`a word the gate does not know (${syntax.NodeType(p)})`);
          push(this.text(p), true);
      }
    };
    for (const p of word.Parts ?? []) part(p, false);
    const tilde = chars[0]?.c === '~' && !chars[0].quoted;
    return {
      text: chars.map((x) => x.c).join(''),
      // A leading unquoted `~` becomes a home directory: a path the gate cannot see as written.
      dynamic: dynamic || tilde,
      pattern: patternOf(chars),
    };
  }

  private substitution(p: AnyNode): void {
    this.stmts(p.Stmts);
  }
}

function pipelineStages(cmd: AnyNode): AnyNode[] {
  const op = BINARY;
  const stages: AnyNode[] = [];
  const visit = (stmt: AnyNode): void => {
    const inner = stmt.Cmd;
    if (inner && syntax.NodeType(inner) === 'BinaryCmd' && (inner.Op === op.Pipe || inner.Op === op.PipeAll) && !stmt.Negated && !(stmt.Redirs ?? []).length) {
      visit(inner.X);
      visit(inner.Y);
    } else {
      stages.push(stmt);
    }
  };
  visit(cmd.X);
  visit(cmd.Y);
  return stages;
}

/** A stage that downloads, followed later in the same pipeline by an interpreter: running code fetched from the network. */
function checkPipeline(scan: Scan, stages: string[][]): void {
  const downloadAt = stages.findIndex((names) => names.some((n) => DOWNLOADERS.has(n)));
  if (downloadAt === -1) return;
  const interpreter = stages.slice(downloadAt + 1).flat().find((n) => INTERPRETERS.has(n) || n === 'eval' || n === 'source' || n === '.');
  if (interpreter) scan.dangers.push(`downloads code and pipes it into ${interpreter}`);
}

/** An unquoted literal: a backslash makes the next character literal (`\\rm` is `rm`, `\\*` is no glob). */
function pushUnquoted(chars: { c: string; quoted: boolean }[], value: string): void {
  const cps = [...value];
  for (let i = 0; i < cps.length; i++) {
    if (cps[i] === '\\' && i + 1 < cps.length) chars.push({ c: cps[++i]!, quoted: true });
    else chars.push({ c: cps[i]!, quoted: false });
  }
}

function unescapeDoubleQuoted(value: string): string {
  return value.replace(/\\([$`"\\\n])/g, (_, c: string) => (c === '\n' ? '' : c));
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
