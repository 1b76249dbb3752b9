/** What every view needs, passed down explicitly (no module-level singletons). */
import type { FromWebview } from '../src/protocol/webview.js';
import type { PanelStore } from './store.js';

export interface PanelContext {
  store: PanelStore;
  post(message: FromWebview): void;
  now(): number;
}
