/**
 * A model's `exec_command` or `apply_patch` call in a self-hosted environment session: run in the connected
 * environment and reported as a `command_execution` item (with output deltas for a command). The turn's state
 * machine is src/runtime/turn-runner.ts; this file is what happens while the environment works.
 */
import type { EventHub } from './event-hub.js';
import { newId, type RuntimeStore } from './store.js';
import type { ModelToolCall } from './upstream.js';
import { APPLY_PATCH, runApplyPatch, runExecCommand, type ToolOutcome } from './codex-tools.js';
import type { EnvironmentBridge } from './environment-bridge.js';
import type { ActiveCall, EventBody } from './turn-runner-stream.js';
import { wireItem, type StoredCommandExecution, type StoredEnvironment } from './wire.js';

export interface EnvironmentCallDeps {
  store: RuntimeStore;
  hub: EventHub;
  environments: Pick<EnvironmentBridge, 'client'> | undefined;
  emit: (sessionId: string, body: EventBody) => void;
}

/** Runs one environment call of `active`'s turn. False when the turn ended meanwhile (cancelled, failed). */
export async function runEnvironmentCall(
  deps: EnvironmentCallDeps,
  sessionId: string,
  active: ActiveCall,
  environment: StoredEnvironment,
  call: ModelToolCall,
  outputIndex: number,
): Promise<boolean> {
  const { store, hub, emit } = deps;
  const turnId = active.turnId;
  const patch = call.name === APPLY_PATCH;
  const input = patch && call.kind !== 'custom' ? patchFromArguments(call.arguments) : call.arguments;
  const item: StoredCommandExecution & { id: string } = {
    id: newId('cmd'),
    type: 'command_execution',
    command: patch ? APPLY_PATCH : commandText(call.arguments),
    cwd: environment.workspaceDirectory,
    duration_ms: null,
    exit_code: null,
    output: null,
    status: 'in_progress',
    turn_id: turnId,
    model_call: { call_id: call.callId, name: call.name, kind: call.kind ?? 'function', input, output: null },
  };
  const base = { session_id: sessionId, turn_id: turnId, output_index: outputIndex };
  const live = hub.atomically(() => {
    const current = store.getSession(sessionId);
    if (!current || current.activeTurnId !== turnId) return false;
    store.appendItem(sessionId, item);
    emit(sessionId, { type: 'agent.session.turn.item.added', ...base, item: wireItem(item) });
    return true;
  });
  if (!live) return false;
  const started = Date.now();
  const rpc = deps.environments?.client(environment.id) ?? null;
  let outcome: ToolOutcome;
  try {
    if (!rpc) throw new Error('the environment is not connected');
    outcome = patch
      ? await runApplyPatch(rpc, environment.workspaceDirectory, input)
      : await runExecCommand(
          rpc,
          environment.workspaceDirectory,
          call.arguments,
          { output: (delta) => emit(sessionId, { type: 'agent.output.command_execution_output.delta', ...base, item_id: item.id, delta }) },
          active.controller.signal,
        );
  } catch (err) {
    const message = `The environment could not run ${call.name}: ${err instanceof Error ? err.message : String(err)}`;
    outcome = { modelOutput: message, command: item.command, cwd: item.cwd ?? environment.workspaceDirectory, exitCode: null, output: message, success: false };
  }
  return hub.atomically(() => {
    const current = store.getSession(sessionId);
    const stillActive = !!current && current.activeTurnId === turnId;
    const finished: StoredCommandExecution & { id: string } = {
      ...item,
      command: outcome.command || item.command,
      cwd: outcome.cwd,
      duration_ms: Date.now() - started,
      exit_code: outcome.exitCode,
      output: outcome.output,
      status: !stillActive ? 'incomplete' : outcome.success ? 'completed' : 'failed',
      model_call: { ...item.model_call!, output: stillActive ? outcome.modelOutput : null },
    };
    store.saveItem(finished);
    emit(sessionId, { type: 'agent.session.turn.item.done', ...base, item: wireItem(finished) });
    return stillActive;
  });
}

/** The command an `exec_command` call runs, for the item list (its raw arguments when they are not the expected JSON). */
function commandText(rawArguments: string): string {
  try {
    const args = JSON.parse(rawArguments) as { cmd?: unknown };
    if (typeof args.cmd === 'string') return args.cmd;
  } catch {
    // shown as sent
  }
  return rawArguments;
}

/** `apply_patch` called as a function (Chat Completions): the patch is its `input`. */
function patchFromArguments(rawArguments: string): string {
  try {
    const args = JSON.parse(rawArguments) as { input?: unknown };
    if (typeof args.input === 'string') return args.input;
  } catch {
    // not JSON: take it as the patch itself
  }
  return rawArguments;
}
