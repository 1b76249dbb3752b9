/**
 * The sandbox a command of the agent runs in: bubblewrap (`bwrap`, Debian's `bubblewrap` package).
 *
 * Inside: the whole file system read-only, writable only the `writableRoots` (the shadow workspace) and a private
 * `/tmp`; the real workspace, the home folder and any other `hiddenPaths` covered by empty folders; no network
 * unless the verdict grants it (a network namespace with only loopback); its own pid namespace, so killing the
 * sandbox's first process kills every process the command started, and `--die-with-parent`, so a Deputy that dies
 * takes its commands with it; credentials scrubbed from the environment; a process limit (a pids cgroup where
 * Deputy may make one, else RLIMIT_NPROC), a time limit and an output cap.
 *
 * Where bwrap cannot run (not installed, or the kernel refuses unprivileged user namespaces), `detectSandbox`
 * says so with the reason, and `spawnSandboxed` refuses unless the caller passes `allowUnsandboxed` (a setting a
 * person chose): the time limit, output cap and process-group kill still apply then, the isolation does not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isSecretKey, redactText } from '../core/redact.js';
import { createCgroup, detectProcessLimit, type Cgroup, type ProcessLimit } from './sandbox-limits.js';

export type SandboxSupport =
  | { kind: 'bwrap'; path: string; version: string; processLimit: ProcessLimit }
  | { kind: 'none'; reason: string; processLimit: ProcessLimit };

export interface SandboxSpec {
  argv: readonly string[];
  /** Where the command starts; must be inside a writable root or otherwise visible. */
  cwd: string;
  /** Folders the command may write (the shadow workspace). */
  writableRoots: readonly string[];
  /** Folders and files the command must not see (the real workspace); the home folder is always hidden (homeFolders). */
  hiddenPaths: readonly string[];
  /** The command's environment; scrubbed again here whatever the caller did. */
  env: Readonly<Record<string, string>>;
  network: boolean;
  /** 0 for no limit. */
  timeoutMs: number;
  /** Bytes of stdout and stderr together; past it the command is stopped and the output marked truncated. */
  outputCapBytes: number;
  /** Give the command a terminal (through util-linux `script` inside the sandbox). */
  tty: boolean;
  /** At most this many processes at once (default 256). */
  maxProcesses?: number;
}

export interface SandboxExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  outputTruncated: boolean;
}

export interface SandboxedProcess {
  pid: number;
  onOutput(cb: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): void;
  onExit(cb: (exit: SandboxExit) => void): void;
  write(data: Buffer): void;
  closeStdin(): void;
  /** Kills the command and every process it started; resolves once they are gone. */
  terminate(): Promise<void>;
}

/** Thrown when no sandbox can run and unsandboxed runs were not allowed. */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
  constructor(readonly reason: string) {
    super(
      `Commands cannot run in a sandbox on this machine (${reason}), and running them unsandboxed is not allowed. ` +
        'Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) with user namespaces enabled, or allow unsandboxed commands explicitly.',
    );
  }
}

const DEFAULT_MAX_PROCESSES = 256;
/** The command's HOME inside the sandbox: a folder of its private, empty /tmp. */
export const SANDBOX_HOME = '/tmp/home';
/**
 * Hidden whatever the caller says. A read-only bind does not stop `connect()` on a Unix socket, so the sockets
 * that hand out more power than the command has — the container engines, the session bus and per-user runtime
 * folders (SSH and GPG agents, keyrings) — are covered like the home folder. (`/tmp`, with X11 and agent
 * sockets, is replaced by the sandbox's own.)
 */
export const ALWAYS_HIDDEN: readonly string[] = [
  '/run/user',
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/containerd',
  '/run/podman',
  '/run/dbus',
  '/var/run/dbus',
  '/run/systemd/private',
];

/** Finds bwrap and proves it can build a sandbox here by running one. */
export async function detectSandbox(opts: { bwrapPath?: string } = {}): Promise<SandboxSupport> {
  const limit = detectProcessLimit();
  const bwrap = opts.bwrapPath ?? findOnPath('bwrap');
  if (!bwrap) return { kind: 'none', reason: 'bubblewrap (bwrap) is not installed', processLimit: limit };
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0) return { kind: 'none', reason: `${bwrap} --version failed: ${(version.stderr || version.error?.message || '').trim()}`, processLimit: limit };
  const probe = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(bwrap, [...isolationArgs(false), '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', '/bin/sh', '-c', 'exit 0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err) => resolve({ code: null, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (probe.code !== 0) {
    return { kind: 'none', reason: `bubblewrap cannot create a sandbox here (user namespaces may be disabled): ${probe.stderr.trim() || `exit ${probe.code}`}`, processLimit: limit };
  }
  return { kind: 'bwrap', path: bwrap, version: version.stdout.trim(), processLimit: limit };
}

