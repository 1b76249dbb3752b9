/**
 * A test client for Deputy's language server: spawns the built `dist/server.js` over stdio, speaks LSP to it with
 * `vscode-jsonrpc` (what `vscode-languageclient` uses underneath), and collects the engine events it sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  ShutdownRequest,
} from 'vscode-languageserver-protocol';
import type { EngineEvent, EngineEventOf, EngineEventType } from '../../src/protocol/events.js';
import { SECRET_FILE_ENV, SessionEvents, SessionsChanged, ServerStatus, type ServerSecrets, type ServerSettings } from '../../src/protocol/lsp.js';
import type { SessionSummary } from '../../src/protocol/webview.js';
import { recordOutput } from '../fixtures/leak-ledger.js';

export const SERVER = resolve(__dirname, '..', '..', 'dist', 'server.js');

export function settingsFor(modelBaseUrl: string, over: Partial<ServerSettings> = {}): ServerSettings {
  return {
    endpoint: 'embedded',
    model: 'scripted',
    embeddedModelBaseUrl: modelBaseUrl,
    embeddedModelApi: 'responses',
    promptTimeoutMinutes: 15,
    workspaceTrusted: true,
    ...over,
  };
}

export interface ServerUnderTest {
  conn: MessageConnection;
  child: ChildProcess;
  events: EngineEvent[];
  sessions: SessionSummary[];
  statuses: ServerStatus.Params[];
  stderr(): string;
  /** Resolves with the first event (already received or later) that matches. */
  waitFor<T extends EngineEventType>(type: T, match?: (e: EngineEventOf<T>) => boolean, timeoutMs?: number): Promise<EngineEventOf<T>>;
  /** Kills the process at once (no shutdown): a crash. */
  kill(): Promise<void>;
  /** LSP shutdown + exit. */
  stop(): Promise<void>;
}

export async function startServer(folders: string[], settings: ServerSettings, secrets?: ServerSecrets, init: { editorFiles?: boolean } = {}): Promise<ServerUnderTest> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (secrets) {
    const dir = mkdtempSync(join(tmpdir(), 'deputy-secrets-'));
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
    chmodSync(file, 0o600);
    env[SECRET_FILE_ENV] = file;
  }
  const child = spawn(process.execPath, [SERVER, '--stdio'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const events: EngineEvent[] = [];
  const waiters: Array<() => void> = [];
  const logs: string[] = [];
  const state = { sessions: [] as SessionSummary[], statuses: [] as ServerStatus.Params[] };
  conn.onNotification(SessionEvents.type, (p) => {
    events.push(...p.events);
    for (const w of [...waiters]) w();
  });
  conn.onNotification(SessionsChanged.type, (p) => {
    state.sessions = p.sessions;
  });
  conn.onNotification(ServerStatus.type, (p) => {
    state.statuses.push(p);
  });
  conn.onNotification(LogMessageNotification.type, (p) => {
    logs.push(p.message);
  });
  conn.onError(() => undefined);
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    workspaceFolders: folders.map((f) => ({ uri: pathToFileURL(f).href, name: f })),
    initializationOptions: { settings, clientVersion: '0.0.0-test', ...init },
  });
  await conn.sendNotification(InitializedNotification.type, {});
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const record = () => recordOutput('deputy language server', `${stderr}\n${logs.join('\n')}\n${JSON.stringify(events)}`);
  return {
    conn,
    child,
    events,
    get sessions() {
      return state.sessions;
    },
    statuses: state.statuses,
    stderr: () => `${stderr}\n${logs.join('\n')}`,
    waitFor(type, match, timeoutMs = 20_000) {
      return new Promise((done, fail) => {
        const check = (): boolean => {
          const hit = events.find((e) => e.type === type && (!match || match(e as never)));
          if (hit) {
            done(hit as never);
            return true;
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          fail(new Error(`no ${type} event within ${timeoutMs} ms; got: ${events.map((e) => e.type).join(', ')}\n${stderr}\n${logs.join('\n')}`));
        }, timeoutMs);
        const w = () => {
          if (check()) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
          }
        };
        waiters.push(w);
      });
    },
    async kill() {
      record();
      child.kill('SIGKILL');
      await exited;
      conn.dispose();
    },
    async stop() {
      record();
      await conn.sendRequest(ShutdownRequest.type).catch(() => undefined);
      await conn.sendNotification(ExitNotification.type).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      conn.dispose();
    },
  };
}
