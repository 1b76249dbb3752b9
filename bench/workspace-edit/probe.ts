/**
 * Benchmark only (bench/workspace-edit.ts), bundled with esbuild into `probe/extension.js` when the benchmark runs.
 * Inside VS Code's extension host it runs Deputy's own editor apply — `applyWorkspaceEdit` from
 * src/extension/review/apply-edit.ts, the code the extension runs when the server sends `deputy/applyWorkspaceEdit`:
 * every file checked against its expected text, ONE `WorkspaceEdit`, every file saved — on each job the benchmark
 * writes to `.bench-jobs/<n>.job.json` in the workspace, and writes `<n>.result.json` beside it with the time
 * `performance.now()` saw around the call and every file's status. Nothing else of Deputy is involved.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { applyWorkspaceEdit } from '../../src/extension/review/apply-edit.js';
import type { ApplyWorkspaceEdit } from '../../src/protocol/lsp.js';
import { JOBS_FOLDER, type ProbeResult } from './job.js';

/** Where the time goes: VS Code calls the apply makes, timed by wrapping them (summed milliseconds and counts). */
const phases: Record<string, { ms: number; calls: number; firstMs: number; lastMs: number }> = {};
let jobStart = 0;
function timed<A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a: A) => {
    const start = performance.now();
    try {
      return await f(...a);
    } finally {
      const end = performance.now();
      const p = (phases[name] ??= { ms: 0, calls: 0, firstMs: start - jobStart, lastMs: 0 });
      p.ms += end - start;
      p.calls++;
      p.lastMs = end - jobStart;
    }
  };
}
function instrument(): void {
  const ws = vscode.workspace as unknown as Record<string, unknown>;
  // The extension host's documents are frozen (their `save` cannot be wrapped): the saves are the time left over.
  const open = vscode.workspace.openTextDocument.bind(vscode.workspace) as unknown as (uri: vscode.Uri) => Promise<vscode.TextDocument>;
  ws['openTextDocument'] = timed('openTextDocument', open);
  const apply = vscode.workspace.applyEdit.bind(vscode.workspace) as unknown as (e: vscode.WorkspaceEdit, m?: vscode.WorkspaceEditMetadata) => Promise<boolean>;
  ws['applyEdit'] = timed('applyEdit', apply);
}

async function runPending(dir: string): Promise<void> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.job.json')).sort();
  for (const name of names) {
    const done = path.join(dir, name.replace(/\.job\.json$/, '.result.json'));
    if (existsSync(done)) continue;
    const job = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as ApplyWorkspaceEdit.Params;
    for (const k of Object.keys(phases)) delete phases[k];
    const start = performance.now();
    jobStart = start;
    let out: ProbeResult;
    try {
      const { results } = await applyWorkspaceEdit(job);
      out = { ms: performance.now() - start, phases: { ...phases }, statuses: results.map((r) => `${r.path}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`) };
    } catch (err) {
      out = { ms: performance.now() - start, statuses: [], error: String(err) };
    }
    await fs.writeFile(`${done}.tmp`, JSON.stringify(out));
    await fs.rename(`${done}.tmp`, done);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  try {
    instrument();
  } catch (err) {
    console.error(`workspace-edit probe: could not time VS Code's calls: ${String(err)}`);
  }
  const dir = path.join(folder.uri.fsPath, JOBS_FOLDER);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void runPending(dir).finally(() => (busy = false));
  }, 100);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
}
