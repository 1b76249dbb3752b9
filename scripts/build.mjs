// One esbuild configuration for every bundle. Each entry is a self-contained CommonJS file for Node.
// The runtime ships inside the CLI (`deputy serve`); the extension and webview join here when they exist.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const entries = {
  cli: 'src/cli/main.ts',
};

await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}.js`,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: true,
      logLevel: 'warning',
      // The WASM build of SQLite loads its .wasm file beside its own JS; keep it external.
      external: ['node-sqlite3-wasm'],
      banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
    }),
  ),
);
await chmod('dist/cli.js', 0o755);

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
