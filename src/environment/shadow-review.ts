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
import { applyShadowBinary, applyShadowMode, revertInShadow, writeInShadow } from './shadow-apply.js';
import { shadowChanges, type ShadowChange } from './shadow-changes.js';

export interface ReviewOutcome {
  results: ChangeResult[];
  /** For the agent: what happened to its changes, in its next message. */
  notes: string;
}

export class ShadowReview {
  private running: Promise<ReviewOutcome> | undefined;
  private count = 0;
  /** One runner for every review of the task, so a revised changeset shows what changed since the last round. */
  private readonly runner: ToolRunner;

  constructor(private readonly env: EnvironmentContext) {
    this.runner = new ToolRunner({
      workspace: env.workspace,
      policy: env.policy,
      audit: env.audit,
      prompter: env.prompter,
      actor: env.actor,
      task: env.task,
      ...(env.files ? { files: env.files } : {}),
      ...(env.events ? { events: env.events } : {}),
    });
  }

  /**
   * Reviews the shadow's pending changes; concurrent calls share one review (and the first caller's `signal`: once it
   * aborts, an open question is withdrawn and the undecided files count as rejected).
   */
  review(session: string, why: string, signal?: AbortSignal): Promise<ReviewOutcome> {
    this.running ??= this.run(session, why, signal).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(session: string, why: string, signal: AbortSignal | undefined): Promise<ReviewOutcome> {
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
    const reviewed = await this.runner.reviewPrepared({ session, callId }, summary, changes.map((c) => c.file), {
      source: 'environment',
      ...(signal ? { signal } : {}),
      // Text goes through the workspace port (the editor's WorkspaceEdit, or the disk); binary content cannot.
      apply: (file) => {
        const change = byFile.get(file);
        return change?.binary ? applyShadowBinary(env.workspace, change) : undefined;
      },
    });
    const { results } = reviewed;
    const approved: string[] = [];
    const kept = new Map<string, string>();
    for (const [i, result] of results.entries()) {
      const change = changes[i]!;
      const written = reviewed.written[i];
      if (result.status === 'applied') {
        approved.push(change.file.path);
        await applyShadowMode(env.workspace, change);
        // Only some hunks were kept: the shadow takes what was written, so the agent's next command sees it.
        if (typeof written === 'string') {
          kept.set(change.file.path, written);
          await writeInShadow(shadow.root, change, written);
        }
      }
      // Rejected files go back to what they were, so the agent's next command sees what the person kept.
      else if (result.status === 'rejected') await revertInShadow(shadow.root, change);
    }
    await shadow.advanceBaseline(current, approved, kept);
    return { results, notes: summarize(results, changes, reviewed.comment) };
  }
}

/** The agent's summary: plain text, one line per file, comments quoted, line comments and redo content below. */
function summarize(results: ChangeResult[], changes: ShadowChange[], comment: string | undefined): string {
  const lines = results.map((r, i) => {
    const change = changes[i];
    const what = change?.renamedFrom ? `${r.path} (renamed from ${change.renamedFrom})` : r.path;
    const said = r.comment ? ` (reviewer: "${r.comment}")` : '';
    let line: string;
    switch (r.status) {
      case 'applied':
        line = r.kept_hunks
          ? `- partly kept: ${what}: only the hunks ${r.kept_hunks.join(', ')} were applied; the rest was reverted in your workspace${said}`
          : `- kept: ${what}${said}`;
        break;
      case 'rejected':
        line = r.changes_requested
          ? `- changes requested, reverted in your workspace: ${what}${said}; revise it and change it again`
          : `- rejected and reverted in your workspace: ${what}${said}`;
        break;
      case 'conflict':
        line = r.current_content !== undefined
          ? `- conflict, not applied: ${what}: ${r.reason ?? ''} Its current content (SHA-256 ${r.current_sha256 ?? ''}):\n${fence(r.current_content)}`
          : `- conflict, not applied: ${what}: ${r.reason ?? ''} Your version is still in your workspace.`;
        break;
      default:
        line = `- not applied: ${what}: ${r.reason ?? ''}`;
    }
    const notes = (r.line_comments ?? []).map((c) => `    line ${c.line} of ${c.side === 'proposed' ? 'your version' : 'the current file'}: "${c.text}"`);
    return [line, ...notes].join('\n');
  });
  const general = comment ? `\nThe reviewer's comment on the whole change: "${comment}"` : '';
  return `Deputy's review of your changes:\n${lines.join('\n')}${general}`;
}

function fence(text: string): string {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}\n${text}${text.endsWith('\n') ? '' : '\n'}${ticks}`;
}
