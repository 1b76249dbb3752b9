/**
 * One file of a changeset card: path, +/− counts, state, the agent's rationale, the person's verdict buttons and
 * comment, and (when expanded) its diff split into hunks, each with a Keep choice. The diff is drawn only while the
 * file is expanded, and fetched from the extension the first time when the proposal did not carry it.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';
import type { ChangesetHunk, ConflictReport, FileDecisionKind, ReviewVerdict, RevisionMark } from '../../src/protocol/events.js';
import type { PanelContext } from '../context.js';
import { isUndecided, type ChangesetFileView, type ChangesetRow } from '../transcript.js';

/** Lines of one hunk shown in the card; the diff editor shows the rest. */
const HUNK_LINES_SHOWN = 200;

const RESULT_WORDS = { applied: 'Applied', rejected: 'Rejected', conflict: 'Conflict', invalid: 'Invalid' } as const;

function lineView(line: string): TemplateResult {
  const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
  return html`<span class=${cls}>${visibleText(line)}\n</span>`;
}

const DECISION_WORDS: Record<FileDecisionKind, string> = {
  approve: 'Approved',
  reject: 'Rejected',
  keepHunks: 'Some hunks kept',
  requestChanges: 'Changes requested',
  redo: 'Sent back to redo on the current content',
};

const REVISION_WORDS: Record<RevisionMark, string> = { new: 'new this round', changed: 'changed since last round', unchanged: 'unchanged' };

function hunkView(ctx: PanelContext, sessionId: string, row: ChangesetRow, file: ChangesetFileView, hunk: ChangesetHunk, index: number, open: boolean): TemplateResult {
  const path = visibleLine(file.path);
  const dropped = ctx.store.reviewDrafts[file.binding]?.dropped.includes(hunk.hunkId) ?? false;
  const kept = file.result?.keptHunks;
  const lines = [hunk.header, ...hunk.lines];
  const shown = lines.slice(0, HUNK_LINES_SHOWN);
  return html`<div class=${`hunk-block${dropped || (kept && !kept.includes(hunk.hunkId)) ? ' dropped' : ''}`} data-hunk=${hunk.hunkId}>
    <div class="row-line">
      ${open
        ? html`<label class="keep"
            ><input
              type="checkbox"
              aria-label=${`Keep hunk ${index + 1} of ${path}`}
              .checked=${live(!dropped)}
              @change=${(e: Event) =>
                ctx.post({ type: 'chooseHunk', sessionId, changesetId: row.changesetId, binding: file.binding, hunkId: hunk.hunkId, keep: (e.target as HTMLInputElement).checked })}
            />Keep hunk ${index + 1}</label
          >`
        : html`<span class="muted">Hunk ${index + 1}${kept ? (kept.includes(hunk.hunkId) ? ' kept' : ' dropped') : ''}</span>`}
      ${hunk.revision && hunk.revision !== 'unchanged' ? html`<span class="badge">${REVISION_WORDS[hunk.revision]}</span>` : nothing}
    </div>
    <pre class="diff">${shown.map(lineView)}</pre>
    ${lines.length > HUNK_LINES_SHOWN ? html`<div class="muted">${lines.length - HUNK_LINES_SHOWN} more lines: Open diff to see them.</div>` : nothing}
  </div>`;
}

function diffView(ctx: PanelContext, sessionId: string, row: ChangesetRow, file: ChangesetFileView, open: boolean): TemplateResult {
  if (file.hunks?.length) return html`${file.hunks.map((h, i) => hunkView(ctx, sessionId, row, file, h, i, open))}`;
  if (!file.diff) return html`<div class="muted">${file.state === 'ready' ? 'No textual change (Open diff shows the file).' : 'No diff: this file cannot be applied.'}</div>`;
  // A proposal without hunk ids (an older engine): the diff as it came, whole-file choices only.
  const lines = file.diff.split('\n');
  return html`<pre class="diff">${lines.slice(0, HUNK_LINES_SHOWN).map(lineView)}</pre>${lines.length > HUNK_LINES_SHOWN
      ? html`<div class="muted">${lines.length - HUNK_LINES_SHOWN} more lines: Open diff to see them.</div>`
      : nothing}`;
}

