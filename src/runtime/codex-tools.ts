/**
 * The tools a self-hosted-environment session offers its model, in the shapes the Codex harness gives them (so a
 * model tuned for Codex, or one BMA runs, sees what it expects): `exec_command`, a function tool that runs a shell
 * command, and `apply_patch`, a custom tool whose free-form input is a patch in the `*** Begin Patch` format.
 * Both run in the connected environment: a command as `process/start` and its notifications, a patch as file
 * operations (`fs/*`), never as a process.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExecErrorCodes, ExecMethods } from '../protocol/exec-server.js';
import { applyHunks, createdText } from '../core/changeset/apply-hunks.js';
import { joinText, splitText } from '../core/changeset/file-text.js';
import { PatchError } from '../core/changeset/patch.js';
import { parseV4A } from '../core/changeset/parse-v4a.js';
import { EnvironmentRpcError, type EnvironmentRpcClient } from './environment-rpc.js';

export const EXEC_COMMAND = 'exec_command';
export const APPLY_PATCH = 'apply_patch';
export const ENVIRONMENT_TOOL_NAMES: readonly string[] = [EXEC_COMMAND, APPLY_PATCH];

/** The patch language, as a Lark grammar the Responses API constrains the model's custom-tool input with. */
const PATCH_GRAMMAR = String.raw`start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
`;

/** Responses API tool definitions for an environment session. */
export const ENVIRONMENT_TOOLS = [
  {
    type: 'function' as const,
    name: EXEC_COMMAND,
    description: 'Runs a shell command in the workspace and returns its exit code and output.',
    strict: false,
    parameters: {
      type: 'object',
      properties: {
        cmd: { type: 'string', description: 'The shell command to run (bash -lc).' },
        workdir: { type: 'string', description: 'Folder to run it in; defaults to the workspace folder.' },
        yield_time_ms: { type: 'number', description: 'How long to wait for the command to finish, in milliseconds.' },
        max_output_tokens: { type: 'number', description: 'Most output to return, in tokens (about 4 bytes each).' },
      },
      required: ['cmd'],
      additionalProperties: false,
    },
  },
  {
    type: 'custom' as const,
    name: APPLY_PATCH,
    description:
      'Edits files. The input is a patch: "*** Begin Patch", then for each file "*** Add File: path" (lines prefixed "+"), ' +
      '"*** Delete File: path", or "*** Update File: path" (optionally "*** Move to: path") with "@@ context" anchors and ' +
      'lines prefixed " " (kept), "-" (removed) or "+" (added), then "*** End Patch". Paths are relative to the workspace folder.',
    format: { type: 'grammar' as const, syntax: 'lark' as const, definition: PATCH_GRAMMAR },
  },
];

/** Chat Completions has no custom tools: there `apply_patch` is a function taking the patch as `input`. */
export const CHAT_ENVIRONMENT_TOOLS = ENVIRONMENT_TOOLS.map((t) =>
  t.type === 'function'
    ? { type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } }
    : {
        type: 'function' as const,
        function: {
          name: t.name,
          description: t.description,
          parameters: { type: 'object', properties: { input: { type: 'string', description: 'The whole patch.' } }, required: ['input'] },
        },
      },
);

/** What the runtime tells the item list and the event stream while a tool runs. */
export interface ToolProgress {
  /** Output of a command as it arrives (decoded text). */
  output(delta: string): void;
}

export interface ToolOutcome {
  /** The text the model reads. */
  modelOutput: string;
  /** Shown in the `command_execution` item. */
  command: string;
  cwd: string;
  exitCode: number | null;
  output: string;
  success: boolean;
}

const DEFAULT_WAIT_MS = 10 * 60 * 1000;
const MAX_WAIT_MS = 60 * 60 * 1000;
/** What the model reads of a command's output at most (the item keeps the same). */
const DEFAULT_OUTPUT_BYTES = 64 * 1024;

