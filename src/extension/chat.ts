/**
 * The `@deputy` chat participant (stable chat API): its prompt becomes a Deputy task in the first folder; the chat
 * response streams the agent's text and its tool calls, and links to the session in the panel. Questions and reviews
 * are answered in Deputy's own UI (panel or notification), never in the chat: the chat shows them and points there.
 * Agent-made text is appended as plain text (escaped), never as Markdown that could link or run anything.
 */
import * as vscode from 'vscode';
import { StartTask, StopSession, isFailure } from '../protocol/lsp.js';
import type { EngineEvent } from '../protocol/events.js';
import type { Deputy } from './deputy.js';
import { readEnvironmentDefault } from './settings.js';


/**
 * The participant's handler. The participant itself is created by the extension's entry (main.ts) at activation, as
 * VS Code requires, and hands each request here once the rest of the extension is loaded.
 */
export function chatHandler(deputy: Deputy): vscode.ChatRequestHandler {
  return async (request, _context, stream, token) => {
    const prompt = request.prompt.trim();
    if (!prompt) {
      stream.markdown('Tell Deputy what to do, e.g. `@deputy add input validation to the signup handler`.');
      return {};
    }
    const r = await deputy.request(StartTask.type, { prompt, ...(readEnvironmentDefault() ? { environment: true } : {}) });
    if (isFailure(r)) {
      stream.markdown(new vscode.MarkdownString().appendText(`Deputy could not start the task: ${r.failure.message}`));
      return { errorDetails: { message: r.failure.message } };
    }
    const sessionId = r.sessionId;
    stream.button({ command: 'deputy.openPanel', arguments: [sessionId], title: 'Open in the Deputy panel' });
    stream.progress('Deputy is working on it…');
    await new Promise<void>((done) => {
      const finish = () => {
        sub.dispose();
        cancel.dispose();
        done();
      };
      const sub = deputy.listen({
        events(id, events) {
          if (id !== sessionId) return;
          for (const e of events) if (render(e, stream, sessionId)) finish();
        },
        refreshed() {},
        health() {},
      });
      const cancel = token.onCancellationRequested(() => {
        void deputy.request(StopSession.type, { sessionId });
        finish();
      });
    });
    return { metadata: { sessionId } };
  };
}

/** Shows one event in the chat response; true when the turn is over. */
function render(e: EngineEvent, stream: vscode.ChatResponseStream, sessionId: string): boolean {
  switch (e.type) {
    case 'message.delta':
      stream.markdown(new vscode.MarkdownString().appendText(e.delta));
      return false;
    case 'tool.called':
      stream.progress(`${e.argsSummary}`);
      return false;
    case 'prompt.asked':
      stream.markdown(new vscode.MarkdownString().appendText(`\n\nThe agent asks to ${e.summary}. Answer in the Deputy panel.\n`));
      stream.button({ command: 'deputy.openPanel', arguments: [sessionId], title: 'Answer in the Deputy panel' });
      return false;
    case 'changeset.proposed':
      stream.markdown(new vscode.MarkdownString().appendText(`\n\nThe agent proposes changes to ${e.files.length} file(s). Review them in the Deputy panel.\n`));
      stream.button({ command: 'deputy.openPanel', arguments: [sessionId], title: 'Review in the Deputy panel' });
      return false;
    case 'error':
      stream.markdown(new vscode.MarkdownString().appendText(`\n\n${e.message}\n`));
      return false;
    case 'turn.ended':
      stream.markdown(new vscode.MarkdownString().appendText(`\n\n(${e.outcome === 'completed' ? 'Done' : e.outcome === 'cancelled' ? 'Stopped' : 'Failed'})`));
      return true;
    default:
      return false;
  }
}
