/**
 * Every session this server hosts, across the window's folders: start, follow up, stop, list, and attach to the
 * sessions an endpoint still holds for a folder (found by Deputy's metadata: `deputy.workspace` is the folder's hash).
 * Settings and keys live here, handed in by `main.ts`; nothing here talks to the LSP connection directly.
 */
import { fileURLToPath } from 'node:url';
import type { EngineEvent } from '../protocol/events.js';
import type {
  ConflictVersions,
  FollowUp,
  ListSessions,
  PendingChangeset,
  RequestFailure,
  RevertableTasks,
  RevertTask,
  ServerSecrets,
  ServerSettings,
  StartTask,
} from '../protocol/lsp.js';
import { userInfo } from 'node:os';
import { revertableTasks } from '../core/changeset/pre-images.js';
import { revertById } from '../core/revert.js';
import { DiskWorkspaceFiles, type WorkspaceFiles } from '../core/workspace-files.js';
import type { SessionSummary } from '../protocol/webview.js';
import { KnownSecrets } from '../core/redact.js';
import { EventLog, type EventInput } from './event-log.js';
import { classify } from './failures.js';
import { Folder } from './folder.js';
import { PromptBroker } from './prompt-broker.js';
import type { AuditSigner } from '../core/audit-digest.js';
import { resolveAuditSigner } from '../identity/audit-signer.js';
import { HostedSession, type HostDeps } from './session-host.js';
import { readTranscript } from './transcript.js';

export interface RegistryDeps {
  settings: ServerSettings;
  secrets: ServerSecrets;
  env: NodeJS.ProcessEnv;
  /** Deputy's client name and version for session provenance (`deputy.client`). */
  clientName: string;
  sendEvents(sessionId: string, events: EngineEvent[]): void;
  sessionsChanged(sessions: SessionSummary[]): void;
  /** The open changesets changed (one opened, a file decided, one closed): the "Changes" tree and its badge. */
  changesetsChanged?(changesets: PendingChangeset[]): void;
  /** The editor's file-system port for a folder, when the client offers one; the disk otherwise. */
  editorFiles?(folderUri: string): WorkspaceFiles;
  health(health: 'ok' | 'starting' | 'error', message: string): void;
  log(line: string): void;
}

export class SessionRegistry {
  private readonly folders = new Map<string, Promise<Folder>>();
  private folderRoots: string[] = [];
  /** Folder path → the URI the client named it by (the editor's port addresses folders by URI). */
  private folderUris = new Map<string, string>();
  private readonly sessions = new Map<string, HostedSession>();
  private readonly events: EventLog;
  readonly broker: PromptBroker;
  private changeScheduled = false;
  /** The keys handed over at spawn: scrubbed from every message this server words. */
  readonly known: KnownSecrets;

  constructor(private readonly deps: RegistryDeps) {
    this.known = new KnownSecrets([deps.secrets.modelApiKey, deps.secrets.openaiApiKey]);
    this.events = new EventLog((id, events) => deps.sendEvents(id, events));
    this.broker = new PromptBroker({
      emit: (id, e) => this.emit(id, e),
      timeoutMs: () => Math.max(0.001, this.deps.settings.promptTimeoutMinutes) * 60_000,
      changed: () => this.changed(),
      describe: (id) => {
        const s = this.sessions.get(id)?.summary();
        return s ? { task: s.task, folder: s.folder ?? '' } : undefined;
      },
    });
  }

  /** Every changeset waiting for a person, across sessions. */
  pendingChangesets(): PendingChangeset[] {
    return this.broker.changesets.list();
  }

  /** The tasks of a folder whose applied changes can be reverted (kept under `.deputy/`, so they survive restarts). */
  async revertable(p: RevertableTasks.Params): Promise<RevertableTasks.Result> {
    const folder = await this.folder(p.folderUri);
    return { tasks: await revertableTasks(folder.root) };
  }