/** `exec_command`: `process/start` of `bash -lc cmd`, its output notifications, exit, close. */
export async function runExecCommand(
  rpc: EnvironmentRpcClient,
  workspaceDirectory: string,
  rawArguments: string,
  progress: ToolProgress,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  let args: { cmd?: unknown; workdir?: unknown; yield_time_ms?: unknown; max_output_tokens?: unknown };
  try {
    args = JSON.parse(rawArguments) as typeof args;
  } catch {
    return refused('', workspaceDirectory, 'exec_command arguments are not JSON: send {"cmd": "..."}.');
  }
  if (typeof args?.cmd !== 'string' || args.cmd.trim() === '') return refused('', workspaceDirectory, 'exec_command needs a non-empty "cmd" string.');
  const cmd = args.cmd;
  const cwd = typeof args.workdir === 'string' && args.workdir !== '' ? path.resolve(workspaceDirectory, args.workdir) : workspaceDirectory;
  const waitMs = typeof args.yield_time_ms === 'number' && args.yield_time_ms > 0 ? Math.min(args.yield_time_ms, MAX_WAIT_MS) : DEFAULT_WAIT_MS;
  const maxBytes = typeof args.max_output_tokens === 'number' && args.max_output_tokens > 0 ? Math.floor(args.max_output_tokens * 4) : DEFAULT_OUTPUT_BYTES;

  const processId = `deputy-${randomUUID()}`;
  const chunks: Buffer[] = [];
  let exitCode: number | null = null;
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  const unsubscribe = rpc.onNotification((method, params) => {
    if (params.processId !== processId) return;
    if (method === ExecMethods.processOutput && typeof params.chunk === 'string') {
      const bytes = Buffer.from(params.chunk, 'base64');
      chunks.push(bytes);
      progress.output(bytes.toString('utf8'));
    } else if (method === ExecMethods.processExited && typeof params.exitCode === 'number') {
      exitCode = params.exitCode;
    } else if (method === ExecMethods.processClosed) {
      settle();
    }
  });
  const started = Date.now();
  try {
    try {
      await rpc.call(ExecMethods.processStart, {
        processId,
        argv: ['/bin/bash', '-lc', cmd],
        cwd: pathToFileURL(cwd).href,
        env: {},
        tty: false,
        pipeStdin: false,
        arg0: null,
        sandbox: null,
      });
    } catch (err) {
      // A refused start (policy, sandbox, bad folder) is the model's answer, in the environment's own words.
      if (err instanceof EnvironmentRpcError) return refused(cmd, cwd, `The command did not start: ${err.message}`);
      throw err;
    }
    const timedOut = await Promise.race([
      done.then(() => false),
      rpc.closed.then(() => false),
      abortable(signal),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), waitMs).unref()),
    ]);
    if (timedOut || signal.aborted) {
      await rpc.call(ExecMethods.processTerminate, { processId }).catch(() => undefined);
    }
    const all = Buffer.concat(chunks);
    const text = all.toString('utf8');
    const shown = all.length > maxBytes ? `${all.subarray(0, maxBytes).toString('utf8')}\n[output cut at ${maxBytes} of ${all.length} bytes]` : text;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const status = !rpc.isOpen && exitCode === null
      ? 'The environment disconnected before the command finished.'
      : timedOut
        ? `The command was still running after ${waitMs} ms and was terminated.`
        : `Exit code: ${exitCode ?? 'unknown'}`;
    return {
      modelOutput: `${status}\nWall time: ${seconds} seconds\nOutput:\n${shown}`,
      command: cmd,
      cwd,
      exitCode,
      output: text,
      success: exitCode === 0,
    };
  } finally {
    unsubscribe();
  }
}

function abortable(signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    signal.addEventListener('abort', () => resolve(false), { once: true });
  });
}

function refused(command: string, cwd: string, message: string): ToolOutcome {
  return { modelOutput: message, command, cwd, exitCode: null, output: message, success: false };
}

interface FileSection {
  operation: 'create' | 'update' | 'delete';
  path: string;
  moveTo: string | null;
  /** The section as its own one-file patch, for the V4A parser. */
  lines: string[];
}

const SECTION_HEADER = /^\*\*\* (Add|Update|Delete) File: ?(.*)$/;
const OPERATIONS = { Add: 'create', Update: 'update', Delete: 'delete' } as const;

/** Splits a multi-file patch into one section per file. Throws PatchError. */
export function splitPatch(input: string): FileSection[] {
  const lines = input.replace(/\r\n/g, '\n').split('\n');
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  if (lines[0]?.trim() !== '*** Begin Patch') throw new PatchError('The patch must start with "*** Begin Patch".');
  if (lines[lines.length - 1]?.trim() !== '*** End Patch') throw new PatchError('The patch must end with "*** End Patch".');
  const body = lines.slice(1, -1);
  const sections: FileSection[] = [];
  for (const line of body) {
    const header = SECTION_HEADER.exec(line);
    if (header) {
      const p = header[2]!.trim();
      if (p === '') throw new PatchError(`"${line}" names no file.`);
      sections.push({ operation: OPERATIONS[header[1] as keyof typeof OPERATIONS], path: p, moveTo: null, lines: [line] });
      continue;
    }
    const current = sections[sections.length - 1];
    if (!current) {
      if (line.trim() === '') continue;
      throw new PatchError(`The line ${JSON.stringify(line.slice(0, 80))} comes before any "*** … File:" header.`);
    }
    const move = /^\*\*\* Move to: ?(.*)$/.exec(line);
    if (move && current.operation === 'update' && current.lines.length === 1) {
      current.moveTo = move[1]!.trim();
      continue;
    }
    current.lines.push(line);
  }
  if (sections.length === 0) throw new PatchError('The patch changes no file.');
  return sections;
}

