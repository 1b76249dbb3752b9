/**
 * One session the server hosts, for as long as the window lives: its first turn, follow-ups (multi-turn, one at a
 * time), Stop, and — for a session found at the endpoint after a restart or reload — attaching to the turn under way.
 * One ToolRunner serves every turn, so what the agent read stays the base its later changes must match. No engine
 * error leaves this class: a failed turn ends with an `error` event and the session stays usable.
 */
import { randomUUID } from 'node:crypto';
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import { maxToolOutputBytesFor } from '../agents/endpoints.js';
import { agentSessions } from '../agents/session-client.js';
import type { AuditLog } from '../core/audit.js';
import { redactText, type KnownSecrets } from '../core/redact.js';
import { attachTurn, sendTurn, type SessionTurnDeps, type TurnOutcome } from '../core/session-turn.js';
import { createSession } from '../core/task.js';
import { EngineEvents } from '../core/event-channel.js';
import { OWNER_METADATA, ownerTag } from '../core/kill-switch-orphans.js';
import { ToolRunner } from '../core/tool-runner.js';
import { DEFAULT_MAX_PROMPTS, DEFAULT_MAX_STEPS } from '../core/turn-limits.js';
import type { Policy } from '../core/policy.js';
import type { SignInNeed, SignInWait } from '../core/sign-in-wait.js';
import type { SessionStatus } from '../protocol/events.js';
import type { RequestFailure, ServerSettings } from '../protocol/lsp.js';
import type { SessionSummary } from '../protocol/webview.js';
import type { Connection } from './endpoint.js';
import type { EventInput } from './event-log.js';
import { classify, describeEndpoint } from './failures.js';
import type { Folder } from './folder.js';
import type { WorkspaceFiles } from '../core/workspace-files.js';
import type { PromptBroker } from './prompt-broker.js';
import { openSessionEnvironment } from './session-environment.js';
import { panelListener } from './session-events.js';
import { budgetEventOf, SessionUsage } from './session-usage.js';
import { BudgetMeter, spendLimitCents, type BudgetLimit, type BudgetScope } from '../core/budget.js';
import type { DaySpendLedger } from '../core/day-spend.js';
import type { AuditActor } from '../core/audit.js';
import { parsePriceOverrides, priceFor, type ModelPrice } from '../core/prices.js';

/** How much later than the panel's deadline the engine withdraws a question itself. */
const PROMPT_DEADLINE_GRACE_MS = 5_000;
import type { DeputyTaskEnvironment } from '../environment/task-environment.js';

export interface HostDeps {
  folder: Folder;
  connection: Connection;
  broker: PromptBroker;
  emit(sessionId: string, event: EventInput): void;
  settings(): ServerSettings;
  known: KnownSecrets;
  /** The session list changed (status, pending prompts). */
  changed(): void;
  log(line: string): void;
  /** Where a turn's credential requests wait for a sign-in instead of failing. */
  signInWait: SignInWait;
  /** Where approved changes are read and written (the editor, or the disk). */
  files: WorkspaceFiles;
  /** Today's spend of every session of this person on this machine (`~/.deputy/spend`). */
  ledger: DaySpendLedger;
}

export interface StartParams {
  prompt: string;
  /** The text sent to the agent: the prompt and any attached context. */
  message: string;
  model: string;
  /** This task's budget (dollars or tokens); `deputy.budget.perDay` applies besides. */
  budget?: BudgetLimit;
  policy: Policy;
  client: string;
  /** Deputy is the agent's execution environment (a shadow of the folder, reviewed after each turn). */
  environment?: boolean;
}

const ORPHANED =
  "This session's agent worked in Deputy's environment (a shadow of the folder) in a window that has closed; that shadow is gone, so the session cannot go on here. Stop it, and start a new task.";

interface RunningTurn {
  cancel: AbortController;
  stop: AbortController;
  /** The server is going away: what still waits for the person (an environment review) is withdrawn. */
  shutdown: AbortController;
  done: Promise<void>;
}

export class HostedSession {
  status: SessionStatus = 'starting';
  private turn: RunningTurn | null = null;
  private turnCount = 0;
  private readonly runner: ToolRunner;
  private readonly budget: BudgetMeter;
  private readonly usage: SessionUsage;
  /** Deputy's environment for this session, when it is the agent's (closed when the server stops following). */
  private environment: DeputyTaskEnvironment | undefined;
  /** Found at the endpoint with Deputy as its environment, in a window that is gone: shown, not continued. */
  private orphaned = false;

