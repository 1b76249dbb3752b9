/**
 * The profiles a person signed out of in Deputy, remembered across windows and restarts (VS Code's global state) and
 * handed to each new server. Signing out never touches the AWS CLI's token cache: `aws` stays signed in, and
 * `aws sso logout` is how to end the sign-in everywhere.
 */
import type * as vscode from 'vscode';

const KEY = 'deputy.signedOutProfiles';

export function signedOutProfiles(context: vscode.ExtensionContext): string[] {
  const v = context.globalState.get<unknown>(KEY);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export async function rememberSignOut(context: vscode.ExtensionContext, profile: string): Promise<void> {
  const all = new Set(signedOutProfiles(context));
  all.add(profile);
  await context.globalState.update(KEY, [...all]);
}

export async function forgetSignOut(context: vscode.ExtensionContext, profile: string | undefined): Promise<void> {
  if (!profile) return;
  await context.globalState.update(KEY, signedOutProfiles(context).filter((p) => p !== profile));
}
