// ESLint with typescript-eslint's type-aware promise rules (no-floating-promises, no-misused-promises; the rules are
// in eslint.config.mjs). Usage: node scripts/lint.mjs [--no-ignore] [file or folder ...] (default: the whole repo).
//
// Why the redirect below: the project compiles with TypeScript 7, the Go port, whose npm package has no JavaScript
// API; typescript-eslint needs that API and supports TypeScript up to 6.0. TypeScript 6.0 is the same language as 7.0
// (7 is a port of it), so the lint type-checks with `typescript6`, an npm alias of typescript@6.0.3: every
// require('typescript') in this process (typescript-eslint and ts-api-utils are CommonJS) resolves to it.
// FIXME: drop the alias and the redirect once typescript-eslint runs on TypeScript 7.
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const redirected = request === 'typescript' || request.startsWith('typescript/') ? `typescript6${request.slice('typescript'.length)}` : request;
  return resolveFilename.call(this, redirected, ...rest);
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noIgnore = args.includes('--no-ignore');
const targets = args.filter((a) => a !== '--no-ignore');

const { ESLint } = await import('eslint');
const eslint = new ESLint({ cwd: root, ignore: !noIgnore, errorOnUnmatchedPattern: true });
const results = await eslint.lintFiles(targets.length > 0 ? targets : ['.']);
const formatter = await eslint.loadFormatter('stylish');
const text = await formatter.format(results);
if (text) process.stdout.write(text);
const problems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
const linted = results.length;
console.log(`# lint: ${linted} files, ${problems} problems`);
process.exit(problems > 0 ? 1 : 0);
