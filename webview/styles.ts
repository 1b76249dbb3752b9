/**
 * Shared styles, all from VS Code's theme variables so light, dark and high-contrast themes apply without a
 * line of theme-specific code. High contrast adds `--vscode-contrastBorder`/`contrastActiveBorder`, used for
 * outlines and borders here.
 */
import { css } from 'lit';

export const base = css`
  :host {
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  *:focus-visible {
    outline: 1px solid var(--vscode-focusBorder);
    outline-offset: 1px;
  }
  .muted {
    color: var(--vscode-descriptionForeground);
  }
  .mono,
  pre,
  code {
    font-family: var(--vscode-editor-font-family);
    font-size: var(--vscode-editor-font-size);
  }
  pre {
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    margin: 0.25em 0;
    padding: 0.4em 0.6em;
    background: var(--vscode-textCodeBlock-background);
    border: 1px solid var(--vscode-contrastBorder, transparent);
    border-radius: 2px;
  }
  .card {
    border: 1px solid var(--vscode-contrastBorder, var(--vscode-widget-border, var(--vscode-panel-border)));
    background: var(--vscode-editorWidget-background);
    border-radius: 4px;
    padding: 8px;
    margin: 6px 0;
  }
  .attention {
    border-left: 3px solid var(--vscode-inputValidation-warningBorder, var(--vscode-editorWarning-foreground));
  }
  .error {
    border-left: 3px solid var(--vscode-inputValidation-errorBorder, var(--vscode-errorForeground));
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    align-items: center;
    margin-top: 6px;
  }
  .row-line {
    display: flex;
    gap: 6px;
    align-items: baseline;
    flex-wrap: wrap;
  }
  .status-succeeded { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
  .status-failed, .status-denied { color: var(--vscode-errorForeground); }
  .status-pending, .status-running { color: var(--vscode-descriptionForeground); }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
