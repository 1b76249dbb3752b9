/**
 * Review of what the agent changed in the shadow: at the end of a turn, when the harness disconnects, or on demand.
 * The difference from the baseline goes through the same per-file review as `propose_changes`
 * (`ToolRunner.reviewPrepared`: the same questions, bindings and audit records); approved files are applied to the
 * real workspace with conflict detection, rejected ones are put back in the shadow, and the agent gets a summary
 * of what was kept, rejected (with the reviewer's comments) or in conflict.
 */
import { ToolRunner } from '../core/tool-runner.js';
import type { ChangeResult } from '../protocol/tools.js';
import { record, strictestVerdict, type EnvironmentContext } from './context.js';
import { applyShadowChange, revertInShadow } from './shadow-apply.js';
import { shadowChanges, type ShadowChange } from './shadow-changes.js';

export interface ReviewOutcome {
  results: ChangeResult[];
  /** For the agent: what happened to its changes, in its next message. */
  notes: string;
}

export class ShadowReview {
  private running: Promise<ReviewOutcome> | undefined;
  private count = 0;

  constructor(private readonly env: EnvironmentContext) {}

  /** Reviews the shadow's pending changes; concurrent calls share one review. */
  review(session: string, why: string): Promise<ReviewOutcome> {
    this.running ??= this.run(session, why).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(session: string, why: string): Promise<ReviewOutcome> {
    const { env } = this;
    const shadow = env.shadow;
    const baseline = shadow.baseline;
    const current = await shadow.currentTree();
    if (current === baseline) return { results: [], notes: '' };
    const changes = await shadowChanges(shadow, baseline, current);
    const callId = `review-${++this.count}`;
    for (const change of changes) {
      if (change.file.status !== 'ready') continue;
      const verdict = strictestVerdict(env.policy, 'propose_changes', change.file.path, change.file.path);
      if (verdict.decision === 'deny') {
        change.file.status = 'invalid';
        change.file.reason = `Denied by policy: ${verdict.reason}`;
      }
    }
    const summary = `Changes the agent made in its workspace (${why}).`;
    await record(env, 'changeset.proposed', session, {
      call_id: callId,
      summary,
      source: 'environment',
      files: changes.map((c) => ({
        path: c.file.path,
        operation: c.file.operation,
        status: c.file.status,
        added: c.file.stats.added,
        removed: c.file.stats.removed,
        ...(c.binary ? { binary: true } : {}),
        ...(c.beforeMode && c.afterMode && c.beforeMode !== c.afterMode ? { mode: `${c.beforeMode}->${c.afterMode}` } : {}),
        ...(c.renamedFrom ? { renamed_from: c.renamedFrom } : {}),
        ...(c.file.reason ? { reason: c.file.reason } : {}),
      })),
    });
    const byFile = new Map(changes.map((c) => [c.file, c]));
    const runner = new ToolRunner({ workspace: env.workspace, policy: env.policy, audit: env.audit, prompter: env.prompter, actor: env.actor, task: env.task });
    const results = await runner.reviewPrepared(
      { session, callId },
      summary,
      changes.map((c) => c.file),
      (file) => applyShadowChange(env.workspace, byFile.get(file)!),
    );
    const approved: string[] = [];
    for (const [i, result] of results.entries()) {
      const change = changes[i]!;
      if (result.status === 'applied') approved.push(change.file.path);
      // Rejected files go back to what they were, so the agent's next command sees what the person kept.
      else if (result.status === 'rejected') await revertInShadow(shadow.root, change);
    }
    await shadow.advanceBaseline(current, approved);
    return { results, notes: summarize(results, changes) };
  }
}

/** The agent's summary: plain text, one line per file, comments quoted. */
function summarize(results: ChangeResult[], changes: ShadowChange[]): string {
  const lines = results.map((r, i) => {
    const change = changes[i];
    const what = change?.renamedFrom ? `${r.path} (renamed from ${change.renamedFrom})` : r.path;
    switch (r.status) {
      case 'applied':
        return `- kept: ${what}${r.comment ? ` (reviewer: "${r.comment}")` : ''}`;
      case 'rejected':
        return `- rejected and reverted in your workspace: ${what}${r.comment ? ` (reviewer: "${r.comment}")` : ''}`;
      case 'conflict':
        return `- conflict, not applied: ${what}: ${r.reason ?? ''} Your version is still in your workspace.`;
      default:
        return `- not applied: ${what}: ${r.reason ?? ''}`;
    }
  });
  return `Deputy's review of your changes:\n${lines.join('\n')}`;
}
