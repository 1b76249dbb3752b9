/**
 * The identity status item: who Deputy acts as (principal, account, profile) and the time left on the sign-in, in the
 * warning colour from 15 minutes before expiry and the error colour once a sign-in is needed. It tells the person once
 * when the warning starts, once when the sign-in runs out, and once when a session pauses for a sign-in, each with the
 * Sign In button. A click opens its menu (`deputy.identityMenu`).
 */
import * as vscode from 'vscode';
import { GetIdentity, type IdentityStatus } from '../protocol/lsp.js';
import type { Deputy } from './deputy.js';
import { identityText, identityTooltip, timeLeft } from './identity-format.js';

/** The countdown on the item moves on this often; the colour changes come from the server at their exact instants. */
const TICK_MS = 30_000;
/** A focused window re-checks the identity at most this often (a sign-in made in a terminal shows up). */
const FOCUS_REFRESH_MS = 60_000;

export function createIdentityItem(deputy: Deputy): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('deputy.identity', vscode.StatusBarAlignment.Left, 49);
  item.name = 'Deputy Identity';
  item.command = 'deputy.identityMenu';
  const told = new Set<string>();

  const render = () => {
    const s = deputy.identity;
    if (!s || s.state === 'none') {
      item.hide();
      return;
    }
    const needsSignIn = s.state === 'signInRequired' || s.state === 'unavailable' || s.expiry === 'expired';
    const icon = needsSignIn ? '$(error)' : s.expiry === 'expiring' ? '$(warning)' : s.state === 'checking' ? '$(loading~spin)' : '$(account)';
    item.text = `${icon} ${identityText(s, Date.now())}`;
    item.tooltip = identityTooltip(s, Date.now());
    item.backgroundColor = needsSignIn
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : s.expiry === 'expiring'
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
    item.accessibilityInformation = { label: `Deputy acts as ${identityText(s, Date.now())}`, role: 'button' };
    item.show();
  };

  const tell = (s: IdentityStatus) => {
    const profile = s.profile ?? 'default';
    if (s.state === 'signedIn' && s.expiry === 'expiring' && s.expiresAt && !told.has(`warn:${s.expiresAt}`)) {
      told.add(`warn:${s.expiresAt}`);
      void offerSignIn('warning', `Deputy: the AWS sign-in for profile "${profile}" expires in ${timeLeft(s.expiresAt, Date.now())}. Sign in again to keep your sessions going.`, s.profile);
    }
    if (s.state === 'signInRequired' && s.reason === 'expired' && !told.has(`expired:${s.expiresAt ?? profile}`)) {
      told.add(`expired:${s.expiresAt ?? profile}`);
      void offerSignIn('error', `Deputy: the AWS sign-in for profile "${profile}" has expired. Sign in to go on.`, s.profile);
    }
    if (s.state === 'signedIn') told.delete(`paused:${profile}`);
  };

  const subs = [
    deputy.onIdentity((s) => {
      render();
      tell(s);
    }),
    deputy.listen({
      events(_sessionId, events) {
        for (const e of events) {
          if (e.type !== 'error' || e.kind !== 'signInRequired' || e.fatal) continue;
          const profile = e.action?.kind === 'signIn' ? e.action.profile : undefined;
          if (told.has(`paused:${profile ?? 'default'}`)) continue;
          told.add(`paused:${profile ?? 'default'}`);
          void offerSignIn('warning', `Deputy: ${e.message}`, profile);
        }
      },
      refreshed() {},
      health() {},
    }),
    vscode.window.onDidChangeWindowState((w) => {
      if (!w.focused || !deputy.server.running || Date.now() - lastFocusRefresh < FOCUS_REFRESH_MS) return;
      lastFocusRefresh = Date.now();
      void deputy.request(GetIdentity.type, { refresh: true }).catch(() => undefined);
    }),
  ];
  let lastFocusRefresh = 0;
  const tick = setInterval(render, TICK_MS);
  render();
  return vscode.Disposable.from(item, ...subs, new vscode.Disposable(() => clearInterval(tick)));
}

async function offerSignIn(level: 'warning' | 'error', message: string, profile: string | undefined): Promise<void> {
  const show = level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
  const pick = await show(message, 'Sign In');
  if (pick) await vscode.commands.executeCommand('deputy.signIn', profile);
}
