/**
 * `deputy run`'s progress on the terminal, drawn from the engine's event channel: the agent's words behind a gutter
 * (`terminal-text.ts`), one line per tool call, failures and denials, applied files, notices and the end-of-turn
 * review's notes. Questions are the terminal prompter's; the summary at the end is `run.ts`'s.
 */
import type { EventListener } from '../core/event-channel.js';
import type { CliIO } from './io.js';
import type { Style } from './style.js';
import { AgentTextStream, clean, cleanLine } from './terminal-text.js';

export function renderEvents(io: CliIO, style: Style): EventListener {
  // The agent's words stream behind a gutter; Deputy's own lines never have one.
  const agent = new AgentTextStream((s) => io.stdout.write(s), style, io.stdout.isTTY ? io.stdout.columns : undefined);
  const line = (s: string) => {
    agent.breakLine();
    io.stdout.write(`${s}\n`);
  };
  return (sessionId, event, detail) => {
    switch (event.type) {
      case 'session.started':
        line(style.dim(`session ${sessionId}`));
        return;
      case 'message.delta':
        agent.text(event.delta);
        return;
      case 'message.completed':
        agent.end();
        return;
      case 'message.user':
        // The person's own words are on their screen already; a review's notes sent to the agent are news.
        if (detail.from === 'environment review') {
          line(style.dim('The review asks for changes; the agent is told in its next message:'));
          line(clean(event.text));
        }
        return;
      case 'tool.called':
        line(style.dim(`→ ${cleanLine(event.argsSummary)}`));
        return;
      case 'tool.completed':
        if (event.status !== 'succeeded') line(style.yellow(`  ✗ ${cleanLine(event.tool)}: ${cleanLine(event.resultSummary ?? 'failed')}`));
        return;
      case 'prompt.withdrawn':
        // A stopped turn says so itself; a deadline is news the person needs.
        if (event.reason === 'timedOut') line(style.yellow('  No answer in time: treated as no.'));
        return;
      case 'changeset.applied':
        for (const r of event.results) if (r.status === 'applied') line(style.green(`  ✔ applied ${cleanLine(r.path)}`));
        return;
      case 'notice':
        if (event.reconnectAttempt !== undefined) line(style.dim(`(connection lost, reconnecting: attempt ${event.reconnectAttempt})`));
        else if (detail.reviewNotes) {
          line(style.dim("The review of the agent's changes:"));
          line(clean(event.message));
        } else line(style.yellow(clean(event.message)));
        return;
      default:
        return;
    }
  };
}
