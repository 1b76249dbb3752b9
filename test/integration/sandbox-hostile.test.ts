// Hostile commands in the real bubblewrap sandbox: each tries to get out, and each is contained. Every check has a
// control (the same command with the door deliberately open, or the same read outside the sandbox) proving the
// check can fail. CI installs bubblewrap (.ci/run), so there a missing sandbox is a failure, not a skip.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  ALWAYS_HIDDEN,
  detectSandbox,
  scrubEnvironment,
  spawnSandboxed,
  SandboxUnavailableError,
  type SandboxExit,
  type SandboxSpec,
  type SandboxSupport,
} from '../../src/environment/sandbox.js';

let support: SandboxSupport;
let root: string;
let shadow: string;
let real: string;
let home: string;

before(async () => {
  support = await detectSandbox();
  // Not under /tmp: the sandbox gives commands a /tmp of their own, which would hide these folders by itself and
  // prove nothing about hiddenPaths.
  root = await fs.mkdtemp(path.join('/var/tmp', 'deputy-sandbox-'));
  shadow = path.join(root, 'shadow');
  real = path.join(root, 'real-workspace');
  home = path.join(root, 'home');
  for (const dir of [shadow, real, home]) await fs.mkdir(dir);
  await fs.writeFile(path.join(real, 'main.ts'), 'real\n');
  await fs.writeFile(path.join(home, 'credentials'), 'aws_secret_access_key = not-for-agents\n');
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function spec(argv: string[], over: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    argv,
    cwd: shadow,
    writableRoots: [shadow],
    hiddenPaths: [real, home],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
    network: false,
    timeoutMs: 20_000,
    outputCapBytes: 1 << 20,
    tty: false,
    ...over,
  };
}

async function run(s: SandboxSpec, opts = { allowUnsandboxed: false }, sup: SandboxSupport = support): Promise<{ out: string; err: string; bytes: number; exit: SandboxExit }> {
  const p = spawnSandboxed(s, sup, opts);
  let out = '';
  let err = '';
  let bytes = 0;
  p.onOutput((stream, chunk) => {
    bytes += chunk.length;
    if (stream === 'stdout') out += chunk.toString('utf8');
    else err += chunk.toString('utf8');
  });
  const exit = await new Promise<SandboxExit>((resolve) => p.onExit(resolve));
  return { out, err, bytes, exit };
}

/** Host processes whose command line holds `marker`: what survived a sandbox. */
function survivors(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

const bwrapMissing = (): string | false => (support.kind === 'bwrap' || process.env.CI ? false : `no sandbox here: ${(support as { reason: string }).reason}`);

describe('sandbox: hostile commands are contained', () => {
  it('finds a working bubblewrap (CI installs it)', (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    assert.equal(support.kind, 'bwrap', JSON.stringify(support));
  });

  it('cannot write the real workspace, only the shadow', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const r = await run(spec(['/bin/bash', '-c', `echo pwned > ${real}/main.ts; echo new > ${real}/new.ts; echo shadow > ${shadow}/out.txt; ls -A ${real} | wc -l`]));
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.equal(r.out.trim(), '2', 'inside, the path is an empty scratch folder (the two files written there)');
    assert.equal(await fs.readFile(path.join(real, 'main.ts'), 'utf8'), 'real\n');
    await assert.rejects(fs.stat(path.join(real, 'new.ts')));
    assert.equal(await fs.readFile(path.join(shadow, 'out.txt'), 'utf8'), 'shadow\n');
    // Control: not hidden, the real workspace is visible (read-only) — hiding is what made it empty above.
    const visible = await run(spec(['/bin/bash', '-c', `cat ${real}/main.ts; echo x > ${real}/main.ts`], { hiddenPaths: [home] }));
    assert.equal(visible.out, 'real\n');
    assert.match(visible.err, /Read-only file system/);
    // The rest of the system is read-only.
    const sys = await run(spec(['/bin/bash', '-c', 'touch /usr/deputy-was-here']));
    assert.notEqual(sys.exit.exitCode, 0);
    assert.match(sys.err, /Read-only file system/);
  });

  it('cannot read the home folder or hidden paths', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const r = await run(spec(['/bin/bash', '-c', `cat ${home}/credentials; ls -A ~ ${os.homedir()} | wc -l`]));
    assert.doesNotMatch(r.out + r.err, /not-for-agents/);
    assert.match(r.err, /No such file/);
    // Control: not hidden, the same command reads the file.
    const open = await run(spec(['/bin/bash', '-c', `cat ${home}/credentials`], { hiddenPaths: [real], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }));
    assert.match(open.out, /not-for-agents/);
  });

  it('cannot read the audit signing key, wherever DEPUTY_AUDIT_KEY_FILE keeps it', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const key = path.join(root, 'audit.key');
    await fs.writeFile(key, 'PRIVATE-KEY-not-for-agents\n', { mode: 0o600 });
    const before = process.env.DEPUTY_AUDIT_KEY_FILE;
    process.env.DEPUTY_AUDIT_KEY_FILE = key;
    try {
      const r = await run(spec(['/bin/bash', '-c', `cat ${key}`], { hiddenPaths: [real, home] }));
      assert.doesNotMatch(r.out + r.err, /not-for-agents/);
    } finally {
      if (before === undefined) delete process.env.DEPUTY_AUDIT_KEY_FILE;
      else process.env.DEPUTY_AUDIT_KEY_FILE = before;
    }
    // Control: without the setting, the same file (outside every hidden folder) is readable.
    const open = await run(spec(['/bin/bash', '-c', `cat ${key}`]));
    assert.match(open.out, /not-for-agents/);
  });

  it("a login shell reads nothing of the account's real home, even when HOME names another folder", async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    // The account's home as the password database has it (where `bash -l` finds its start-up files), with a file
    // of ours in it; Deputy's own HOME points elsewhere, as a test harness or a wrapper script may set it.
    const realHome = os.userInfo().homedir;
    const probe = path.join(realHome, `.deputy-sandbox-probe-${randomBytes(6).toString('hex')}`);
    await fs.writeFile(probe, 'home-secret\n');
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const script = `cat ${probe}; echo "home=$HOME"; ls -A "$HOME" | wc -l`;
      const r = await run(spec(['/bin/bash', '-lc', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: realHome } }));
      assert.doesNotMatch(r.out + r.err, /home-secret/);
      assert.match(r.err, /No such file/);
      // HOME is an empty private folder, not the real one.
      assert.match(r.out, /home=\/tmp\/home\n0\n/);
      // Control: outside the sandbox the same file reads.
      assert.equal(readFileSync(probe, 'utf8'), 'home-secret\n');
    } finally {
      process.env.HOME = savedHome;
      await fs.rm(probe, { force: true });
    }
  });

  it('a hidden path given through a symlink is hidden under its real name too', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const link = path.join(root, 'workspace-link');
    await fs.symlink(real, link);
    t.after(() => fs.rm(link, { force: true }));
    const r = await run(spec(['/bin/bash', '-c', `cat ${real}/main.ts; cat ${link}/main.ts`], { hiddenPaths: [link, home] }));
    assert.doesNotMatch(r.out, /real/);
  });

  it('cannot connect to a Unix socket it must not see (a container engine, an agent), though / is visible', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const net = await import('node:net');
    const sockPath = path.join(root, 'engine.sock');
    let connections = 0;
    const server = net.createServer((c) => {
      connections++;
      c.end('engine\n');
    });
    await new Promise<void>((resolve) => server.listen(sockPath, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const probe = ['/usr/bin/python3', '-c', `import socket; s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(sockPath)}); print(s.recv(64).decode())`];
    // Control: visible (read-only, as everything outside the shadow), the socket still answers: read-only is no
    // protection for a socket, hiding is.
    const open = await run(spec(probe));
    assert.match(open.out, /engine/);
    assert.equal(connections, 1);
    const hidden = await run(spec(probe, { hiddenPaths: [real, home, sockPath] }));
    assert.notEqual(hidden.exit.exitCode, 0);
    assert.equal(connections, 1);
    assert.ok(ALWAYS_HIDDEN.includes('/var/run/docker.sock') && ALWAYS_HIDDEN.includes('/run/user'));
  });

  it('cannot reach the network unless granted', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.end('reached\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const probe = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`;
    const closed = await run(spec(['/bin/bash', '-c', probe]));
    assert.notEqual(closed.exit.exitCode, 0);
    assert.equal(hits, 0);
    // Control: the same probe with network granted reaches the server.
    const open = await run(spec(['/bin/bash', '-c', probe], { network: true }));
    assert.match(open.out, /reached/);
    assert.equal(hits, 1);
  });

  it('gets no credentials in its environment', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const secrets = {
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session-token-value-123',
      OPENAI_API_KEY: 'sk-test-abcdefghijklmnopqrstuvwxyz',
      GITHUB_TOKEN: 'ghp_abcdefghijklmnop',
      GH_TOKEN: 'gho_abcdefghijklmnop',
      NPM_TOKEN: 'npm-token-value',
      MY_SERVICE_SECRET_VALUE: 'shh-secret',
      DB_PASSWORD: 'hunter2-password',
      STRIPE_KEY: 'stripe-key-value',
      SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
      INNOCENT_LOOKING: 'Bearer abcdefghijklmnopqrstuvwxyz',
    };
    const r = await run(spec(['/usr/bin/env'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KEEP_ME: 'visible', ...secrets } }));
    assert.equal(r.exit.exitCode, 0, r.err);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!r.out.includes(name), `${name} leaked`);
      assert.ok(!r.out.includes(value), `${name}'s value leaked`);
    }
    assert.match(r.out, /KEEP_ME=visible/, 'control: a harmless variable gets through');
    assert.deepEqual(Object.keys(scrubEnvironment({ ...secrets, LANG: 'C.UTF-8', PATH: '/bin', input_tokens: '3' })).sort(), ['LANG', 'PATH', 'input_tokens']);
  });

  it('a fork bomb hits the process limit and dies with its sandbox, leaving no process behind', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const marker = `deputy-bomb-${randomBytes(6).toString('hex')}`;
    const r = await run(spec(['/bin/bash', '-c', `# ${marker}\nf() { f | f & }; f; sleep 30`], { maxProcesses: 64, timeoutMs: 4000 }));
    assert.equal(r.exit.timedOut, true);
    assert.equal(r.exit.signal, 'SIGKILL');
    assert.match(r.err, /fork: (retry: )?Resource temporarily unavailable|Cannot fork/i, 'the limit, not the machine, stopped it');
    assert.deepEqual(survivors(marker), []);
  });

  it('terminate() kills the whole process tree', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const marker = `deputy-tree-${randomBytes(6).toString('hex')}`;
    const p = spawnSandboxed(spec(['/bin/bash', '-c', `# ${marker}\n(sleep 300 &) ; setsid sleep 300 & nohup sleep 300 & echo started; wait`]), support, { allowUnsandboxed: false });
    const started = new Promise<void>((resolve) => p.onOutput((_s, c) => c.toString().includes('started') && resolve()));
    await started;
    assert.ok(survivors(marker).length > 0, 'control: the tree is running before terminate');
    await p.terminate();
    assert.deepEqual(survivors(marker), []);
  });

  it('an endless output stream is capped and stopped', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const r = await run(spec(['/usr/bin/yes', 'deputy'], { outputCapBytes: 64 * 1024 }));
    assert.equal(r.exit.outputTruncated, true);
    assert.equal(r.bytes, 64 * 1024);
    // Control: output under the cap is complete and not marked.
    const small = await run(spec(['/bin/echo', 'hello'], { outputCapBytes: 64 * 1024 }));
    assert.deepEqual([small.out, small.exit.outputTruncated, small.exit.exitCode], ['hello\n', false, 0]);
  });

  it('a time limit stops a command that never ends', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const r = await run(spec(['/bin/sleep', '300'], { timeoutMs: 300 }));
    assert.deepEqual([r.exit.timedOut, r.exit.exitCode], [true, null]);
  });

  it('gives a terminal when asked', async (t) => {
    if (bwrapMissing()) return t.skip(bwrapMissing() as string);
    const tty = await run(spec(['/bin/bash', '-c', 'test -t 1 && echo terminal'], { tty: true }));
    assert.match(tty.out, /terminal/);
    const pipe = await run(spec(['/bin/bash', '-c', 'test -t 1 && echo terminal || echo pipe']));
    assert.equal(pipe.out, 'pipe\n');
  });
});

describe('sandbox: where none can run', () => {
  it('says why, and refuses to run unsandboxed unless allowed', async () => {
    const none = await detectSandbox({ bwrapPath: path.join(os.tmpdir(), 'no-such-bwrap') });
    assert.equal(none.kind, 'none');
    assert.match((none as { reason: string }).reason, /no-such-bwrap/);
    assert.throws(() => spawnSandboxed(spec(['/bin/echo', 'x']), none, { allowUnsandboxed: false }), (err: unknown) => err instanceof SandboxUnavailableError && /not allowed/.test((err as Error).message));
    const r = await run(spec(['/bin/echo', 'unsandboxed'], { env: { PATH: '/usr/bin:/bin', AWS_SECRET_ACCESS_KEY: 'x-secret-value' } }), { allowUnsandboxed: true }, none);
    assert.equal(r.out, 'unsandboxed\n');
    const env = await run(spec(['/usr/bin/env'], { env: { PATH: '/usr/bin:/bin', AWS_SECRET_ACCESS_KEY: 'x-secret-value' } }), { allowUnsandboxed: true }, none);
    assert.doesNotMatch(env.out, /x-secret-value/, 'credentials are scrubbed even unsandboxed');
  });
});
