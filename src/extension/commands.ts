/**
 * Every command of Deputy, in one table (DESIGN.md §9 names them; `package.json` describes them). A command that needs
 * the server says why when it cannot have it ("open a folder first", "the server stopped — see the log") instead of
 * failing silently; otherwise it starts the server on first use.
 */
import * as vscode from 'vscode';
import { ExportAudit, ListSessions, StopAll, StopSession, VerifyAudit } from '../protocol/lsp.js';
import type { Deputy } from './deputy.js';
import type { CommandSpec } from './command-spec.js';
import type { CommandId } from './manifest-ids.js';
import { reviewCommandTable } from './review/commands.js';
import type { PanelProvider } from './panel.js';
import { SECRET_KEYS, type SecretKind } from './secrets.js';
import { readSettings, update } from './settings.js';


export function commandTable(deputy: Deputy, panel: PanelProvider): Record<CommandId, CommandSpec> {
  return {
    'deputy.openPanel': {
      server: false,
      async run(sessionId) {
        await panel.reveal();
        if (typeof sessionId === 'string') {
          deputy.state.select(sessionId);
          await panel.replay();
        }
      },
    },
    'deputy.newTask': {
      server: false,
      async run(prompt) {
        await panel.reveal();
        deputy.state.select(null);
        panel.post({ type: 'focusTask', ...(typeof prompt === 'string' ? { prompt } : {}) });
      },
    },
    'deputy.stop': {
      server: true,
      async run(sessionId) {
        const id = typeof sessionId === 'string' ? sessionId : await pickSession(deputy, 'Stop which session?', true);
        if (!id) return;
        const r = await deputy.request(StopSession.type, { sessionId: id });
        if (!r.stopped) void vscode.window.showInformationMessage('That session has no turn running.');
      },
    },
    'deputy.stopAll': {
      server: true,
      async run() {
        const r = await deputy.request0(StopAll.type);
        void vscode.window.showInformationMessage(r.stopped ? `Stopping ${r.stopped} session${r.stopped === 1 ? '' : 's'}.` : 'No session is running.');
      },
    },
    'deputy.showSessions': {
      server: true,
      async run() {
        const list = await deputy.request(ListSessions.type, { attach: true });
        deputy.state.setSessions(list.sessions);
        const id = await pickSession(deputy, 'Show which session?', false);
        if (id) await vscode.commands.executeCommand('deputy.openPanel', id);
      },
    },
    'deputy.selectEndpoint': {
      server: false,
      async run() {
        const items = [
          { label: 'embedded', description: "Deputy's runtime on this machine, with your model (default)" },
          { label: 'bedrock', description: 'Amazon Bedrock Managed Agents, signed with your AWS profile' },
          { label: 'openai', description: "OpenAI's Agents API, with your API key" },
          { label: 'url', description: 'A Deputy runtime at a URL (deputy serve)' },
        ];
        const pick = await vscode.window.showQuickPick(items, { placeHolder: `Endpoint (now: ${readSettings().endpoint})` });
        if (!pick) return;
        let value: string | undefined = pick.label;
        if (pick.label === 'url') {
          value = await vscode.window.showInputBox({
            prompt: 'URL of the Deputy runtime',
            placeHolder: 'http://127.0.0.1:8739',
            validateInput: (v) => (/^https?:\/\/\S+$/.test(v) ? undefined : 'An http(s) URL'),
          });
        }
        if (value) await update('endpoint', value);
      },
    },
    'deputy.signIn': {
      server: false,
      async run(profileArg) {
        const s = readSettings();
        if (s.endpoint !== 'bedrock' && typeof profileArg !== 'string') {
          await vscode.commands.executeCommand('deputy.setApiKey', s.endpoint === 'openai' ? 'openai' : 'model');
          return;
        }
        const profile = typeof profileArg === 'string' ? profileArg : s.bedrockProfile ?? process.env.AWS_PROFILE;
        const cli = vscode.Uri.joinPath(deputy.context.extensionUri, 'dist', 'cli.js').fsPath;
        // The CLI's own sign-in (IAM Identity Center, shared with the AWS CLI's cache) in a terminal the person sees.
        const terminal = vscode.window.createTerminal({
          name: 'Deputy sign-in',
          shellPath: process.execPath,
          shellArgs: [cli, 'login', ...(profile ? ['--profile', profile] : [])],
          env: { ELECTRON_RUN_AS_NODE: '1' },
        });
        terminal.show();
      },
    },
    'deputy.setApiKey': {
      server: false,
      async run(kindArg) {
        const kind: SecretKind | undefined =
          kindArg === 'model' || kindArg === 'openai'
            ? kindArg
            : ((
                await vscode.window.showQuickPick(
                  [
                    { label: 'model', description: "The embedded runtime's model server (e.g. a hosted OpenAI-compatible API)" },
                    { label: 'openai', description: "OpenAI's Agents API (deputy.endpoint: openai)" },
                  ],
                  { placeHolder: 'Which key?' },
                )
              )?.label as SecretKind | undefined);
        if (!kind) return;
        const key = await vscode.window.showInputBox({
          prompt: `API key for ${kind === 'model' ? 'the embedded runtime\'s model' : 'OpenAI'} (kept in VS Code's secret storage; empty removes it)`,
          password: true,
          ignoreFocusOut: true,
        });
        if (key === undefined) return;
        if (key) await deputy.context.secrets.store(SECRET_KEYS[kind], key.trim());
        else await deputy.context.secrets.delete(SECRET_KEYS[kind]);
        // Keys reach the server only at spawn: a running server needs a restart to use the new one.
        if (!deputy.server.running) return;
        const running = deputy.state.running();
        const pick =
          running === 0
            ? 'Restart'
            : await vscode.window.showInformationMessage(
                `The new key is used after the Deputy server restarts. ${running} session${running === 1 ? ' is' : 's are'} running; they reattach after the restart.`,
                'Restart',
                'Later',
              );
        if (pick === 'Restart') await deputy.server.restart();
      },
    },
    'deputy.showLog': {
      server: false,
      async run() {
        deputy.log.show(true);
      },
    },
    'deputy.restartServer': {
      server: false,
      async run() {
        await deputy.server.restart();
      },
    },
    'deputy.verifyAudit': {
      server: true,
      async run() {
        const folder = await pickFolder();
        if (!folder) return;
        const r = await deputy.request(VerifyAudit.type, { folderUri: folder.uri.toString() });
        if (r.ok) void vscode.window.showInformationMessage(`Audit trail of ${folder.name}: ${r.message}`);
        else void vscode.window.showErrorMessage(`Audit trail of ${folder.name}: ${r.message}`);
      },
    },
    'deputy.exportAudit': {
      server: true,
      async run() {
        const folder = await pickFolder();
        if (!folder) return;
        const format = (await vscode.window.showQuickPick(['jsonl', 'otlp'], { placeHolder: 'Export as (jsonl: the chain as stored; otlp: OpenTelemetry traces)' })) as
          | 'jsonl'
          | 'otlp'
          | undefined;
        if (!format) return;
        const out = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder.uri, `deputy-audit.${format === 'otlp' ? 'otlp.json' : 'jsonl'}`) });
        if (!out) return;
        const r = await deputy.request(ExportAudit.type, { folderUri: folder.uri.toString(), format, out: out.fsPath });
        if (r.ok) void vscode.window.showInformationMessage(r.message || `Exported to ${out.fsPath}`);
        else void vscode.window.showErrorMessage(r.message);
      },
    },
    'deputy.reviewChanges': {
      server: true,
      async run() {
        const open = [...deputy.state.changesets.values()];
        const latest = open.at(-1);
        if (!latest) {
          void vscode.window.showInformationMessage('No changes are waiting for your review.');
          return;
        }
        await vscode.commands.executeCommand('deputy.openPanel', latest.sessionId);
      },
    },
  };
}

