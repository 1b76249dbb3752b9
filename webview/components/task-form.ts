/**
 * The new-task form: the task (Ctrl/Cmd+Enter sends), the endpoint and model in use (switchable), an optional
 * budget, the folder (multi-root), and whether to attach the editor's selection or file.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { visibleLine } from '../../src/core/visible-text.js';
import { LIMITS } from '../../src/protocol/webview.js';
import type { PanelContext } from '../context.js';
import { base } from '../styles.js';
import { formatCost } from '../format.js';
import { formatAmount, parseBudget, type BudgetLimit } from '../../src/core/budget-text.js';

export class TaskForm extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: flex; flex-direction: column; gap: 6px; }
      vscode-textarea { width: 100%; }
      .settings { display: grid; grid-template-columns: auto 1fr; gap: 4px 8px; align-items: center; }
      .problem { color: var(--vscode-errorForeground); }
    `,
  ];

  declare ctx: PanelContext;
  static override properties = { ctx: { attribute: false } };
  private prompt = '';
  private budget = '';
  private folder = '';
  private attachSelection = false;
  private attachFile = false;
  /** The person's choice for this form; undefined follows `deputy.environment.default`. */
  private environment: boolean | undefined;
  private problem = '';
  private prefillNonce = 0;
  private unsubscribe: (() => void) | null = null;

  /** Restores an unsent task after the panel was hidden. */
  setDraft(draft: string): void {
    this.prompt = draft;
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = this.ctx.store.subscribe(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  /** The task box, for focusing it. */
  get taskBox(): HTMLElement | null {
    return this.renderRoot.querySelector('vscode-textarea.task');
  }

  protected override willUpdate(): void {
    const prefill = this.ctx.store.taskPrefill;
    if (prefill && prefill.nonce !== this.prefillNonce) {
      this.prefillNonce = prefill.nonce;
      if (prefill.prompt) this.prompt = prefill.prompt;
      void this.updateComplete.then(() => this.taskBox?.focus());
    }
  }

  private send(): void {
    const prompt = this.prompt.trim();
    if (!prompt) return this.fail('Write the task first.');
    if (prompt.length > LIMITS.promptChars) return this.fail(`The task is longer than ${LIMITS.promptChars} characters.`);
    let budget: BudgetLimit | undefined;
    if (this.budget.trim()) {
      try {
        budget = parseBudget(this.budget);
      } catch (err) {
        return this.fail(err instanceof Error ? err.message : String(err));
      }
      const max = budget.unit === 'usd' ? LIMITS.maxBudgetUsd : LIMITS.maxBudgetTokens;
      if (budget.amount > max || (budget.unit === 'usd' && budget.amount < 0.01)) {
        return this.fail(`The budget is at most ${formatAmount(budget.unit, max)}${budget.unit === 'usd' ? ', and at least $0.01' : ''}.`);
      }
    }
    this.problem = '';
    this.ctx.post({
      type: 'newTask',
      prompt,
      ...(budget?.unit === 'usd' ? { budgetUsd: budget.amount } : {}),
      ...(budget?.unit === 'tokens' ? { budgetTokens: budget.amount } : {}),
      ...(this.folder ? { folder: this.folder } : {}),
      attachSelection: this.attachSelection,
      attachFile: this.attachFile,
      // Said when on, or when the person chose: off by default is what the extension assumes without it.
      ...(this.environment !== undefined || this.ctx.store.settings?.environment === true ? { environment: this.environment ?? true } : {}),
    });
    this.prompt = '';
    this.dispatchEvent(new CustomEvent('draft', { detail: '' }));
    this.requestUpdate();
  }

  private fail(problem: string): void {
    this.problem = problem;
    this.requestUpdate();
  }

  protected override render(): TemplateResult {
    const s = this.ctx.store.settings;
    return html`
      <vscode-textarea
        class="task"
        .label=${'Task'}
        placeholder="What should the agent do? (Ctrl+Enter to send)"
        rows="5"
        resize="vertical"
        .value=${live(this.prompt)}
        @input=${(e: Event) => {
          this.prompt = (e.target as HTMLTextAreaElement).value;
          this.dispatchEvent(new CustomEvent('draft', { detail: this.prompt }));
        }}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            this.send();
          }
        }}
      ></vscode-textarea>
      ${s
        ? html`<div class="settings">
            <span id="endpoint-label">Endpoint</span>
            <vscode-single-select
              label="Endpoint"
              .value=${live(s.endpoint)}
              @change=${(e: Event) => {
                const endpoint = (e.target as HTMLSelectElement).value;
                if (endpoint && endpoint !== s.endpoint) this.ctx.post({ type: 'switchEndpoint', endpoint });
              }}
            >
              ${(s.endpoints.includes(s.endpoint) ? s.endpoints : [s.endpoint, ...s.endpoints]).map(
                (e) => html`<vscode-option value=${e} ?selected=${e === s.endpoint}>${visibleLine(e)}</vscode-option>`,
              )}
            </vscode-single-select>
            <span>Model</span>
            ${s.models.length > 1
              ? html`<vscode-single-select
                  label="Model"
                  .value=${live(s.model)}
                  @change=${(e: Event) => {
                    const model = (e.target as HTMLSelectElement).value;
                    if (model && model !== s.model) this.ctx.post({ type: 'switchModel', model });
                  }}
                >
                  ${s.models.map((m) => html`<vscode-option value=${m} ?selected=${m === s.model}>${visibleLine(m)}</vscode-option>`)}
                </vscode-single-select>`
              : html`<span class="row-line"
                  ><span class="mono">${visibleLine(s.model)}</span>
                  <vscode-button secondary aria-label="Change model" @click=${() => this.ctx.post({ type: 'switchModel' })}>Change</vscode-button></span
                >`}
            <span>Budget</span>
            <vscode-textfield
              .label=${'Budget (optional): US dollars or tokens'}
              placeholder=${s.budget ? `${formatAmount(s.budget.unit, s.budget.amount)} (setting)` : s.budgetUsd !== undefined ? `${formatCost(s.budgetUsd)} (setting)` : 'none, or 2usd, 50000tokens'}
              .value=${live(this.budget)}
              @input=${(e: Event) => (this.budget = (e.target as HTMLInputElement).value)}
            ></vscode-textfield>
            ${s.folders.length > 1
              ? html`<span>Folder</span>
                  <vscode-single-select label="Folder" .value=${this.folder || s.folders[0]!} @change=${(e: Event) => (this.folder = (e.target as HTMLSelectElement).value)}>
                    ${s.folders.map((f) => html`<vscode-option value=${f}>${visibleLine(f)}</vscode-option>`)}
                  </vscode-single-select>`
              : nothing}
          </div>`
        : html`<div class="muted">Loading settings…</div>`}
      <div class="actions">
        <!-- The label attribute only, no text content: the toolkit draws its label attribute until it has seen the
             slotted text, and a disabled box was never redrawn after that, so it showed both. -->
        <vscode-checkbox
          label="Attach selection"
          ?disabled=${!s?.canAttachSelection}
          .checked=${this.attachSelection}
          @change=${(e: Event) => (this.attachSelection = (e.target as HTMLInputElement).checked)}
        ></vscode-checkbox>
        <vscode-checkbox
          label="Attach file"
          ?disabled=${!s?.canAttachFile}
          .checked=${this.attachFile}
          @change=${(e: Event) => (this.attachFile = (e.target as HTMLInputElement).checked)}
        ></vscode-checkbox>
        <vscode-checkbox
          label="Deputy's environment"
          ?disabled=${!s /* like the others: a checkbox never disabled did not toggle on click (vscode-elements) */}
          .checked=${this.environment ?? s?.environment === true}
          @change=${(e: Event) => (this.environment = (e.target as HTMLInputElement).checked)}
        ></vscode-checkbox>
      </div>
      ${this.problem ? html`<div class="problem" role="alert">${this.problem}</div>` : nothing}
      <div class="actions"><vscode-button aria-label="Send" @click=${() => this.send()}>Send</vscode-button></div>
    `;
  }
}
customElements.define('deputy-task-form', TaskForm);
