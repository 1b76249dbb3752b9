/** The status bar item: the server's health and how many sessions run; a click opens the panel. */
import * as vscode from 'vscode';
import type { Deputy } from './deputy.js';

export function createStatusItem(deputy: Deputy): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('deputy.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Deputy';
  item.command = 'deputy.openPanel';
  const render = (state: string, message: string, running: number) => {
    const waiting = deputy.state.waiting();
    const icon = state === 'failed' ? '$(error)' : state === 'starting' ? '$(loading~spin)' : waiting > 0 ? '$(bell-dot)' : '$(hubot)';
    item.text = `${icon} Deputy${running > 0 ? ` ${running}` : ''}`;
    item.tooltip = [`Deputy: ${message}`, `${running} session${running === 1 ? '' : 's'} running`, waiting > 0 ? `${waiting} waiting for you` : '']
      .filter(Boolean)
      .join('\n');
    item.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };
  render('stopped', 'not started (starts with the panel or a command)', 0);
  const sub = deputy.listen({ events() {}, refreshed() {}, health: (h) => render(h.state, h.message, h.running) });
  const sub2 = deputy.state.onSessionsChanged(() => render(deputy.currentHealth.state, deputy.currentHealth.message, deputy.state.running()));
  return vscode.Disposable.from(item, sub, sub2);
}
