/**
 * The windowed transcript: only the rows in view (and a few around) exist in the DOM, so 10,000 events cost what
 * a screenful does. The list follows the newest row while the person is at the bottom, and stays put when they
 * scroll up to read.
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import '@lit-labs/virtualizer';
import type { LitVirtualizer } from '@lit-labs/virtualizer';
import type { PanelContext } from '../context.js';
import type { Row, Transcript } from '../transcript.js';
import './row-view.js';

/** Within this many pixels of the end counts as "at the bottom". */
const FOLLOW_SLACK = 48;

export class TranscriptView extends LitElement {
  static override styles = css`
    :host { display: flex; flex-direction: column; min-height: 0; flex: 1; }
    lit-virtualizer { flex: 1; min-height: 0; overflow-y: auto; padding: 0 2px; }
    deputy-row { width: 100%; }
    .empty { color: var(--vscode-descriptionForeground); padding: 8px 0; }
  `;

  declare ctx: PanelContext;
  declare transcript: Transcript;
  static override properties = { ctx: { attribute: false }, transcript: { attribute: false } };

  private items: Row[] = [];
  private shownListVersion = -1;
  private shownTranscript: Transcript | null = null;
  private following = true;
  private lastTop = 0;
  private unsubscribe: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = this.ctx.store.subscribe(() => this.refresh());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  /** New rows re-render the window; changed rows re-render themselves (see RowView). */
  private refresh(): void {
    const t = this.transcript;
    if (t !== this.shownTranscript || t.listVersion !== this.shownListVersion) this.requestUpdate();
    else if (this.following) this.scrollToEnd();
  }

  protected override willUpdate(): void {
    const t = this.transcript;
    if (t !== this.shownTranscript) {
      this.following = true;
      this.shownTranscript = t;
      this.shownListVersion = -1;
    }
    if (t.listVersion !== this.shownListVersion) {
      this.items = t.rows.slice();
      this.shownListVersion = t.listVersion;
    }
  }

  protected override updated(): void {
    if (this.following) this.scrollToEnd();
  }

  private get list(): LitVirtualizer<Row> | null {
    return this.renderRoot.querySelector('lit-virtualizer') as LitVirtualizer<Row> | null;
  }

  /**
   * Rows below the window have estimated heights until drawn: jump to the end, let the virtualizer measure what it
   * drew, and jump again until the end stays put (a few frames at most).
   */
  private scrollToEnd(attempt = 0): void {
    const list = this.list;
    if (!list || this.items.length === 0 || !this.following || attempt > 8) return;
    requestAnimationFrame(() => {
      if (!this.following) return;
      const before = list.scrollHeight;
      list.scrollTop = before;
      requestAnimationFrame(() => {
        if (list.scrollHeight !== before || list.scrollTop + list.clientHeight < list.scrollHeight - 1) this.scrollToEnd(attempt + 1);
      });
    });
  }

  /** Only the person scrolling up stops following; reaching the end again resumes it. Growth never stops it. */
  private onScroll(): void {
    const list = this.list;
    if (!list) return;
    const top = list.scrollTop;
    const atEnd = top + list.clientHeight >= list.scrollHeight - FOLLOW_SLACK;
    if (top < this.lastTop - 1) this.following = atEnd;
    else if (atEnd) this.following = true;
    this.lastTop = top;
  }

  protected override render(): TemplateResult {
    if (this.items.length === 0) return html`<div class="empty">Waiting for the agent…</div>`;
    return html`<lit-virtualizer
      scroller
      role="log"
      aria-label="Transcript"
      aria-live="off"
      .items=${this.items}
      .keyFunction=${(row: Row) => row.key}
      .renderItem=${(row: Row) => html`<deputy-row .ctx=${this.ctx} .transcript=${this.transcript} .row=${row}></deputy-row>`}
      @scroll=${() => this.onScroll()}
    ></lit-virtualizer>`;
  }
}
customElements.define('deputy-transcript', TranscriptView);
