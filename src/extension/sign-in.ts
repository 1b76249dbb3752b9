/**
 * Signing in to AWS from the editor. The server runs IAM Identity Center's flows (the same as `deputy login`, the
 * same AWS CLI cache); the editor does the person's part: a progress notification with Cancel while it waits, the
 * browser page opened through `env.openExternal` (PKCE), or the device code with a copy button and the verification
 * link (remote windows, where the loopback redirect of PKCE cannot reach the person's browser, or by setting).
 */
import * as vscode from 'vscode';
import { SignIn, type SignInProgress } from '../protocol/lsp.js';
import { isFailure, type Deputy } from './deputy.js';
import { principalName } from './identity-format.js';
import { readSignInFlow } from './settings.js';
import { forgetSignOut } from './signed-out.js';

export type SignInFlowSetting = 'auto' | 'browser' | 'deviceCode';

/** `auto`: the device code in a remote or web window (the loopback redirect would land on the wrong machine), else the browser. */
export function signInFlow(setting: SignInFlowSetting, remote: boolean): SignIn.Params['flow'] {
  if (setting === 'browser' || setting === 'deviceCode') return setting;
  return remote ? 'deviceCode' : 'browser';
}

function isRemoteWindow(): boolean {
  return Boolean(vscode.env.remoteName) || vscode.env.uiKind === vscode.UIKind.Web;
}

export async function signInFromEditor(deputy: Deputy, profile: string | undefined): Promise<void> {
  const flow = signInFlow(readSignInFlow(), isRemoteWindow());
  const who = profile ? `AWS profile "${profile}"` : 'AWS';
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Deputy: signing in to ${who}`, cancellable: true },
    async (progress, token) => {
      progress.report({ message: flow === 'browser' ? 'continue in your browser…' : 'waiting for the device code…' });
      const shown = deputy.onSignInProgress((p) => {
        progress.report({ message: `enter the code ${p.userCode} at ${p.verificationUri}` });
        void showDeviceCode(p, token);
      });
      try {
        const r = await deputy.request(SignIn.type, { ...(profile ? { profile } : {}), flow }, token);
        if (isFailure(r)) {
          if (!token.isCancellationRequested) await deputy.showFailure(r);
          return;
        }
        await forgetSignOut(deputy.context, r.identity.profile ?? profile);
        const name = principalName(r.identity);
        void vscode.window.showInformationMessage(`Deputy: signed in${name ? ` as ${name}` : ''}${r.identity.profile ? ` (profile ${r.identity.profile})` : ''}.`);
      } finally {
        shown.dispose();
      }
    },
  );
}

/** The device code with its two actions; shown again after a copy, so the link stays one click away. */
async function showDeviceCode(p: SignInProgress.Params, token: vscode.CancellationToken): Promise<void> {
  const link = p.verificationUriComplete ?? p.verificationUri;
  for (let shown = 0; shown < 3 && !token.isCancellationRequested; shown++) {
    const pick = await vscode.window.showInformationMessage(
      `Deputy: to sign in to AWS profile "${p.profile}", open ${p.verificationUri} and confirm the code ${p.userCode}.`,
      'Copy Code',
      'Open Link',
    );
    if (pick === 'Copy Code') {
      await vscode.env.clipboard.writeText(p.userCode);
      continue;
    }
    if (pick === 'Open Link') await vscode.env.openExternal(vscode.Uri.parse(link, true));
    return;
  }
}
