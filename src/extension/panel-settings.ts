/** What the panel's new-task form shows: the endpoint and model in use, the choices, the folders, what can be attached. */
import * as vscode from 'vscode';
import type { PanelSettings } from '../protocol/webview.js';
import { ENDPOINT_CHOICES, readEnvironmentDefault, readSettings } from './settings.js';

export function panelSettings(): PanelSettings {
  const s = readSettings();
  const editor = vscode.window.activeTextEditor;
  return {
    endpoint: s.endpoint,
    model: s.model,
    ...(s.budgetPerTaskUsd !== undefined ? { budgetUsd: s.budgetPerTaskUsd } : {}),
    ...(s.budgetPerTask ? { budget: s.budgetPerTask } : {}),
    ...(s.budgetPerDay ? { budgetPerDay: s.budgetPerDay } : {}),
    endpoints: [...new Set([...ENDPOINT_CHOICES, s.endpoint])],
    models: [s.model],
    folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.name),
    canAttachSelection: !!editor && !editor.selection.isEmpty,
    canAttachFile: !!editor,
    environment: readEnvironmentDefault(),
  };
}
