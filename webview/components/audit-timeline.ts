/**
 * A session's audit timeline: every audited event (time, who acted, tool, decision and the rule that made it, files,
 * tokens, cost), a filter by kind, and the chain's integrity as the server checked it. Everything here is shown as
 * sent; the buttons only ask the extension (verify again, export, open the folder).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { visibleLine } from '../../src/core/visible-text.js';
import type { AuditIntegrity, AuditTimelineData, AuditTimelineEntry } from '../../src/protocol/webview.js';
import type { PanelContext } from '../context.js';
import { formatCost, formatTokens } from '../format.js';
import { base } from '../styles.js';

const ALL = '';

export class AuditTimelineView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: flex; flex-direction: column; min-height: 0; flex: 1; gap: 6px; }
      .integrity { font-weight: 600; padding: 4px 6px; border-radius: 3px; border: 1px solid var(--vscode-contrastBorder, transparent); }
      .verified { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
      .broken { color: var(--vscode-errorForeground); border-left: 3px solid var(--vscode-errorForeground); }
      .tools { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
      select { background: var(--vscode-settings-textInputBackground, var(--vscode-input-background)); color: var(--vscode-settings-textInputForeground, var(--vscode-input-foreground)); border: 1px solid var(--vscode-settings-textInputBorder, var(--vscode-input-border, transparent)); padding: 2px 4px; font: inherit; }
      ol { list-style: none; margin: 0; padding: 0; overflow-y: auto; min-height: 0; flex: 1; }
      li { padding: 4px 2px; border-bottom: 1px solid var(--vscode-widget-border, transparent); display: flex; flex-direction: column; gap: 1px; }
      li.bad { border-left: 3px solid var(--vscode-errorForeground); padding-left: 4px; }
      .kind { font-weight: 600; }
      .actor { font-size: 0.85em; padding: 0 4px; border-radius: 2px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
      .deny, .reject, .failed, .conflict, .invalid { color: var(--vscode-errorForeground); }
      .detail { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    `,
  ];

  declare ctx: PanelContext;
  declare sessionId: string;
  declare data: AuditTimelineData | undefined;
  static override properties = { ctx: { attribute: false }, sessionId: { attribute: false }, data: { attribute: false } };
  private kind = ALL;

  private refresh(): void {
    this.ctx.post({ type: 'showAudit', sessionId: this.sessionId });
  }

  protected override render(): TemplateResult {
    const d = this.data;
    if (!d) return html`<div class="muted" role="status" aria-label="Audit chain">Checking the audit trail…</div>`;
    const kinds = [...new Set(d.entries.map((e) => e.kind))].sort();
    const shown = this.kind === ALL ? d.entries : d.entries.filter((e) => e.kind === this.kind);
    const input = d.entries.reduce((n, e) => n + (e.inputTokens ?? 0), 0);
    const output = d.entries.reduce((n, e) => n + (e.outputTokens ?? 0), 0);
    const cost = d.entries.some((e) => e.costUsd !== undefined) ? d.entries.reduce((n, e) => n + (e.costUsd ?? 0), 0) : undefined;
    const bad = d.integrity.state === 'broken' ? d.integrity.badIndex : undefined;
    return html`
      ${integrityLine(d.integrity)}
      <div class="tools">
        <label>Kind
          <select aria-label="Filter by kind" .value=${this.kind} @change=${(e: Event) => { this.kind = (e.target as HTMLSelectElement).value; this.requestUpdate(); }}>
            <option value=${ALL} ?selected=${this.kind === ALL}>All (${d.entries.length})</option>
            ${kinds.map((k) => html`<option value=${k} ?selected=${this.kind === k}>${k} (${d.entries.filter((e) => e.kind === k).length})</option>`)}
          </select>
        </label>
        <vscode-button secondary aria-label="Verify again" @click=${() => this.refresh()}>Verify again</vscode-button>
        <vscode-button secondary aria-label="Export audit" @click=${() => this.ctx.post({ type: 'auditCommand', command: 'export' })}>Export…</vscode-button>
        <vscode-button secondary aria-label="Open audit folder" @click=${() => this.ctx.post({ type: 'auditCommand', command: 'openFolder' })}>Open folder</vscode-button>
      </div>
      <div class="muted" aria-label="Audit totals">${shown.length} of ${d.entries.length} events${d.omitted ? ` (${d.omitted} older not shown)` : ''} · ${formatTokens(input)} in · ${formatTokens(output)} out${cost !== undefined ? ` · ${formatCost(cost)}` : ''}</div>
      <ol aria-label="Audit timeline">
        ${shown.map((e) => entryRow(e, e.seq === bad))}
      </ol>
    `;
  }
}

function integrityLine(i: AuditIntegrity): TemplateResult {
  switch (i.state) {
    case 'verified':
      return html`<div class="integrity verified" role="status" aria-label="Audit chain">✓ Chain verified: ${i.records} record${i.records === 1 ? '' : 's'}${i.tailChecked ? '' : ' (no audit.head: records cut off the end would not show)'}</div>`;
    case 'broken':
      return html`<div class="integrity broken" role="status" aria-label="Audit chain">✗ Chain broken at record ${i.badIndex}: ${visibleLine(i.reason)}</div>`;
    case 'missing':
      return html`<div class="integrity muted" role="status" aria-label="Audit chain">No audit trail in this folder yet.</div>`;
  }
}

function entryRow(e: AuditTimelineEntry, bad: boolean): TemplateResult {
  const time = e.time.length >= 19 ? e.time.slice(11, 19) : e.time;
  const tokens = e.inputTokens !== undefined || e.outputTokens !== undefined ? `${formatTokens(e.inputTokens ?? 0)} in · ${formatTokens(e.outputTokens ?? 0)} out` : '';
  return html`<li class=${bad ? 'bad' : ''} data-seq=${e.seq} data-kind=${e.kind} aria-label=${`Record ${e.seq}: ${e.kind}`}>
    <div class="row-line">
      <span class="muted mono">#${e.seq}</span>
      <time class="muted" datetime=${e.time} title=${e.time}>${time}</time>
      <span class="actor" title=${visibleLine(e.principal)}>${e.actor}</span>
      <span class="kind">${e.kind}</span>
      ${e.tool ? html`<span class="mono">${visibleLine(e.tool)}</span>` : nothing}
      ${e.decision ? html`<span class=${e.decision}>${visibleLine(e.decision)}</span>` : nothing}
    </div>
    ${e.rule ? html`<div class="muted">rule: ${visibleLine(e.rule)}</div>` : nothing}
    ${e.files.length ? html`<div class="mono">${e.files.map((f) => visibleLine(f)).join(', ')}</div>` : nothing}
    ${tokens || e.costUsd !== undefined ? html`<div class="muted">${tokens}${e.costUsd !== undefined ? ` · ${formatCost(e.costUsd)}` : ''}</div>` : nothing}
    ${e.detail ? html`<div class="muted detail" title=${visibleLine(e.detail)}>${visibleLine(e.detail)}</div>` : nothing}
  </li>`;
}
customElements.define('deputy-audit-timeline', AuditTimelineView);