function outcomeOf(file: ChangesetFileView): string {
  // "Rejected" after the apply says less than the decision that caused it (changes requested, sent back to redo).
  if (file.result && !(file.result.status === 'rejected' && file.decision)) return `${RESULT_WORDS[file.result.status]}${file.result.reason ? `: ${file.result.reason}` : ''}`;
  if (file.decision) return DECISION_WORDS[file.decision];
  if (file.verdict) return file.verdict === 'approve' ? 'Approved' : 'Rejected';
  if (file.state !== 'ready') return `${file.state === 'conflict' ? 'Conflict' : 'Invalid'}: ${file.reason ?? ''}`;
  return '';
}

/** Which text the agent worked from and which is there now, by the first hex digits of their SHA-256. */
function versionsOf(c: ConflictReport): string {
  const short = (h: string) => h.slice(0, 12);
  const read = c.baseSha256 === null ? 'the agent expected no file' : `the agent read ${short(c.baseSha256)}`;
  const now = c.currentSha256 === null ? 'no file now' : c.currentSha256 === c.baseSha256 ? 'now the same' : `now ${short(c.currentSha256)}`;
  return `${read} · ${now}`;
}

/** A file changed since the agent read it: nothing was overwritten; see both versions, or hand it back. */
function conflictActions(ctx: PanelContext, sessionId: string, row: ChangesetRow, file: ChangesetFileView, path: string): TemplateResult {
  const undecided = file.state === 'conflict' && !file.verdict && !row.applied && !row.withdrawn;
  const asked = ctx.store.redoAsked.has(file.binding);
  // The question it would answer left with its server: the new server proposes again when the session reattaches.
  const gone = file.state === 'conflict' && !file.verdict && !!row.withdrawn;
  const redo = () => {
    ctx.store.redoAsked.add(file.binding);
    if (undecided) ctx.store.sent.add(file.binding);
    if (undecided) ctx.post({ type: 'reviewChangeset', sessionId, changesetId: row.changesetId, files: [{ binding: file.binding, decision: 'redo' }] });
    else ctx.post({ type: 'followUp', sessionId, text: `${file.path} changed since you read it and was left as it is. Read its current content and redo your change on it.` });
  };
  return html`<div class="actions conflict">
    <span class="muted">${visibleText(file.conflict?.reason ?? file.reason ?? 'Changed since the agent read it; nothing was overwritten.')}</span>
    ${file.conflict ? html`<span class="muted versions" aria-label=${`Versions of ${path}`}>${versionsOf(file.conflict)}</span>` : nothing}
    <vscode-button secondary aria-label=${`Show both versions of ${path}`} @click=${() => ctx.post({ type: 'showConflict', sessionId, changesetId: row.changesetId, binding: file.binding })}
      >Show both versions</vscode-button
    >
    <vscode-button ?disabled=${asked || gone} aria-label=${`Ask the agent to redo ${path} on the current content`} @click=${redo}>Ask the agent to redo it on the current content</vscode-button>
  </div>`;
}

export interface FileViewOptions {
  /** Whether the file shows its diff. */
  expanded: boolean;
  /** Draws the card again at once (a verdict was sent: its buttons wait for the engine). */
  rerender(): void;
}

