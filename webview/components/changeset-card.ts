/**
 * A proposed changeset as a card: the agent's summary, then each file with its diff, rationale and verdict
 * buttons (the path in every button's accessible name), and the whole-card answers. Verdicts carry each file's
 * binding; a file shows approved or rejected only once the engine confirms.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';
import type { ReviewAllVerdict } from '../../src/protocol/webview.js';
import type { ReviewVerdict } from '../../src/protocol/events.js';
import type { ChangesetFileView, ChangesetRow } from '../transcript.js';
import type { PanelContext } from '../context.js';

/** Lines of one file's diff shown in the card; the diff editor shows the rest. */
const DIFF_LINES_SHOWN = 400;

function diffView(diff: string): TemplateResult {
  const lines = diff.split('\n');
  const shown = lines.slice(0, DIFF_LINES_SHOWN);
  return html`<pre class="diff">${shown.map((line) => {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
    return html`<span class=${cls}>${visibleText(line)}\n</span>`;
  })}</pre>${lines.length > DIFF_LINES_SHOWN ? html`<div class="muted">${lines.length - DIFF_LINES_SHOWN} more lines: Open diff to see them.</div>` : nothing}`;
}

const RESULT_WORDS = { applied: 'Applied', rejected: 'Rejected', conflict: 'Conflict', invalid: 'Invalid' } as const;

function fileView(ctx: PanelContext, sessionId: string, row: ChangesetRow, file: ChangesetFileView, rerender: () => void): TemplateResult {
  const { store } = ctx;
  const path = visibleLine(file.path);
  const sent = store.sent.has(file.binding);
  const reviewable = file.state === 'ready' && !file.verdict && !row.applied;
  const review = (verdict: ReviewVerdict) => {
    const comment = store.drafts.get(file.binding)?.trim();
    store.sent.add(file.binding);
    ctx.post({ type: 'reviewFile', sessionId, changesetId: row.changesetId, binding: file.binding, verdict, ...(comment ? { comment } : {}) });
    rerender();
  };
  const outcome = file.result
    ? `${RESULT_WORDS[file.result.status]}${file.result.reason ? `: ${file.result.reason}` : ''}`
    : file.verdict
      ? file.verdict === 'approve' ? 'Approved' : 'Rejected'
      : file.state !== 'ready'
        ? `${file.state === 'conflict' ? 'Conflict' : 'Invalid'}: ${file.reason ?? ''}`
        : '';
  return html`<div class="file" data-binding=${file.binding}>
    <div class="row-line">
      <span class="op">${file.operation}</span>
      <strong class="path">${path}</strong>
      ${file.realPath ? html`<span class="muted">→ ${visibleLine(file.realPath)}</span>` : nothing}
      <span class="add">+${file.added}</span><span class="del">−${file.removed}</span>
      ${outcome ? html`<span class="outcome">${visibleText(outcome)}</span>` : nothing}
    </div>
    ${file.rationale ? html`<div class="rationale">${visibleText(file.rationale)}</div>` : nothing}
    ${file.comment ? html`<div class="muted">Comment: ${visibleText(file.comment)}</div>` : nothing}
    ${file.diff ? diffView(file.diff) : nothing}
    <div class="actions">
      <vscode-button secondary aria-label=${`Open diff ${path}`} @click=${() => ctx.post({ type: 'openDiff', sessionId, changesetId: row.changesetId, binding: file.binding })}>Open diff</vscode-button>
      ${reviewable
        ? html`
            <vscode-button ?disabled=${sent} aria-label=${`Approve ${path}`} @click=${() => review('approve')}>Approve</vscode-button>
            <vscode-button ?disabled=${sent} secondary aria-label=${`Reject ${path}`} @click=${() => review('reject')}>Reject</vscode-button>
            <vscode-textfield
              .label=${`Comment on ${path} (optional)`}
              placeholder="Comment (optional)"
              .value=${live(store.drafts.get(file.binding) ?? '')}
              @input=${(e: Event) => store.drafts.set(file.binding, (e.target as HTMLInputElement).value)}
            ></vscode-textfield>`
        : nothing}
    </div>
  </div>`;
}

/** `rerender` draws the card again at once (a verdict was sent: its buttons wait for the engine). */
export function changesetCard(ctx: PanelContext, sessionId: string, row: ChangesetRow, rerender: () => void): TemplateResult {
  const { store } = ctx;
  const open = row.files.filter((f) => f.state === 'ready' && !f.verdict && !row.applied);
  const cardKey = `changeset:${row.changesetId}`;
  const reviewAll = (verdict: ReviewAllVerdict) => {
    const comment = store.drafts.get(cardKey)?.trim();
    for (const f of open) store.sent.add(f.binding);
    ctx.post({
      type: 'reviewAll',
      sessionId,
      changesetId: row.changesetId,
      bindings: open.map((f) => f.binding),
      verdict,
      ...(comment ? { comment } : {}),
    });
    rerender();
  };
  const sent = open.some((f) => store.sent.has(f.binding));
  return html`<section class=${`card changeset${open.length ? ' attention' : ''}`} role="group" aria-label="Proposed changes" data-changeset=${row.changesetId}>
    <div class="row-line"><strong>Proposed changes</strong><span class="muted">${row.files.length} file${row.files.length === 1 ? '' : 's'}</span></div>
    <div class="summary">${visibleText(row.summary)}</div>
    ${row.files.map((f) => fileView(ctx, sessionId, row, f, rerender))}
    ${open.length
      ? html`<vscode-textarea
            .label=${'Changes to request'}
            placeholder="What should change (for Request changes)"
            rows="1"
            .value=${live(store.drafts.get(cardKey) ?? '')}
            @input=${(e: Event) => {
              store.drafts.set(cardKey, (e.target as HTMLTextAreaElement).value);
            }}
          ></vscode-textarea>
          <div class="actions">
            <vscode-button ?disabled=${sent} aria-label="Approve all" @click=${() => reviewAll('approve')}>Approve all</vscode-button>
            <vscode-button ?disabled=${sent} secondary aria-label="Reject all" @click=${() => reviewAll('reject')}>Reject all</vscode-button>
            <vscode-button
              ?disabled=${sent}
              secondary
              aria-label="Request changes"
              @click=${(e: Event) => {
                // Requesting changes needs words for the agent: without them, go to the box that takes them.
                if (store.drafts.get(cardKey)?.trim()) reviewAll('requestChanges');
                else ((e.target as HTMLElement).closest('section')?.querySelector('vscode-textarea') as HTMLElement | null)?.focus();
              }}
              >Request changes</vscode-button
            >
          </div>`
      : nothing}
  </section>`;
}