  /** "Revert this task's changes": through the editor when it offers its port, audited as the local user. */
  async revert(p: RevertTask.Params): Promise<RevertTask.Result> {
    try {
      const folder = await this.folder(p.folderUri);
      const done = await revertById(folder.root, p.id, this.filesFor(folder), folder.audit, { principal: userInfo().username });
      if (!done) return { failure: { kind: 'internal', message: `No task with changes to revert matches "${p.id}" in ${folder.name}.` } };
      for (const id of done.sessionIds) if (this.sessions.has(id)) this.emit(id, { type: 'changeset.reverted', taskId: done.taskId, results: done.results });
      return { results: done.results };
    } catch (err) {
      return { failure: classify(err, this.deps.settings, this.known) };
    }
  }

  /** Both versions of a conflict: the agent's base and proposal as known, the current text as the person sees it. */
  async conflictVersions(p: ConflictVersions.Params): Promise<ConflictVersions.Result> {
    const host = this.sessions.get(p.sessionId);
    const kept = this.broker.changesets.conflict(p.sessionId, p.changesetId, p.binding);
    if (!host || !kept) return { failure: { kind: 'internal', message: 'This conflict is no longer known; the file may have been proposed again.' } };
    const [now] = await this.filesFor(host.folder).read([kept.path]);
    return { path: kept.path, base: kept.base, current: now?.content ?? null, proposed: kept.proposed, conflict: { ...kept.conflict, currentSha256: now?.sha256 ?? null } };
  }

  private readonly filePorts = new Map<string, WorkspaceFiles>();

  private filesFor(folder: Folder): WorkspaceFiles {
    let port = this.filePorts.get(folder.root);
    if (!port) {
      const uri = this.folderUris.get(folder.root);
      port = uri !== undefined && this.deps.editorFiles ? this.deps.editorFiles(uri) : new DiskWorkspaceFiles(folder.workspace);
      this.filePorts.set(folder.root, port);
    }
    return port;
  }

  setFolders(uris: string[]): void {
    this.folderRoots = uris.map(toPath);
    this.folderUris = new Map(uris.map((u) => [toPath(u), u]));
  }

  configure(settings: ServerSettings): void {
    this.deps.settings = settings;
  }

  get settings(): ServerSettings {
    return this.deps.settings;
  }

  async startTask(p: StartTask.Params): Promise<StartTask.Result> {
    const settings = this.deps.settings;
    try {
      const folder = await this.folder(p.folderUri);
      this.deps.health('starting', `Connecting to ${settings.endpoint === 'embedded' ? 'the embedded runtime' : settings.endpoint}…`);
      const connection = await folder.connection(settings, this.deps.secrets, this.deps.env);
      const message = p.context ? `${p.prompt}\n\n${p.context.label}:\n\`\`\`\n${p.context.text}\n\`\`\`` : p.prompt;
      const budget = p.budgetUsd ?? settings.budgetPerTaskUsd;
      const host = await HostedSession.start(this.hostDeps(folder, connection), {
        prompt: p.prompt,
        message,
        model: p.model ?? settings.model,
        ...(budget !== undefined ? { budgetUsd: budget } : {}),
        policy: await folder.policy(settings.workspaceTrusted),
        client: this.deps.clientName,
      });
      this.sessions.set(host.id, host);
      this.deps.health('ok', this.healthLine());
      this.changed();
      return { sessionId: host.id };
    } catch (err) {
      const failure = classify(err, settings, this.known);
      this.deps.log(`start task: ${failure.message}`);
      this.deps.health('error', failure.message);
      return { failure };
    }
  }

  followUp(p: FollowUp.Params): FollowUp.Result {
    const host = this.sessions.get(p.sessionId);
    if (!host) return unknownSession();
    return host.followUp(p.text) ?? { accepted: true };
  }

  stop(sessionId: string): boolean {
    return this.sessions.get(sessionId)?.stop() ?? false;
  }

