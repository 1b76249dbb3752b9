/**
 * Every session this server hosts, across the window's folders: start, follow up, stop, list, and attach to the
 * sessions an endpoint still holds for a folder (found by Deputy's metadata: `deputy.workspace` is the folder's hash).
 * Settings and keys live here, handed in by `main.ts`; nothing here talks to the LSP connection directly.
 */
import { ORG_POLICY_ENV } from '../core/policy-sources.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultAuditFile } from '../core/audit.js';
import { sessionTimeline } from '../core/audit-timeline.js';
import type { EngineEvent } from '../protocol/events.js';
import type {
  ConflictVersions,
  FollowUp,
  ListSessions,
  PendingChangeset,
  RaiseBudget,
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
import type { AuditTimeline } from '../protocol/lsp.js';
import type { SessionSummary } from '../protocol/webview.js';
import { KnownSecrets } from '../core/redact.js';
import { SignInWait } from '../core/sign-in-wait.js';
import { listProfiles, SignInRequiredError, type AwsCredentialIdentity, type AwsCredentialsProvider } from '../identity/index.js';
import type { IdentityStatus, ListProfiles as ListProfilesMessage, SignIn, SignOut } from '../protocol/lsp.js';
import { profileOf, rememberedEndpointOf, type ConnectHooks } from './endpoint.js';
import { rememberEndpoint } from '../core/kill-switch-orphans.js';
import { principalOf } from '../core/cedar/request.js';
import { IdentityMonitor, type Clock } from './identity-monitor.js';
import { EventLog, type EventInput } from './event-log.js';
import { classify } from './failures.js';
import { Folder } from './folder.js';
import { PromptBroker } from './prompt-broker.js';
import type { AuditSigner } from '../core/audit-digest.js';
import { resolveAuditSigner } from '../identity/audit-signer.js';
import { environmentUnavailable } from './session-environment.js';
import { HostedSession, type HostDeps } from './session-host.js';
import { readTranscript } from './transcript.js';
import { agentSessions } from '../agents/session-client.js';
import { DaySpendLedger } from '../core/day-spend.js';
import { budgetFor, withEndpointOf } from './task-settings.js';

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
  /** The acting identity changed (IdentityChanged). */
  identity(status: IdentityStatus): void;
  clock: Clock;
  /** Profiles the person signed out of in Deputy, remembered by the client. */
  signedOutProfiles: string[];
}

