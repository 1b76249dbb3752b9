/**
 * A proposed changeset as a card: the agent's summary, the totals, each file (see changeset-file.ts), and the
 * whole-card answers. Verdicts carry each file's binding; a file shows approved or rejected only once the engine
 * confirms. A large changeset's file list is windowed (only the files in view exist in the DOM) and its diffs
 * are drawn only for the files the person expands, so a 1,000-file proposal costs what a screenful does.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import '@lit-labs/virtualizer';
import { visibleText } from '../../src/core/visible-text.js';
import type { ReviewAllVerdict } from '../../src/protocol/webview.js';
import type { PanelContext } from '../context.js';
import { undecidedFiles, type ChangesetFileView, type ChangesetRow } from '../transcript.js';
import { base } from '../styles.js';
import { fileView } from './changeset-file.js';

/** The card of a review whose server stopped before every file was decided (the new server proposes again). */
const SERVER_STOPPED = "Deputy's server stopped: the files not yet decided are offered again when the session reattaches";

/** From this many files on, the list is windowed and files start collapsed. */
export const WINDOW_FROM = 20;
/** Up to this many files, every file starts expanded (its diff shown). */
const EXPAND_UP_TO = 3;

/** "Since round 1: 1 file changed, 1 new, 2 unchanged", from the engine's marks. */
function sinceLastRound(row: ChangesetRow): string {
  const count = (mark: string) => row.files.filter((f) => f.revision === mark).length;
  const parts = [[count('changed'), 'changed'], [count('new'), 'new'], [count('unchanged'), 'unchanged']] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`);
  return `Revised after your review. Since round ${row.round - 1}: ${said.length ? said.join(', ') : 'no file marks'}.`;
}

export class ChangesetCard extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .diff .add, .add { color: var(--vscode-gitDecoration-addedResourceForeground, var(--vscode-terminal-ansiGreen)); }
      .diff .del, .del { color: var(--vscode-gitDecoration-deletedResourceForeground, var(--vscode-errorForeground)); }
      .diff .hunk { color: var(--vscode-descriptionForeground); }
      .file { border-top: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding-top: 6px; margin-top: 6px; width: 100%; }
      .op { text-transform: uppercase; font-size: 0.8em; color: var(--vscode-descriptionForeground); }
      .outcome { font-weight: 600; }
      .badge { font-size: 0.8em; padding: 0 4px; border-radius: 2px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
      label.keep { display: inline-flex; align-items: center; gap: 4px; }
      label.keep input { accent-color: var(--vscode-checkbox-background, var(--vscode-button-background)); margin: 0; }
      .hunk-block.dropped pre { opacity: 0.5; text-decoration: line-through; }
      .files { height: min(60vh, 36em); overflow-y: auto; }
      vscode-textarea, vscode-textfield { width: 100%; margin-top: 4px; }
    `,
  ];

  declare ctx: PanelContext;
  declare sessionId: string;
  declare row: ChangesetRow;
  /** The row's version: a changed row draws again although the object is the same. */
  declare version: number;
  static override properties = { ctx: { attribute: false }, sessionId: { attribute: false }, row: { attribute: false }, version: { attribute: false } };
  private unsubscribe: (() => void) | null = null;
  private shownReviewVersion = -1;

  override connectedCallback(): void {
    super.connectedCallback();
    // Drafts and loaded diffs live in the store; draw again only when they changed.
    this.unsubscribe = this.ctx.store.subscribe(() => {
      if (this.ctx.store.reviewVersion !== this.shownReviewVersion) this.requestUpdate();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private expanded(file: ChangesetFileView): boolean {
    const byDefault = this.row.files.length <= EXPAND_UP_TO;
    return byDefault !== this.ctx.store.expanded.has(file.binding);
  }

  private reviewAll(verdict: ReviewAllVerdict, open: ChangesetFileView[]): void {
    const { store } = this.ctx;
    const comment = store.drafts.get(this.cardKey)?.trim();
    for (const f of open) store.sent.add(f.binding);
    this.ctx.post({
      type: 'reviewAll',
      sessionId: this.sessionId,
      changesetId: this.row.changesetId,
      bindings: open.map((f) => f.binding),
      verdict,
      ...(comment ? { comment } : {}),
    });
    this.requestUpdate();
  }

  private get cardKey(): string {
    return `changeset:${this.row.changesetId}`;
  }

  private file(f: ChangesetFileView): TemplateResult {
    return fileView(this.ctx, this.sessionId, this.row, f, { expanded: this.expanded(f), rerender: () => this.requestUpdate() });
  }

  protected override render(): TemplateResult {
    const { store } = this.ctx;
    this.shownReviewVersion = store.reviewVersion;
    const row = this.row;
    const open = undecidedFiles(row);
    const sent = open.some((f) => store.sent.has(f.binding));
    const added = row.files.reduce((n, f) => n + f.added, 0);
    const removed = row.files.reduce((n, f) => n + f.removed, 0);
    const windowed = row.files.length >= WINDOW_FROM;
    return html`<section class=${`card changeset${open.length ? ' attention' : ''}`} role="group" aria-label="Proposed changes" data-changeset=${row.changesetId}>
      <div class="row-line">
        <strong>Proposed changes</strong>
        <span class="muted">${row.files.length} file${row.files.length === 1 ? '' : 's'}</span>
        <span class="add">+${added}</span><span class="del">−${removed}</span>
        ${row.round > 1 ? html`<span class="badge">round ${row.round}</span>` : nothing}
        ${open.length ? html`<span class="muted">${open.length} to review</span>` : nothing}
      </div>
      <div class="summary">${visibleText(row.summary)}</div>
      ${row.withdrawn ? html`<div class="outcome">${SERVER_STOPPED}</div>` : nothing}
      ${row.round > 1 ? html`<div class="muted since">${sinceLastRound(row)}</div>` : nothing}
      <div class="actions">
        <vscode-button secondary aria-label="Open all diffs" @click=${() => this.ctx.post({ type: 'openAllDiffs', sessionId: this.sessionId, changesetId: row.changesetId })}
          >Open all diffs</vscode-button
        >
      </div>
      ${windowed
        ? html`<lit-virtualizer
            scroller
            class="files"
            role="list"
            aria-label="Files"
            .items=${row.files}
            .keyFunction=${(f: ChangesetFileView) => f.binding}
            .renderItem=${(f: ChangesetFileView) => this.file(f)}
          ></lit-virtualizer>`
        : row.files.map((f) => this.file(f))}
      ${open.length
        ? html`<vscode-textarea
              .label=${'Changes to request'}
              aria-label="Changes to request"
              placeholder="What should change (for Request changes)"
              rows="1"
              .value=${live(store.drafts.get(this.cardKey) ?? '')}
              @input=${(e: Event) => store.drafts.set(this.cardKey, (e.target as HTMLTextAreaElement).value)}
            ></vscode-textarea>
            <div class="actions">
              <vscode-button ?disabled=${sent} aria-label="Approve all" @click=${() => this.reviewAll('approve', open)}>Approve all</vscode-button>
              <vscode-button ?disabled=${sent} secondary aria-label="Reject all" @click=${() => this.reviewAll('reject', open)}>Reject all</vscode-button>
              <vscode-button
                ?disabled=${sent}
                secondary
                aria-label="Request changes"
                @click=${() => {
                  // Requesting changes needs words for the agent: without them, go to the box that takes them.
                  if (store.drafts.get(this.cardKey)?.trim()) this.reviewAll('requestChanges', open);
                  else (this.renderRoot.querySelector('vscode-textarea') as HTMLElement | null)?.focus();
                }}
                >Request changes</vscode-button
              >
            </div>`
        : nothing}
    </section>`;
  }
}
customElements.define('deputy-changeset', ChangesetCard);
