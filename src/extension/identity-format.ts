/**
 * How the acting identity reads on the status bar and in its tooltip: vscode-free, so unit tests hold the wording.
 * Facts come from the server (`IdentityStatus`); only the countdown is computed here, on the editor's clock.
 */
import type { IdentityStatus } from '../protocol/lsp.js';

/** The principal as a person names it: the SSO session (their user name), else the role, else the ARN's last part. */
export function principalName(s: IdentityStatus): string | undefined {
  const p = s.principal;
  if (!p) return undefined;
  return p.sessionName ?? p.roleName ?? p.arn.split(/[/:]/).at(-1);
}

/** `45s`, `14m`, `2h 05m`, `3d 4h`; `expired` at or after the instant. */
export function timeLeft(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  if (ms <= 0) return 'expired';
  const min = Math.floor(ms / 60_000);
  if (min < 1) return `${Math.max(1, Math.floor(ms / 1000))}s`;
  if (min < 60) return `${min}m`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h}h ${String(min % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** The status bar text, without its icon. */
export function identityText(s: IdentityStatus, now: number): string {
  const profile = s.profile ?? 'default';
  switch (s.state) {
    case 'checking':
      return `AWS: ${profile}…`;
    case 'signedIn': {
      const parts = [principalName(s), s.principal?.account, profile];
      if (s.expiresAt) parts.push(timeLeft(s.expiresAt, now));
      return parts.filter(Boolean).join(' · ');
    }
    case 'signInRequired':
      return s.reason === 'signedOut' ? `${profile}: signed out` : s.reason === 'expired' ? `${profile}: sign-in expired` : `${profile}: sign in`;
    case 'unavailable':
      return `${profile}: no credentials`;
    case 'none':
      return 'local identity';
  }
}

/** The tooltip: every fact, one per line. */
export function identityTooltip(s: IdentityStatus, now: number): string {
  const lines = ['Deputy acts as'];
  if (s.principal) {
    lines.push(`Principal: ${s.principal.arn}`, `Account: ${s.principal.account}`);
    if (s.principal.roleName) lines.push(`Role: ${s.principal.roleName}`);
    if (s.principal.sessionName) lines.push(`Session: ${s.principal.sessionName}`);
  }
  lines.push(`Profile: ${s.profile ?? 'default credential chain'}`);
  if (s.expiresAt) lines.push(`Sign-in expires: ${new Date(s.expiresAt).toLocaleString()} (${timeLeft(s.expiresAt, now)})${s.renewable ? ', renews by itself' : ''}`);
  if (s.message) lines.push(s.message);
  lines.push('Click for: switch profile, sign in, sign out, copy identity');
  return lines.join('\n');
}

/** What "Copy identity" puts on the clipboard: the facts a colleague or an administrator needs, no secret. */
export function identityForClipboard(s: IdentityStatus): string {
  const rows: Array<[string, string | undefined]> = [
    ['Principal', s.principal?.arn],
    ['Account', s.principal?.account],
    ['Role', s.principal?.roleName],
    ['Session', s.principal?.sessionName],
    ['Profile', s.profile],
    ['Expires', s.expiresAt],
  ];
  return rows
    .filter((r): r is [string, string] => Boolean(r[1]))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