/**
 * The environment a command gets: the caller's without credentials. A variable goes when its name says secret
 * (`*_TOKEN`, `*_KEY`, `*SECRET*`, `*PASSWORD*`, …), when it belongs to a credential family (`AWS_*`, `OPENAI_*`,
 * `GH_*`/`GITHUB_*`, the SSH agent, …), or when its value looks like a credential (an access key id, a bearer
 * token, a PEM block).
 */
export function scrubEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isCredentialVariable(name)) continue;
    if (redactText(value) !== value) continue;
    out[name] = value;
  }
  return out;
}

const CREDENTIAL_FAMILIES =
  /^(AWS_|AMAZON_|OPENAI_|AZURE_|ANTHROPIC_|GOOGLE_|GCLOUD_|GCP_|CLOUDSDK_|GH_|GITHUB_|GITLAB_|BITBUCKET_|VAULT_|CODEX_|HF_|HUGGING|NPM_CONFIG_|YARN_NPM_|DOCKER_|KUBE|DEPUTY_|SSH_|GPG_|GNUPG|PGP|SNOWFLAKE_|DATABRICKS_|CI_JOB_JWT|ACTIONS_)/i;
const CREDENTIAL_NAMES = /(^|_)(KEY|KEYS|AUTH|PAT|JWT|SESSION|PASS|PASSWD|PWD_HASH|DSN|CONNECTION_STRING)$|_URL_WITH_AUTH$|^DATABASE_URL$|^REDIS_URL$|^GIT_ASKPASS$|^SUDO_ASKPASS$/i;

function isCredentialVariable(name: string): boolean {
  return isSecretKey(name) || CREDENTIAL_FAMILIES.test(name) || CREDENTIAL_NAMES.test(name);
}

/** Starts `spec.argv` in the sandbox `support` describes. */
export function spawnSandboxed(spec: SandboxSpec, support: SandboxSupport, opts: { allowUnsandboxed: boolean }): SandboxedProcess {
  if (spec.argv.length === 0) throw new Error('spawnSandboxed: empty argv');
  if (support.kind === 'none' && !opts.allowUnsandboxed) throw new SandboxUnavailableError(support.reason);
  // Inside the sandbox HOME is an empty folder of the private /tmp: a login shell (`bash -lc`, how the Codex harness
  // runs every command) then reads no start-up file of the real home, and tools that write under HOME have a place.
  const env: Record<string, string> = { ...scrubEnvironment(spec.env), ...(support.kind === 'bwrap' ? { TMPDIR: '/tmp', HOME: SANDBOX_HOME } : {}) };
  const maxProcesses = spec.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const inner = [
    // RLIMIT_NPROC: effective for an unprivileged user (root is exempt; the cgroup covers root).
    ...(findOnPath('prlimit') ? ['prlimit', `--nproc=${maxProcesses}`, '--'] : []),
    ...(spec.tty ? ttyWrap(spec.argv) : spec.argv),
  ];
  let command: string;
  let args: string[];
  if (support.kind === 'bwrap') {
    command = support.path;
    args = [...isolationArgs(spec.network), ...mountArgs(spec), '--chdir', spec.cwd, '--', ...inner];
  } else {
    command = inner[0]!;
    args = inner.slice(1);
  }
  const cgroup = support.processLimit.kind === 'cgroup' ? createCgroup(support.processLimit, maxProcesses) : null;
  if (cgroup) {
    // A shell outside the sandbox joins the cgroup, then becomes bwrap: every process of the command is born in it.
    args = ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, command, ...args];
    command = '/bin/sh';
  }
  const child = spawn(command, args, {
    cwd: support.kind === 'bwrap' ? '/' : spec.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  return new Running(child, spec, cgroup);
}

/** Namespaces: everything but the network unshared, the network too unless granted. */
function isolationArgs(network: boolean): string[] {
  return ['--unshare-all', ...(network ? ['--share-net'] : []), '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];
}

function mountArgs(spec: SandboxSpec): string[] {
  const writable = [...new Set(spec.writableRoots.map((p) => realOrResolved(p)))];
  // By real path: a mount follows symlinks anyway, and one target reached under two names (`/var/run` is often a
  // link to `/run`) must be covered once — bwrap cannot mount twice through the link.
  const hidden = [
    ...new Set([...homeFolders(spec.env), ...ALWAYS_HIDDEN, ...deputyPrivatePaths(process.env), ...spec.hiddenPaths].map((p) => realOrResolved(p))),
  ];
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--dir', SANDBOX_HOME];
  const hide = (p: string): void => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      return; // absent: nothing to hide
    }
    if (isDir) args.push('--tmpfs', p);
    // A file or a socket: covered by an empty file (a bind onto a socket would not stop connect()).
    else args.push('--ro-bind', '/dev/null', p);
  };
  // Hidden paths first, writable roots over them (a shadow under the home folder stays reachable), then hidden
  // paths inside a writable root again, so nothing hidden reappears through a writable bind.
  const inside = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
  for (const p of hidden) if (!writable.some((w) => inside(p, w))) hide(p);
  for (const w of writable) args.push('--bind', w, w);
  for (const p of hidden) if (writable.some((w) => inside(p, w))) hide(p);
  return args;
}