export function fileView(ctx: PanelContext, sessionId: string, row: ChangesetRow, file: ChangesetFileView, opts: FileViewOptions): TemplateResult {
  const { store } = ctx;
  const path = visibleLine(file.path);
  const sent = store.sent.has(file.binding);
  const open = isUndecided(row, file);
  const draft = store.reviewDrafts[file.binding];
  const review = (verdict: ReviewVerdict) => {
    const comment = store.drafts.get(file.binding)?.trim();
    store.sent.add(file.binding);
    ctx.post({ type: 'reviewFile', sessionId, changesetId: row.changesetId, binding: file.binding, verdict, ...(comment ? { comment } : {}) });
    opts.rerender();
  };
  const outcome = outcomeOf(file);
  const conflicted = file.state === 'conflict' || file.conflict !== undefined || file.result?.status === 'conflict';
  const kept = draft && draft.dropped.length ? ` · ${draft.dropped.length} hunk${draft.dropped.length === 1 ? '' : 's'} dropped` : '';
  return html`<div class="file" data-binding=${file.binding} data-path=${file.path}>
    <div class="row-line">
      <span class="op">${file.operation}</span>
      <strong class="path">${path}</strong>
      ${file.realPath ? html`<span class="muted">→ ${visibleLine(file.realPath)}</span>` : nothing}
      <span class="add" aria-label=${`${file.added} lines added`}>+${file.added}</span><span class="del" aria-label=${`${file.removed} lines removed`}>−${file.removed}</span>
      ${file.revision && file.revision !== 'unchanged' ? html`<span class="badge">${REVISION_WORDS[file.revision]}</span>` : file.revision === 'unchanged' ? html`<span class="muted">unchanged since last round</span>` : nothing}
      ${draft?.reviewed ? html`<span class="badge">reviewed</span>` : nothing}
      ${outcome ? html`<span class="outcome">${visibleText(outcome)}</span>` : nothing}
      ${kept || draft?.lineComments ? html`<span class="muted">${kept}${draft?.lineComments ? ` · ${draft.lineComments} line comment${draft.lineComments === 1 ? '' : 's'}` : ''}</span>` : nothing}
    </div>
    ${file.rationale ? html`<div class="rationale">${visibleText(file.rationale)}</div>` : nothing}
    ${file.comment ? html`<div class="muted">Comment: ${visibleText(file.comment)}</div>` : nothing}
    <div class="actions">
      <vscode-button secondary aria-label=${`Open diff ${path}`} @click=${() => ctx.post({ type: 'openDiff', sessionId, changesetId: row.changesetId, binding: file.binding })}>Open diff</vscode-button>
      <vscode-button
        secondary
        aria-expanded=${opts.expanded ? 'true' : 'false'}
        aria-label=${`${opts.expanded ? 'Hide' : 'Show'} changes of ${path}`}
        @click=${() => store.toggleExpanded(file.binding)}
        >${opts.expanded ? 'Hide changes' : 'Show changes'}</vscode-button
      >
      ${open
        ? html`
            <vscode-button ?disabled=${sent} aria-label=${`Approve ${path}`} @click=${() => review('approve')}>Approve</vscode-button>
            <vscode-button ?disabled=${sent} secondary aria-label=${`Reject ${path}`} @click=${() => review('reject')}>Reject</vscode-button>
            <label class="keep"
              ><input
                type="checkbox"
                aria-label=${`Reviewed ${path}`}
                .checked=${live(draft?.reviewed ?? false)}
                @change=${(e: Event) =>
                  ctx.post({ type: 'markReviewed', sessionId, changesetId: row.changesetId, binding: file.binding, reviewed: (e.target as HTMLInputElement).checked })}
              />Reviewed</label
            >
            <vscode-textfield
              .label=${`Comment on ${path} (optional)`}
              aria-label=${`Comment on ${path}`}
              placeholder="Comment (optional)"
              .value=${live(store.drafts.get(file.binding) ?? '')}
              @input=${(e: Event) => store.drafts.set(file.binding, (e.target as HTMLInputElement).value)}
            ></vscode-textfield>`
        : nothing}
    </div>
    ${conflicted ? conflictActions(ctx, sessionId, row, file, path) : nothing}
    ${opts.expanded ? diffView(ctx, sessionId, row, file, open) : nothing}
  </div>`;
}