  private constructor(
    private readonly deps: HostDeps,
    private session: AgentSession,
    readonly taskId: string,
    private task: string,
    readonly startedAt: string,
    perTask: BudgetLimit | undefined,
    policy: Policy,
    /** The session's one event channel: its trail is the folder's audit, and the panel listens. */
    private readonly events: EngineEvents,
  ) {
    events.listen(panelListener((id, e) => deps.emit(id, e), deps.broker));
    const settings = deps.settings();
    const price = priceFor(session.agent?.model, pricesOf(settings, deps.log));
    this.usage = new SessionUsage(events, price, session);
    const perDay = settings.budgetPerDay;
    this.budget = new BudgetMeter({
      key: session.id,
      ...(perTask ? { perTask } : {}),
      ...(perDay ? { perDay } : {}),
      ...(price ? { price } : {}),
      ledger: deps.ledger,
      trail: { events, session: session.id },
      onEvent: (e) => this.emit(budgetEventOf(e, this.budget)),
    });
    this.runner = new ToolRunner({
      workspace: deps.folder.workspace,
      policy,
      audit: deps.folder.audit,
      prompter: deps.broker.prompter,
      actor: deps.connection.actor,
      task: taskId,
      events,
      files: deps.files,
      // The broker keeps the deadline the panel shows and settles a review with what was decided by then; the
      // engine's own deadline, a little later, is the backstop for a question the front end never closes.
      promptTimeoutMs: Math.max(0.001, deps.settings().promptTimeoutMinutes) * 60_000 + PROMPT_DEADLINE_GRACE_MS,
    });
  }

  get id(): string {
    return this.session.id;
  }

  /** The workspace folder this session works in. */
  get folderRoot(): string {
    return this.deps.folder.root;
  }

  get audit(): AuditLog {
    return this.deps.folder.audit;
  }

  /** The workspace folder this session works in. */
  get folder(): Folder {
    return this.deps.folder;
  }

  /** Creates the session at the endpoint and starts its first turn (which goes on after this returns). */
  static async start(deps: HostDeps, params: StartParams): Promise<HostedSession> {
    const taskId = `task_${randomUUID()}`;
    const { folder, connection } = deps;
    const actor = connection.actor;
    const events = channelFor(deps, taskId);
    await events.record(null, { type: 'task.started', data: { task: params.prompt, client: params.client } });
    let host: HostedSession | undefined;
    const early: string[] = [];
    const environment = params.environment
      ? await openSessionEnvironment({
          folder,
          connection,
          broker: deps.broker,
          files: deps.files,
          settings: deps.settings(),
          policy: params.policy,
          taskId,
          events,
          notice: (message) => (host ? host.emit({ type: 'notice', message }) : early.push(message)),
        })
      : undefined;
    const session = await createSession(
      {
        ...(environment ? { environment } : {}),
        client: connection.client,
        workspace: folder.workspace,
        policy: params.policy,
        audit: folder.audit,
        events,
        prompter: deps.broker.prompter,
        actor,
        provenance: { client: params.client, workspaceHash: folder.hash, provider: connection.provider },
      },
      {
        task: params.prompt,
        taskId,
        // Stop all can then tell this window's session from one whose window is gone (`kill-switch-orphans.ts`).
        metadata: { [OWNER_METADATA]: await ownerTag() },
        model: params.model,
        // createSession's defaults: Deputy's tools, or Deputy's environment with the endpoint's own tools.
        ...(spendLimitCents(params.budget) !== undefined ? { spendLimitCents: spendLimitCents(params.budget)! } : {}),
      },
      taskId,
    ).catch(async (err: unknown) => {
      await environment?.close();
      throw err;
    });
    host = new HostedSession(deps, session, taskId, params.prompt, new Date().toISOString(), params.budget, params.policy, events);
    host.environment = environment;
    host.emitStarted(false, params.model);
    for (const message of early) host.emit({ type: 'notice', message });
    host.runTurn(params.message, 'task');
    return host;
  }

