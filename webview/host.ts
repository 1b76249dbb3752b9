/**
 * The webview's only line to the extension: VS Code's `acquireVsCodeApi()` (a harness page stands in for it in
 * tests). Everything sent is a typed intent from src/protocol/webview.ts; the extension checks it again.
 */
import type { FromWebview } from '../src/protocol/webview.js';

/** What VS Code injects into a webview; `acquireVsCodeApi` may be called once per page. */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** View state kept across the panel being hidden and shown (VS Code keeps it per webview). */
export interface ViewState {
  selectedSessionId: string | null;
  draft: string;
}

export class Host {
  private readonly api: VsCodeApi = acquireVsCodeApi();

  post(message: FromWebview): void {
    this.api.postMessage(message);
  }

  loadViewState(): ViewState {
    const s = this.api.getState() as Partial<ViewState> | undefined;
    return {
      selectedSessionId: typeof s?.selectedSessionId === 'string' ? s.selectedSessionId : null,
      draft: typeof s?.draft === 'string' ? s.draft : '',
    };
  }

  saveViewState(state: ViewState): void {
    this.api.setState(state);
  }
}
