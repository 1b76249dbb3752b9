/**
 * `deputy environment serve`: Deputy as the execution environment of a Codex harness started by hand. Prints the
 * URL to give the harness (secret included), asks on the terminal like `deputy run` for every gated command or
 * read, and reviews the agent's changes when the harness disconnects and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { resolveAuditSigner } from '../identity/audit-signer.js';
import { KillSwitch } from '../core/kill-switch.js';
import { AuditLog } from '../core/audit.js';
import {
  ListenError,
  openEnvironment,
  serveEnvironmentConnection,
  startLocalTransport,
  DEFAULT_PROMPT_TIMEOUT_MS,
  type ReviewOutcome,
} from '../environment/index.js';
import { createCommandGate } from '../environment/process-types.js';
import { principalOf } from '../core/cedar/request.js';
import { parseCommandArgs } from './args.js';
import type { Command, CliIO } from './io.js';
import { UserError } from './io.js';
import { LineReader } from './lines.js';
import { actorFor } from './run-endpoint.js';
import { prepareStateDir } from '../core/state-dir.js';
import { loadPolicies, openWorkspace } from './run.js';
import { styleFor, type Style } from './style.js';
import { TerminalPrompter } from './terminal-prompter.js';
import { clean } from './terminal-text.js';
import { resolve } from 'node:path';

export const ENVIRONMENT_USAGE = `Usage: deputy environment serve [options]

Serves this workspace as the execution environment of a Codex harness (the Codex exec-server
protocol over a loopback websocket). The agent works in a shadow copy: its commands run there under
policy and your approval, its file changes are reviewed by you, file by file, before anything
reaches this workspace.

  --listen ws://127.0.0.1:PORT   where to listen (default: a free loopback port)
  --workspace DIR                the workspace (default: the current folder)
  --policy FILE                  a policy file (repeatable), as for deputy run
  --prompt-timeout-minutes N     how long a question waits for you before it is denied (default 5)
  --profile P                    act as this AWS profile's identity in the audit trail
  --allow-unsandboxed            run commands without a sandbox where none can run here
                                 (no bubblewrap or no user namespaces); off by default

Give the harness the printed URL, e.g.
  CODEX_EXEC_SERVER_URL=<url> codex exec -C <workspace> "<task>"
Changes are reviewed when the harness disconnects, and on Ctrl-C.`;

export const environmentCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === 'serve') return serve(rest, io);
  if (!sub || sub === '--help' || sub === '-h') throw new UserError(ENVIRONMENT_USAGE, sub ? 0 : 2);
  throw new UserError(`Unknown environment command "${sub}".\n\n${ENVIRONMENT_USAGE}`, 2);
};

async function serve(argv: string[], io: CliIO): Promise<number> {
  const v = parseCommandArgs(
    argv,
    {
      listen: { type: 'string' },
      workspace: { type: 'string' },
      policy: { type: 'string', multiple: true },
      'prompt-timeout-minutes': { type: 'string' },
      profile: { type: 'string' },
      'allow-unsandboxed': { type: 'boolean' },
    },
    ENVIRONMENT_USAGE,
  ).values;
  const timeoutMinutes = v['prompt-timeout-minutes'] === undefined ? DEFAULT_PROMPT_TIMEOUT_MS / 60000 : Number(v['prompt-timeout-minutes']);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) throw new UserError(`--prompt-timeout-minutes must be a positive number; got "${v['prompt-timeout-minutes']}".`, 2);
  const style = styleFor(io);
  const out = (s: string) => io.stdout.write(`${s}\n`);
  const workspace = await openWorkspace(resolve(io.cwd, v.workspace ?? '.'));
  await prepareStateDir(workspace.root);
  const actor = await actorFor({ ...(v.profile ? { profile: v.profile } : {}) }, io.env);
  const policy = (await loadPolicies({ policyFiles: (v.policy ?? []).map((f) => resolve(io.cwd, f)) }, workspace.root, io)).withPrincipal(principalOf(actor, { profile: v.profile ?? io.env.AWS_PROFILE }));
  const signer = await resolveAuditSigner(io.env, v.profile ? { profile: v.profile } : {});
  const audit = await AuditLog.open(workspace.root, signer ? { signer } : {});
  const lines = new LineReader(io.stdin, io.stdout);
  const task = `env_${randomBytes(6).toString('hex')}`;
  const commands = await createCommandGate({ policy, allowUnsandboxed: v['allow-unsandboxed'] === true });
  if (commands.unavailable) {
    // Said once, here, rather than on every command the agent tries.
    out(style.yellow(`! No command sandbox can run here: ${commands.unavailable}.`));
    out(style.yellow(v['allow-unsandboxed'] ? '  Commands run unsandboxed (--allow-unsandboxed), still under policy and your approval.' : '  Commands will be refused; install bubblewrap, or pass --allow-unsandboxed to run them bare.'));
  }
  const environment = await openEnvironment({
    workspace,
    policy,
    audit,
    prompter: new TerminalPrompter(io, lines, style),
    actor,
    task,
    commands,
    promptTimeoutMs: timeoutMinutes * 60000,
  });
  let transport;
  let killSwitch: KillSwitch | undefined;
  const connectionsClosed: Promise<void>[] = [];
  try {
    await audit.append({ type: 'task.started', task, actor, data: { kind: 'environment', shadow: environment.context.shadow.root } });
    // One review at a time, in the order connections end; each prints what happened.
    let reviews: Promise<unknown> = Promise.resolve();
    const reviewNow = (session: string, why: string) => {
      reviews = reviews.then(() => environment.review.review(session, why).then((outcome) => report(out, style, outcome)));
      return reviews;
    };
    transport = await startLocalTransport({
      ...(v.listen ? { listen: v.listen } : {}),
      onConnection: (socket) => {
        out(style.dim('harness connected'));
        const connection = serveEnvironmentConnection(socket, environment.context);
        connectionsClosed.push(connection.closed);
        void connection.closed.then(() => {
          out(style.dim('harness disconnected; reviewing its changes'));
          return reviewNow(connection.sessionId || 'environment', 'the harness disconnected');
        });
      },
      onRefused: (reason) => out(style.yellow(`! ${reason}`)),
    }).catch((err: unknown) => {
      throw err instanceof ListenError ? new UserError(err.message, 2) : err;
    });
    out(`DEPUTY_ENVIRONMENT_URL=${transport.url}`);
    out(style.dim(`Serving ${workspace.root} through the shadow ${environment.context.shadow.root} · acting as ${actor.principal}`));
    out(style.dim('Press Ctrl-C to review the remaining changes and stop.'));
    let stopServing!: () => void;
    const stopRequested = new Promise<void>((resolveStop) => (stopServing = resolveStop));
    if (io.signal?.aborted) stopServing();
    io.signal?.addEventListener('abort', () => stopServing(), { once: true });
    let disconnected!: () => void;
    const allDisconnected = new Promise<void>((resolve) => (disconnected = resolve));
    // Stop all (`deputy stop --all`, any editor window): the harness is disconnected and its commands ended at once;
    // what it changed stays in the shadow for the review below, which needs the person's approval as ever.
    killSwitch = await KillSwitch.register(io.env, { kind: 'environment', describe: `deputy environment serve in ${workspace.root}` }, async () => {
      out(style.yellow('Stop all was pulled: disconnecting the harness and ending its commands'));
      stopServing();
      await allDisconnected;
      return connectionsClosed.length;
    }).catch((err: unknown) => {
      out(style.yellow(`warning: Stop all cannot reach this environment (${err instanceof Error ? err.message : String(err)}); Ctrl-C still stops it`));
      return undefined;
    });
    await stopRequested;
    out(style.dim('stopping: closing connections and reviewing what is left'));
    await transport.close();
    transport = undefined;
    await Promise.all(connectionsClosed);
    disconnected();
    // Connections end asynchronously after close; let their reviews queue first, then a final one catches the rest.
    await new Promise((r) => setImmediate(r));
    await reviews;
    await reviewNow('environment', 'the environment is stopping');
    await audit.append({ type: 'task.finished', task, actor, data: { status: 'completed' } });
    return 0;
  } finally {
    await killSwitch?.close();
    await transport?.close();
    lines.close();
    await environment.dispose();
    await audit.close();
  }
}

function report(out: (s: string) => void, style: Style, outcome: ReviewOutcome): void {
  if (outcome.results.length === 0) {
    out(style.dim('No changes to review.'));
    return;
  }
  for (const r of outcome.results) {
    const line = `${r.status} ${clean(r.path)}${r.reason ? `: ${clean(r.reason)}` : ''}${r.comment ? ` (comment: ${clean(r.comment)})` : ''}`;
    out(r.status === 'applied' ? style.green(`✔ ${line}`) : style.yellow(`✗ ${line}`));
  }
  out(style.dim('What the agent is told in its next message:'));
  out(clean(outcome.notes));
}