  /** A session found at the endpoint: shown with its transcript; followed when a turn is under way. */
  static attach(deps: HostDeps, session: AgentSession, task: string, history: EventInput[], policy: Policy): HostedSession {
    const taskId = session.metadata?.['deputy.task'] ?? `task_${session.id}`;
    const started = new Date((session.created_at ?? Date.now() / 1000) * 1000).toISOString();
    const limit = session.spend_control?.limit;
    const perTask: BudgetLimit | undefined = typeof limit === 'number' ? { unit: 'usd', amount: limit / 100 } : undefined;
    const host = new HostedSession(deps, session, taskId, task, started, perTask, policy, channelFor(deps, taskId));
    host.emitStarted(true, session.agent?.model ?? undefined);
    // The transcript read back from the endpoint: shown again, straight to the panel, as the trail has it already.
    for (const e of history) deps.emit(session.id, e);
    host.usage.show(session, host.budget);
    void host.budget.observe(session);
    if (session.environment?.type === 'self_hosted') {
      // Its agent worked in the shadow of the window that started it, which is gone: nothing here can serve it.
      host.orphaned = true;
      host.emit({ type: 'notice', message: ORPHANED });
      host.setStatus(session.status === 'failed' ? 'failed' : 'idle');
    } else if (session.status === 'in_progress' || session.status === 'requires_action') host.followAttached();
    else host.setStatus(session.status === 'failed' ? 'failed' : 'idle');
    return host;
  }

  followUp(text: string): RequestFailure | null {
    if (this.orphaned) return { failure: { kind: 'invalidSetting', message: ORPHANED } };
    if (this.turn) return { failure: { kind: 'invalidSetting', message: 'The agent is still working on this session: wait for the turn to end, or Stop it first.' } };
    const hit = this.budget.reached();
    if (hit) return { failure: { kind: 'budgetReached', message: hit.message, action: { kind: 'raiseBudget', scope: hit.scope } } };
    this.runTurn(text, 'followUp');
    return null;
  }

  /** Cancels the running turn at the endpoint and withdraws every open question of the session (each a deny). */
  stop(): boolean {
    const running = this.turn;
    this.deps.broker.withdrawSession(this.id, 'sessionStopped');
    if (!running) return false;
    this.emit({ type: 'notice', message: 'Stopping: the endpoint was asked to cancel the turn.' });
    running.cancel.abort();
    return true;
  }

