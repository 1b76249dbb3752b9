/**
 * Deputy's language server: the process that hosts the engine for VS Code (DESIGN.md §4). It speaks LSP over stdio
 * or node IPC (whichever the client asked for on the command line), declares its custom messages in
 * src/protocol/lsp.ts, resolves credentials itself, and starts the embedded runtime on demand. No engine error may
 * end this process: a failure ends one session's turn with a message, and anything that still escapes is logged.
 */
import { createConnection, ProposedFeatures, TextDocuments, type Connection as LspConnection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEPUTY_VERSION } from '../cli/version.js';
import { redactText } from '../core/redact.js';
import {
  AnswerPrompt,
  ChangesetsChanged,
  ConflictVersions,
  PendingChangesets,
  RevertableTasks,
  RevertTask,
  ReviewChangeset,
  AuditTimeline,
  Configure,
  ExportAudit,
  FollowUp,
  RaiseBudget,
  GetIdentity,
  IdentityChanged,
  ListProfiles,
  ListSessions,
  OpenExternal,
  SignIn,
  SignInProgress,
  SignOut,
  ProposedFile,
  Report,
  ReviewFiles,
  ServerStatus,
  SessionEventLog,
  SessionEvents,
  SessionsChanged,
  StartTask,
  StopAll,
  StopSession,
  VerifyAudit,
  type ServerInitOptions,
} from '../protocol/lsp.js';
import { exportAuditRequest, reportRequest, verifyAuditRequest } from './audit-requests.js';
import { KillSwitch } from '../core/kill-switch.js';
import { stopAll } from './stop-all.js';
import { systemClock } from './identity-monitor.js';
import { EditorWorkspaceFiles } from './editor-files.js';
import { CodeLensService } from './code-lenses.js';
import { SessionRegistry } from './registry.js';
import { signInRequest } from './sign-in-request.js';
import { takeSecrets } from './secrets.js';
import { POLICY_SYNC, wirePolicyDiagnostics } from './policy-diagnostics.js';

