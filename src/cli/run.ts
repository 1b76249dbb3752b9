/**
 * `deputy run "<task>"`: one task in the current workspace, end to end, on the terminal. Streams what the
 * agent says and does, asks the person for every gated action and every proposed file, applies only what
 * they approve, and ends with a summary: files changed, tokens, cost.
 */
import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveAuditSigner } from '../identity/audit-signer.js';
import { KillSwitch } from '../core/kill-switch.js';
import { OWNER_METADATA, ownerTag, rememberEndpoint, type KnownEndpoint } from '../core/kill-switch-orphans.js';
import { AuditLog } from '../core/audit.js';
import { KnownSecrets } from '../core/redact.js';
import type { Policy } from '../core/policy.js';
import { loadWorkspacePolicy, ORG_POLICY_ENV } from '../core/policy-sources.js';
import { GrantStore } from '../core/grants.js';
import { principalOf } from '../core/cedar/request.js';
import { prepareStateDir } from '../core/state-dir.js';
import { runTask, type TaskSummary } from '../core/task.js';
import { EngineEvents } from '../core/event-channel.js';
import { Workspace } from '../core/workspace.js';
import type { Command, CliIO } from './io.js';
import { UserError } from './io.js';
import { withSecretsRedacted } from './errors.js';
import { LineReader } from './lines.js';
import { configuredSecrets, connect } from './run-endpoint.js';
import { maxToolOutputBytesFor } from '../agents/endpoints.js';
import { DEFAULT_MAX_PROMPTS, DEFAULT_MAX_STEPS, type CapReached } from '../core/turn-limits.js';
import { parseRunOptions, type RunOptions } from './run-options.js';
import { styleFor, type Style } from './style.js';
import { renderEvents } from './event-renderer.js';
import { TerminalPrompter } from './terminal-prompter.js';
import { clean, cleanLine } from './terminal-text.js';
import { DEPUTY_CLIENT } from './version.js';
import { cliBudget } from './run-budget.js';
import type { DeputyTaskEnvironment } from '../environment/task-environment.js';

/** How long a cancelled turn may take to be confirmed by the endpoint before Deputy stops following it. */
const CANCEL_CONFIRM_MS = 5_000;

const CAP_FLAGS: Record<CapReached['cap'], string> = { steps: '--max-steps', prompts: '--max-prompts' };

export const runCommand: Command = (argv, io) => {
  // Secrets learnt on the way (the keys the options name, the runtime's token) stay out of the trail and every error.
  const known = new KnownSecrets();
  return withSecretsRedacted(known, () => runInWorkspace(argv, io, known));
};

