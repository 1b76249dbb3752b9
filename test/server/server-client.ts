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
  RegistrationRequest,
  UnregistrationRequest,
  CodeLensRefreshRequest,
  type ClientCapabilities,
} from 'vscode-languageserver-protocol';
import type { EngineEvent, EngineEventOf, EngineEventType } from '../../src/protocol/events.js';
import {
  IdentityChanged,
  OpenExternal,
  SECRET_FILE_ENV,
  SessionEvents,
  SessionsChanged,
  ServerStatus,
  SignInProgress,
  type IdentityStatus,
  type ServerInitOptions,
  type ServerSecrets,
  type ServerSettings,
} from '../../src/protocol/lsp.js';
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
  /** Every IdentityChanged, in order, with when it arrived (this process's clock). */
  identities: Array<IdentityStatus & { receivedAt: number }>;
  /** Every SignInProgress (device codes shown to the person). */
  signInProgress: SignInProgress.Params[];
  /** Plays the person's browser for OpenExternal; the default opens nothing. */
  openExternal: (url: string) => Promise<boolean>;
  /** Resolves with the first identity (already received or later) that matches. */
  waitForIdentity(match: (s: IdentityStatus) => boolean, timeoutMs?: number): Promise<IdentityStatus & { receivedAt: number }>;
  /** Methods the server registered dynamically and has not unregistered (only with `dynamicRegistration`). */
  registered: Map<string, string>;
  /** How many times the server asked the client to refresh its code lenses. */
  lensRefreshes(): number;
  stderr(): string;
  /** Resolves with the first event (already received or later) that matches. */
  waitFor<T extends EngineEventType>(type: T, match?: (e: EngineEventOf<T>) => boolean, timeoutMs?: number): Promise<EngineEventOf<T>>;
  /** Kills the process at once (no shutdown): a crash. */
  kill(): Promise<void>;
  /**
   * LSP shutdown + exit, bounded: a server that does not answer shutdown within 10 s, or does not exit 5 s after, is
   * killed. True when it answered shutdown and exited by itself.
   */
  stop(): Promise<boolean>;
}

/** What VS Code's client declares for the features the server registers dynamically. */
export const DYNAMIC_CLIENT: ClientCapabilities = {
  textDocument: { synchronization: { dynamicRegistration: true }, codeLens: { dynamicRegistration: true } },
  workspace: { codeLens: { refreshSupport: true } },
};

export async function startServer(
  folders: string[],
  settings: ServerSettings,
  secrets?: ServerSecrets,
  options: Pick<ServerInitOptions, 'signedOutProfiles'> & { editorFiles?: boolean; capabilities?: ClientCapabilities; env?: NodeJS.ProcessEnv } = {},
): Promise<ServerUnderTest> {
  const { capabilities = {}, env: extraEnv, ...init } = options;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
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
  const identities: ServerUnderTest['identities'] = [];
  const signInProgress: SignInProgress.Params[] = [];
  const browser = { open: async (_url: string) => false };
  conn.onNotification(IdentityChanged.type, (p) => {
    identities.push({ ...p, receivedAt: Date.now() });
    for (const w of [...waiters]) w();
  });
  conn.onNotification(SignInProgress.type, (p) => {
    signInProgress.push(p);
  });
  conn.onRequest(OpenExternal.type, async (p) => ({ opened: await browser.open(p.url) }));
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
  const registered = new Map<string, string>();
  let refreshes = 0;
  conn.onRequest(RegistrationRequest.type, (p) => {
    for (const r of p.registrations) registered.set(r.id, r.method);
  });
  conn.onRequest(UnregistrationRequest.type, (p) => {
    for (const r of p.unregisterations) registered.delete(r.id);
  });
  conn.onRequest(CodeLensRefreshRequest.type, () => {
    refreshes++;
  });
  conn.onError(() => undefined);
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities,
    workspaceFolders: folders.map((f) => ({ uri: pathToFileURL(f).href, name: f })),
    initializationOptions: { settings, clientVersion: '0.0.0-test', ...init },
  });
  await conn.sendNotification(InitializedNotification.type, {});
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const record = () => recordOutput('deputy language server', `${stderr}\n${logs.join('\n')}\n${JSON.stringify(events)}\n${JSON.stringify(identities)}`);
  return {
    conn,
    child,
    events,
    get sessions() {
      return state.sessions;
    },
    statuses: state.statuses,
    identities,
    signInProgress,
    get openExternal() {
      return browser.open;
    },
    set openExternal(fn) {
      browser.open = fn;
    },
    waitForIdentity(match, timeoutMs = 20_000) {
      return new Promise((done, fail) => {
        const check = (): boolean => {
          const hit = identities.find((s) => match(s));
          if (hit) done(hit);
          return Boolean(hit);
        };
        if (check()) return;
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          fail(new Error(`no matching identity within ${timeoutMs} ms; got: ${JSON.stringify(identities)}\n${stderr}\n${logs.join('\n')}`));
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
    registered,
    lensRefreshes: () => refreshes,
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
      // Bounded like the client's own stop: a server that does not answer shutdown is killed, never waited on forever.
      const within = <T>(ms: number, p: Promise<T>): Promise<T | 'late'> => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([p, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)))]).finally(() => clearTimeout(timer));
      };
      const answered = await within(10_000, Promise.race([conn.sendRequest(ShutdownRequest.type).catch(() => undefined), exited]));
      if (answered !== 'late') await conn.sendNotification(ExitNotification.type).catch(() => undefined);
      const late = (await within(5000, exited)) === 'late';
      if (late) {
        process.stderr.write(`deputy language server ${child.pid} had not ${answered === 'late' ? 'answered shutdown' : 'exited'} in time; killed\n`);
        child.kill('SIGKILL');
      }
      conn.dispose();
      return answered !== 'late' && !late;
    },
  };
}
