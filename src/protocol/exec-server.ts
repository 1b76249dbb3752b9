/**
 * The Codex exec-server protocol: what a Codex harness (the Codex CLI with `CODEX_EXEC_SERVER_URL`, Bedrock Managed
 * Agents' harness through the direct transport) sends to an execution environment, and what Deputy's environment
 * (`src/environment/`) answers. JSON-RPC 2.0 without the `"jsonrpc"` member, one object per websocket text frame.
 *
 * The harness is the client: it sends requests and the `initialized` notification; the environment answers and
 * sends `process/output|exited|closed` notifications. Paths and working folders are `file://` URIs (a plain path is
 * refused with -32602), file and output bytes are base64.
 *
 * Checked against the behaviour of `@openai/codex` 0.171.0 (`codex exec-server --listen ws://…`, and the harness's
 * calls observed with `codex exec`): field names, which fields may be null, error codes and the `seq` numbering of a
 * process's notifications (one counter across output, exited and closed, starting at 1).
 */

/** The Codex release this protocol module was checked against, field by field. */
export const CODEX_PROTOCOL_VERSION = '0.171.0';

/** Method names, one place: handlers, tests and the harness-facing docs use these constants. */
export const ExecMethods = {
  initialize: 'initialize',
  initialized: 'initialized',
  processStart: 'process/start',
  processRead: 'process/read',
  processWrite: 'process/write',
  processSignal: 'process/signal',
  processTerminate: 'process/terminate',
  processOutput: 'process/output',
  processExited: 'process/exited',
  processClosed: 'process/closed',
  fsReadFile: 'fs/readFile',
  fsWriteFile: 'fs/writeFile',
  fsCreateDirectory: 'fs/createDirectory',
  fsGetMetadata: 'fs/getMetadata',
  fsReadDirectory: 'fs/readDirectory',
  fsRemove: 'fs/remove',
  fsCopy: 'fs/copy',
  fsCanonicalize: 'fs/canonicalize',
} as const;
export type ExecMethod = (typeof ExecMethods)[keyof typeof ExecMethods];

/** JSON-RPC error codes as the exec-server uses them. */
export const ExecErrorCodes = {
  /** Bad request: wrong order (before `initialize`), unknown process, a folder where a file was expected. */
  invalidRequest: -32600,
  methodNotFound: -32601,
  /** Params that do not match the method's shape (a plain path instead of a URI, a missing field). */
  invalidParams: -32602,
  internal: -32603,
  /** The path does not exist (ENOENT). The harness relies on this code to tell "absent" from "failed". */
  notFound: -32004,
} as const;
export type ExecErrorCode = (typeof ExecErrorCodes)[keyof typeof ExecErrorCodes];

export type RequestId = number | string;

export interface RpcRequest {
  id: RequestId;
  method: string;
  params?: unknown;
}
export interface RpcNotification {
  method: string;
  params?: unknown;
}
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}
export type RpcResponse = { id: RequestId | null; result: unknown } | { id: RequestId | null; error: RpcError };

// ---- initialize -------------------------------------------------------------------------------------------------

/** Harness → environment, first request on a connection. */
export interface InitializeParams {
  clientName: string;
  resumeSessionId?: string | null;
}
/** The 0.171 harness accepts a bare `{sessionId}`; `environmentInfo` is only sent for what the environment supports. */
export interface InitializeResult {
  sessionId: string;
}

// ---- process/* --------------------------------------------------------------------------------------------------

/** How the harness wants the child's environment built (Codex's `shell_environment_policy`). */
export interface ExecEnvPolicy {
  inherit: 'all' | 'core' | 'none';
  ignoreDefaultExcludes: boolean;
  exclude: string[];
  set: Record<string, string>;
  includeOnly: string[];
}

/** Harness → environment: start a process. `processId` is the harness's own handle, unique per connection. */
export interface ProcessStartParams {
  processId: string;
  argv: string[];
  /** `file://` URI of the working folder. */
  cwd: string;
  env: Record<string, string>;
  envPolicy?: ExecEnvPolicy | null;
  tty: boolean;
  /** Keep stdin open for `process/write` when not a tty. */
  pipeStdin?: boolean;
  arg0?: string | null;
  /** The harness's own sandbox intent (null with `danger-full-access`); Deputy applies its own sandbox regardless. */
  sandbox?: unknown;
  enforceManagedNetwork?: boolean;
  managedNetwork?: unknown;
}
/**
 * What confines a started process, as the harness names it (it refuses any other value). A Linux sandbox of
 * namespaces and seccomp (Deputy's bubblewrap) is `linuxSeccomp`; `none` only when the person allowed unsandboxed runs.
 */