async function runInWorkspace(argv: string[], io: CliIO, known: KnownSecrets): Promise<number> {
  const options = parseRunOptions(argv, io);
  known.add(...configuredSecrets(options, io.env));
  const style = styleFor(io);
  const workspace = await openWorkspace(options.workspace);
  await prepareStateDir(workspace.root);
  let policy = await loadPolicies(options, workspace.root, io);
  const signer = await resolveAuditSigner(io.env, options.profile ? { profile: options.profile } : {});
  const audit = await AuditLog.open(workspace.root, {
    known,
    ...(signer ? { signer, onDigestError: (err: unknown) => io.stderr.write(`warning: the audit digest could not be signed (${err instanceof Error ? err.message : String(err)}); the records are kept and the next digest signs them\n`) } : {}),
  });
  const lines = new LineReader(io.stdin, io.stdout);
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  let killSwitch: KillSwitch | undefined;
  let environment: DeputyTaskEnvironment | undefined;
  try {
    connection = await connect(options, io.env);
    known.add(...connection.secrets);
    io.stdout.write(`${style.dim(`Deputy · ${connection.describe} · acting as ${connection.actor.principal}`)}\n`);
    policy = policy.withPrincipal(principalOf(connection.actor, { profile: options.profile }));
    // A remote endpoint keeps the session if this process dies: Stop all must be able to find it there.
    const remote = remoteEndpointOf(options);
    if (remote) {
      await rememberEndpoint(io.env, remote).catch((err: unknown) => {
        io.stderr.write(`${style.yellow(`warning: Stop all will not find this run's session if this process dies (${err instanceof Error ? err.message : String(err)})`)}\n`);
      });
    }
    const client = connection.client;
    const taskId = `task_${randomUUID()}`;
    const prompter = new TerminalPrompter(io, lines, style);
    // One channel for the task: the trail keeps what it does, the terminal shows it. A rendering bug costs a line, never the task.
    const events = EngineEvents.forTask(audit, connection.actor, taskId, {
      onListenerError: (err) => io.stderr.write(`${style.yellow(`warning: could not show progress (${err instanceof Error ? err.message : String(err)})`)}\n`),
    });
    events.listen(renderEvents(io, style));
    if (options.environment) {
      // Loaded only here: the command gate's shell parser is megabytes of JavaScript every other run would pay for.
      const { openTaskEnvironment } = require('./run-environment.js') as typeof import('./run-environment.js');
      environment = await openTaskEnvironment({ options, connection, workspace, policy, audit, events, prompter, taskId, io, style });
      io.stdout.write(`${style.dim(`Deputy is the agent's environment: it works in ${environment.shadowRoot}; you review its changes after each turn`)}\n`);
    }
    // Ctrl-C: open questions are answered no, and the endpoint is asked to cancel the turn (a second Ctrl-C quits).
    // An endpoint that does not confirm in time is no longer followed: the task ends cancelled all the same.
    const cancel = new AbortController();
    const stop = new AbortController();
    let stopTimer: NodeJS.Timeout | undefined;
    const onInterrupt = () => {
      io.stderr.write(`\n${style.yellow('Cancelling the turn… (Ctrl-C again to quit at once)')}\n`);
      lines.close();
      cancel.abort();
      stopTimer = setTimeout(() => stop.abort(), CANCEL_CONFIRM_MS);
      stopTimer.unref();
    };
    if (io.signal?.aborted) onInterrupt();
    else io.signal?.addEventListener('abort', onInterrupt, { once: true });
    // Stop all (`deputy stop --all`, any editor window) cancels this task like Ctrl-C, and answers once it ended.
    let taskEnded: Promise<unknown> = Promise.resolve();
    killSwitch = await KillSwitch.register(io.env, { kind: 'run', describe: `deputy run in ${workspace.root}` }, async (request) => {
      io.stderr.write(`\n${style.yellow(`Stop all was pulled (${cleanLine(request.by)}, from ${cleanLine(request.from)}): cancelling the turn…`)}\n`);
      if (!cancel.signal.aborted) onInterrupt();
      await taskEnded;
      return 1;
    }).catch((err: unknown) => {
      io.stderr.write(`${style.yellow(`warning: Stop all cannot reach this run (${err instanceof Error ? err.message : String(err)}); Ctrl-C still stops it`)}\n`);
      return undefined;
    });

    const budget = cliBudget({ options, io, style, lines, events, actor: connection.actor, taskId });
    const task = runTask(
      {
        client,
        workspace,
        policy,
        audit,
        grants: new GrantStore(workspace.root),
        prompter,
        actor: connection.actor,
        provenance: {
          client: DEPUTY_CLIENT,
          workspaceHash: workspaceHash(workspace.root),
          provider: connection.provider,
        },
        events,
        maxToolOutputBytes: maxToolOutputBytesFor(connection.provider),
        ...(environment ? { environment } : {}),
      },
      {
        task: options.task,
        taskId,
        // Stop all can then tell this run's session from one whose process is gone (`kill-switch-orphans.ts`).
        metadata: { [OWNER_METADATA]: await ownerTag() },
        model: options.model,
        ...(options.instructions ? { instructions: options.instructions } : {}),
        ...(options.spendLimitCents !== undefined ? { spendLimitCents: options.spendLimitCents } : {}),
        ...(options.price ? { price: options.price } : {}),
        ...(options.prices ? { prices: options.prices } : {}),
        ...(budget ? { budget: budget.meter, askRaise: budget.askRaise } : {}),
        cancel: cancel.signal,
        signal: stop.signal,
        caps: { maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS, maxPrompts: options.maxPrompts ?? DEFAULT_MAX_PROMPTS },
      },
    ).catch((err: unknown) => {
      // Interrupted before the turn could be cancelled at the endpoint (e.g. while the session was being created).
      if (stop.signal.aborted) return null;
      throw err;
    });
    taskEnded = task.catch(() => undefined);
    const summary = await task;
    io.signal?.removeEventListener('abort', onInterrupt);
    clearTimeout(stopTimer);
    if (summary === null) {
      io.stdout.write(`${style.yellow('Cancelled')}: the endpoint did not answer in time; nothing more was done here.\n`);
      return 130;
    }
    printSummary(io, style, summary, audit.file);
    return summary.status === 'completed' ? 0 : summary.status === 'cancelled' ? 130 : 1;
  } finally {
    lines.close();
    await killSwitch?.close();
    // Before the audit closes: ending the agent's processes writes their records.
    await environment?.close();
    await audit.close();
    await connection?.close();
  }
}

export async function openWorkspace(root: string): Promise<Workspace> {
  const s = await stat(root).catch(() => null);
  if (!s?.isDirectory()) throw new UserError(`The workspace ${root} is not a folder.`);
  return Workspace.open(root);
}

/**
 * The policy for a run in `root`: the org's file (`DEPUTY_ORG_POLICY`) and the ones given by flag, the workspace's
 * own `.deputy/policy.json` and `.deputy/policy.cedar` (which no agent may change), and the person's grants.
 */
export async function loadPolicies(options: Pick<RunOptions, 'policyFiles'>, root: string, io?: Pick<CliIO, 'env' | 'cwd'>): Promise<Policy> {
  const orgFile = io?.env[ORG_POLICY_ENV];
  return loadWorkspacePolicy({ root, files: options.policyFiles, ...(orgFile && io ? { orgFile: resolve(io.cwd, orgFile) } : {}) });
}

export function workspaceHash(root: string): string {
  return `sha256:${createHash('sha256').update(root).digest('hex').slice(0, 16)}`;
}

function printSummary(io: CliIO, style: Style, s: TaskSummary, auditFile: string): void {
  const out = (x: string) => io.stdout.write(`${x}\n`);
  out('');
  const head =
    s.status === 'completed' ? style.green('Done') : s.status === 'cancelled' ? style.yellow('Cancelled') : style.red('Failed');
  out(`${style.bold(head)} · session ${s.sessionId} · ${s.taskId}`);
  if (s.error) out(style.red(clean(s.error)));
  if (s.capReached) out(`To allow more, run the task again with ${CAP_FLAGS[s.capReached.cap]} N (above ${s.capReached.max}).`);
  if (s.budgetReached) out(`To spend more, answer the prompt with a higher budget, or run again with a higher ${s.budgetReached.scope === 'day' ? '--budget-per-day' : '--budget'}.`);
  out(
    s.filesChanged.length
      ? `Files changed (${s.filesChanged.length}): ${s.filesChanged.map(cleanLine).join(', ')}`
      : 'Files changed: none',
  );
  const cost = s.costUsd !== undefined ? ` · cost $${s.costUsd.toFixed(4)}` : '';
  out(`Tokens: ${s.usage.inputTokens} in / ${s.usage.outputTokens} out (${s.usage.totalTokens} total)${cost}`);
  out(style.dim(`Audit trail: ${auditFile} (check with: deputy audit verify)`));
}

/** How Stop all reaches this run's endpoint again (no secret: token file and profile, not token and keys); null for the embedded runtime, which ends with the run. */
export function remoteEndpointOf(options: RunOptions): KnownEndpoint | null {
  const common = {
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
  switch (options.endpoint.kind) {
    case 'embedded':
      return null;
    case 'url':
      return {
        kind: 'url',
        url: options.endpoint.url,
        auth: options.auth,
        ...(options.tokenFile ? { tokenFile: resolve(options.tokenFile) } : {}),
        ...(options.serverId ? { serverId: options.serverId } : {}),
        ...common,
        describe: `Deputy runtime ${options.endpoint.url}`,
      };
    case 'openai':
      return { kind: 'openai', describe: 'OpenAI Agents API', ...common };
    case 'bedrock':
      return { kind: 'bedrock', describe: `Amazon Bedrock Managed Agents${options.region ? ` (${options.region})` : ''}`, ...common };
  }
}
