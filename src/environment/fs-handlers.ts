/**
 * `fs/*` requests, confined to the shadow. Reads pass the same policy as the client tools (`workspace_read`,
 * `workspace_list`; a secret file asks the person); writes land only in the shadow and are refused where policy
 * denies changing the path (`propose_changes`); `.git` and `.deputy` are never written. Every read of content and
 * every change is audited. Nothing here touches the real workspace: that happens only through review.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  ExecErrorCodes,
  ExecMethods,
  type FsGetMetadataResult,
  type FsReadDirectoryEntry,
  type FsReadDirectoryResult,
  type FsReadFileResult,
} from '../protocol/exec-server.js';
import { sha256Hex } from '../core/workspace-text.js';
import { printablePath } from '../core/workspace-paths.js';
import { FolderSwappedError, writeAtomically } from './atomic-write.js';
import { askPerson, record, strictestVerdict, type EnvironmentContext } from './context.js';
import { base64, bool, object, optBool, str } from './params.js';
import { ExecError, type RequestHandler } from './rpc.js';
import { resolveUri, shadowToUri, UriError, workspaceRelative, type ShadowPath } from './shadow-paths.js';

/** Largest file `fs/readFile` returns in one answer. */
export const MAX_READ_BYTES = 32 * 1024 * 1024;

export interface FsSession {
  env: EnvironmentContext;
  session: string;
  /** A fresh id per request, for the audit trail and prompt bindings. */
  nextCallId(): string;
  /** Paths the person already allowed reading on this connection (asked once, not on every read). */
  allowedReads: Set<string>;
}

type Access = 'read' | 'list' | 'write';

