/**
 * Walks one parsed bash script for the command gate: every statement, redirect, word and substitution, reporting the
 * simple commands, the constructs that need a person and the dangerous shapes to the `Scan` that asked.
 */
import type { Scan } from './shell-analysis.js';
import { BINARY, REDIRECT, syntax, type AnyNode } from './shell-parser.js';
import { DOWNLOADERS, INTERPRETERS, commandName } from './shell-programs.js';
import { assignmentProblem } from './shell-variables.js';
import type { ShellWord } from './shell-words.js';
import { decodeAnsiC, patternOf } from './shell-words.js';

/** `/dev/…` targets that are not a disk. */
const HARMLESS_DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/\d+|full|random|urandom)$/;
const DISK_DEVICE = /^\/dev\/(sd|hd|vd|xvd|nvme|mmcblk|disk|dm-|md|loop|mapper\/|root)/;

/** Walks one parsed script; `source` is its UTF-8 bytes (mvdan/sh positions are byte offsets). */
export class ScriptWalk {
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
