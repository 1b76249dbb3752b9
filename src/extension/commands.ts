/**
 * Every command of Deputy, in one table (DESIGN.md §9 names them; `package.json` describes them). A command that needs
 * the server says why when it cannot have it ("open a folder first", "the server stopped — see the log") instead of
 * failing silently; otherwise it starts the server on first use.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ExportAudit, isFailure, ListSessions, RaiseBudget, Report, StopAll, StopSession, TaskLens, VerifyAudit } from '../protocol/lsp.js';
import { budgetInputError, formatAmount, parseBudget } from '../core/budget.js';
import { dispatchMarker, dispatchSymbolAction, type SymbolActionArgs } from './dispatch.js';
import type { Deputy } from './deputy.js';
import { identityCommands } from './identity-commands.js';
import type { CommandSpec } from './command-spec.js';
import type { CommandId } from './manifest-ids.js';
import { reviewCommandTable } from './review/commands.js';
import type { PanelProvider } from './panel.js';
import { generateSigningKey, pemSigner } from '../core/audit-digest.js';
import { SECRET_KEYS, type SecretKind } from './secrets.js';
import { readSettings, update } from './settings.js';
import { stopAllMessage } from './stop-all-message.js';

export type { CommandSpec } from './command-spec.js';

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
        panel.showNewTask(typeof prompt === 'string' ? prompt : undefined);
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
        const r = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Deputy: stopping every session (all windows and terminals)…' },
          () => deputy.request0(StopAll.type),
        );
        const { text, complete } = stopAllMessage(r);
        void (complete ? vscode.window.showInformationMessage(text) : vscode.window.showWarningMessage(text));
      },
    },
    'deputy.raiseBudget': {
      server: true,
      // A person's gesture only: the panel's "Raise budget" or the Command Palette; the agent has no way to run it.
      async run(sessionArg, scopeArg) {
        const sessionId = typeof sessionArg === 'string' ? sessionArg : await pickSession(deputy, 'Raise the budget of which session?', false);
        if (!sessionId) return;
        let scope = scopeArg === 'task' || scopeArg === 'day' ? scopeArg : undefined;
        if (!scope && readSettings().budgetPerDay) {
          const pick = await vscode.window.showQuickPick(
            [
              { label: "This task's budget", scope: 'task' as const },
              { label: "Today's budget (every session of yours on this machine)", scope: 'day' as const },
            ],
            { placeHolder: 'Which budget?' },
          );
          if (!pick) return;
          scope = pick.scope;
        }
        scope ??= 'task';
        const typed = await vscode.window.showInputBox({
          title: scope === 'day' ? "Raise today's budget" : "Raise this task's budget",
          prompt: 'The new budget: US dollars (4usd, $4.50) or tokens (100000tokens). Recorded on the audit trail as yours.',
          validateInput: budgetInputError,
          ignoreFocusOut: true,
        });
        if (typed === undefined) return;
        const to = parseBudget(typed);
        const r = await deputy.request(RaiseBudget.type, { sessionId, scope, to });
        if (isFailure(r)) {
          await deputy.showFailure(r);
          return;
        }
        void vscode.window.showInformationMessage(`Budget set to ${formatAmount(to.unit, to.amount)}. Send a follow-up to let the agent go on.`);
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
    ...identityCommands(deputy),
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
        await offerRestart(deputy, 'a new API key');
      },
    },
    'deputy.setAuditSigningKey': {
      server: false,
      async run() {
        const choice = (
          await vscode.window.showQuickPick(
            [
              { label: 'Generate a new key', description: 'Ed25519; you save the public key for auditors', id: 'generate' },
              { label: 'Import a key file…', description: 'an Ed25519 private key in PEM (deputy audit keygen)', id: 'import' },
              { label: 'Remove the key', description: 'digests are no longer signed', id: 'remove' },
            ],
            { placeHolder: 'Sign the audit trail with… (the private key stays in VS Code\'s secret storage)' },
          )
        )?.id;
        if (!choice) return;
        if (choice === 'remove') {
          await deputy.context.secrets.delete(SECRET_KEYS.audit);
        } else if (choice === 'generate') {
          const key = generateSigningKey();
          const target = await vscode.window.showSaveDialog({
            title: 'Save the public key (give it to whoever verifies the audit trail)',
            saveLabel: 'Save public key',
            filters: { 'PEM public key': ['pem'] },
          });
          if (!target) return;
          await vscode.workspace.fs.writeFile(target, Buffer.from(key.publicKeyPem, 'utf8'));
          await deputy.context.secrets.store(SECRET_KEYS.audit, key.privateKeyPem);
          await tellSigning(deputy, key.keyId, `Public key saved to ${target.fsPath}.`);
          return;
        } else {
          const [file] = (await vscode.window.showOpenDialog({ canSelectMany: false, title: 'Ed25519 private key (PEM)' })) ?? [];
          if (!file) return;
          const pem = Buffer.from(await vscode.workspace.fs.readFile(file)).toString('utf8');
          let keyId: string;
          try {
            keyId = pemSigner(pem).keyId;
          } catch (err) {
            void vscode.window.showErrorMessage((err as Error).message);
            return;
          }
          await deputy.context.secrets.store(SECRET_KEYS.audit, pem);
          await tellSigning(deputy, keyId, `You can delete ${file.fsPath} now.`);
          return;
        }
        const inUse = await offerRestart(deputy, 'the audit signing key removed');
        void vscode.window.showInformationMessage(inUse ? 'Audit digests are no longer signed.' : 'Audit digests are signed until the Deputy server restarts.');
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
        await deputy.server.restart('Deputy: Restart Server');
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
    'deputy.report': {
      server: true,
      async run() {
        const folders = vscode.workspace.workspaceFolders ?? [];
        if (folders.length === 0) {
          void vscode.window.showInformationMessage('Open a folder first: the report reads its audit trail.');
          return;
        }
        const out = await vscode.window.showSaveDialog({
          title: 'Save the Deputy report (one HTML file)',
          defaultUri: vscode.Uri.joinPath(folders[0]!.uri, `deputy-report-${new Date().toISOString().slice(0, 10)}.html`),
          filters: { HTML: ['html'] },
        });
        if (!out) return;
        const r = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Deputy: reading and verifying the audit trails…' },
          () => deputy.request(Report.type, { folderUris: folders.map((f) => f.uri.toString()), out: out.fsPath }),
        );
        if (!r.ok) {
          void vscode.window.showErrorMessage(r.message);
          return;
        }
        const pick = await vscode.window.showInformationMessage(`Report written to ${out.fsPath}.`, 'Open in Browser');
        if (pick) await vscode.env.openExternal(out);
      },
    },
    'deputy.openAuditFolder': {
      server: false,
      async run() {
        const folder = await pickFolder();
        if (!folder) return;
        const dir = join(folder.uri.fsPath, '.deputy', 'audit');
        if (!(await stat(dir).then((s) => s.isDirectory()).catch(() => false))) {
          void vscode.window.showInformationMessage(`${folder.name} has no audit trail yet: it starts with the first task.`);
          return;
        }
        // A desktop window opens the OS file manager; a browser or remote window can only show it in the Explorer.
        const local = vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName;
        await vscode.commands.executeCommand(local ? 'revealFileInOS' : 'revealInExplorer', vscode.Uri.file(join(dir, 'audit.jsonl')));
      },
    },
    'deputy.dispatchMarker': {
      server: true,
      async run(args) {
        if (isDispatchArgs(args)) await dispatchMarker(deputy, panel, args, false);
      },
    },
    'deputy.dispatchMarkerWithOptions': {
      server: true,
      async run(args) {
        if (isDispatchArgs(args)) await dispatchMarker(deputy, panel, args, true);
      },
    },
    'deputy.symbolAction': {
      server: true,
      async run(args) {
        if (isSymbolActionArgs(args)) await dispatchSymbolAction(deputy, panel, args);
      },
    },
    'deputy.reviewChanges': {
      server: true,
      async run(args) {
        // From the "Review N agent changes" lens: that file's session.
        const fromLens = args && typeof args === 'object' && typeof (args as TaskLens.ReviewArgs).sessionId === 'string' ? (args as TaskLens.ReviewArgs).sessionId : undefined;
        if (fromLens) {
          await vscode.commands.executeCommand('deputy.openPanel', fromLens);
          return;
        }
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

/**
 * Keys reach the server only at spawn: a running server needs a restart to use a new one. Resolves once the server
 * that will serve the next request has the key (true), or false when the person chose to restart later.
 */