export const SANDBOX_TYPES = ['none', 'macosSeatbelt', 'linuxSeccomp', 'windowsRestrictedToken', 'windowsMxc'] as const;
export type SandboxType = (typeof SANDBOX_TYPES)[number];

export interface ProcessStartResult {
  processId: string;
  sandboxType: SandboxType;
}

export interface ProcessReadParams {
  processId: string;
  /** Chunks with a larger `seq` are returned; all when null. */
  afterSeq?: number | null;
  maxBytes?: number | null;
  /** Wait this long for new output when there is none yet. */
  waitMs?: number | null;
}
export type ExecOutputStream = 'stdout' | 'stderr' | 'pty';
export interface ProcessOutputChunk {
  seq: number;
  stream: ExecOutputStream;
  /** base64 */
  chunk: string;
}
export interface ProcessReadResult {
  chunks: ProcessOutputChunk[];
  nextSeq: number;
  exited: boolean;
  exitCode: number | null;
  closed: boolean;
  failure: string | null;
  sandboxDenied: boolean;
}

export interface ProcessWriteParams {
  processId: string;
  /** base64 */
  chunk: string;
  writeId: string;
}
export type WriteStatus = 'accepted' | 'unknownProcess' | 'stdinClosed' | 'starting';
export interface ProcessWriteResult {
  status: WriteStatus;
}

export interface ProcessSignalParams {
  processId: string;
  signal: 'interrupt';
}
export type ProcessSignalResult = Record<string, never>;

export interface ProcessTerminateParams {
  processId: string;
}
/** `running`: whether the process was still running when asked (false for an unknown or finished one). */
export interface ProcessTerminateResult {
  running: boolean;
}

/** Environment → harness: output, in `seq` order. */
export interface ProcessOutputNotification {
  processId: string;
  seq: number;
  stream: ExecOutputStream;
  /** base64 */
  chunk: string;
}
/** Environment → harness: the process exited (128 + signal number when killed by a signal). */
export interface ProcessExitedNotification {
  processId: string;
  seq: number;
  exitCode: number;
  sandboxDenied?: boolean;
}
/** Environment → harness: no more notifications for this process. */
export interface ProcessClosedNotification {
  processId: string;
  seq: number;
}

// ---- fs/* -------------------------------------------------------------------------------------------------------

/** Every fs request may carry the harness's sandbox intent; Deputy confines fs to its shadow regardless. */
interface FsSandboxed {
  sandbox?: unknown;
}
export interface FsPathParams extends FsSandboxed {
  /** `file://` URI. */
  path: string;
}
export type FsReadFileParams = FsPathParams;
export interface FsReadFileResult {
  dataBase64: string;
}
export interface FsWriteFileParams extends FsPathParams {
  dataBase64: string;
}
export interface FsCreateDirectoryParams extends FsPathParams {
  recursive?: boolean | null;
}
export type FsGetMetadataParams = FsPathParams;
export interface FsGetMetadataResult {
  isDirectory: boolean;
  isFile: boolean;
  isSymlink: boolean;
  size: number;
  createdAtMs: number;
  modifiedAtMs: number;
}
export type FsReadDirectoryParams = FsPathParams;
export interface FsReadDirectoryEntry {
  fileName: string;
  isDirectory: boolean;
  isFile: boolean;
}
export interface FsReadDirectoryResult {
  entries: FsReadDirectoryEntry[];
}
export interface FsRemoveParams extends FsPathParams {
  recursive?: boolean | null;
  force?: boolean | null;
}
export interface FsCopyParams extends FsSandboxed {
  sourcePath: string;
  destinationPath: string;
  recursive: boolean;
}
export type FsCanonicalizeParams = FsPathParams;
export interface FsCanonicalizeResult {
  path: string;
}
/** writeFile, createDirectory, remove and copy answer an empty object. */
export type FsEmptyResult = Record<string, never>;