  /**
   * Resolves when the current turn (if any) has ended; after `confirmMs` without the endpoint confirming a cancel,
   * the turn is no longer followed (it ends stopped) and this resolves then.
   */
  async settled(confirmMs: number): Promise<void> {
    const turn = this.turn;
    if (!turn) return;
    const timer = setTimeout(() => turn.stop.abort(), confirmMs);
    try {
      await turn.done.catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A person set a new budget (the panel's "Raise budget", `deputy.raiseBudget`): recorded with them as the actor,
   * the stop lifted when the new limit is above what was spent, and the endpoint's own limit moved with it.
   */
  async raiseBudget(scope: BudgetScope, to: BudgetLimit, person: AuditActor): Promise<ReturnType<BudgetMeter['states']>> {
    await this.budget.raise(scope, to, person);
    const cents = scope === 'task' ? spendLimitCents(to) : undefined;
    if (cents !== undefined && this.session.spend_control) {
      this.session = await agentSessions(this.deps.connection.client).setSpendLimit(this.id, cents);
    }
    return this.budget.states();
  }

  /** Whom the agent acts for here: the person, who alone may raise its budget. */
  get actor(): AuditActor {
    return this.deps.connection.actor;
  }

  get running(): boolean {
    return this.turn !== null;
  }

  /** A request of the running turn needs a sign-in: the session waits (nothing is sent until then), and says so. */
  paused(need: SignInNeed): void {
    this.emit({
      type: 'error',
      kind: 'signInRequired',
      message:
        need.reason === 'signedOut'
          ? `Paused: you signed out of AWS profile "${need.profile}" in Deputy. Sign in to go on; nothing is lost.`
          : `Paused: the AWS sign-in for profile "${need.profile}" ran out. Sign in to go on; nothing is lost.`,
      action: { kind: 'signIn', profile: need.profile },
      fatal: false,
    });
    this.setStatus('waiting');
  }

  resumed(profile: string): void {
    this.emit({ type: 'notice', message: `Signed in to AWS profile "${profile}" again: the session goes on.` });
    if (this.turn) this.setStatus('running');
  }

  /** Stops following without cancelling (the server is shutting down; the session goes on at the endpoint). */
  async detach(): Promise<void> {
    this.turn?.stop.abort();
    this.turn?.shutdown.abort();
    await this.turn?.done;
    // The shadow and its connection end with the window: a later window cannot serve them.
    await this.environment?.close();
    this.environment = undefined;
  }

  summary(): SessionSummary {
    const pending = this.deps.broker.pending(this.id);
    return {
      sessionId: this.id,
      task: this.task,
      endpoint: describeEndpoint(this.deps.settings().endpoint),
      ...(this.session.agent?.model ? { model: this.session.agent.model } : {}),
      folder: this.deps.folder.name,
      status: pending > 0 && this.status === 'running' ? 'waiting' : this.status,
      startedAt: this.startedAt,
      ...(this.usage.costUsd !== undefined ? { costUsd: this.usage.costUsd } : {}),
      pendingPrompts: pending,
    };
  }

  private emitStarted(attached: boolean, model: string | undefined): void {
    this.emit({
      type: 'session.started',
      taskId: this.taskId,
      task: this.task,
      endpoint: describeEndpoint(this.deps.settings().endpoint),
      ...(model ? { model } : {}),
      folder: this.deps.folder.name,
      ...(this.budget.limit('task')?.unit === 'usd' ? { budgetUsd: this.budget.limit('task')!.amount } : {}),
      attached,
    });
  }

  private runTurn(message: string, cause: 'task' | 'followUp'): void {
    const turnKey = `${this.taskId}:turn${++this.turnCount}:${randomUUID().slice(0, 8)}`;
    this.track(turnKey, cause, (control) => sendTurn(this.turnDeps(), message, control));
  }

  private followAttached(): void {
    const turnKey = `${this.taskId}:attach:${randomUUID().slice(0, 8)}`;
    this.emit({ type: 'notice', message: 'Reattached to this session: its turn is still under way.' });
    this.track(turnKey, 'task', (control) => attachTurn(this.turnDeps(), control), false);
  }

  private track(
    turnKey: string,
    cause: 'task' | 'followUp',
    follow: (control: { turnKey: string; cancel: AbortSignal; signal: AbortSignal; shutdown: AbortSignal }) => Promise<TurnOutcome>,
    announce = true,
  ): void {
    const cancel = new AbortController();
    const stop = new AbortController();
    const shutdown = new AbortController();
    if (announce) this.emit({ type: 'turn.started', turnId: turnKey, cause });
    this.setStatus('running');
    // The turn's requests know their session, so a sign-in that runs out pauses this session (and Stop ends the wait).
    const done = this.deps.signInWait
      .runForSession({ sessionId: this.id, stop: cancel.signal }, () => follow({ turnKey, cancel: cancel.signal, signal: stop.signal, shutdown: shutdown.signal }))
      .then(
        (outcome) => this.ended(turnKey, outcome, cancel.signal.aborted),
        (err: unknown) => this.broke(turnKey, err, stop.signal.aborted, cancel.signal.aborted),
      )
      .catch((err: unknown) => this.deps.log(`session ${this.id}: ${String(err)}`))
      .finally(() => {
        if (this.turn?.done === done) this.turn = null;
        this.deps.changed();
      });
    this.turn = { cancel, stop, shutdown, done };
  }

  private async ended(turnKey: string, given: TurnOutcome, stopped = false): Promise<void> {
    this.turn = null;
    // A turn the person stopped that then failed to reach the endpoint (its sign-in ran out) ends as they asked: stopped.
    const outcome: TurnOutcome = stopped && given.status === 'failed' ? { ...given, status: 'cancelled' } : given;
    if (outcome !== given && given.error) this.emit({ type: 'notice', message: `Stopped. ${redactText(given.error, this.deps.known)}` });
    // Whatever was still open belongs to a turn that is over.
    this.deps.broker.withdrawSession(this.id, 'sessionStopped');
    this.session = outcome.lastSession;
    const refreshed = await agentSessions(this.deps.connection.client).retrieve(this.id).catch(() => outcome.lastSession);
    this.session = refreshed;
    this.usage.show(refreshed, this.budget);
    await this.budget.observe(refreshed);
    const hit = outcome.budgetReached;
    const failure = hit
      ? { kind: 'budgetReached' as const, message: hit.message, action: { kind: 'raiseBudget' as const, scope: hit.scope } }
      : outcome.error && outcome.status !== 'cancelled'
        ? classify(new Error(outcome.error), this.deps.settings(), this.deps.known)
        : undefined;
    if (failure) {
      const cap = outcome.capReached ? { cap: { cap: outcome.capReached.cap, max: outcome.capReached.max } } : {};
      this.emit({ type: 'error', kind: failure.kind, message: failure.message, ...(failure.action ? { action: failure.action } : {}), fatal: true, ...cap });
    }
    this.emit({ type: 'turn.ended', turnId: turnKey, outcome: outcome.status, ...(failure ? { error: failure.message } : {}) });
    this.setStatus(outcome.status === 'completed' ? 'idle' : outcome.status);
    await this.usage.record(refreshed, turnKey);
    await this.events.record(this.id, { type: 'task.finished', data: { status: outcome.status, files_changed: outcome.filesChanged, turn: turnKey } });
  }

  private async broke(turnKey: string, err: unknown, detached: boolean, stopped: boolean): Promise<void> {
    this.turn = null;
    this.deps.broker.withdrawSession(this.id, 'sessionStopped');
    if (detached) return;
    if (stopped) {
      // Stopped while it could not reach the endpoint (e.g. waiting for a sign-in): the person's Stop is the outcome.
      this.emit({ type: 'turn.ended', turnId: turnKey, outcome: 'cancelled' });
      this.setStatus('cancelled');
      await this.events.record(this.id, { type: 'task.finished', data: { status: 'cancelled', files_changed: [], turn: turnKey } });
      return;
    }
    const failure = classify(err, this.deps.settings(), this.deps.known);
    this.deps.log(`session ${this.id}: turn broke off: ${failure.message}`);
    this.emit({ type: 'error', kind: failure.kind, message: failure.message, ...(failure.action ? { action: failure.action } : {}), fatal: true });
    this.emit({ type: 'turn.ended', turnId: turnKey, outcome: 'failed', error: failure.message });
    this.setStatus('failed');
    await this.events.record(this.id, { type: 'error', data: { message: failure.message } });
  }

  private setStatus(status: SessionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit({ type: 'session.status', status });
    this.deps.changed();
  }

  private turnDeps(): SessionTurnDeps {
    const settings = this.deps.settings();
    return {
      // The caps in force when the turn starts (settings apply to the next turn), as `deputy run --max-steps/--max-prompts`.
      caps: { maxSteps: settings.maxStepsPerTurn ?? DEFAULT_MAX_STEPS, maxPrompts: settings.maxPromptsPerTurn ?? DEFAULT_MAX_PROMPTS },
      maxOutputBytes: maxToolOutputBytesFor(this.deps.connection.provider),
      client: this.deps.connection.client,
      session: this.session,
      taskId: this.taskId,
      runner: this.runner,
      events: this.events,
      ...(this.budget.active ? { budget: this.budget } : {}),
      ...(this.environment ? { environment: this.environment } : {}),
    };
  }

  /** The session's own news (status, turns, errors, notices) on its channel: no record, the panel hears it. */
  private emit(e: EventInput): void {
    void this.events.emit(this.id, e);
  }
}

/** A session's channel: the folder's audit trail for the task; a panel that fails to take an event is logged, never fatal. */
function channelFor(deps: HostDeps, taskId: string): EngineEvents {
  return EngineEvents.forTask(deps.folder.audit, deps.connection.actor, taskId, {
    onListenerError: (err, event) => deps.log(`could not relay a ${event.type} event: ${err instanceof Error ? err.message : String(err)}`),
  });
}

/** `deputy.budget.prices`, checked; a malformed entry is logged and the table alone is used. */
function pricesOf(settings: ServerSettings, log: (line: string) => void): Record<string, ModelPrice> {
  try {
    return parsePriceOverrides(settings.prices);
  } catch (err) {
    log(`deputy.budget.prices ignored: ${err instanceof Error ? err.message : String(err)}`);
    return {};
  }
}