/** How long Stop all waits for an endpoint to confirm a cancel before it stops following the turn. */
const STOP_CONFIRM_MS = 5000;

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
  readonly identity: IdentityMonitor;
  private readonly signedOut: Set<string>;
  private readonly signInWait: SignInWait;
  private readonly hooks: ConnectHooks;
  /** Today's spend across every Deputy process of this person (`~/.deputy/spend`). */
  private readonly ledger: DaySpendLedger;

  constructor(private readonly deps: RegistryDeps) {
    this.ledger = DaySpendLedger.forHome(deps.env);
    this.known = new KnownSecrets([deps.secrets.modelApiKey, deps.secrets.openaiApiKey]);
    this.signedOut = new Set(deps.signedOutProfiles);
    this.identity = new IdentityMonitor({
      env: deps.env,
      settings: () => this.deps.settings,
      clock: deps.clock,
      signedOut: this.signedOut,
      log: (l) => deps.log(l),
      publish: (status) => {
        deps.identity(status);
        // A sign-in made elsewhere (`aws sso login`, another window) also ends a pause.
        if (status.state === 'signedIn' && status.profile) this.signInWait.signedIn(status.profile);
        if (status.state === 'signedIn' && status.ssoProfile) this.signInWait.signedIn(status.ssoProfile);
      },
    });
    this.signInWait = new SignInWait({
      signInNeeded: (err) => (err instanceof SignInRequiredError ? { profile: err.profile, reason: err.reason } : null),
      // As long as a person has to answer a prompt: the same deadline for the same kind of wait.
      maxWaitMs: Math.max(0.001, deps.settings.promptTimeoutMinutes) * 60_000,
      paused: (id, need) => {
        this.sessions.get(id)?.paused(need);
        void this.identity.refresh();
      },
      resumed: (id, profile) => this.sessions.get(id)?.resumed(profile),
    });
    this.hooks = { credentials: (provider, profile) => this.signInWait.wrap(this.gated(provider, profile)) };
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
    const before = this.deps.settings;
    this.deps.settings = settings;
    if (before.endpoint !== settings.endpoint || before.bedrockProfile !== settings.bedrockProfile || before.bedrockRegion !== settings.bedrockRegion) {
      void this.identity.refresh();
    }
  }

  /** Sign-in succeeded for these profiles: Deputy uses them again, and sessions paused for them go on. */
  async signedIn(profiles: string[]): Promise<SignIn.Result> {
    for (const p of profiles) this.signedOut.delete(p);
    const identity = await this.identity.refresh();
    for (const p of profiles) this.signInWait.signedIn(p);
    return { identity };
  }

  /** Deputy stops using the profile's cached sign-in; the AWS CLI's cache stays as it is. */
  async signOut(p: SignOut.Params): Promise<SignOut.Result> {
    const profile = p.profile || this.identity.profile();
    if (profile) this.signedOut.add(profile);
    const identity = await this.identity.refresh();
    return { identity, ...(profile ? { profile } : {}) };
  }

  async profiles(): Promise<ListProfilesMessage.Result> {
    const all = await listProfiles(this.deps.env);
    const current = this.identity.profile();
    return {
      profiles: all.map((p) => ({
        name: p.name,
        kind: p.kind,
        ...(p.accountId ? { accountId: p.accountId } : {}),
        ...(p.roleName ? { roleName: p.roleName } : {}),
        ...(p.region ? { region: p.region } : {}),
      })),
      ...(current ? { current } : {}),
    };
  }

  private gated(provider: AwsCredentialsProvider, profile: string | undefined): () => Promise<AwsCredentialIdentity> {
    return async () => {
      if (profile && this.signedOut.has(profile)) throw new SignInRequiredError(profile, 'signedOut');
      return await provider();
    };
  }

  /** A remote endpoint keeps a session if this window dies: Stop all must be able to find it there (`kill-switch-orphans.ts`). */
  private async rememberEndpoint(root: string, settings: ServerSettings): Promise<void> {
    const remote = rememberedEndpointOf(root, settings, this.deps.secrets, this.deps.env);
    if (!remote) return;
    await rememberEndpoint(this.deps.env, remote).catch((err: unknown) => {
      this.deps.log(`Stop all will not find this session if this window dies (${err instanceof Error ? err.message : String(err)})`);
    });
  }

  /** The environment Stop all reaches remembered endpoints with: the OpenAI key from SecretStorage, if one was set. */
  stopAllEnv(): NodeJS.ProcessEnv {
    return this.deps.secrets.openaiApiKey ? { ...this.deps.env, OPENAI_API_KEY: this.deps.secrets.openaiApiKey } : this.deps.env;
  }

  get settings(): ServerSettings {
    return this.deps.settings;
  }

  async startTask(p: StartTask.Params): Promise<StartTask.Result> {
    const settings = this.deps.settings;
    try {
      const profile = this.identity.profile();
      if (profile && this.signedOut.has(profile)) throw new SignInRequiredError(profile, 'signedOut');
      const folder = await this.folder(p.folderUri);
      this.deps.health('starting', `Connecting to ${settings.endpoint === 'embedded' ? 'the embedded runtime' : settings.endpoint}…`);
      const connection = await folder.connection(settings, this.deps.secrets, this.deps.env, this.hooks);
      await this.rememberEndpoint(folder.root, settings);
      const unavailable = p.environment ? environmentUnavailable(connection) : undefined;
      if (unavailable) {
        this.deps.health('ok', this.healthLine());
        return { failure: { kind: 'invalidSetting', message: unavailable } };
      }
      const message = p.context ? `${p.prompt}\n\n${p.context.label}:\n\`\`\`\n${p.context.text}\n\`\`\`` : p.prompt;
      const budget = budgetFor(p, settings);
      const host = await HostedSession.start(this.hostDeps(folder, connection, settings), {
        prompt: p.prompt,
        message,
        model: p.model ?? settings.model,
        ...(budget ? { budget } : {}),
        // Decided for the person this connection acts as, with the profile their identity came through.
        policy: (await folder.policy(settings.workspaceTrusted, settings.policyOrgFile ?? this.deps.env[ORG_POLICY_ENV])).withPrincipal(
          principalOf(connection.actor, { profile: profileOf(settings, this.deps.env) }),
        ),
        client: this.deps.clientName,
        ...(p.environment ? { environment: true } : {}),
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

  /** A person's new budget for a session's task or for today (never anything the agent sent). */
  async raiseBudget(p: RaiseBudget.Params): Promise<RaiseBudget.Result> {
    const host = this.sessions.get(p.sessionId);
    if (!host) return unknownSession();
    const { scope, to } = p;
    if ((scope !== 'task' && scope !== 'day') || (to?.unit !== 'usd' && to?.unit !== 'tokens') || !(Number.isFinite(to.amount) && to.amount > 0)) {
      return { failure: { kind: 'invalidSetting', message: 'A budget is a positive amount of US dollars or tokens, for the task or for today.' } };
    }
    try {
      return { meters: await host.raiseBudget(scope, { unit: to.unit, amount: to.amount }, host.actor) };
    } catch (err) {
      return { failure: classify(err, this.deps.settings, this.known) };
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
    // An endpoint that never confirms the cancel must not hold Stop all (nor shutdown) for ever: after a while the
    // turn is no longer followed, as Ctrl-C does in `deputy run`.
    await Promise.all(running.map((s) => s.settled(STOP_CONFIRM_MS)));
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

  /**
   * Proposed files waiting for a verdict, by absolute path: how many, and the session of the latest. Read by the
   * code lenses; the review engine owns what "pending" means beyond this.
   */
  unreviewedByPath(): Map<string, { count: number; sessionId: string }> {
    const out = new Map<string, { count: number; sessionId: string }>();
    for (const f of this.broker.unreviewedFiles()) {
      const root = this.sessions.get(f.sessionId)?.folderRoot;
      if (!root) continue;
      const abs = join(root, ...f.path.split('/'));
      const seen = out.get(abs);
      out.set(abs, { count: (seen?.count ?? 0) + 1, sessionId: f.sessionId });
    }
    return out;
  }

  /** A hosted session's audit timeline, read and verified from its folder's trail. */
  async auditTimeline(sessionId: string): Promise<AuditTimeline.Result> {
    const host = this.sessions.get(sessionId);
    if (!host) return unknownSession();
    try {
      return await sessionTimeline(defaultAuditFile(host.folderRoot), sessionId);
    } catch (err) {
      return { failure: { kind: 'internal', message: `The audit trail could not be read: ${err instanceof Error ? err.message : String(err)}` } };
    }
  }

  running(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.running) n++;
    return n;
  }

  /** Server shutdown: stop following (sessions go on at the endpoint), close the trails and runtimes. */
  async close(): Promise<void> {
    this.identity.close();
    for (const s of this.sessions.values()) await s.detach().catch(() => undefined);
    for (const f of this.folders.values()) await (await f.catch(() => undefined))?.close();
  }

  private async attachFolder(root: string): Promise<void> {
    const folder = await this.folder(root);
    const settings = this.deps.settings;
    const connection = await folder.connection(settings, this.deps.secrets, this.deps.env, this.hooks);
    const client = connection.client;
    // The filter is the endpoint's; check it here too, so another workspace's session is never attached.
    const listed = await agentSessions(client).list({ metadata: { 'deputy.workspace': folder.hash }, limit: 100 }, 200);
    const found = listed.filter((s) => s.metadata?.['deputy.workspace'] === folder.hash && s.metadata?.['deputy.task']);
    for (const s of found) {
      if (this.sessions.has(s.id)) continue;
      const { task, events } = await readTranscript(client, s.id);
      const host = HostedSession.attach(this.hostDeps(folder, connection, settings), s, task, events, await folder.policy(settings.workspaceTrusted, settings.policyOrgFile ?? this.deps.env[ORG_POLICY_ENV]));
      this.sessions.set(host.id, host);
    }
    this.deps.health('ok', this.healthLine());
    this.changed();
  }

  /**
   * `at`: the settings the session's connection was made with. A session stays on that endpoint (a later "Select
   * Endpoint" is for new tasks), so what it says of its endpoint — the sessions list, its errors — comes from `at`,
   * every other setting from now.
   */
  private hostDeps(folder: Folder, connection: HostDeps['connection'], at: ServerSettings): HostDeps {
    return {
      ledger: this.ledger,
      folder,
      connection,
      broker: this.broker,
      emit: (id, e) => this.emit(id, e),
      settings: () => withEndpointOf(this.deps.settings, at),
      known: this.known,
      changed: () => this.changed(),
      log: (l) => this.deps.log(l),
      signInWait: this.signInWait,
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
    // A key that could not be had (KMS unreachable, a key file briefly unreadable) is tried again next time.
    this.signer.catch(() => {
      this.signer = undefined;
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