export function fsHandlers(s: FsSession): Record<string, RequestHandler> {
  const roots = { workspaceRoot: s.env.shadow.workspaceRoot, shadowRoot: s.env.shadow.root };

  const locate = async (uri: string, access: Access): Promise<ShadowPath> => {
    try {
      return await resolveUri(roots, uri);
    } catch (err) {
      if (!(err instanceof UriError) || err.refusal === 'invalid') throw err;
      if (access !== 'write') {
        // For a reader, what it may not see does not exist here; the message still says why.
        throw new ExecError(ExecErrorCodes.notFound, err.message);
      }
      if (err.refusal === 'protected') throw new ExecError(ExecErrorCodes.invalidRequest, `${err.message} It is read-only in Deputy's environment.`);
      throw new ExecError(ExecErrorCodes.invalidRequest, err.message);
    }
  };

  /** Policy (and the person when it asks) for reading a file's content or listing a folder. */
  const authorize = async (target: ShadowPath, access: Access, callId: string, method: string): Promise<void> => {
    const tool = access === 'read' ? 'workspace_read' : access === 'list' ? 'workspace_list' : 'propose_changes';
    let verdict = strictestVerdict(s.env.policy, tool, target.rel, target.realRel);
    if (access === 'write' && verdict.decision !== 'deny') {
      // A Cedar policy may speak of the environment's writes as such (`fs_write`): its forbid refuses the write too.
      const write = strictestVerdict(s.env.policy, 'fs_write', target.rel, target.realRel);
      if (write.decision === 'deny') verdict = write;
    }
    if (verdict.decision === 'allow') return;
    await record(s.env, 'policy.decision', s.session, { call_id: callId, tool: method, path: target.rel, decision: verdict.decision, reason: verdict.reason, policies: verdict.policies, ...(verdict.trial ? { trial: verdict.trial } : {}) });
    if (verdict.decision === 'deny') throw new ExecError(ExecErrorCodes.invalidRequest, `Denied by policy: ${verdict.reason}`);
    // A change is never approved here: it is staged in the shadow and reviewed per file later.
    if (access === 'write') return;
    const key = `${access}:${target.realRel}`;
    if (s.allowedReads.has(key)) return;
    const answer = await askPerson(s.env, {
      session: s.session,
      callId,
      tool: method,
      summary: `${access === 'read' ? 'read' : 'list'} ${target.rel || '.'}`,
      reason: verdict.reason,
      args: { path: target.rel },
    });
    if (!answer.allow) throw new ExecError(ExecErrorCodes.invalidRequest, answer.why);
    s.allowedReads.add(key);
  };

  /** Runs one fs request with its audit records around it. */
  const audited = async <T>(method: string, uris: Record<string, string>, run: (callId: string) => Promise<T>, detail?: (result: T) => Record<string, unknown>): Promise<T> => {
    const callId = s.nextCallId();
    const shown = Object.fromEntries(Object.entries(uris).map(([k, v]) => [k, printablePath(v)]));
    await record(s.env, 'tool.call', s.session, { call_id: callId, tool: method, summary: `${method} ${printablePath(workspaceRelative(roots, uris.uri ?? ''))}`, ...shown });
    try {
      const result = await run(callId);
      await record(s.env, 'tool.result', s.session, { call_id: callId, tool: method, success: true, ...(detail ? detail(result) : {}) });
      return result;
    } catch (err) {
      await record(s.env, 'tool.result', s.session, { call_id: callId, tool: method, success: false, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  };

  return {
    async [ExecMethods.fsReadFile](params) {
      const p = object(params);
      const uri = str(p, 'path');
      return audited(ExecMethods.fsReadFile, { uri }, async (callId): Promise<FsReadFileResult> => {
        const target = await locate(uri, 'read');
        await authorize(target, 'read', callId, ExecMethods.fsReadFile);
        const stat = await fsCall(() => fs.stat(target.abs));
        if (!stat.isFile()) throw new ExecError(ExecErrorCodes.invalidRequest, `path \`${target.shown}\` is not a file`);
        if (stat.size > MAX_READ_BYTES) throw new ExecError(ExecErrorCodes.invalidRequest, `\`${target.shown}\` is ${stat.size} bytes, over the ${MAX_READ_BYTES}-byte read limit`);
        const bytes = await fsCall(() => fs.readFile(target.abs));
        return { dataBase64: bytes.toString('base64') };
      }, (r) => ({ bytes: Buffer.byteLength(r.dataBase64, 'base64') }));
    },

    async [ExecMethods.fsGetMetadata](params) {
      const p = object(params);
      const target = await locate(str(p, 'path'), 'list');
      const verdict = strictestVerdict(s.env.policy, 'workspace_list', target.rel, target.realRel);
      if (verdict.decision === 'deny') throw new ExecError(ExecErrorCodes.notFound, `Denied by policy: ${verdict.reason}`);
      const named = path.join(s.env.shadow.root, ...target.rel.split('/').filter(Boolean));
      const link = await fsCall(() => fs.lstat(named));
      const stat = link.isSymbolicLink() ? await fsCall(() => fs.stat(target.abs)) : link;
      const result: FsGetMetadataResult = {
        isDirectory: stat.isDirectory(),
        isFile: stat.isFile(),
        isSymlink: link.isSymbolicLink(),
        size: stat.size,
        createdAtMs: Math.trunc(stat.birthtimeMs),
        modifiedAtMs: Math.trunc(stat.mtimeMs),
      };
      return result;
    },

    async [ExecMethods.fsReadDirectory](params) {
      const p = object(params);
      const uri = str(p, 'path');
      return audited(ExecMethods.fsReadDirectory, { uri }, async (callId): Promise<FsReadDirectoryResult> => {
        const target = await locate(uri, 'list');
        await authorize(target, 'list', callId, ExecMethods.fsReadDirectory);
        const stat = await fsCall(() => fs.stat(target.abs));
        if (!stat.isDirectory()) throw new ExecError(ExecErrorCodes.invalidRequest, `path \`${target.shown}\` is not a directory`);
        const dirents = await fsCall(() => fs.readdir(target.abs, { withFileTypes: true }));
        const entries: FsReadDirectoryEntry[] = [];
        for (const d of dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          const rel = target.realRel ? `${target.realRel}/${d.name}` : d.name;
          if (s.env.policy.decide({ tool: 'workspace_list', path: rel }).decision === 'deny') continue;
          let isDirectory = d.isDirectory();
          let isFile = d.isFile();
          if (d.isSymbolicLink()) {
            const followed = await fs.stat(path.join(target.abs, d.name)).catch(() => null);
            isDirectory = followed?.isDirectory() ?? false;
            isFile = followed?.isFile() ?? false;
          }
          entries.push({ fileName: d.name, isDirectory, isFile });
        }
        return { entries };
      }, (r) => ({ entries: r.entries.length }));
    },

    async [ExecMethods.fsWriteFile](params) {
      const p = object(params);
      const data = base64(p, 'dataBase64');
      const uri = str(p, 'path');
      return audited(ExecMethods.fsWriteFile, { uri }, async (callId) => {
        const target = await locate(uri, 'write');
        await authorize(target, 'write', callId, ExecMethods.fsWriteFile);
        if (target.rel === '') throw new ExecError(ExecErrorCodes.invalidRequest, 'the workspace root is a folder, not a file');
        await writeInside(target.abs, data);
        return {};
      }, () => ({ bytes: data.length, sha256: sha256Hex(data) }));
    },

    async [ExecMethods.fsCreateDirectory](params) {
      const p = object(params);
      const recursive = optBool(p, 'recursive') ?? false;
      const uri = str(p, 'path');
      return audited(ExecMethods.fsCreateDirectory, { uri }, async (callId) => {
        const target = await locate(uri, 'write');
        await authorize(target, 'write', callId, ExecMethods.fsCreateDirectory);
        await fsCall(() => fs.mkdir(target.abs, { recursive }));
        return {};
      });
    },

    async [ExecMethods.fsRemove](params) {
      const p = object(params);
      const recursive = optBool(p, 'recursive') ?? false;
      const force = optBool(p, 'force') ?? false;
      const uri = str(p, 'path');
      return audited(ExecMethods.fsRemove, { uri }, async (callId) => {
        const target = await locate(uri, 'write');
        await authorize(target, 'write', callId, ExecMethods.fsRemove);
        if (target.rel === '') throw new ExecError(ExecErrorCodes.invalidRequest, 'the workspace root cannot be removed');
        // The link itself is removed, never what it points to.
        const named = path.join(s.env.shadow.root, ...target.rel.split('/'));
        const stat = await fs.lstat(named).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' && force) return null;
          throw fsError(err);
        });
        if (!stat) return {};
        if (stat.isDirectory()) {
          if (recursive) await fsCall(() => fs.rm(named, { recursive: true, force }));
          else await fsCall(() => fs.rmdir(named));
        } else {
          await fsCall(() => fs.unlink(named));
        }
        return {};
      });
    },

    async [ExecMethods.fsCopy](params) {
      const p = object(params);
      const recursive = bool(p, 'recursive');
      const sourceUri = str(p, 'sourcePath');
      const destinationUri = str(p, 'destinationPath');
      return audited(ExecMethods.fsCopy, { uri: destinationUri, source_uri: sourceUri }, async (callId) => {
        const source = await locate(sourceUri, 'read');
        const destination = await locate(destinationUri, 'write');
        await authorize(source, 'read', callId, ExecMethods.fsCopy);
        await authorize(destination, 'write', callId, ExecMethods.fsCopy);
        const stat = await fsCall(() => fs.stat(source.abs));
        if (stat.isDirectory()) {
          if (!recursive) throw new ExecError(ExecErrorCodes.invalidRequest, 'fs/copy requires recursive: true when sourcePath is a directory');
          // Links are copied as links (never followed), so a copy cannot pull in what lies outside the shadow.
          await fsCall(() => fs.cp(source.abs, destination.abs, { recursive: true, verbatimSymlinks: true, errorOnExist: false, force: true }));
        } else {
          await writeInside(destination.abs, await fsCall(() => fs.readFile(source.abs)));
        }
        return {};
      });
    },

    async [ExecMethods.fsCanonicalize](params) {
      const p = object(params);
      const target = await locate(str(p, 'path'), 'list');
      await fsCall(() => fs.lstat(target.abs));
      return { path: shadowToUri(roots, target.realRel) };
    },
  };
}

/** Writes `data` to `abs` (resolved inside the shadow), keeping an existing file's mode. A missing folder is -32004. */
async function writeInside(abs: string, data: Buffer): Promise<void> {
  const existing = await fs.lstat(abs).catch(() => null);
  if (existing?.isDirectory()) throw new ExecError(ExecErrorCodes.invalidRequest, `path \`${abs}\` is a directory`);
  const mode = existing?.isFile() ? existing.mode & 0o7777 : 0o644;
  await fsCall(() => writeAtomically(abs, data, { mode, durable: false }));
}

/** Maps a filesystem error to the exec-server's codes: ENOENT is -32004, the rest -32603 with the OS message. */
function fsError(err: NodeJS.ErrnoException): ExecError {
  if (err instanceof ExecError) return err;
  if (err instanceof FolderSwappedError) return new ExecError(ExecErrorCodes.invalidRequest, err.message);
  if (err.code === 'ENOENT') return new ExecError(ExecErrorCodes.notFound, 'No such file or directory (os error 2)');
  if (err.code === 'ENOTDIR') return new ExecError(ExecErrorCodes.notFound, 'Not a directory (os error 20)');
  if (err.code === 'EEXIST') return new ExecError(ExecErrorCodes.internal, 'File exists (os error 17)');
  if (err.code === 'ENOTEMPTY') return new ExecError(ExecErrorCodes.internal, 'Directory not empty (os error 39)');
  if (err.code === 'EISDIR') return new ExecError(ExecErrorCodes.invalidRequest, 'Is a directory (os error 21)');
  return new ExecError(ExecErrorCodes.internal, err.message);
}

async function fsCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw fsError(err as NodeJS.ErrnoException);
  }
}