  stopAll(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.stop()) n++;
    return n;
  }

  /** Stops every running session and resolves, with how many, once their turns have ended (Stop all). */
  async stopAllSettled(): Promise<number> {
    const running = [...this.sessions.values()].filter((s) => s.stop());
    await Promise.all(running.map((s) => s.settled()));
    return running.length;
  }

  /** With `attach`, every folder's endpoint is asked for its Deputy sessions; those not hosted yet are attached. */
  async list(p: ListSessions.Params): Promise<ListSessions.Result> {
    if (p.attach) {
      for (const root of this.folderRoots) {
        await this.attachFolder(root).catch((err: unknown) => {
          const failure = classify(err, this.deps.settings, this.known);
          this.deps.log(`attach ${root}: ${failure.message}`);
          this.deps.health('error', failure.message);
        });
      }
    }
    return { sessions: this.summaries() };
  }

  eventsAfter(sessionId: string, afterSeq: number): EngineEvent[] | RequestFailure {
    return this.events.after(sessionId, afterSeq) ?? unknownSession();
  }

  running(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.running) n++;
    return n;
  }

  /** Server shutdown: stop following (sessions go on at the endpoint), close the trails and runtimes. */
  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.detach().catch(() => undefined);
    for (const f of this.folders.values()) await (await f.catch(() => undefined))?.close();
  }

  private async attachFolder(root: string): Promise<void> {
    const folder = await this.folder(root);
    const settings = this.deps.settings;
    const connection = await folder.connection(settings, this.deps.secrets, this.deps.env);
    const client = connection.client;
    const found = [];
    for await (const s of client.beta.agents.sessions.list({ metadata: { 'deputy.workspace': folder.hash }, limit: 100 })) {
      // The filter is the endpoint's; check it here too, so another workspace's session is never attached.
      if (s.metadata?.['deputy.workspace'] === folder.hash && s.metadata?.['deputy.task']) found.push(s);
      if (found.length >= 200) break;
    }
    for (const s of found) {
      if (this.sessions.has(s.id)) continue;
      const { task, events } = await readTranscript(client, s.id);
      const host = HostedSession.attach(this.hostDeps(folder, connection), s, task, events, await folder.policy(settings.workspaceTrusted));
      this.sessions.set(host.id, host);
    }
    this.deps.health('ok', this.healthLine());
    this.changed();
  }

  private hostDeps(folder: Folder, connection: HostDeps['connection']): HostDeps {
    return {
      folder,
      connection,
      broker: this.broker,
      emit: (id, e) => this.emit(id, e),
      settings: () => this.deps.settings,
      known: this.known,
      changed: () => this.changed(),
      log: (l) => this.deps.log(l),
      files: this.filesFor(folder),
    };
  }

  private folder(uri: string | undefined): Promise<Folder> {
    const root = uri ? toPath(uri) : this.folderRoots[0];
    if (!root) return Promise.reject(new Error('Open a folder first: Deputy works in a workspace folder.'));
    if (!this.folderRoots.includes(root)) return Promise.reject(new Error(`${root} is not a folder of this workspace.`));
    let f = this.folders.get(root);
    if (!f) {
      f = this.auditSigner().then((signer) => Folder.open(root, signer));
      this.folders.set(root, f);
      f.catch(() => this.folders.delete(root));
    }
    return f;
  }

  /** The key that signs every folder's audit digests (SecretStorage, else the environment), resolved once. */
  private signer: Promise<AuditSigner | undefined> | undefined;
  private auditSigner(): Promise<AuditSigner | undefined> {
    this.signer ??= resolveAuditSigner(this.deps.env, {
      ...(this.deps.secrets.auditSigningKey ? { pem: this.deps.secrets.auditSigningKey } : {}),
      ...(this.deps.settings.bedrockProfile ? { profile: this.deps.settings.bedrockProfile } : {}),
    });
    return this.signer;
  }

  private emit(sessionId: string, e: EventInput): void {
    this.events.emit(sessionId, e);
  }

  private summaries(): SessionSummary[] {
    return [...this.sessions.values()].map((s) => s.summary()).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  private healthLine(): string {
    const n = this.running();
    return n === 0 ? 'Deputy: ready' : `Deputy: ${n} session${n === 1 ? '' : 's'} running`;
  }

  /** One sessions-changed notification per tick, however many things changed in it. */
  private changed(): void {
    if (this.changeScheduled) return;
    this.changeScheduled = true;
    setImmediate(() => {
      this.changeScheduled = false;
      this.deps.sessionsChanged(this.summaries());
      this.deps.changesetsChanged?.(this.pendingChangesets());
    });
  }
}

function unknownSession(): RequestFailure {
  return { failure: { kind: 'internal', message: 'This session is not hosted by Deputy in this window any more; reopen the panel to refresh the list.' } };
}

function toPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}
