/**
 * One session: what it is doing (status, endpoint, model, usage and cost, environment), its transcript, Stop, and
 * the follow-up box.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';
import type { SessionStatus } from '../../src/protocol/events.js';
import type { PanelContext } from '../context.js';
import type { Transcript } from '../transcript.js';
import { base } from '../styles.js';
import { formatCost, formatTokens } from '../format.js';
import './transcript-view.js';
import './audit-timeline.js';
import './budget-meter.js';

export const STATUS_WORDS: Record<SessionStatus, string> = {
  starting: 'Starting',
  running: 'Running',
  waiting: 'Waiting for you',
  idle: 'Idle',
  failed: 'Failed',
  cancelled: 'Stopped',
};

/** A turn is under way: Stop applies, a follow-up waits. */
export function isActive(status: SessionStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'waiting';
}

export class SessionView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: flex; flex-direction: column; min-height: 0; flex: 1; gap: 6px; }
      header { display: flex; flex-direction: column; gap: 2px; }
      .task { font-weight: 600; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
      .status { font-weight: 600; }
      .status-waiting { color: var(--vscode-editorWarning-foreground); }
      .status-failed { color: var(--vscode-errorForeground); }
      .followup { display: flex; flex-direction: column; gap: 4px; }
      vscode-textarea { width: 100%; }
    `,
  ];

  declare ctx: PanelContext;
  declare transcript: Transcript;
  static override properties = { ctx: { attribute: false }, transcript: { attribute: false } };
  private unsubscribe: (() => void) | null = null;
  private followUp = '';
  /** The audit timeline is shown instead of the transcript. */
  private showingAudit = false;
  private lastStatus: SessionStatus | null = null;
  private lastSessionId: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = this.ctx.store.subscribe(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private sendFollowUp(): void {
    const text = this.followUp.trim();
    if (!text || isActive(this.transcript.header.status)) return;
    this.ctx.post({ type: 'followUp', sessionId: this.transcript.sessionId, text });
    this.followUp = '';
    this.requestUpdate();
  }

  private toggleAudit(): void {
    this.showingAudit = !this.showingAudit;
    if (this.showingAudit) this.ctx.post({ type: 'showAudit', sessionId: this.transcript.sessionId });
    this.requestUpdate();
  }

  protected override willUpdate(): void {
    // A turn that ends has written its last records, and another session has its own trail: an open timeline asks.
    const { sessionId } = this.transcript;
    const status = this.transcript.header.status;
    const ended = this.lastStatus !== null && isActive(this.lastStatus) && !isActive(status);
    if (this.showingAudit && (ended || sessionId !== this.lastSessionId)) this.ctx.post({ type: 'showAudit', sessionId });
    this.lastStatus = sessionId === this.lastSessionId ? status : null;
    this.lastSessionId = sessionId;
  }

  private stop(): void {
    this.ctx.post({ type: 'stop', sessionId: this.transcript.sessionId });
  }

  protected override render(): TemplateResult {
    const t = this.transcript;
    const h = t.header;
    const summary = this.ctx.store.sessions.find((s) => s.sessionId === t.sessionId);
    const task = h.task || summary?.task || '';
    const endpoint = h.endpoint || summary?.endpoint || '';
    const model = h.model ?? summary?.model;
    const cost = h.costUsd ?? summary?.costUsd;
    const active = isActive(h.status);
    const pending = t.pending().length;
    return html`
      <header>
        <div class="task">${visibleText(task)}</div>
        <div class="row-line muted">
          <span>${visibleLine(endpoint)}${model ? ` · ${visibleLine(model)}` : ''}</span>
          ${h.environment !== 'none' ? html`<span>environment ${h.environment}${h.environmentDetail ? `: ${visibleLine(h.environmentDetail)}` : ''}</span>` : nothing}
        </div>
        <div class="row-line">
          <span class=${`status status-${h.status}`} role="status" aria-label="Session status">${STATUS_WORDS[h.status]}${h.statusDetail ? ` — ${visibleLine(h.statusDetail)}` : ''}${pending && h.status !== 'waiting' ? ` · ${pending} waiting for you` : ''}</span>
          <span class="muted usage" aria-label="Usage">${formatTokens(h.inputTokens)} in · ${formatTokens(h.outputTokens)} out${cost !== undefined ? ` · ${formatCost(cost)}` : ''}${h.budgetUsd !== undefined ? ` of ${formatCost(h.budgetUsd)}` : ''}</span>
          ${active ? html`<vscode-button secondary aria-label="Stop" title="Stop (Esc)" @click=${() => this.stop()}>Stop</vscode-button>` : nothing}
          <vscode-button secondary aria-label=${this.showingAudit ? 'Transcript' : 'Audit trail'} aria-pressed=${this.showingAudit ? 'true' : 'false'} @click=${() => this.toggleAudit()}>${this.showingAudit ? 'Transcript' : 'Audit trail'}</vscode-button>
        </div>
        ${h.budgets.length ? html`<deputy-budget-meter .meters=${h.budgets}></deputy-budget-meter>` : nothing}
      </header>
      ${this.showingAudit
        ? html`<deputy-audit-timeline .ctx=${this.ctx} .sessionId=${t.sessionId} .data=${this.ctx.store.audits.get(t.sessionId)}></deputy-audit-timeline>`
        : html`<deputy-transcript .ctx=${this.ctx} .transcript=${t}></deputy-transcript>`}
      <div class="followup">
        <vscode-textarea
          .label=${'Follow-up'}
          placeholder=${active ? 'The agent is working; follow up when it is done' : 'Follow up (Ctrl+Enter to send)'}
          rows="2"
          .value=${live(this.followUp)}
          @input=${(e: Event) => (this.followUp = (e.target as HTMLTextAreaElement).value)}
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              this.sendFollowUp();
            }
          }}
        ></vscode-textarea>
        <div class="actions">
          <vscode-button aria-label="Send" ?disabled=${active} @click=${() => this.sendFollowUp()}>Send</vscode-button>
        </div>
      </div>
    `;
  }
}
customElements.define('deputy-session', SessionView);
