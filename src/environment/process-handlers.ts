/**
 * `process/*` requests: every command the agent runs is judged by the command policy, put to the person when the
 * policy asks (the harness waits for the answer; no answer in time is a deny), run confined by the sandbox with its
 * working folder in the shadow, streamed back as `process/output` notifications and closed with `process/exited` and
 * `process/closed` (one `seq` counter across all three, as the exec-server numbers them). Audited from the request to
 * the exit: command, folder, decision and rule, who approved, exit code, duration, output size and hash.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  ExecErrorCodes,
  ExecMethods,
  type ExecOutputStream,
  type ProcessOutputChunk,
  type ProcessReadResult,
  type ProcessStartResult,
} from '../protocol/exec-server.js';
import { askPerson, record, type EnvironmentContext } from './context.js';
import { base64, bool, object, optBool, optUint, str, strList, strMap } from './params.js';
import type { SandboxedProcess } from './process-types.js';
import { ExecError, type RequestHandler } from './rpc.js';
import { resolveUri, UriError } from './shadow-paths.js';

/** Output kept per process for `process/read`; older chunks are dropped (the notifications carried them). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Longest a `process/read` waits for new output. */
const MAX_WAIT_MS = 30_000;

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

interface Tracked {
  id: string;
  child: SandboxedProcess;
  chunks: ProcessOutputChunk[];
  buffered: number;
  seq: number;
  exitCode: number | null;
  exited: boolean;
  closed: boolean;
  stdinOpen: boolean;
  waiters: Set<() => void>;
}

export interface ProcessSession {
  env: EnvironmentContext;
  session: string;
  nextCallId(): string;
  notify(method: string, params: unknown): void;
}

export class ProcessTable {
  private readonly processes = new Map<string, Tracked>();
  /** Exit records being written; a closing connection waits for them so the trail is complete when it says so. */
  private readonly records = new Set<Promise<void>>();

  /** The shadow's files commands may not read (see `hiddenFromCommands`), worked out once per connection. */
  private hidden: Promise<Array<{ rel: string; abs: string }>> | undefined;

  constructor(private readonly s: ProcessSession) {}

  /**
   * The snapshot's files the policy does not let the agent read outright — secret-looking files (`.env`, keys,
   * credentials), which ask, and whatever a policy forbids — as absolute paths in the shadow. A command sees each of
   * them as an unreadable cover (an empty device node the command gets "Permission denied" from): a command is judged by its words, and `cat .env`, `grep -r KEY .` or a test that prints
   * its configuration would otherwise read what `fs/readFile` of the same file asks about or refuses. New files the
   * agent writes are its own; a link it makes to a hidden file reaches the empty cover too.
   */
  private hiddenFromCommands(): Promise<Array<{ rel: string; abs: string }>> {
    const { env } = this.s;
    this.hidden ??= env.shadow.snapshotFiles().then((files) =>
      files.filter((rel) => env.policy.decide({ tool: 'workspace_read', path: rel }).decision !== 'allow').map((rel) => ({ rel, abs: path.join(env.shadow.root, rel) })),
    );
    return this.hidden;
  }

  handlers(): Record<string, RequestHandler> {
    return {
      [ExecMethods.processStart]: (params) => this.start(params),
      [ExecMethods.processRead]: (params) => this.read(params),
      [ExecMethods.processWrite]: (params) => this.write(params),
      [ExecMethods.processTerminate]: (params) => this.terminate(params),
      [ExecMethods.processSignal]: (params) => this.signal(params),
    };
  }

  /** Ends every process still running (the harness went away). */
  async terminateAll(): Promise<void> {
    await Promise.allSettled([...this.processes.values()].filter((p) => !p.exited).map((p) => p.child.terminate()));
    await Promise.allSettled([...this.records]);
  }

