/**
 * While the panel is hidden, a question still reaches the person: a notification with the same choices as the panel
 * (a permission prompt: Allow once / Allow for this task / Deny; a changeset: open the panel to review). The answer
 * carries the prompt's binding, exactly as the panel's would.
 */
import * as vscode from 'vscode';
import { AnswerPrompt } from '../protocol/lsp.js';
import type { PromptDecision } from '../protocol/events.js';
import type { Deputy } from './deputy.js';
import type { PanelProvider } from './panel.js';

const CHOICES: Array<[string, PromptDecision]> = [
  ['Allow once', 'allowOnce'],
  ['Allow for this task', 'allowTask'],
  ['Deny', 'deny'],
];

export function notifyHiddenPrompts(deputy: Deputy, panel: PanelProvider): vscode.Disposable {
  return deputy.listen({
    events(sessionId, events) {
      if (panel.visible) return;
      for (const e of events) {
        if (e.type === 'prompt.asked') void askInNotification(deputy, sessionId, e.binding, e.summary, e.reason);
        if (e.type === 'changeset.proposed' && e.files.some((f) => f.state === 'ready')) {
          void vscode.window
            .showInformationMessage(`Deputy: the agent proposes changes to ${e.files.length} file${e.files.length === 1 ? '' : 's'}.`, 'Review in Panel')
            .then((pick) => (pick ? panel.reveal() : undefined));
        }
      }
    },
    refreshed() {},
    health() {},
  });
}

async function askInNotification(deputy: Deputy, sessionId: string, binding: string, summary: string, reason: string): Promise<void> {
  const pick = await vscode.window.showWarningMessage(
    `Deputy: the agent wants to ${oneLine(summary)}`,
    { detail: oneLine(reason) },
    ...CHOICES.map(([label]) => label),
  );
  const decision = CHOICES.find(([label]) => label === pick)?.[1];
  // Dismissed: the question stays open in the panel (and times out as a deny).
  if (!decision) return;
  // A notification outlives its question (answered in the panel, timed out, session stopped): say so, never guess.
  if (!deputy.state.prompts.has(binding)) {
    void vscode.window.showInformationMessage(
      deputy.currentHealth.state === 'running'
        ? 'Deputy: that question was already answered or withdrawn; nothing was sent.'
        : "Deputy: that question was the stopped server's; nothing was sent. It is asked again when its session reattaches.",
    );
    return;
  }
  const r = await deputy.request(AnswerPrompt.type, { sessionId, binding, decision });
  if (!r.accepted) void vscode.window.showInformationMessage('Deputy: that question is no longer open; nothing was allowed.');
}

/** Agent-made text in a notification: one line, no control or bidi characters, bounded. */
function oneLine(text: string): string {
  const clean = [...text].map((c) => (/[\p{Cc}\p{Cf}]/u.test(c) ? ' ' : c)).join('');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
