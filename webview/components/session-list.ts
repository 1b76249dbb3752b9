/** This workspace's sessions, newest first: task, status, endpoint, age and cost; Enter or a click opens one. */
import { html, nothing, type TemplateResult } from 'lit';
import { visibleLine } from '../../src/core/visible-text.js';
import type { SessionSummary } from '../../src/protocol/webview.js';
import type { PanelContext } from '../context.js';
import { formatAge, formatCost } from '../format.js';
import { STATUS_WORDS } from './session-view.js';

export function sessionList(ctx: PanelContext, sessions: SessionSummary[], open: (sessionId: string) => void): TemplateResult {
  if (sessions.length === 0) return html`<p class="muted">No sessions in this workspace yet.</p>`;
  const now = ctx.now();
  const sorted = [...sessions].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  return html`<ul class="sessions" aria-label="Sessions">
    ${sorted.map((s) => {
      const task = visibleLine(s.task);
      const status = STATUS_WORDS[s.status];
      const facts = [visibleLine(s.endpoint), s.folder ? visibleLine(s.folder) : '', formatAge(s.startedAt, now), formatCost(s.costUsd)].filter(Boolean);
      return html`<li>
        <button class="session" data-session=${s.sessionId} aria-label=${`${task} — ${status}`} @click=${() => open(s.sessionId)}>
          <span class="session-task">${task}</span>
          <span class="session-facts">
            <span class=${`status status-${s.status}`}>${status}</span>
            ${s.pendingPrompts > 0 ? html`<vscode-badge variant="counter" aria-label=${`${s.pendingPrompts} waiting for you`}>${s.pendingPrompts}</vscode-badge>` : nothing}
            <span class="muted">${facts.join(' · ')}</span>
          </span>
        </button>
      </li>`;
    })}
  </ul>`;
}
