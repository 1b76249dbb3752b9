/**
 * The identity commands in real VS Code (code-server, headless Chromium), against the AWS stand-ins: "Sign In" runs
 * IAM Identity Center's device-code flow (a browser window gets the device code; the stand-in confirms it as the
 * person would on the verification page) and the status bar then shows who Deputy acts as; "Copy AWS Identity" puts
 * the identity on the clipboard (pasted back into an editor); "Sign Out of AWS (Deputy only)" makes the status bar
 * say signed out, survives a window reload, and leaves the AWS CLI's token cache as it was; "Switch AWS Profile"
 * picks another profile of ~/.aws/config and the status bar shows it. Screenshots: test-results/vscode-e2e/ident-cmd-*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ssoTokenCachePath } from '../../../src/identity/aws-config.js';
import { makeAwsHome, seedSsoSignIn, ssoConfig } from '../../fixtures/aws/aws-home.js';
import { ACCOUNT_ID, ROLE_NAME, USER_NAME, startAwsStandins } from '../../fixtures/aws/aws-standins.js';
import { notification, pick, waitFor, withDeputy } from './code-server.js';

const LEGACY_START_URL = 'https://d-1234567890.awsapps.com/start/legacy';

/** The identity status item, by the label it gives assistive technology. */
const identityItem = (page: Page) => page.locator('.statusbar-item a[aria-label^="Deputy acts as"], .statusbar-item[aria-label^="Deputy acts as"]').first();
const identityText = async (page: Page) => ((await identityItem(page).textContent().catch(() => '')) ?? '').trim();

async function untilIdentity(page: Page, pattern: RegExp, why: string): Promise<string> {
  let last = '';
  await waitFor(async () => pattern.test((last = await identityText(page))), 90_000, () => `${why}: the status bar says "${last}"`);
  return last;
}

test('identity commands: Sign In, Copy Identity, Sign Out (Deputy only), Switch Profile', { timeout: 12 * 60_000 }, async (t) => {
  const aws = await startAwsStandins();
  const home = await makeAwsHome(aws, ssoConfig('corp'));
  t.after(async () => {
    await home.cleanup();
    await aws.close();
  });
  // "legacy" was signed in earlier with the AWS CLI; "dev" (sso-session corp) never was.
  await seedSsoSignIn(home, aws, LEGACY_START_URL, 3 * 3600_000);
  const corpCache = ssoTokenCachePath(home.env, 'corp');

  await withDeputy(t, { name: 'ident-cmd', env: { ...home.env }, settings: { 'deputy.bedrock.profile': 'dev' } }, async (vscode, ws) => {
    const { page } = vscode;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(vscode.url).origin });

    // Not signed in: the item says so.
    await untilIdentity(page, /dev: sign in$/, 'dev was never signed in');
    assert.equal(existsSync(corpCache), false);
    await vscode.shot('ident-cmd-01-not-signed-in');

    // Sign In: a browser window gets the device-code flow; the code is shown with Copy Code and the link.
    await vscode.command('Deputy: Sign In');
    const code = await notification(page, /confirm the code/);
    assert.match(code, /AWS profile "dev"/);
    await page.locator('.notification-list-item', { hasText: /confirm the code/ }).first().getByRole('button', { name: 'Copy Code' }).waitFor();
    await vscode.shot('ident-cmd-02-device-code');
    await untilIdentity(page, new RegExp(`^${USER_NAME.replace('.', '\\.')} · ${ACCOUNT_ID} · dev · \\d+m$`), 'Sign In did not show the identity');
    await notification(page, `signed in as ${USER_NAME} (profile dev)`);
    assert.ok(aws.requests.some((r) => r.service === 'oidc' && r.path === '/device_authorization'), 'the device-code flow ran against IAM Identity Center');
    // The sign-in went to the AWS CLI's own cache, as `aws sso login` would.
    assert.ok(existsSync(corpCache), 'the sign-in is in the AWS CLI cache');
    await vscode.shot('ident-cmd-03-signed-in');

    // Copy Identity: the identity (no token) on the clipboard; pasted into a new editor, it reads back.
    await vscode.command('Deputy: Copy AWS Identity');
    await notification(page, 'identity copied');
    await vscode.command('File: New Untitled Text File');
    await page.locator('.editor-instance .monaco-editor textarea').first().waitFor({ timeout: 30_000 });
    await page.locator('.editor-instance .monaco-editor').first().click();
    await vscode.command('Paste');
    // Monaco draws spaces as no-break spaces.
    const editorText = async () => ((await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText().catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
    await waitFor(async () => /Profile: dev/.test(await editorText()), 30_000, () => 'the pasted identity is not in the editor');
    const pasted = await editorText();
    const clip = String(await page.evaluate('navigator.clipboard.readText()'));
    assert.match(clip, new RegExp(`^Principal: arn:aws:sts::${ACCOUNT_ID}:assumed-role/AWSReservedSSO_${ROLE_NAME}_\\w+/${USER_NAME.replace('.', '\\.')}$`, 'm'));
    assert.match(clip, new RegExp(`^Account: ${ACCOUNT_ID}$`, 'm'));
    assert.match(clip, new RegExp(`^Session: ${USER_NAME.replace('.', '\\.')}$`, 'm'));
    assert.match(clip, /^Profile: dev$/m);
    assert.match(clip, /^Expires: \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    for (const line of clip.split('\n').slice(1)) assert.ok(pasted.includes(line), `pasted into the editor: ${line}`);
    for (const secret of aws.issuedSecrets()) assert.ok(!clip.includes(secret), 'no token on the clipboard');
    await vscode.shot('ident-cmd-04-copied');
    await vscode.command('View: Revert and Close Editor');

    // Sign Out: Deputy stops using the sign-in; the AWS CLI's cache is left exactly as it was.
    const cacheBefore = readFileSync(corpCache, 'utf8');
    await vscode.command('Deputy: Sign Out of AWS (Deputy only)');
    await untilIdentity(page, /^dev: signed out$/, 'Sign Out did not show signed out');
    assert.match(await notification(page, 'no longer uses the sign-in'), /AWS CLI stays signed in/);
    assert.equal(readFileSync(corpCache, 'utf8'), cacheBefore, 'the AWS CLI cache is untouched');
    await vscode.shot('ident-cmd-05-signed-out');
    // Remembered: a reloaded window still does not use it.
    await vscode.reload();
    await untilIdentity(page, /^dev: signed out$/, 'after a reload the sign-out was forgotten');

    // Switch Profile: the profiles of ~/.aws/config; "legacy" (signed in with the CLI) becomes the one in use.
    await vscode.command('Deputy: Switch AWS Profile');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ops' }).first().waitFor({ timeout: 30_000 });
    await vscode.shot('ident-cmd-06-profiles');
    await pick(page, 'legacy');
    await untilIdentity(page, new RegExp(`^${USER_NAME.replace('.', '\\.')} · ${ACCOUNT_ID} · legacy · [23]h \\d\\dm$`), 'Switch Profile did not show legacy');
    const settings = JSON.parse(readFileSync(join(ws, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['deputy.bedrock.profile'], 'legacy');
    await vscode.shot('ident-cmd-07-switched');
  });
});
