/**
 * The language-server boundary is declared in one place (STYLE.md "Boundaries are files"): every `deputy/…` method
 * is declared once under src/protocol/lsp/, src/protocol/lsp.ts names every message of those modules (so importers
 * reach all of them there), and no other source file spells a method name as a bare string.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import * as lsp from '../../src/protocol/lsp.js';

const root = join(__dirname, '..', '..');
const areaDir = join(root, 'src', 'protocol', 'lsp');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

/** `deputy/…` inside a string literal ('…', "…" or `…`); doc comments may name methods in backticks, code may not. */
function methodLiterals(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/(['"`])(deputy\/[A-Za-z]+)\1/g)].map((m) => m[2]!);
}

test('every deputy/ method is declared once, in an area module of src/protocol/lsp/', () => {
  const declared = sources(areaDir).flatMap((f) => methodLiterals(readFileSync(f, 'utf8')));
  assert.ok(declared.length >= 30, `found ${declared.length} methods`);
  const twice = declared.filter((m, i) => declared.indexOf(m) !== i);
  assert.deepEqual(twice, [], 'methods declared more than once');
});

test('src/protocol/lsp.ts re-exports every message the area modules declare', async () => {
  const declared = new Set(sources(areaDir).flatMap((f) => methodLiterals(readFileSync(f, 'utf8'))));
  const exported = new Set<string>(
    Object.values(lsp).flatMap((v) => (typeof v === 'object' && v !== null && 'method' in v && typeof v.method === 'string' ? [v.method] : [])),
  );
  assert.deepEqual([...declared].filter((m) => !exported.has(m)), [], 'declared but not exported from src/protocol/lsp.ts');
  // Each area module's exported names are all reachable through the barrel (values; types are checked by tsc).
  for (const f of sources(areaDir)) {
    const mod = (await import(f)) as Record<string, unknown>;
    const missing = Object.keys(mod).filter((k) => !(k in lsp));
    assert.deepEqual(missing, [], `${relative(root, f)} exports names src/protocol/lsp.ts does not`);
  }
});

test('no method name is a bare string outside src/protocol/lsp/', () => {
  const offenders = ['src', 'webview'].flatMap((d) => sources(join(root, d)))
    .filter((f) => !f.startsWith(areaDir))
    .flatMap((f) => methodLiterals(readFileSync(f, 'utf8')).map((m) => `${relative(root, f)}: ${m}`));
  assert.deepEqual(offenders, []);
});

test('the scan finds a bare method string (control)', () => {
  assert.deepEqual(methodLiterals("conn.sendRequest('deputy/startTask', p);\n  // 'deputy/stop'\n/** `deputy/events` */"), ['deputy/startTask']);
});
