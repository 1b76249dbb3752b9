/** What the WorkspaceEdit benchmark and its probe extension exchange through the workspace (bench/workspace-edit.ts). */

/** The folder, inside the first workspace folder, where jobs and results are written. */
export const JOBS_FOLDER = '.bench-jobs';

/** The probe's answer to one job. */
export interface ProbeResult {
  /** Milliseconds around `applyWorkspaceEdit`, in the extension host. */
  ms: number;
  /** Time spent in each VS Code call the apply made (summed), when the probe could wrap it. */
  phases?: Record<string, { ms: number; calls: number; firstMs: number; lastMs: number }>;
  /** `<path>: <status>` per file, in the job's order. */
  statuses: string[];
  error?: string;
}

/** Throws unless every file of the job was applied; returns how many were. */
export function appliedCount(result: ProbeResult, expected: number): number {
  if (result.error !== undefined) throw new Error(`the editor apply threw: ${result.error}`);
  const bad = result.statuses.filter((s) => !s.endsWith(': applied'));
  if (bad.length > 0) throw new Error(`the editor apply did not apply ${bad.length} file(s), first: ${bad[0]}`);
  if (result.statuses.length !== expected) throw new Error(`the editor apply answered for ${result.statuses.length} files, not ${expected}`);
  return expected;
}
