/**
 * Deputy wakes only when needed, in real VS Code (code-server): in a workspace it has never worked in, the window
 * starts without it (the test's language model extension, activated at `onStartupFinished`, marks the end of the
 * start-up); opening its panel from the activity bar wakes it. Once the workspace has a `.deputy` folder (Deputy has
 * worked there), a new window starts Deputy with it (`workspaceContains:.deputy`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QUIET_WORKBENCH, ROOT, failure, launch, packageVsix, waitFor } from './code-server.js';

const DEPUTY = 'deputy-dev.deputy';
const LM_PROVIDER = 'deputy-test.lm-provider';

/** The extension host's own record of each activation: `<extension id>` → the events that activated it, in order. */
function activations(userData: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name === 'remoteexthost.log' ? [join(dir, e.name)] : []));
  const logs = existsSync(join(userData, 'logs')) ? walk(join(userData, 'logs')).sort() : [];
  for (const log of logs) {
    for (const m of readFileSync(log, 'utf8').matchAll(/_doActivateExtension (\S+), startup: \w+, activationEvent: '([^']*)'/g)) {
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
    }
  }
  return out;
}

test('Deputy sleeps through the start of a window on a workspace it never worked in, wakes with its panel, and starts with the window once .deputy is there', { timeout: 10 * 60_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-activation-'));
  writeFileSync(join(ws, 'README.md'), '# demo\n');
  const lmProvider = packageVsix(join(__dirname, 'lm-provider'), ['--skip-license', '--allow-missing-repository']);
  const vscode = await launch({ vsix: packageVsix(ROOT), extraVsix: [lmProvider], workspace: ws, settings: QUIET_WORKBENCH, fresh: true });
  t.after(() => vscode.close());
  const { page } = vscode;
  const seen = () => activations(vscode.dirs.userData);
  try {
    // The start-up is over when the extensions activated at its end have been.
    await waitFor(async () => seen().get(LM_PROVIDER)?.includes('onStartupFinished') ?? false, 180_000, () => `the start-up never finished: ${JSON.stringify([...seen()])}`);
    // A moment more, for anything the start-up would still activate.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(seen().get(DEPUTY), undefined, 'Deputy was not activated by the start-up');
    assert.equal(await page.locator('.statusbar-item', { hasText: 'Deputy' }).count(), 0, 'no Deputy status item');
    assert.ok(!existsSync(join(ws, '.deputy')), 'nothing written to the workspace');
    // Its icon is on the activity bar all the same (VS Code shows contributions without activating): a person opens it.
    await page.locator('.activitybar .action-item a[aria-label^="Deputy"]').first().click();
    const panel = await vscode.panel(120_000);
    await panel.locator('deputy-panel').waitFor({ timeout: 30_000 });
    await waitFor(async () => (seen().get(DEPUTY) ?? []).length > 0, 60_000, () => 'Deputy never activated');
    // Its container holds the panel and the Changes view: either one's view event woke it.
    assert.match(seen().get(DEPUTY)![0]!, /^onView:deputy\.(panel|changes)$/, 'the panel woke it');
    assert.equal(seen().get(DEPUTY)!.length, 1);
    await page.locator('.statusbar-item', { hasText: 'Deputy' }).first().waitFor({ timeout: 60_000 });
    await vscode.shot('activation-01-woken-by-the-panel');

    // A workspace Deputy has worked in (its audit trail, policy or runtime are in .deputy): the next window starts it.
    // The Explorer in front, so that the panel does not wake the next window's Deputy first.
    mkdirSync(join(ws, '.deputy'), { recursive: true });
    await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').first().click();
    await page.locator('.explorer-folders-view').first().waitFor({ timeout: 30_000 });
    await vscode.reload();
    await waitFor(async () => (seen().get(DEPUTY) ?? []).length > 1, 60_000, () => `Deputy did not start with the window: ${JSON.stringify(seen().get(DEPUTY))}`);
    assert.equal(seen().get(DEPUTY)![1], 'workspaceContains:.deputy');
    await vscode.shot('activation-02-started-with-the-window');
  } catch (err) {
    throw await failure(vscode, 'activation', err);
  }
});
