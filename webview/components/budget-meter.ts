/**
 * The live budget meter of a session: one bar per budget (this task's, today's), spent against the limit in the
 * budget's unit, moved by every `budget` event. Amber from 80%, red at 100% (where the engine has stopped the
 * agent). The numbers come from the engine; nothing here decides anything.
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { formatAmount } from '../../src/core/budget-text.js';
import type { BudgetMeterView } from '../../src/protocol/events.js';
import { base } from '../styles.js';

const SCOPE_LABEL = { task: 'Task budget', day: "Today's budget" } as const;

export class BudgetMeter extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: flex; flex-direction: column; gap: 2px; }
      .meter { display: grid; grid-template-columns: auto 1fr auto; gap: 6px; align-items: center; font-size: 0.9em; }
      meter { width: 100%; min-width: 40px; height: 8px; }
      .reached .amount { color: var(--vscode-errorForeground, #f14c4c); font-weight: 600; }
    `,
  ];

  declare meters: BudgetMeterView[];
  static override properties = { meters: { attribute: false } };

  protected override render(): TemplateResult {
    return html`${(this.meters ?? []).map((m) => {
      const fraction = m.limit > 0 ? m.spent / m.limit : 0;
      const level = fraction >= 1 ? 'reached' : fraction >= 0.8 ? 'warn' : 'ok';
      const text = `${formatAmount(m.unit, m.spent)} / ${formatAmount(m.unit, m.limit)}`;
      // A native <meter> (no inline style, which the panel's CSP forbids); its own colours mark 80% and 100%.
      return html`<div class=${`meter ${level}`}>
        <span class="muted">${SCOPE_LABEL[m.scope]}</span>
        <meter
          aria-label=${SCOPE_LABEL[m.scope]}
          aria-valuetext=${`${text}${level === 'reached' ? ', reached' : ''}`}
          min="0"
          max=${String(m.limit)}
          low=${String(0.8 * m.limit)}
          high=${String(m.limit * 0.9999)}
          optimum="0"
          .value=${Math.min(m.spent, m.limit)}
        ></meter>
        <span class="amount">${text}</span>
      </div>`;
    })}`;
  }
}

customElements.define('deputy-budget-meter', BudgetMeter);
