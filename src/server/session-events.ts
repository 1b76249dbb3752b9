/**
 * The panel's subscription to a hosted session's engine events (`src/core/event-channel.ts`): everything the engine
 * reports goes on to the session's event log (and from there to the editor), except the questions and answers the
 * prompt broker shows itself. The broker is the Prompter the engine asks: it puts each question on the panel with
 * the deadline the panel enforces and relays the person's answer, so the engine's own copies of those would show
 * every prompt and changeset card twice.
 */
import type { EventListener } from '../core/event-channel.js';
import type { EngineEventType } from '../protocol/events.js';
import type { EventInput } from './event-log.js';
import type { PromptBroker } from './prompt-broker.js';

/** What the broker shows for the questions it puts (`prompt-broker.ts`, `changeset-broker.ts`). */
const SHOWN_BY_BROKER: ReadonlySet<EngineEventType> = new Set<EngineEventType>([
  'prompt.asked',
  'prompt.answered',
  'prompt.withdrawn',
  'changeset.proposed',
  'changeset.verdict',
]);

export function panelListener(emit: (sessionId: string, event: EventInput) => void, broker: PromptBroker): EventListener {
  return (sessionId, event, detail) => {
    if (SHOWN_BY_BROKER.has(event.type)) return;
    if (event.type === 'changeset.conflict' && event.binding && detail.texts) {
      // Kept so both versions can still be opened after the changeset's card closed.
      broker.changesets.keepConflict(sessionId, event.changesetId, event.binding, event.conflict, detail.texts);
    }
    emit(sessionId, event);
  };
}
