/**
 * What Deputy ships, in bytes: the bundles (extension, language client, language server, panel) and the packaged
 * `.vsix`, each against its goal where the issue set one (extension bundle < 300 KB, `.vsix` < 5 MB). Sizes are
 * not side-by-side measurements (a bundle has one size), so the report gives them a table of their own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const REPO = path.resolve(__dirname, '..');
const KB = 1024;

export interface SizeRow {
  artifact: string;
  /** What it is and when it is loaded, for the report. */
  what: string;
  bytes: number;
  gzipBytes: number | null;
  /** The goal: smaller than this many bytes; null where none was set. */
  goalBytes: number | null;
}

/** The rows, from `dist/` as `npm run build` left it and from a `.vsix` packaged from it (`vsix`). */
export async function measureSizes(vsix: string): Promise<SizeRow[]> {
  const bundle = async (file: string, what: string, goalBytes: number | null): Promise<SizeRow> => {
    const bytes = await fs.readFile(path.join(REPO, 'dist', file));
    return { artifact: `\`dist/${file}\``, what, bytes: bytes.length, gzipBytes: gzipSync(bytes).length, goalBytes };
  };
  return [
    await bundle('extension.js', "the extension's entry, loaded when VS Code activates Deputy", 300 * KB),
    await bundle('extension-full.js', "the extension's body, loaded on first use (a command, the panel, the chat, a code lens)", 300 * KB),
    await bundle('language-client.js', 'the language client, loaded when the server is first needed (panel, a command)', null),
    await bundle('server.js', 'the language server hosting the engine, in its own process', null),
    await bundle('webview.js', 'the panel, in the webview', null),
    { artifact: '`deputy.vsix`', what: 'the packaged extension (`npm run package`)', bytes: (await fs.stat(vsix)).size, gzipBytes: null, goalBytes: 5 * KB * KB },
  ];
}

export function formatBytes(bytes: number): string {
  if (bytes >= KB * KB) return `${(bytes / KB / KB).toFixed(2)} MB`;
  return `${(bytes / KB).toFixed(0)} KB`;
}

/** The report's table: one row per artifact, its goal and whether it is met. */
export function sizesTable(rows: readonly SizeRow[]): string[] {
  return [
    '| Artifact | What | Size | Gzipped | Goal |',
    '|---|---|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.artifact} | ${r.what} | ${formatBytes(r.bytes)} | ${r.gzipBytes === null ? '—' : formatBytes(r.gzipBytes)} | ${
          r.goalBytes === null ? '—' : `< ${formatBytes(r.goalBytes)}: ${r.bytes < r.goalBytes ? '**met**' : '**not met**'}`
        } |`,
    ),
  ];
}
