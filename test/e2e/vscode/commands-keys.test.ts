/**
 * The key and server commands in real VS Code (code-server, headless Chromium), against the embedded runtime and the
 * scripted model: "Set API Key" keeps the model's key in SecretStorage and the next task sends it (the scripted model
 * sees it in the Authorization header) while settings, the log, the panel and the audit trail never hold it; "Set
 * Audit Signing Key" generates a key, saves its public half where the save dialog says, and the next task's audit
 * digests verify with that public key (`deputy audit verify --public-key`, and not with another key); "Restart
 * Server" replaces the language server process while a task waits on a question: the old server's question leaves
 * the panel at once (the panel says the server restarts), and when the session reattaches the new server's question
 * is answered directly and lets the agent go on; "Set Audit Signing Key" says the key is in use only once the new
 * server has it, and a task started right away is signed; "Governance Report" writes the HTML report of the
 * folder's sessions. Screenshots: test-results/vscode-e2e/keys-*.png.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { startScriptedModel, type RecordedRequest } from '../../fixtures/model-server.js';
import { ROOT, answerInput, button, notification, pick, saveAs, sendTask, sessionStatus, waitFor, withDeputy, type VsCode } from './code-server.js';

const KEY = `sk-e2e-${randomBytes(12).toString('hex')}`;
const authOf = (r: RecordedRequest | undefined) => String(r?.headers.authorization ?? '');
const modelCalls = (requests: RecordedRequest[]) => requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path));

/** Process ids of Deputy's language servers started by this code-server (their command line names its extensions folder). */
function serverPids(vscode: VsCode): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return cmd.includes(vscode.dirs.extensions) && /dist\/server\.js\0--stdio/.test(cmd);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function untilIdle(panel: Frame, text: string): Promise<void> {
  await panel.getByText(text).first().waitFor({ timeout: 60_000 });
  await waitFor(async () => (await sessionStatus(panel)).startsWith('Idle'), 60_000, () => `the session of "${text}" did not go idle`);
}