async function offerRestart(deputy: Deputy, why: string): Promise<boolean> {
  // Not started: the first start reads the new key. Starting: it may have read the keys before this change, so it is
  // let finish and then restarted like a running one.
  if (!deputy.server.running && !deputy.server.busy) return true;
  await deputy.server.ensure().catch(() => undefined);
  const running = deputy.state.running();
  const pick =
    running === 0
      ? 'Restart'
      : await vscode.window.showInformationMessage(
          `The new key is used after the Deputy server restarts. ${running} session${running === 1 ? ' is' : 's are'} running; they reattach after the restart.`,
          'Restart',
          'Later',
        );
  if (pick !== 'Restart') return false;
  await deputy.server.restart(why);
  return true;
}

/**
 * Says the signing key is in use only once it is: after the restart that hands it to the server (a task started
 * before that would be written by the old server, unsigned), or that it waits for a restart the person put off.
 */
async function tellSigning(deputy: Deputy, keyId: string, more: string): Promise<void> {
  const inUse = await offerRestart(deputy, 'a new audit signing key');
  void vscode.window.showInformationMessage(
    inUse
      ? `Audit digests are signed with ${keyId}. ${more}`
      : `Audit digests will be signed with ${keyId} after the Deputy server restarts (Deputy: Restart Server). ${more}`,
  );
}

export function registerCommands(deputy: Deputy, panel: PanelProvider): vscode.Disposable[] {
  return Object.entries({ ...commandTable(deputy, panel), ...reviewCommandTable(deputy) }).map(([id, spec]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      if (spec.server) {
        const why = deputy.server.notReadyReason;
        if (why) {
          const pick = await vscode.window.showWarningMessage(why, 'Show Log', 'Restart Server');
          if (pick === 'Show Log') deputy.log.show();
          if (pick === 'Restart Server') await deputy.server.restart('Restart Server, from a command that could not run').catch(() => undefined);
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

function isDispatchArgs(a: unknown): a is TaskLens.DispatchArgs {
  const d = a as TaskLens.DispatchArgs;
  return !!a && typeof d.uri === 'string' && typeof d.line === 'number' && typeof d.endLine === 'number' && typeof d.task === 'string' && typeof d.marker === 'string';
}

function isSymbolActionArgs(a: unknown): a is SymbolActionArgs {
  const d = a as SymbolActionArgs;
  return !!a && typeof d.uri === 'string' && typeof d.line === 'number' && typeof d.character === 'number' && typeof d.name === 'string' && typeof d.prompt === 'string';
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder\'s audit trail?' });
}

