/**
 * The panel's root: errors on top, then either the new-task form with the sessions list, or one session. Esc
 * stops the open session's turn.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { visibleText } from '../../src/core/visible-text.js';
import type { PanelContext } from '../context.js';
import { base } from '../styles.js';
import { actionLabel } from '../actions.js';
import { sessionList } from './session-list.js';
import { isActive } from './session-view.js';
import type { TaskForm } from './task-form.js';
import './task-form.js';
import './session-view.js';

/** How often ages and prompt deadlines are refreshed. */
const CLOCK_MS = 15_000;

export class DeputyPanel extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: flex; flex-direction: column; height: 100vh; box-sizing: border-box; padding: 6px 8px; gap: 8px; }
      .banner { display: flex; flex-direction: column; gap: 4px; }
      .sessions { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
      .session { all: unset; box-sizing: border-box; width: 100%; display: flex; flex-direction: column; gap: 2px; padding: 4px 6px; border-radius: 3px; cursor: pointer; border: 1px solid transparent; }
      .session:hover { background: var(--vscode-list-hoverBackground); }
      .session:focus-visible { outline: 1px solid var(--vscode-focusBorder); border-color: var(--vscode-contrastActiveBorder, transparent); }
      .session-task { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .session-facts { display: flex; gap: 6px; align-items: center; font-size: 0.9em; }
      .status-waiting { color: var(--vscode-editorWarning-foreground); }
      .status-failed { color: var(--vscode-errorForeground); }
      h2 { font-size: 0.85em; text-transform: uppercase; margin: 8px 0 2px; color: var(--vscode-sideBarSectionHeader-foreground, var(--vscode-foreground)); }
      .nav { display: flex; gap: 6px; }
      .scroll { overflow-y: auto; min-height: 0; }
    `,
  ];

  declare ctx: PanelContext;
  static override properties = { ctx: { attribute: false } };
  /** Fired with the task box's text, so it survives the panel being hidden. */
  onDraft: (draft: string) => void = () => undefined;
  initialDraft = '';
  private unsubscribe: (() => void) | null = null;
  private clock: ReturnType<typeof setInterval> | null = null;
  private readonly onKey = (e: KeyboardEvent) => this.keydown(e);

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = this.ctx.store.subscribe(() => this.requestUpdate());
    this.clock = setInterval(() => {
      this.ctx.store.selectedTranscript?.refreshPending();
      this.requestUpdate();
    }, CLOCK_MS);
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    if (this.clock) clearInterval(this.clock);
    window.removeEventListener('keydown', this.onKey);
  }

  protected override firstUpdated(): void {
    const form = this.renderRoot.querySelector<TaskForm>('deputy-task-form');
    if (form && this.initialDraft) form.setDraft(this.initialDraft);
  }

  private keydown(e: KeyboardEvent): void {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    const t = this.ctx.store.selectedTranscript;
    if (!t || !isActive(t.header.status)) return;
    e.preventDefault();
    this.ctx.post({ type: 'stop', sessionId: t.sessionId });
  }

  private open(sessionId: string | null): void {
    this.ctx.store.select(sessionId);
    this.ctx.post({ type: 'selectSession', sessionId });
  }

  protected override render(): TemplateResult {
    const { store } = this.ctx;
    const transcript = store.selectedTranscript;
    const notice = store.serverNotice;
    return html`
      ${notice ? html`<div class="card server-notice" role="status">${visibleText(notice)}</div>` : nothing}
      ${store.errors.length
        ? html`<div class="banner">
            ${store.errors.map(
              (e) => html`<div class="card error" role="alert" data-error=${e.errorId}>
                <div>${visibleText(e.message)}</div>
                <div class="actions">
                  ${e.action ? html`<vscode-button @click=${() => this.ctx.post({ type: 'runAction', action: e.action! })}>${actionLabel(e.action)}</vscode-button>` : nothing}
                  <vscode-button secondary aria-label="Dismiss" @click=${() => store.dismissError(e.errorId)}>Dismiss</vscode-button>
                </div>
              </div>`,
            )}
          </div>`
        : nothing}
      ${transcript
        ? html`<div class="nav"><vscode-button secondary aria-label="New task" @click=${() => this.open(null)}>New task</vscode-button></div>
            <deputy-session .ctx=${this.ctx} .transcript=${transcript}></deputy-session>`
        : html`<div class="scroll">
            <deputy-task-form .ctx=${this.ctx} @draft=${(e: CustomEvent<string>) => this.onDraft(e.detail)}></deputy-task-form>
            <h2>Sessions</h2>
            ${sessionList(this.ctx, store.sessions, (id) => this.open(id))}
          </div>`}
    `;
  }
}
customElements.define('deputy-panel', DeputyPanel);