/**
 * Every name the user's home goes by: the account's home from the password database (what `~root` and a login
 * shell's start-up files use), HOME of this process (`os.homedir()`, which a caller may have pointed elsewhere)
 * and HOME the command asked for. Hiding only `os.homedir()` left the real home readable whenever HOME was set
 * to another folder.
 */
/**
 * Deputy's own secrets wherever the person keeps them, even outside the home folder: the audit signing key (a
 * command that could read it could forge signed digests) and Deputy's per-person folder (`DEPUTY_HOME`).
 */
function deputyPrivatePaths(env: NodeJS.ProcessEnv): string[] {
  return [env.DEPUTY_AUDIT_KEY_FILE, env.DEPUTY_HOME].filter((p): p is string => typeof p === 'string' && path.isAbsolute(p) && path.resolve(p) !== '/');
}

function homeFolders(commandEnv: Readonly<Record<string, string>>): string[] {
  const homes = [os.homedir()];
  try {
    homes.push(os.userInfo().homedir);
  } catch {
    /* no password database entry: HOME is all there is */
  }
  const asked = commandEnv.HOME;
  if (asked && path.isAbsolute(asked) && path.resolve(asked) !== '/') homes.push(asked);
  return homes.filter((h) => h && path.resolve(h) !== '/');
}

/** Runs argv on a pseudo-terminal inside the sandbox (`script` allocates one; no native addon needed). */
function ttyWrap(argv: readonly string[]): string[] {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['script', '--quiet', '--return', '--flush', '--command', quoted, '/dev/null'];
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not this one */
    }
  }
  return null;
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

class Running implements SandboxedProcess {
  readonly pid: number;
  private readonly outputListeners: Array<(stream: 'stdout' | 'stderr', chunk: Buffer) => void> = [];
  private readonly exitListeners: Array<(exit: SandboxExit) => void> = [];
  private exit: SandboxExit | null = null;
  private written = 0;
  private truncated = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout | null;
  private readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly spec: SandboxSpec,
    private readonly cgroup: Cgroup | null,
  ) {
    this.pid = child.pid ?? -1;
    this.timer = spec.timeoutMs > 0 ? setTimeout(() => {
      this.timedOut = true;
      void this.terminate();
    }, spec.timeoutMs) : null;
    child.stdout!.on('data', (chunk: Buffer) => this.output('stdout', chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.output('stderr', chunk));
    child.stdin!.on('error', () => {
      /* the command closed its input: writes after that are dropped */
    });
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exit) return;
        if (this.timer) clearTimeout(this.timer);
        // The sandbox's first process is gone, so its pid namespace is too; an unsandboxed group is killed here.
        this.killGroup();
        this.cgroup?.killAll();
        this.cgroup?.dispose();
        this.exit = { exitCode: code, signal, timedOut: this.timedOut, outputTruncated: this.truncated };
        for (const cb of this.exitListeners) cb(this.exit);
        resolve();
      };
      child.on('close', finish);
      child.on('error', (err) => {
        this.output('stderr', Buffer.from(`cannot start the command: ${err.message}\n`));
        finish(127, null);
      });
    });
  }

  onOutput(cb: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): void {
    this.outputListeners.push(cb);
  }

  onExit(cb: (exit: SandboxExit) => void): void {
    if (this.exit) cb(this.exit);
    else this.exitListeners.push(cb);
  }

  write(data: Buffer): void {
    if (this.exit || this.child.stdin!.destroyed) return;
    this.child.stdin!.write(data);
  }

  closeStdin(): void {
    this.child.stdin!.end();
  }

  async terminate(): Promise<void> {
    if (this.exit) return;
    this.killGroup();
    this.cgroup?.killAll();
    await this.exited;
  }

  private killGroup(): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private output(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.spec.outputCapBytes - this.written;
    if (chunk.length > room) {
      this.truncated = true;
      if (room > 0) this.emit(stream, chunk.subarray(0, room));
      this.written = this.spec.outputCapBytes;
      void this.terminate();
      return;
    }
    this.written += chunk.length;
    this.emit(stream, chunk);
  }

  private emit(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    for (const cb of this.outputListeners) cb(stream, chunk);
  }
}

export type { ProcessLimit };