/** One server per process: its connection, keys and registry live in this scope, not in module state. */
function serve(): void {
  // Keys first, before anything else can read the environment or the file.
  const { secrets, problem } = takeSecrets(process.env);
  const connection = createConnection(ProposedFeatures.all);
  // Filled only while the code lenses are on (they register document sync dynamically): see code-lenses.ts.
  const documents = new TextDocuments(TextDocument);
  let registry: SessionRegistry | undefined;
  let killSwitch: Promise<KillSwitch | undefined> | undefined;
  let lenses: CodeLensService | undefined;
  let initialSettings: ServerInitOptions['settings'] | undefined;

  function log(line: string): void {
    connection.console.log(redactText(line, registry?.known));
  }

  process.on('unhandledRejection', (reason) => log(`internal error (kept running): ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`));
  process.on('uncaughtException', (err) => log(`internal error (kept running): ${err.stack ?? err.message}`));

  connection.onInitialize(async (params) => {
    const init = params.initializationOptions as ServerInitOptions;
    registry = new SessionRegistry({
      settings: init.settings,
      secrets,
      env: process.env,
      clientName: `deputy-vscode/${init.clientVersion || DEPUTY_VERSION}`,
      sendEvents: (sessionId, events) => void connection.sendNotification(SessionEvents.type, { sessionId, events }),
      sessionsChanged: (sessions) => {
        void connection.sendNotification(SessionsChanged.type, { sessions });
        // Changesets opened or decided: the "Review N agent changes" lenses follow.
        lenses?.refresh();
        status('ok', registry?.running() ? `${registry.running()} running` : 'ready');
      },
      health: (health, message) => status(health, message),
      changesetsChanged: (changesets) => void connection.sendNotification(ChangesetsChanged.type, { changesets }),
      ...(init.editorFiles ? { editorFiles: (folderUri: string) => new EditorWorkspaceFiles(connection, folderUri) } : {}),
      log,
      identity: (s) => void connection.sendNotification(IdentityChanged.type, s),
      clock: systemClock,
      signedOutProfiles: init.signedOutProfiles ?? [],
    });
    registry.setFolders((params.workspaceFolders ?? []).map((f) => f.uri));
    const r = registry;
    lenses = new CodeLensService({ connection, documents, unreviewed: () => r.unreviewedByPath(), log });
    initialSettings = init.settings;
    wire(connection, registry, lenses, () => killSwitch);
    // Stop all, pulled from any window or terminal, stops this window's sessions too. The client sends nothing before
    // this answer, so awaiting the registration here means no session starts in a window Stop all would miss.
    killSwitch = KillSwitch.register(process.env, { kind: 'editor', describe: `VS Code window (${(params.workspaceFolders ?? []).map((f) => f.name).join(', ') || 'no folder'})` }, () => r.stopAllSettled(), log).catch(
      (err: unknown) => {
        log(`Stop all is not available in this window: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      },
    );
    wirePolicyDiagnostics(connection, documents);
    if (problem) log(`secrets: ${problem}`);
    await killSwitch;
    return {
      capabilities: { workspace: { workspaceFolders: { supported: true, changeNotifications: true } }, textDocumentSync: POLICY_SYNC },
      serverInfo: { name: 'deputy', version: DEPUTY_VERSION },
    };
  });

  connection.onInitialized(() => {
    void registry?.identity.refresh();
    // Dynamic registration is allowed only once the client is initialised.
    lenses?.configure(initialSettings?.codeLens);
    connection.workspace.onDidChangeWorkspaceFolders(() => {
      void connection.workspace.getWorkspaceFolders().then((folders) => registry?.setFolders((folders ?? []).map((f) => f.uri)));
    });
  });

  connection.onShutdown(async () => {
    await (await killSwitch)?.close();
    await registry?.close();
  });

  function status(health: ServerStatus.Params['health'], message: string): void {
    void connection.sendNotification(ServerStatus.type, { health, message, runningSessions: registry?.running() ?? 0 });
  }

  documents.listen(connection);
  connection.listen();
}

serve();

function wire(c: LspConnection, r: SessionRegistry, lenses: CodeLensService, registered: () => Promise<unknown> | undefined): void {
  c.onRequest(StartTask.type, (p) => r.startTask(p));
  c.onRequest(FollowUp.type, (p) => r.followUp(p));
  c.onRequest(RaiseBudget.type, (p) => r.raiseBudget(p));
  c.onRequest(StopSession.type, (p) => ({ stopped: r.stop(p.sessionId) }));
  c.onRequest(StopAll.type, async () => {
    // This window answers its own pull like any other: wait for its registration (made at initialize) to be on file.
    await registered();
    return stopAll(r.stopAllEnv(), (text) => redactText(text, r.known));
  });
  c.onRequest(ListSessions.type, (p) => r.list(p));
  c.onRequest(SessionEventLog.type, (p) => {
    const events = r.eventsAfter(p.sessionId, p.afterSeq);
    return Array.isArray(events) ? { events } : events;
  });
  c.onRequest(AnswerPrompt.type, (p) => ({ accepted: r.broker.answer(p.sessionId, p.binding, p.decision, p.comment) }));
  c.onRequest(ReviewChangeset.type, (p) => r.broker.changesets.decide(p));
  c.onRequest(ReviewFiles.type, (p) => ({ accepted: r.broker.changesets.decideCoarse(p.sessionId, p.changesetId, p.bindings, p.verdict, p.comment) }));
  c.onRequest(ProposedFile.type, (p) => {
    const f = r.broker.changesets.file(p.sessionId, p.changesetId, p.binding);
    return f ?? { failure: { kind: 'internal', message: 'This proposed file is no longer open for review.' } };
  });
  c.onRequest(PendingChangesets.type, () => ({ changesets: r.pendingChangesets() }));
  c.onRequest(ConflictVersions.type, (p) => r.conflictVersions(p));
  c.onRequest(RevertableTasks.type, (p) => r.revertable(p));
  c.onRequest(RevertTask.type, (p) => r.revert(p));
  c.onRequest(VerifyAudit.type, (p) => verifyAuditRequest(p));
  c.onRequest(ExportAudit.type, (p) => exportAuditRequest(p));
  c.onRequest(Report.type, (p) => reportRequest(p));
  c.onRequest(GetIdentity.type, (p) => (p.refresh ? r.identity.refresh() : r.identity.status));
  c.onRequest(ListProfiles.type, () => r.profiles());
  c.onRequest(SignOut.type, (p) => r.signOut(p));
  c.onRequest(SignIn.type, (p, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return signInRequest(p, abort.signal, {
      env: process.env,
      currentProfile: () => r.identity.profile(),
      openExternal: (url) => c.sendRequest(OpenExternal.type, { url }).then((x) => x.opened, () => false),
      progress: (x) => void c.sendNotification(SignInProgress.type, x),
      log: (l) => c.console.log(redactText(l, r.known)),
      signedIn: (profiles) => r.signedIn(profiles),
    });
  });
  c.onRequest(AuditTimeline.type, (p) => r.auditTimeline(p.sessionId));
  c.onNotification(Configure.type, (s) => {
    r.configure(s);
    lenses.configure(s.codeLens);
  });
}