test('Set API Key, Set Audit Signing Key, Restart Server, Governance Report', { timeout: 12 * 60_000 }, async (t) => {
  const model = await startScriptedModel([
    { text: 'Hello without a key.' },
    { text: 'Hello with a key.' },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] },
    { text: 'The .env names the API URL.' },
  ]);
  t.after(() => model.close());
  const keysDir = mkdtempSync(join(tmpdir(), 'deputy-e2e-keys-'));
  const publicKey = join(keysDir, 'deputy-audit-public.pem');
  await withDeputy(
    t,
    { name: 'keys', files: { '.env': 'API_URL=http://localhost\n', 'README.md': '# keys\n' }, settings: { 'deputy.embedded.modelBaseUrl': model.baseURL, 'deputy.model': 'scripted' } },
    async (vscode, ws) => {
      const { page } = vscode;
      // A first task, before any key: nothing is sent as the model's key.
      let panel = await sendTask(vscode, 'Say hello');
      await untilIdle(panel, 'Hello without a key.');
      assert.ok(!authOf(modelCalls(model.requests).at(-1)).includes(KEY));

      // Set API Key: the model's key, typed into a password box; the running server restarts to take it.
      const before = serverPids(vscode);
      assert.equal(before.length, 1, `one Deputy server runs (${before.join(', ')})`);
      await vscode.command('Deputy: Set API Key');
      await pick(page, 'model');
      await page.locator('.quick-input-widget input[type="password"]').waitFor({ timeout: 30_000 });
      await vscode.shot('keys-01-api-key-box');
      await answerInput(page, 'API key for', KEY);
      await waitFor(async () => serverPids(vscode).some((p) => !before.includes(p)), 60_000, () => 'the server did not restart for the new key');

      // Set Audit Signing Key: a new Ed25519 key; its public half saved where the dialog is pointed; the server restarts.
      const keyed = serverPids(vscode);
      await vscode.command('Deputy: Set Audit Signing Key');
      await pick(page, 'Generate a new key');
      await saveAs(page, publicKey, true);
      const told = await notification(page, /Audit digests (are|will be) signed with/);
      // Said only once it is true: the server that serves the next task already has the key.
      const whenTold = serverPids(vscode);
      assert.ok(whenTold.some((p) => !keyed.includes(p)) && keyed.every((p) => !whenTold.includes(p)), `the new server runs when the key is said to be in use (${keyed.join(', ')} → ${whenTold.join(', ')})`);
      assert.match(told, /Audit digests are signed with/);
      assert.ok(told.includes(publicKey), told);
      await waitFor(async () => existsSync(publicKey), 30_000, () => 'the public key was not saved');
      assert.match(readFileSync(publicKey, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
      await vscode.shot('keys-02-signing-key');

      // A task started right after that uses the key, and its audit records are signed with the new key.
      panel = await sendTask(vscode, 'Say hello again');
      await untilIdle(panel, 'Hello with a key.');
      assert.equal(authOf(modelCalls(model.requests).at(-1)), `Bearer ${KEY}`, 'the task sent the key from SecretStorage');
      // The new key was the last word: no second restart for a removal, and no "no longer signed" (a generated key
      // used to run on into the removal's branch and say so).
      assert.deepEqual(vscode.logText().match(/Restart of the Deputy server asked for: [^\n]*/g), ['Restart of the Deputy server asked for: a new API key.', 'Restart of the Deputy server asked for: a new audit signing key.']);
      assert.equal(await page.locator('.notification-list-item', { hasText: 'Audit digests are no longer signed' }).count(), 0, 'a new key was followed by "no longer signed"');
      const cli = join(ROOT, 'dist', 'cli.js');
      const verify = (key: string) => spawnSync(process.execPath, [cli, 'audit', 'verify', '--public-key', key], { cwd: ws, encoding: 'utf8', timeout: 60_000 });
      const signed = verify(publicKey);
      assert.equal(signed.status, 0, signed.stdout + signed.stderr);
      assert.match(signed.stdout, /signed: \d+ digests? verified with/);
      const otherKey = join(keysDir, 'other.pem');
      writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
      assert.notEqual(verify(otherKey).status, 0, 'the digests do not verify with another key');

      // The key is nowhere a person or a log reader could see it.
      const userSettings = readFileSync(join(vscode.dirs.userData, 'User', 'settings.json'), 'utf8');
      const wsSettings = join(ws, '.vscode', 'settings.json');
      assert.ok(!userSettings.includes(KEY), 'not in the user settings');
      assert.ok(!existsSync(wsSettings) || !readFileSync(wsSettings, 'utf8').includes(KEY), 'not in the workspace settings');
      const log = vscode.logText();
      assert.match(log, /Deputy activated in/, 'the log was read');
      assert.ok(!log.includes(KEY), 'not in the log');
      for (const f of page.frames()) assert.ok(!(await f.content().catch(() => '')).includes(KEY), 'not in the workbench or the panel');
      const trail = readFileSync(join(ws, '.deputy', 'audit', 'audit.jsonl'), 'utf8');
      assert.ok(!trail.includes(KEY), 'not in the audit trail');

      // Restart Server while a task waits on a question: a new server process; the session reattaches and goes on.
      panel = await sendTask(vscode, 'Read .env');
      await (await button(panel, 'Allow once')).waitFor();
      const running = serverPids(vscode);
      await vscode.command('Deputy: Restart Server');
      // At once, before the old server has even stopped: its question is no longer offered, and the panel says why.
      await panel.getByText("Deputy's server stopped: asked again when the session reattaches").first().waitFor({ timeout: 10_000 });
      await panel.getByText("Deputy's server is restarting.").first().waitFor({ timeout: 10_000 });
      await vscode.shot('keys-03-restarting');
      await waitFor(async () => serverPids(vscode).some((p) => !running.includes(p)), 60_000, () => 'Restart Server did not start a new server');
      await waitFor(async () => running.every((p) => !serverPids(vscode).includes(p)), 30_000, () => 'the old server is still running');
      panel = await vscode.panel();
      // The new server asks again once the session reattaches: one card to answer, and the answer goes through.
      const allow = await button(panel, 'Allow once', 90_000);
      assert.equal(await panel.getByRole('button', { name: 'Allow once', exact: true }).count(), 1, 'only the new question is offered');
      await vscode.shot('keys-04-asked-again');
      await allow.click();
      await untilIdle(panel, 'The .env names the API URL.');
      assert.equal(await panel.getByText('That question is no longer open').count(), 0, 'the answer was not refused');
      assert.equal(await panel.getByText("Deputy's server is restarting.").count(), 0, 'the restart notice is gone');
      const afterRestart = modelCalls(model.requests).at(-1);
      assert.match(JSON.stringify(afterRestart?.body), /API_URL=http:\/\/localhost/, 'the answered read reached the agent');

      // Governance Report: one HTML file where the save dialog says, over this folder's sessions.
      await vscode.command('Deputy: Governance Report');
      const reportPath = join(ws, `deputy-report-${new Date().toISOString().slice(0, 10)}.html`);
      await saveAs(page, reportPath, false);
      await notification(page, 'Report written to');
      await waitFor(async () => existsSync(reportPath), 30_000, () => 'the report was not written');
      const html = readFileSync(reportPath, 'utf8');
      assert.match(html, /<title>Deputy report · \d{4}-\d\d-\d\d<\/title>/);
      assert.match(html, /3 sessions from/);
      for (const task of ['Say hello', 'Say hello again', 'Read .env']) assert.ok(html.includes(task), `${task} in the report`);
      await vscode.shot('keys-05-report');
    },
  );
});
