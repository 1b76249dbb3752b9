/**
 * The acting identity on VS Code's status bar (code-server, headless Chromium): an SSO profile signed in through the
 * AWS stand-ins shows its principal, account, profile and time left; when its sign-in enters the last 15 minutes the
 * item turns to the warning colour and a notification offers Sign In; once it has run out, the error colour. The
 * identity menu is driven through its quick pick. Screenshots go to test-results/vscode-e2e/identity-*.png.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { makeAwsHome, seedSsoSignIn, ssoConfig } from '../../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, USER_NAME, startAwsStandins } from '../../fixtures/aws/aws-standins.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const item = (page: Page) => page.locator('.statusbar-item', { hasText: 'dev' }).filter({ hasText: /alice@example\.com|sign-in expired/ }).first();

async function refreshFromMenu(vscode: VsCode): Promise<void> {
  await vscode.command('Deputy: AWS Identity…');
  const refresh = vscode.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Refresh' }).first();
  await refresh.waitFor({ timeout: 30_000 });
  await refresh.click();
}

test('the status bar shows who Deputy acts as, then the expiry warning, then the expiry', { timeout: 12 * 60_000 }, async (t) => {
  const aws = await startAwsStandins();
  const home = await makeAwsHome(aws, ssoConfig('corp'));
  t.after(async () => {
    await home.cleanup();
    await aws.close();
  });
  await seedSsoSignIn(home, aws, 'corp', 3 * 3600_000);
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-identity-'));
  writeFileSync(join(ws, 'README.md'), '# identity\n');
  const vscode = await launch({
    vsix: packageVsix(ROOT),
    workspace: ws,
    env: { ...home.env },
    settings: {
      'deputy.bedrock.profile': 'dev',
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.commandCenter.enabled': false,
    },
  });
  t.after(() => vscode.close());
  try {
    const page = vscode.page;
    // Signed in: principal, account, profile and the time left, in the normal colour.
    const signedIn = item(page);
    await signedIn.waitFor({ timeout: 120_000 });
    const text = (await signedIn.textContent()) ?? '';
    assert.match(text, new RegExp(`${USER_NAME.replace('.', '\\.')} · ${ACCOUNT_ID} · dev · [23]h \\d\\dm`));
    assert.equal(await signedIn.evaluate((el) => el.classList.contains('warning-kind') || el.classList.contains('error-kind')), false);
    await vscode.shot('identity-01-signed-in');

    // The sign-in was renewed elsewhere to end in 14 minutes: the warning colour and one notification with Sign In.
    await seedSsoSignIn(home, aws, 'corp', 14 * 60_000);
    await refreshFromMenu(vscode);
    await waitFor(async () => (await item(page).evaluate((el) => el.classList.contains('warning-kind')).catch(() => false)), 30_000, () => 'no warning colour');
    assert.match((await item(page).textContent()) ?? '', /· 1[34]m/);
    const toast = page.locator('.notification-list-item', { hasText: 'expires in' }).first();
    await toast.waitFor({ timeout: 30_000 });
    assert.match((await toast.textContent()) ?? '', /profile "dev"/);
    await toast.getByRole('button', { name: 'Sign In' }).waitFor();
    await vscode.shot('identity-02-expiry-warning');

    // Run out: the error colour, and the item says a sign-in is needed.
    await seedSsoSignIn(home, aws, 'corp', -60_000);
    await refreshFromMenu(vscode);
    await waitFor(async () => (await item(page).evaluate((el) => el.classList.contains('error-kind')).catch(() => false)), 30_000, () => 'no error colour');
    assert.match((await item(page).textContent()) ?? '', /dev: sign-in expired/);
    await page.locator('.notification-list-item', { hasText: 'has expired' }).first().waitFor({ timeout: 30_000 });
    await vscode.shot('identity-03-expired');
  } catch (err) {
    await vscode.shot('identity-failed');
    throw err;
  }
});
