/**
 * Where messages from the panel arrive: each is schema-checked (`parseFromWebview`) before anything acts on it. A
 * refused one is said in the panel, not only in the log: the panel shows "Sending…" on an answer until the extension
 * replies, and an error is that reply (the webview then lets the person answer again). Without it a refused answer
 * left its question open in the broker and its card waiting, with nothing telling the person.
 */
import { isParseError, parseFromWebview, type FromWebview } from '../protocol/webview.js';

export interface PanelInbox {
  handle(message: FromWebview): Promise<void>;
  /** Shows an error in the panel. */
  refuse(text: string): void;
  log(line: string): void;
}

const ANSWERS = new Set(['answerPrompt', 'reviewFile', 'reviewAll']);

export function receiveFromPanel(raw: unknown, inbox: PanelInbox): void {
  const message = parseFromWebview(raw);
  if (isParseError(message)) {
    inbox.log(`Refused a message from the panel: ${message.error}`);
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    inbox.refuse(
      typeof type === 'string' && ANSWERS.has(type)
        ? 'Deputy refused that answer: it does not match a question Deputy asked, so nothing was allowed. The question is still open: answer it again.'
        : 'Deputy refused a message from the panel it could not check (see the log); nothing was done.',
    );
    return;
  }
  inbox.handle(message).catch((err: unknown) => inbox.refuse(`Deputy could not do that: ${String(err)}`));
}
