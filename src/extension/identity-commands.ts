/**
 * The identity commands of the command table: the status item's menu, switching profile, signing in and out, and
 * copying the identity. Signing in goes through the server (sign-in.ts); signing out makes Deputy stop using the
 * profile's cached sign-in and leaves the AWS CLI's cache alone.
 */
import * as vscode from 'vscode';
import { GetIdentity, ListProfiles, SignOut } from '../protocol/lsp.js';
import type { CommandSpec } from './commands.js';
import type { Deputy } from './deputy.js';
import { identityForClipboard, identityText } from './identity-format.js';
import { readSettings, update } from './settings.js';
import { signInFromEditor } from './sign-in.js';
import { rememberSignOut } from './signed-out.js';


export function identityCommands(deputy: Deputy): Record<
  'deputy.signIn' | 'deputy.signOut' | 'deputy.switchProfile' | 'deputy.copyIdentity' | 'deputy.identityMenu',
  CommandSpec
> {
  return {
    'deputy.identityMenu': {
      server: true,
      async run() {
        const s = deputy.identity ?? (await deputy.request(GetIdentity.type, { refresh: false }));
        const items: Array<vscode.QuickPickItem & { command: string }> = [
          { label: '$(arrow-swap) Switch Profile', ...(s.profile ? { description: `now: ${s.profile}` } : {}), command: 'deputy.switchProfile' },
          { label: '$(sign-in) Sign In', command: 'deputy.signIn' },
          { label: '$(sign-out) Sign Out', description: 'Deputy stops using this sign-in; the AWS CLI stays signed in', command: 'deputy.signOut' },
          { label: '$(copy) Copy Identity', command: 'deputy.copyIdentity' },
          { label: '$(refresh) Refresh', description: 'look again (e.g. after aws sso login)', command: 'refresh' },
        ];
        const pick = await vscode.window.showQuickPick(items, { placeHolder: `Deputy acts as ${identityText(s, Date.now())}` });
        if (!pick) return;
        if (pick.command === 'refresh') await deputy.request(GetIdentity.type, { refresh: true });
        else await vscode.commands.executeCommand(pick.command, s.profile);
      },
    },
    'deputy.switchProfile': {
      server: true,
      async run() {
        const r = await deputy.request0(ListProfiles.type);
        if (r.profiles.length === 0) {
          void vscode.window.showInformationMessage('No AWS profiles found. Create one with `aws configure sso`.');
          return;
        }
        const pick = await vscode.window.showQuickPick(
          r.profiles.map((p) => ({
            label: p.name,
            description: [p.kind, p.accountId, p.roleName, p.region].filter(Boolean).join(' · '),
            ...(p.name === r.current ? { detail: 'in use now' } : {}),
          })),
          { placeHolder: 'AWS profile Deputy acts as (deputy.bedrock.profile)' },
        );
        if (pick) await update('bedrock.profile', pick.label);
      },
    },
    'deputy.signIn': {
      server: false,
      async run(profileArg) {
        const s = readSettings();
        const profile = typeof profileArg === 'string' ? profileArg : s.bedrockProfile ?? process.env.AWS_PROFILE;
        // Without an AWS profile in play, signing in means the API key of OpenAI or of the model server.
        if (s.endpoint !== 'bedrock' && !profile) {
          await vscode.commands.executeCommand('deputy.setApiKey', s.endpoint === 'openai' ? 'openai' : 'model');
          return;
        }
        const why = deputy.server.notReadyReason;
        if (why) {
          void vscode.window.showWarningMessage(why);
          return;
        }
        await signInFromEditor(deputy, profile);
      },
    },
    'deputy.signOut': {
      server: true,
      async run(profileArg) {
        const r = await deputy.request(SignOut.type, typeof profileArg === 'string' ? { profile: profileArg } : {});
        if (!r.profile) {
          void vscode.window.showInformationMessage('Deputy is not using an AWS profile, so there is nothing to sign out of.');
          return;
        }
        await rememberSignOut(deputy.context, r.profile);
        void vscode.window.showInformationMessage(
          `Deputy no longer uses the sign-in of AWS profile "${r.profile}" (until you sign in here again). The AWS CLI stays signed in; run \`aws sso logout\` to end the sign-in everywhere.`,
        );
      },
    },
    'deputy.copyIdentity': {
      server: true,
      async run() {
        const s = deputy.identity ?? (await deputy.request(GetIdentity.type, { refresh: false }));
        const text = identityForClipboard(s);
        if (!text) {
          void vscode.window.showInformationMessage(s.message ?? 'Deputy has no AWS identity to copy yet.');
          return;
        }
        await vscode.env.clipboard.writeText(text);
        void vscode.window.showInformationMessage('Deputy: identity copied.');
      },
    },
  };
}