  private async start(params: unknown): Promise<ProcessStartResult> {
    const { env, session } = this.s;
    const p = object(params);
    const processId = str(p, 'processId');
    const argv = strList(p, 'argv');
    const cwdUri = str(p, 'cwd');
    const requested = strMap(p, 'env');
    const tty = bool(p, 'tty');
    const pipeStdin = optBool(p, 'pipeStdin') ?? false;
    if (argv.length === 0) throw new ExecError(ExecErrorCodes.invalidParams, 'argv must not be empty');
    if (this.processes.has(processId)) throw new ExecError(ExecErrorCodes.invalidRequest, `process ${processId} already exists`);
    let cwd;
    try {
      cwd = await resolveUri({ workspaceRoot: env.shadow.workspaceRoot, shadowRoot: env.shadow.root }, cwdUri);
    } catch (err) {
      if (err instanceof UriError && err.refusal !== 'invalid') {
        throw new ExecError(ExecErrorCodes.invalidRequest, `Commands run only inside the workspace: ${err.message}`);
      }
      throw err;
    }
    const cwdStat = await fs.stat(cwd.abs).catch(() => null);
    if (!cwdStat?.isDirectory()) throw new ExecError(ExecErrorCodes.internal, 'No such file or directory (os error 2)', { kind: 'spawnNotFound' });

    const gate = env.commands;
    const callId = this.s.nextCallId();
    const command = argv.join(' ');
    await record(env, 'tool.call', session, { call_id: callId, tool: ExecMethods.processStart, summary: `run ${command}`, command: argv, cwd: cwd.rel || '.' });
    if (!gate) {
      const message = "Deputy's environment was started without a command sandbox, so it runs no commands; file operations still work.";
      await record(env, 'tool.result', session, { call_id: callId, tool: ExecMethods.processStart, success: false, error: message });
      throw new ExecError(ExecErrorCodes.invalidRequest, message);
    }
    const verdict = gate.judge(argv);
    await record(env, 'policy.decision', session, { call_id: callId, tool: ExecMethods.processStart, decision: verdict.decision, reason: verdict.reason, rules: verdict.rules, ...(verdict.trial ? { trial: verdict.trial } : {}) });
    let approver = 'policy';
    const refuse = async (message: string): Promise<never> => {
      await record(env, 'tool.result', session, { call_id: callId, tool: ExecMethods.processStart, success: false, error: message });
      throw new ExecError(ExecErrorCodes.invalidRequest, message);
    };
    if (verdict.decision === 'deny') await refuse(`Denied by policy: ${verdict.reason}. The command was not run.`);
    if (verdict.decision === 'ask') {
      const answer = await askPerson(env, { session, callId, tool: 'run_command', summary: `run ${command}`, reason: verdict.reason, args: { argv, cwd: cwd.rel } });
      if (!answer.allow) await refuse(`${answer.why} The command was not run.`);
      approver = env.actor.principal;
    }

    const hidden = await this.hiddenFromCommands();
    const named = hidden.filter((h) => command.includes(h.rel)).map((h) => h.rel);
    let child: SandboxedProcess;
    try {
      child = gate.spawn({
        argv,
        cwd: cwd.abs,
        // Only the shadow is writable (and a private /tmp); the real workspace and the home folder are not visible.
        writableRoots: [env.shadow.root],
        // Files the policy keeps from the agent are covered (`hiddenFromCommands`).
        hiddenPaths: [env.shadow.workspaceRoot, ...hidden.map((h) => h.abs)],
        // The sandbox scrubs credentials from whatever the harness asked for.
        env: requested,
        network: verdict.network,
        timeoutMs: gate.timeoutMs,
        outputCapBytes: gate.outputCapBytes,
        tty,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await refuse(`The command could not start: ${message}`);
      throw err;
    }
    // A terminal always takes input: the harness's `write_stdin` to a `tty: true` command comes as `process/write`.
    const tracked: Tracked = { id: processId, child, chunks: [], buffered: 0, seq: 0, exitCode: null, exited: false, closed: false, stdinOpen: pipeStdin || tty, waiters: new Set() };
    this.processes.set(processId, tracked);
    if (!pipeStdin && !tty) child.closeStdin();
    const started = Date.now();
    const hash = createHash('sha256');
    let outputBytes = 0;
    const outStream = (stream: 'stdout' | 'stderr'): ExecOutputStream => (tty ? 'pty' : stream);
    child.onOutput((stream, chunk) => {
      hash.update(chunk);
      outputBytes += chunk.length;
      const item: ProcessOutputChunk = { seq: ++tracked.seq, stream: outStream(stream), chunk: chunk.toString('base64') };
      tracked.chunks.push(item);
      tracked.buffered += chunk.length;
      while (tracked.buffered > MAX_BUFFERED_BYTES && tracked.chunks.length > 1) {
        tracked.buffered -= Buffer.byteLength(tracked.chunks.shift()!.chunk, 'base64');
      }
      this.s.notify(ExecMethods.processOutput, { processId, ...item });
      this.wake(tracked);
    });
    child.onExit((exit) => {
      tracked.exited = true;
      tracked.stdinOpen = false;
      tracked.exitCode = exit.exitCode ?? 128 + (SIGNALS[exit.signal ?? ''] ?? 9);
      this.s.notify(ExecMethods.processExited, { processId, seq: ++tracked.seq, exitCode: tracked.exitCode, sandboxDenied: false });
      tracked.closed = true;
      this.s.notify(ExecMethods.processClosed, { processId, seq: ++tracked.seq });
      this.wake(tracked);
      const written = record(env, 'tool.result', session, {
        call_id: callId,
        tool: ExecMethods.processStart,
        success: tracked.exitCode === 0,
        exit_code: tracked.exitCode,
        ...(exit.signal ? { signal: exit.signal } : {}),
        duration_ms: Date.now() - started,
        output_bytes: outputBytes,
        output_sha256: hash.digest('hex'),
        ...(exit.timedOut ? { timed_out: true } : {}),
        ...(exit.outputTruncated ? { output_truncated: true } : {}),
        approver,
        rules: verdict.rules,
        ...(hidden.length > 0 ? { files_hidden: hidden.length } : {}),
        ...(named.length > 0 ? { hidden_named: named } : {}),
      }).catch(() => undefined);
      this.records.add(written);
      void written.finally(() => this.records.delete(written));
    });
    return { processId, sandboxType: gate.sandboxType };
  }

  private async read(params: unknown): Promise<ProcessReadResult> {
    const p = object(params);
    const processId = str(p, 'processId');
    const afterSeq = optUint(p, 'afterSeq') ?? 0;
    const maxBytes = optUint(p, 'maxBytes');
    const waitMs = Math.min(optUint(p, 'waitMs') ?? 0, MAX_WAIT_MS);
    const tracked = this.processes.get(processId);
    if (!tracked) throw new ExecError(ExecErrorCodes.invalidRequest, `unknown process id ${processId}`);
    const pending = () => tracked.chunks.some((c) => c.seq > afterSeq) || tracked.seq > afterSeq;
    if (!pending() && !tracked.closed && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          tracked.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        tracked.waiters.add(done);
      });
    }
    const chunks: ProcessOutputChunk[] = [];
    let bytes = 0;
    for (const c of tracked.chunks) {
      if (c.seq <= afterSeq) continue;
      const size = Buffer.byteLength(c.chunk, 'base64');
      if (maxBytes !== undefined && chunks.length > 0 && bytes + size > maxBytes) break;
      chunks.push(c);
      bytes += size;
    }
    const complete = chunks.length === 0 || chunks[chunks.length - 1] === tracked.chunks[tracked.chunks.length - 1];
    const nextSeq = complete ? tracked.seq + 1 : chunks[chunks.length - 1]!.seq + 1;
    return {
      chunks,
      nextSeq,
      exited: tracked.exited,
      exitCode: tracked.exited ? tracked.exitCode : null,
      closed: tracked.closed && complete,
      failure: null,
      sandboxDenied: false,
    };
  }

