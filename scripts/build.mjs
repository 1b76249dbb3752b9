// One esbuild configuration for every bundle. Each entry is a self-contained CommonJS file for Node.
// The runtime ships inside the CLI (`deputy serve`); the extension and webview join here when they exist.
//
// The CLI is split so a command loads only what it uses: dist/cli.js is the command table (src/cli/main.ts), and
// each `require('./entry/<name>.js')` in it becomes a `require` of dist/cli-<name>.js, a bundle of that command
// and its error handling alone.
import { build } from 'esbuild';
import { chmod, copyFile } from 'node:fs/promises';

/** Modules src/cli/main.ts loads on demand; each is bundled on its own as dist/cli-<name>.js. */
const LAZY_CLI = ['run', 'serve', 'login', 'whoami', 'audit', 'environment', 'report', 'stop', 'policy', 'revert'];

/**
 * Heavy modules a command needs only on one path (OpenTelemetry's exporter for `audit export --otlp-endpoint`, the
 * KMS client for a KMS signing key): bundled once as dist/lazy-<name>.js, and a command's `require` of them points
 * there instead of inlining them, so `deputy audit verify` does not parse them.
 */
const LAZY_SHARED = { 'otlp-send': 'src/core/audit-otlp-send.ts', 'kms-signer': 'src/identity/kms-signer.ts' };

const entries = {
  cli: 'src/cli/main.ts',
  ...Object.fromEntries(LAZY_CLI.map((name) => [`cli-${name}`, `src/cli/entry/${name}.ts`])),
  ...Object.fromEntries(Object.entries(LAZY_SHARED).map(([name, entry]) => [`lazy-${name}`, entry])),
};

const lazySharedModules = {
  name: 'lazy-shared-modules',
  setup(b) {
    for (const [name, entry] of Object.entries(LAZY_SHARED)) {
      const file = entry.slice(entry.lastIndexOf('/') + 1).replace(/\.ts$/, '.js');
      b.onResolve({ filter: new RegExp(`/${file.replace('.', '\\.')}$`) }, (args) =>
        args.kind === 'require-call' ? { path: `./lazy-${name}.js`, external: true } : undefined,
      );
    }
  },
};

/** Keeps main.ts's requires of the lazy modules out of its bundle, pointing them at their own bundles. */
const lazyCliModules = {
  name: 'lazy-cli-modules',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^\\./entry/(${LAZY_CLI.join('|')})\\.js$`) }, (args) => {
      if (args.kind !== 'require-call' || !args.importer.endsWith('src/cli/main.ts')) return undefined;
      return { path: `./cli-${args.path.slice('./entry/'.length, -'.js'.length)}.js`, external: true };
    });
  },
};

await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}.js`,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      sourcemap: true,
      logLevel: 'warning',
      // The WASM build of SQLite loads its .wasm file beside its own JS; keep it external.
      external: ['node-sqlite3-wasm'],
      plugins: name === 'cli' ? [lazyCliModules] : name.startsWith('cli-') ? [lazySharedModules] : [],
      banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
    }),
  ),
);
await chmod('dist/cli.js', 0o755);

// The VS Code extension (a thin language client; `vscode` is the host's) and the language server that hosts the
// engine. The server bundles the WASM build of SQLite and gets its .wasm beside it in dist/, so the packaged
// extension needs no node_modules at all.
await Promise.all([
  build({
    entryPoints: ['src/extension/main.ts'],
    outfile: 'dist/extension.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    external: ['vscode'],
  }),
  // The extension's body, loaded by the entry above the first time a command, the panel, the chat or a code lens
  // needs it (see src/extension/main.ts): activation parses only the entry.
  build({
    entryPoints: ['src/extension/full.ts'],
    outfile: 'dist/extension-full.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    external: ['vscode'],
  }),
  // Loaded by the extension the first time it needs the server (see src/extension/language-client.ts).
  build({
    entryPoints: ['src/extension/language-client.ts'],
    outfile: 'dist/language-client.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    external: ['vscode'],
  }),
  build({
    entryPoints: ['src/server/main.ts'],
    outfile: 'dist/server.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
await copyFile('node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm', 'dist/node-sqlite3-wasm.wasm');
// Cedar's Node build reads its .wasm from beside the JS that loads it: every bundle in dist/ that decides policy.
await copyFile('node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm', 'dist/cedar_wasm_bg.wasm');

// The panel runs in the webview (a browser page): one self-contained script, loaded under a nonce.
await build({
  entryPoints: ['webview/main.ts'],
  outfile: 'dist/webview.js',
  bundle: true,
  platform: 'browser',
  target: 'chrome120',
  format: 'iife',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  tsconfig: 'webview/tsconfig.json',
});
