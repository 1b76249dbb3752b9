/**
 * The bash parser the command gate reads scripts with, one reusable instance, and the operator numbers its typings do
 * not export at run time.
 *
 * Parser: mvdan/sh (the parser behind shfmt) through its pure-JS build `mvdan-sh`. Evaluated against
 * `shell-quote` (a tokenizer: no grammar for subshells, substitutions or here-docs), `bash-parser` and its
 * maintained fork (read a here-doc's body as commands and hide `$(…)` inside `${x:-…}`), tree-sitter-bash and
 * `sh-syntax` (WASM, asynchronous only). mvdan/sh parses all of bash synchronously in plain JS.
 */
import shModule from 'mvdan-sh';

export const { syntax } = shModule;

/**
 * Operator numbers of mvdan-sh 0.10 (its typings declare them as const enums the package does not export at run
 * time). A test parses each operator and checks these, so an upgrade that renumbers them fails loudly.
 */
export const REDIRECT = { RdrOut: 54, AppOut: 55, RdrIn: 56, RdrInOut: 57, DplIn: 58, DplOut: 59, ClbOut: 60, Hdoc: 61, DashHdoc: 62, WordHdoc: 63, RdrAll: 64, AppAll: 65 } as const;
export const BINARY = { AndStmt: 10, OrStmt: 11, Pipe: 12, PipeAll: 13 } as const;
// The typings describe the AST loosely; fields are read through this view, typed per use.
export type AnyNode = Record<string, any> & import('mvdan-sh').Node;

/**
 * One parser, made on first use: making one costs several times a parse, and a parser is reusable (also after a
 * syntax error). It holds no state between `Parse` calls that a verdict depends on.
 */
let parser: import('mvdan-sh').Parser | undefined;
export function bashParser(): import('mvdan-sh').Parser {
  parser ??= syntax.NewParser(syntax.KeepComments(false), syntax.Variant(syntax.LangBash));
  return parser;
}