  private async write(params: unknown): Promise<{ status: string }> {
    const p = object(params);
    const processId = str(p, 'processId');
    const data = base64(p, 'chunk');
    str(p, 'writeId');
    const tracked = this.processes.get(processId);
    if (!tracked) return { status: 'unknownProcess' };
    if (tracked.exited) throw new ExecError(ExecErrorCodes.internal, 'failed to write to process stdin');
    if (!tracked.stdinOpen) return { status: 'stdinClosed' };
    tracked.child.write(data);
    return { status: 'accepted' };
  }

  private async terminate(params: unknown): Promise<{ running: boolean }> {
    const p = object(params);
    const tracked = this.processes.get(str(p, 'processId'));
    if (!tracked || tracked.exited) return { running: false };
    await tracked.child.terminate();
    return { running: true };
  }

  private async signal(params: unknown): Promise<Record<string, never>> {
    const p = object(params);
    const processId = str(p, 'processId');
    const signal = str(p, 'signal');
    if (signal !== 'interrupt') throw new ExecError(ExecErrorCodes.invalidParams, `unknown signal \`${signal}\``);
    const tracked = this.processes.get(processId);
    if (!tracked) throw new ExecError(ExecErrorCodes.invalidRequest, `unknown process id ${processId}`);
    // The sandbox ends the whole process tree; an interrupt is that, since a sandboxed tree has no other owner.
    if (!tracked.exited) await tracked.child.terminate();
    return {};
  }

  private wake(tracked: Tracked): void {
    for (const waiter of [...tracked.waiters]) waiter();
  }
}