/**
 * `apply_patch`: every file of the patch is checked against the environment's current content first (read,
 * hunks located), then written; a patch whose hunks do not apply changes nothing.
 */
export async function runApplyPatch(rpc: EnvironmentRpcClient, workspaceDirectory: string, input: string): Promise<ToolOutcome> {
  const fail = (message: string): ToolOutcome => ({
    modelOutput: `apply_patch failed: ${message}`,
    command: APPLY_PATCH,
    cwd: workspaceDirectory,
    exitCode: 1,
    output: message,
    success: false,
  });
  let sections: FileSection[];
  try {
    sections = splitPatch(input);
  } catch (err) {
    if (err instanceof PatchError) return fail(err.message);
    throw err;
  }
  const uri = (p: string) => pathToFileURL(path.resolve(workspaceDirectory, p)).href;
  type Planned = { write?: { path: string; text: string }; remove?: string; summary: string };
  const plan: Planned[] = [];
  try {
    for (const section of sections) {
      const parsed = parseV4A([...section.lines], section.operation, section.path);
      if (section.operation === 'create') {
        plan.push({ write: { path: section.path, text: joinText(createdText(parsed).file) }, summary: `A ${section.path}` });
      } else if (section.operation === 'delete') {
        await rpc.call(ExecMethods.fsGetMetadata, { path: uri(section.path) });
        plan.push({ remove: section.path, summary: `D ${section.path}` });
      } else {
        const current = (await rpc.call(ExecMethods.fsReadFile, { path: uri(section.path) })) as { dataBase64?: string };
        const text = Buffer.from(current.dataBase64 ?? '', 'base64').toString('utf8');
        const updated = joinText(applyHunks(splitText(text), parsed).file);
        if (section.moveTo && section.moveTo !== section.path) {
          plan.push({ write: { path: section.moveTo, text: updated }, remove: section.path, summary: `R ${section.path} -> ${section.moveTo}` });
        } else {
          plan.push({ write: { path: section.path, text: updated }, summary: `M ${section.path}` });
        }
      }
    }
  } catch (err) {
    if (err instanceof PatchError) return fail(err.message);
    if (err instanceof EnvironmentRpcError) return fail(err.code === ExecErrorCodes.notFound ? `a file the patch updates or deletes does not exist (${err.message})` : err.message);
    throw err;
  }
  const done: string[] = [];
  try {
    for (const step of plan) {
      if (step.write) await writeWithParents(rpc, uri(step.write.path), Buffer.from(step.write.text, 'utf8').toString('base64'));
      if (step.remove) await rpc.call(ExecMethods.fsRemove, { path: uri(step.remove), recursive: false, force: false });
      done.push(step.summary);
    }
  } catch (err) {
    if (err instanceof EnvironmentRpcError) {
      return fail(`${err.message}${done.length ? `; already applied: ${done.join(', ')}` : ''}`);
    }
    throw err;
  }
  const summary = `Success. Updated the following files:\n${done.join('\n')}`;
  return { modelOutput: summary, command: APPLY_PATCH, cwd: workspaceDirectory, exitCode: 0, output: summary, success: true };
}

/** Writes a file; when its folder is missing (-32004), creates the folder and writes again, as the harness does. */
async function writeWithParents(rpc: EnvironmentRpcClient, fileUri: string, dataBase64: string): Promise<void> {
  try {
    await rpc.call(ExecMethods.fsWriteFile, { path: fileUri, dataBase64 });
  } catch (err) {
    if (!(err instanceof EnvironmentRpcError) || err.code !== ExecErrorCodes.notFound) throw err;
    const parent = new URL('.', fileUri).href.replace(/\/$/, '');
    await rpc.call(ExecMethods.fsCreateDirectory, { path: parent, recursive: true });
    await rpc.call(ExecMethods.fsWriteFile, { path: fileUri, dataBase64 });
  }
}
