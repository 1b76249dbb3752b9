/**
 * A permission prompt inline in the transcript: the exact tool and arguments, why the policy asks, and the three
 * answers. Every answer carries the prompt's binding; the card shows "answered" only when the engine says so.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import type { PromptDecision } from '../../src/protocol/events.js';
import { visibleLine, visibleText } from '../../src/core/visible-text.js';
import type { PromptRow } from '../transcript.js';
import type { PanelContext } from '../context.js';
import { formatRemaining } from '../format.js';

const DECISION_WORDS: Record<PromptDecision, string> = { allowOnce: 'Allowed once', allowTask: 'Allowed for this task', deny: 'Denied' };
const WITHDRAWN_WORDS = {
  timedOut: 'Not answered in time: denied', sessionStopped: 'The task stopped: denied', answeredElsewhere: 'Answered elsewhere',
  serverStopped: "Deputy's server stopped: asked again when the session reattaches",
} as const;

function argsText(args: unknown): string {
  try {
    return JSON.stringify(args, null, 2) ?? String(args);
  } catch {
    return String(args);
  }
}

/** `rerender` draws the card again at once (an answer was sent: its buttons wait for the engine). */
export function promptCard(ctx: PanelContext, sessionId: string, row: PromptRow, rerender: () => void): TemplateResult {
  const { store } = ctx;
  const tool = visibleLine(row.tool);
  const head = html`
    <div class="row-line"><strong>${tool}</strong> <span>${visibleText(row.summary)}</span></div>
    <div class="muted">Asked because: ${visibleText(row.reason)}</div>
    <pre class="args" aria-label="Arguments">${visibleText(argsText(row.args))}</pre>
  `;
  if (row.state !== 'open') {
    const outcome = row.state === 'answered' ? DECISION_WORDS[row.decision!] : WITHDRAWN_WORDS[row.withdrawnReason!];
    return html`<section class="card prompt" data-binding=${row.binding} aria-label=${`Permission: ${tool}`}>
      ${head}
      <div class="outcome">${outcome}${row.comment ? html` — “${visibleText(row.comment)}”` : nothing}</div>
    </section>`;
  }
  const sent = store.sent.has(row.binding);
  const answer = (decision: PromptDecision) => {
    const comment = store.drafts.get(row.binding)?.trim();
    store.sent.add(row.binding);
    ctx.post({ type: 'answerPrompt', sessionId, binding: row.binding, decision, ...(comment ? { comment } : {}) });
    rerender();
  };
  return html`<section class="card prompt attention" role="group" data-binding=${row.binding} aria-label=${`Permission: ${tool}`}>
    ${head}
    <vscode-textarea
      class="comment"
      .label=${'Comment for the agent (optional)'}
      placeholder="Comment for the agent (optional)"
      rows="1"
      .value=${live(store.drafts.get(row.binding) ?? '')}
      @input=${(e: Event) => store.drafts.set(row.binding, (e.target as HTMLTextAreaElement).value)}
    ></vscode-textarea>
    <div class="actions">
      <vscode-button ?disabled=${sent} aria-label="Allow once" @click=${() => answer('allowOnce')}>Allow once</vscode-button>
      <vscode-button ?disabled=${sent} secondary aria-label="Allow for this task" @click=${() => answer('allowTask')}>Allow for this task</vscode-button>
      <vscode-button ?disabled=${sent} secondary aria-label="Deny" @click=${() => answer('deny')}>Deny</vscode-button>
      <span class="muted">${sent ? 'Sending…' : formatRemaining(row.deadline, ctx.now())}</span>
    </div>
  </section>`;
}