export function registerCommands(deputy: Deputy, panel: PanelProvider): vscode.Disposable[] {
  return Object.entries({ ...commandTable(deputy, panel), ...reviewCommandTable(deputy) }).map(([id, spec]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      if (spec.server) {
        const why = deputy.server.notReadyReason;
        if (why) {
          const pick = await vscode.window.showWarningMessage(why, 'Show Log', 'Restart Server');
          if (pick === 'Show Log') deputy.log.show();
          if (pick === 'Restart Server') await deputy.server.restart().catch(() => undefined);
          return;
        }
        await deputy.client();
      }
      try {
        return await spec.run(...args);
      } catch (err) {
        deputy.log.error(`${id}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        void vscode.window.showErrorMessage(`Deputy: ${id} failed: ${err instanceof Error ? err.message : String(err)}`, 'Show Log').then((p) => (p ? deputy.log.show() : undefined));
        return undefined;
      }
    }),
  );
}

async function pickSession(deputy: Deputy, placeHolder: string, runningOnly: boolean): Promise<string | undefined> {
  const sessions = deputy.state.sessions.filter((s) => !runningOnly || s.status === 'running' || s.status === 'waiting');
  if (runningOnly && deputy.state.selected && sessions.some((s) => s.sessionId === deputy.state.selected)) return deputy.state.selected;
  if (sessions.length === 0) {
    void vscode.window.showInformationMessage(runningOnly ? 'No session is running.' : 'No sessions in this workspace yet.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    sessions.map((s) => ({ label: s.task.split('\n')[0]!.slice(0, 80), description: `${s.status} · ${s.folder ?? ''} · ${s.endpoint}`, id: s.sessionId })),
    { placeHolder },
  );
  return pick?.id;
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder\'s audit trail?' });
}

