/**
 * The panel's entry point (bundled to dist/webview.js). It wires VS Code's webview API to the store and mounts
 * the root view; everything it shows comes from the extension's messages.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { TO_WEBVIEW_TYPES, type ToWebview } from '../src/protocol/webview.js';
import { Host } from './host.js';
import { PanelStore } from './store.js';
import type { PanelContext } from './context.js';
import { DeputyPanel } from './components/panel.js';

function isToWebview(data: unknown): data is ToWebview {
  return typeof data === 'object' && data !== null && (TO_WEBVIEW_TYPES as readonly unknown[]).includes((data as { type?: unknown }).type);
}

const host = new Host();
const store = new PanelStore();
const ctx: PanelContext = { store, post: (m) => host.post(m), now: () => Date.now() };
const viewState = host.loadViewState();
store.selectedSessionId = viewState.selectedSessionId;

window.addEventListener('message', (event: MessageEvent) => {
  if (isToWebview(event.data)) {
    store.receive(event.data);
    host.saveViewState({ ...host.loadViewState(), selectedSessionId: store.selectedSessionId });
  }
});

const panel = new DeputyPanel();
panel.ctx = ctx;
panel.initialDraft = viewState.draft;
panel.onDraft = (draft) => host.saveViewState({ ...host.loadViewState(), draft });
document.body.append(panel);
// The session shown before goes with `ready`, not as a selection of its own: the extension may hold a New Task
// that was asked for while the panel was hidden, and only it knows which came first.
host.post({ type: 'ready', ...(viewState.selectedSessionId ? { restoreSessionId: viewState.selectedSessionId } : {}) });
