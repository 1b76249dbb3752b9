/**
 * One transcript row. It listens to its own row only, so a streaming delta re-renders one message, never the
 * list. Markdown of a finished message is parsed once and kept; a message still streaming is re-parsed at most
 * once per `STREAM_PARSE_MS`.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';
import type { PanelContext } from '../context.js';
import type { AgentRow, CommandRow, ErrorRow, Row, ToolRow, Transcript, TurnEndRow } from '../transcript.js';
import { renderMarkdown } from '../markdown.js';
import { base } from '../styles.js';
import { formatBytes, formatDuration } from '../format.js';
import { actionLabel } from '../actions.js';
import { promptCard } from './prompt-card.js';
import './changeset-card.js';

const STREAM_PARSE_MS = 80;

export class RowView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; padding: 2px 0; width: 100%; box-sizing: border-box; }
      .user { background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); border-radius: 4px; padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0; }
      .agent { overflow-wrap: anywhere; }
      .agent :first-child { margin-top: 0; }
      .agent :last-child { margin-bottom: 0; }
      .agent a { color: var(--vscode-textLink-foreground); }
      .tool, .notice, .turn { font-size: 0.92em; }
      .output { max-height: 20em; overflow: auto; }
      vscode-textarea, vscode-textfield { width: 100%; margin-top: 4px; }
    `,
  ];

  declare ctx: PanelContext;
  declare transcript: Transcript;
  declare row: Row;
  private unsubscribe: (() => void) | null = null;
  private subscribedKey: string | null = null;
  private streamTimer: ReturnType<typeof setTimeout> | null = null;
  private streamParsedAt = 0;
  private streamHtml = '';

  static override properties = { row: { attribute: false }, transcript: { attribute: false }, ctx: { attribute: false } };

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.subscribedKey = null;
    if (this.streamTimer) clearTimeout(this.streamTimer);
    this.streamTimer = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.subscribe();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('row') || changed.has('transcript')) this.subscribe();
  }

  /** The virtualizer reuses elements for other rows: follow whichever row this element shows now. */
  private subscribe(): void {
    if (!this.row || !this.transcript || this.subscribedKey === this.row.key) return;
    this.unsubscribe?.();
    this.subscribedKey = this.row.key;
    this.streamHtml = '';
    this.streamParsedAt = 0;
    this.unsubscribe = this.transcript.onRowChange(this.row.key, () => this.requestUpdate());
  }

  protected override render(): TemplateResult | typeof nothing {
    const row = this.row;
    if (!row) return nothing;
    const sessionId = this.transcript.sessionId;
    switch (row.kind) {
      case 'user':
        return html`<div class="user" data-kind="user">${visibleText(row.text)}</div>`;
      case 'agent':
        return html`<div class="agent" data-kind="agent" aria-busy=${row.done ? 'false' : 'true'}>${unsafeHTML(this.agentHtml(row))}</div>`;
      case 'reasoning':
        return html`<vscode-collapsible data-kind="reasoning" heading="Reasoning"><div class="muted reasoning">${visibleText(row.text)}</div></vscode-collapsible>`;
      case 'tool':
        return this.toolRow(row);
      case 'command':
        return this.commandRow(row);
      case 'prompt':
        return promptCard(this.ctx, sessionId, row, () => this.requestUpdate());
      case 'changeset':
        return html`<deputy-changeset .ctx=${this.ctx} .sessionId=${sessionId} .row=${row} .version=${row.version}></deputy-changeset>`;
      case 'error':
        return this.errorRow(row);
      case 'notice':
        return html`<div class="notice muted" data-kind="notice">${visibleText(row.message)}</div>`;
      case 'turnEnd':
        return this.turnRow(row);
    }
  }

  private agentHtml(row: AgentRow): string {
    if (row.done) {
      const cache = this.ctx.store.finishedHtml;
      let cached = cache.get(row);
      if (!cached || cached.text !== row.text) cache.set(row, (cached = { text: row.text, html: renderMarkdown(row.text) }));
      return cached.html;
    }
    const now = performance.now();
    if (now - this.streamParsedAt >= STREAM_PARSE_MS || !this.streamHtml) {
      this.streamParsedAt = now;
      this.streamHtml = renderMarkdown(row.text);
    } else if (!this.streamTimer) {
      this.streamTimer = setTimeout(() => {
        this.streamTimer = null;
        this.streamParsedAt = 0;
        this.requestUpdate();
      }, STREAM_PARSE_MS);
    }
    return this.streamHtml;
  }

  private toolRow(row: ToolRow): TemplateResult {
    const facts = [
      row.status,
      row.durationMs !== undefined ? formatDuration(row.durationMs) : '',
      row.resultBytes !== undefined ? formatBytes(row.resultBytes) : '',
    ].filter(Boolean);
    return html`<div class="tool row-line" data-kind="tool">
      <span aria-hidden="true">→</span>
      <strong class="mono">${visibleLine(row.tool)}</strong>
      <span class="mono">${visibleLine(row.argsSummary)}</span>
      <span class=${`status-${row.status}`}>${facts.join(' · ')}</span>
      ${row.resultSummary ? html`<span class="muted">${visibleLine(row.resultSummary)}</span>` : nothing}
    </div>`;
  }

  private commandRow(row: CommandRow): TemplateResult {
    const end = row.running
      ? 'running'
      : `${row.signal ? `stopped (${row.signal})` : `exit ${row.exitCode ?? '?'}`}${row.durationMs !== undefined ? ` · ${formatDuration(row.durationMs)}` : ''}`;
    return html`<div class="command" data-kind="command">
      <div class="row-line"><span aria-hidden="true">$</span><code>${visibleLine(row.command)}</code><span class="muted">${visibleLine(row.cwd)}</span><span class=${row.running ? 'status-running' : row.exitCode === 0 ? 'status-succeeded' : 'status-failed'}>${end}</span></div>
      ${row.output ? html`<pre class="output" aria-label="Command output">${visibleText(row.output)}</pre>` : nothing}
      ${row.clipped || row.truncated ? html`<div class="muted">Output cut: more was printed than is kept.</div>` : nothing}
    </div>`;
  }

  private errorRow(row: ErrorRow): TemplateResult {
    return html`<div class="card error" role="alert" data-kind="error">
      <div>${visibleText(row.message)}${row.repeats > 1 ? html` <span class="muted">(×${row.repeats})</span>` : nothing}</div>
      ${row.action
        ? html`<div class="actions"><vscode-button @click=${() => this.ctx.post({ type: 'runAction', action: row.action!, sessionId: this.transcript.sessionId })}>${actionLabel(row.action)}</vscode-button></div>`
        : nothing}
    </div>`;
  }

  private turnRow(row: TurnEndRow): TemplateResult {
    const words = row.outcome === 'completed' ? 'Turn completed.' : row.outcome === 'cancelled' ? 'Stopped.' : `Turn failed${row.error ? `: ${row.error}` : '.'}`;
    return html`<div class="turn muted" data-kind="turnEnd">${visibleText(words)}</div>`;
  }
}
customElements.define('deputy-row', RowView);
