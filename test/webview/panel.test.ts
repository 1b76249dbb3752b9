// The built panel (dist/webview.js) in headless Chromium, inside the page and CSP the extension serves, driven the
// way the extension drives it (ToWebview messages) and read the way a person reads it (roles, names, text).
// Every message the panel posts is checked with the extension's own validator (see fixtures/panel-page.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ENGINE_EVENT_TYPE_LIST } from '../../src/protocol/events.js';
import { launch, openPanel, RESULTS, servePanel, type Panel, type PanelServer } from './fixtures/panel-page.js';
import { EventLog, binding, everyKindEvents, longSession, settingsMessage, summary } from './fixtures/events.js';

const S = 'sess_1';
let server: PanelServer;
let browser: Browser;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await servePanel();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function sessionPanel(opts: { height?: number; theme?: 'light' | 'dark' | 'hc' } = {}): Promise<Panel> {
  const panel = await openPanel(browser, server, opts);
  await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(S)], selectedSessionId: S });
  return panel;
}

/** The element that has focus, through shadow roots: its accessible label or tag. */
async function focused(panel: Panel): Promise<string> {
  return (await panel.page.evaluate(`(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a ? (a.getAttribute('aria-label') || a.tagName.toLowerCase()) : '';
  })()`)) as string;
}

async function tabTo(panel: Panel, label: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await panel.page.keyboard.press('Tab');
    if ((await focused(panel)) === label) return;
  }
  assert.fail(`Tab never reached "${label}" (last: ${await focused(panel)})`);
}

/** All text the panel renders, through every shadow root. */
async function renderedText(panel: Panel): Promise<string> {
  return (await panel.page.evaluate(`(() => {
    const out = [];
    const walk = (node) => {
      if (node.nodeType === 3) out.push(node.data);
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const c of node.childNodes) walk(c);
    };
    walk(document.body);
    return out.join('');
  })()`)) as string;
}

/** Elements that could run or load something, anywhere under the panel (the page's own two scripts excluded). */
async function activeContent(panel: Panel): Promise<string[]> {
  return (await panel.page.evaluate(`(() => {
    const found = [];
    const walk = (node) => {
      if (node.nodeType === 1) {
        const tag = node.tagName.toLowerCase();
        if (['script', 'img', 'iframe', 'object', 'embed', 'svg', 'style', 'form'].includes(tag)) found.push(tag);
        for (const a of node.getAttributeNames()) if (a.startsWith('on')) found.push(tag + '[' + a + ']');
        const href = node.getAttribute('href');
        if (href && /^\\s*javascript:/i.test(href)) found.push(tag + '[href=javascript]');
      }
      // vscode-elements draw their own icons (SVG) inside their shadow roots: that is the toolkit, not agent text.
      if (node.shadowRoot && !(node.tagName || '').toLowerCase().startsWith('vscode-')) walk(node.shadowRoot);
      for (const c of node.childNodes) walk(c);
    };
    walk(document.querySelector('deputy-panel'));
    return found;
  })()`)) as string[];
}

const TRANSCRIPT_LIST = `const transcriptList = () => document.querySelector('deputy-panel').shadowRoot.querySelector('deputy-session').shadowRoot.querySelector('deputy-transcript').shadowRoot.querySelector('lit-virtualizer')`;

/** Polls a page expression (the CSP forbids the eval that page.waitForFunction would use). */
async function until(panel: Panel, expression: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await panel.page.evaluate(`(() => { ${TRANSCRIPT_LIST}; return ${expression}; })()`)) return;
    await panel.page.waitForTimeout(50);
  }
  assert.fail(`timed out waiting for ${expression}`);
}

/** Each browser test gets its own bound, generous for a loaded 2-core machine; the suite as a whole has none. */
const PER_TEST = { timeout: 180_000 };

describe('the panel in Chromium', () => {
  test('loads under the CSP, says ready, and shows the new-task form with the settings in use', PER_TEST, async () => {
    const panel = await openPanel(browser, server);
    await panel.deliver(settingsMessage(), { type: 'state', sessions: [], selectedSessionId: null });
    assert.deepEqual(await panel.posted(), [{ type: 'ready' }]);
    const { page } = panel;
    assert.ok(await page.getByRole('textbox', { name: 'Task', exact: true }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Send', exact: true }).isVisible());
    assert.match(await renderedText(panel), /embedded[\s\S]*llama3\.2/);
    await page.screenshot({ path: join(RESULTS, 'new-task.png') });
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('every event kind renders', PER_TEST, async () => {
    const panel = await sessionPanel({ height: 3200 });
    const events = everyKindEvents(S);
    assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), [...ENGINE_EVENT_TYPE_LIST].sort());
    await panel.deliver({ type: 'events', sessionId: S, events, replace: true });
    const { page } = panel;
    const text = await renderedText(panel);
    // session.started, session.status, usage, environment.state: the header
    assert.match(text, /Add input validation to the signup handler/);
    assert.match(text, /Running/);
    assert.match(text, /12\.3k in · 678 out · \$0\.04 of \$5\.00/);
    assert.match(text, /environment connected: shadow workspace ready/);
    // message.user, message.delta + message.completed (Markdown), reasoning.summary (collapsed)
    assert.ok(await page.locator('deputy-row [data-kind=user]').getByText('Add input validation').isVisible());
    assert.equal(await page.locator('deputy-row [data-kind=agent] strong').textContent(), 'read');
    assert.equal(await page.locator('deputy-row [data-kind=agent] code').textContent(), 'validate');
    assert.ok(await page.locator('vscode-collapsible[heading=Reasoning]').isVisible());
    assert.equal(await page.getByText('The handler saves the body unchecked').isVisible(), false, 'reasoning starts collapsed');
    await page.locator('vscode-collapsible[heading=Reasoning]').click();
    assert.ok(await page.getByText('The handler saves the body unchecked').isVisible(), 'reasoning opens');
    // tool.called + tool.completed
    assert.match(text, /workspace_read\s*read src\/signup\.ts\s*succeeded · 42 ms · 2\.0 KB\s*40 lines/);
    // command.started + output + exited
    assert.match(text, /npm test[\s\S]*exit 0 · 3\.4 s[\s\S]*> 12 passing/);
    // prompt.asked + answered, and a withdrawn one
    assert.match(text, /read \.env[\s\S]*secret-looking file \(\.env\)[\s\S]*Allowed once/);
    assert.match(text, /list the home folder[\s\S]*Not answered in time: denied/);
    assert.equal(await page.getByRole('button', { name: 'Allow once', exact: true }).count(), 0, 'no answered prompt keeps its buttons');
    // changeset.proposed + verdict (+ applied for an unknown changeset changes nothing)
    assert.match(text, /Proposed changes[\s\S]*Validate the signup body before saving it\./);
    assert.ok(await page.getByText('+  const body = validate(req.body);').isVisible());
    assert.ok(await page.getByRole('button', { name: 'Approve src/signup.ts', exact: true }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Open diff src/schema.ts', exact: true }).isVisible());
    assert.equal(await page.getByRole('button', { name: 'Approve src/schema.ts', exact: true }).count(), 0, 'a rejected file takes no second verdict');
    assert.match(text, /src\/schema\.ts[\s\S]*Rejected[\s\S]*Comment: use zod/);
    // error (with its one action), notice, turn.ended
    assert.match(text, /reached its budget of \$5\.00/);
    assert.ok(await page.getByRole('button', { name: 'Raise budget', exact: true }).isVisible());
    assert.match(text, /Reconnected to the event stream\./);
    assert.match(text, /Turn completed\./);
    await page.screenshot({ path: join(RESULTS, 'every-kind.png'), fullPage: true });
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('events already shown are not shown twice; a replay replaces the transcript', PER_TEST, async () => {
    const panel = await sessionPanel();
    const events = everyKindEvents(S).slice(0, 6);
    await panel.deliver({ type: 'events', sessionId: S, events, replace: false }, { type: 'events', sessionId: S, events, replace: false });
    assert.equal(await panel.page.locator('deputy-row [data-kind=user]').count(), 1);
    await panel.deliver({ type: 'events', sessionId: S, events: events.slice(0, 3), replace: true });
    assert.equal(await panel.page.locator('deputy-row [data-kind=user]').count(), 0, 'the replay had no user message');
    await panel.page.close();
  });

  test('a prompt is answered with its own binding, and shows answered only when the engine says so', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    const deadline = new Date(Date.now() + 10 * 60_000).toISOString();
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('session.status', { status: 'waiting' }),
        log.next('prompt.asked', { binding: binding(21), callId: 'a', tool: 'workspace_read', summary: 'read .env', args: { path: '.env' }, reason: 'secret-looking file', deadline }),
        log.next('prompt.asked', { binding: binding(22), callId: 'b', tool: 'workspace_read', summary: 'read id_rsa', args: { path: 'id_rsa' }, reason: 'private key', deadline }),
      ],
    });
    const { page } = panel;
    const first = page.locator(`section.prompt[data-binding="${binding(21)}"]`);
    const second = page.locator(`section.prompt[data-binding="${binding(22)}"]`);
    assert.match((await first.textContent()) ?? '', /"path": "\.env"/, 'the exact arguments are shown');
    assert.match((await first.textContent()) ?? '', /Asked because: secret-looking file/);
    await page.screenshot({ path: join(RESULTS, 'prompt.png') });

    await second.getByRole('button', { name: 'Allow once', exact: true }).click();
    await first.getByRole('textbox', { name: 'Comment for the agent (optional)' }).fill('never read secrets');
    await first.getByRole('button', { name: 'Deny', exact: true }).click();
    assert.deepEqual(await panel.postedOf('answerPrompt'), [
      { type: 'answerPrompt', sessionId: S, binding: binding(22), decision: 'allowOnce' },
      { type: 'answerPrompt', sessionId: S, binding: binding(21), decision: 'deny', comment: 'never read secrets' },
    ]);
    await panel.settle();
    // Sent but not yet confirmed: still open, buttons wait.
    assert.equal(await second.getByRole('button', { name: 'Allow once', exact: true }).getAttribute('disabled'), '');
    assert.doesNotMatch((await second.textContent()) ?? '', /Allowed once/);
    await panel.deliver({ type: 'events', sessionId: S, replace: false, events: [log.next('prompt.answered', { binding: binding(22), decision: 'allowOnce' })] });
    assert.match((await second.textContent()) ?? '', /Allowed once/);
    assert.equal(await second.getByRole('button').count(), 0);

    await panel.clearPosted();
    await first.getByRole('button', { name: 'Allow for this task', exact: true }).click({ force: true });
    assert.deepEqual(await panel.postedOf('answerPrompt'), [], 'a prompt already answered from here does not answer twice');
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('an answer the extension refused can be given again', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [log.next('prompt.asked', { binding: binding(23), callId: 'a', tool: 'workspace_read', summary: 'read .env', args: { path: '.env' }, reason: 'secret', deadline: new Date(Date.now() + 60_000).toISOString() })],
    });
    const allow = panel.page.getByRole('button', { name: 'Allow once', exact: true });
    await allow.click();
    await panel.settle();
    assert.equal(await allow.getAttribute('disabled'), '', 'waiting for the engine');
    await panel.deliver({ type: 'error', error: { errorId: 'refused-1', kind: 'internal', message: 'The language server is restarting; answer again in a moment.' } });
    assert.equal(await allow.getAttribute('disabled'), null, 'the buttons work again');
    await allow.click();
    assert.equal((await panel.postedOf('answerPrompt')).length, 2);
    await panel.page.close();
  });

  test('a restarting server takes its questions off at once and says so; the new server\'s question is answered directly', PER_TEST, async () => {
    const panel = await sessionPanel();
    const { page } = panel;
    const deadline = new Date(Date.now() + 10 * 60_000).toISOString();
    const asked = (log: EventLog, n: number) =>
      log.next('prompt.asked', { binding: binding(n), callId: 'a', tool: 'workspace_read', summary: 'read .env', args: { path: '.env' }, reason: 'secret', deadline });
    const file = (n: number, path: string) => ({ binding: binding(n), path, operation: 'update' as const, state: 'ready' as const, added: 1, removed: 1, diff: `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-old\n+new` });
    await panel.deliver({ type: 'server', state: 'running', message: 'ready', restart: true });
    const first = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        asked(first, 31),
        first.next('changeset.proposed', { changesetId: 'cs-old', summary: 'Old', files: [file(33, 'src/a.ts'), file(34, 'src/b.ts')] }),
        first.next('changeset.verdict', { changesetId: 'cs-old', binding: binding(33), path: 'src/a.ts', verdict: 'approve' }),
        first.next('changeset.proposed', { changesetId: 'cs-conflict', summary: 'Conflict', files: [{ ...file(35, 'src/c.ts'), state: 'conflict', reason: 'changed since read', diff: '' }] }),
      ],
    });
    const redo = page.getByRole('button', { name: 'Ask the agent to redo src/c.ts on the current content', exact: true });
    assert.equal(await redo.getAttribute('disabled'), null, 'a file in conflict can be handed back');
    assert.match(await renderedText(panel), /2 waiting for you/, 'the prompt and the review wait');
    // Handed back as the server goes down: the old server never takes it.
    await redo.click();
    await panel.settle();
    assert.deepEqual(await panel.postedOf('reviewChangeset'), [{ type: 'reviewChangeset', sessionId: S, changesetId: 'cs-conflict', files: [{ binding: binding(35), decision: 'redo' }] }]);
    const old = page.locator(`section.prompt[data-binding="${binding(31)}"]`);
    const oldCard = page.locator('section.changeset[data-changeset="cs-old"]');
    const allow = page.getByRole('button', { name: 'Allow once', exact: true });
    assert.equal(await allow.count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Approve src/b.ts', exact: true }).count(), 1, 'the undecided file can be approved');
    // Sent while the server goes down: the old card must not stay waiting on an answer nobody can take.
    await allow.click();
    await panel.settle();

    await panel.deliver({ type: 'server', state: 'starting', message: 'restarting', restart: true });
    assert.equal(await allow.count(), 0, 'no button answers the old server\'s question');
    assert.match((await old.textContent()) ?? '', /Deputy's server stopped: asked again when the session reattaches/);
    // Nor its review: the undecided file's verdict buttons go, the decided one keeps its word.
    for (const name of ['Approve src/b.ts', 'Reject src/b.ts', 'Approve all', 'Reject all', 'Request changes']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no "${name}" for the old server's review`);
    }
    assert.match((await oldCard.textContent()) ?? '', /Deputy's server stopped: the files not yet decided are offered again when the session reattaches/);
    assert.match((await oldCard.locator('.file[data-path="src/a.ts"]').textContent()) ?? '', /Approved/);
    assert.doesNotMatch((await oldCard.textContent()) ?? '', /to review/);
    assert.equal(await redo.getAttribute('disabled'), '', 'nor hands back a conflict to the old server');
    assert.doesNotMatch(await renderedText(panel), /waiting for you/, 'nothing waits on the person any more');
    assert.match(await renderedText(panel), /Deputy's server is restarting\. Open questions are asked again when their sessions reattach\./);
    await page.screenshot({ path: join(RESULTS, 'server-restarting.png') });

    // The new server is up and the session reattached: its log starts again at seq 1 and asks again.
    await panel.clearPosted();
    await panel.deliver({ type: 'server', state: 'running', message: 'ready', restart: true });
    assert.doesNotMatch(await renderedText(panel), /Deputy's server is restarting/);
    const second = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        asked(second, 32),
        second.next('changeset.proposed', { changesetId: 'cs-conflict', summary: 'Conflict', files: [{ ...file(35, 'src/c.ts'), state: 'conflict', reason: 'changed since read', diff: '' }] }),
      ],
    });
    assert.equal(await redo.getAttribute('disabled'), null, 'the new server\'s review of the same file can be handed back');
    assert.equal(await old.count(), 0, 'the old card is gone');
    assert.equal(await oldCard.count(), 0, 'and the old review');
    assert.equal(await allow.count(), 1, 'one question to answer');
    assert.equal(await allow.getAttribute('disabled'), null, 'and it can be answered');
    await allow.click();
    assert.deepEqual(await panel.postedOf('answerPrompt'), [{ type: 'answerPrompt', sessionId: S, binding: binding(32), decision: 'allowOnce' }]);
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('a first start says nothing; a server that failed says why and takes its questions off', PER_TEST, async () => {
    const panel = await sessionPanel();
    await panel.deliver({ type: 'server', state: 'starting', message: 'starting', restart: false });
    assert.doesNotMatch(await renderedText(panel), /Deputy's server/);
    await panel.deliver(
      { type: 'server', state: 'running', message: 'ready', restart: false },
      {
        type: 'events',
        sessionId: S,
        replace: true,
        events: [new EventLog(S).next('prompt.asked', { binding: binding(33), callId: 'a', tool: 'workspace_read', summary: 'read .env', args: { path: '.env' }, reason: 'secret', deadline: new Date(Date.now() + 60_000).toISOString() })],
      },
      { type: 'server', state: 'failed', message: 'it stopped 5 times in 3 minutes.', restart: true },
    );
    assert.match(await renderedText(panel), /Deputy's server is not running: it stopped 5 times in 3 minutes\./);
    assert.equal(await panel.page.getByRole('button', { name: 'Allow once', exact: true }).count(), 0);
    await panel.page.close();
  });

  test('a changeset is reviewed per file and as a whole, each verdict carrying the files\' bindings', PER_TEST, async () => {
    const panel = await sessionPanel({ height: 1400 });
    const log = new EventLog(S);
    const file = (n: number, path: string) => ({ binding: binding(n), path, operation: 'update' as const, state: 'ready' as const, added: 1, removed: 1, diff: `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-old\n+new` });
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('changeset.proposed', { changesetId: 'cs1', summary: 'One', files: [file(30, 'src/a.ts'), file(31, 'src/b.ts')] }),
        log.next('changeset.proposed', { changesetId: 'cs2', summary: 'Two', files: [file(40, 'src/c.ts'), file(41, 'src/d.ts'), { ...file(42, 'src/e.ts'), state: 'conflict', reason: 'changed since read', diff: '' }] }),
      ],
    });
    const { page } = panel;
    await page.screenshot({ path: join(RESULTS, 'changeset.png') });
    await page.getByRole('button', { name: 'Reject src/b.ts', exact: true }).click();
    await page.getByRole('button', { name: 'Open diff src/a.ts', exact: true }).click();
    const cs2 = page.locator('section.changeset[data-changeset=cs2]');
    assert.match((await cs2.textContent()) ?? '', /Conflict: changed since read/);
    assert.equal(await page.getByRole('button', { name: 'Approve src/e.ts', exact: true }).count(), 0, 'a conflicting file cannot be approved');
    await cs2.getByRole('button', { name: 'Request changes', exact: true }).click();
    assert.deepEqual(await panel.postedOf('reviewAll'), [], 'requesting changes needs words for the agent');
    await cs2.getByRole('textbox', { name: 'Changes to request' }).fill('split the function');
    await cs2.getByRole('button', { name: 'Request changes', exact: true }).click();
    assert.deepEqual(await panel.posted(), [
      { type: 'ready' },
      { type: 'reviewFile', sessionId: S, changesetId: 'cs1', binding: binding(31), verdict: 'reject' },
      { type: 'openDiff', sessionId: S, changesetId: 'cs1', binding: binding(30) },
      { type: 'reviewAll', sessionId: S, changesetId: 'cs2', bindings: [binding(40), binding(41)], verdict: 'requestChanges', comment: 'split the function' },
    ]);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: false,
      events: [
        log.next('changeset.verdict', { changesetId: 'cs1', binding: binding(31), path: 'src/b.ts', verdict: 'reject' }),
        log.next('changeset.verdict', { changesetId: 'cs1', binding: binding(30), path: 'src/a.ts', verdict: 'approve' }),
        log.next('changeset.applied', { changesetId: 'cs1', results: [{ path: 'src/a.ts', status: 'applied' }, { path: 'src/b.ts', status: 'rejected' }] }),
      ],
    });
    const cs1 = page.locator('section.changeset[data-changeset=cs1]');
    assert.match((await cs1.textContent()) ?? '', /src\/a\.ts[\s\S]*Applied[\s\S]*src\/b\.ts[\s\S]*Rejected/);
    assert.equal(await cs1.getByRole('button', { name: 'Approve all', exact: true }).count(), 0);
    await page.close();
  });

  test('Approve all and Reject all name exactly the open files', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    const file = (n: number, path: string) => ({ binding: binding(n), path, operation: 'create' as const, state: 'ready' as const, added: 1, removed: 0, diff: '+x' });
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('changeset.proposed', { changesetId: 'cs3', summary: 'Three', files: [file(50, 'a'), file(51, 'b')] }),
        log.next('changeset.verdict', { changesetId: 'cs3', binding: binding(51), path: 'b', verdict: 'approve' }),
        log.next('changeset.proposed', { changesetId: 'cs4', summary: 'Four', files: [file(60, 'c')] }),
      ],
    });
    const { page } = panel;
    await page.locator('section.changeset[data-changeset=cs3]').getByRole('button', { name: 'Approve all', exact: true }).click();
    await page.locator('section.changeset[data-changeset=cs4]').getByRole('button', { name: 'Reject all', exact: true }).click();
    assert.deepEqual(await panel.postedOf('reviewAll'), [
      { type: 'reviewAll', sessionId: S, changesetId: 'cs3', bindings: [binding(50)], verdict: 'approve' },
      { type: 'reviewAll', sessionId: S, changesetId: 'cs4', bindings: [binding(60)], verdict: 'reject' },
    ]);
    await page.close();
  });

  test('agent-made markup is shown as text and never runs', PER_TEST, async () => {
    const panel = await sessionPanel({ height: 1600 });
    const log = new EventLog(S);
    const XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    await panel.deliver(
      { type: 'state', sessions: [summary(S, { task: `task ${XSS}` })], selectedSessionId: S },
      {
        type: 'events',
        sessionId: S,
        replace: true,
        events: [
          log.next('session.started', { taskId: 't', task: `task ${XSS}`, endpoint: 'embedded', folder: 'app', attached: false }),
          log.next('message.completed', { messageId: 'm1', text: `Here: ${XSS}\n\n[click me](javascript:window.__pwned=3) <a href="javascript:window.__pwned=4">x</a>\n\n![t](https://attacker.example/t.png) <svg onload="window.__pwned=5"></svg> <style>*{display:none}</style>` }),
          log.next('message.delta', { messageId: 'm2', delta: `streaming ${XSS}` }),
          log.next('reasoning.summary', { itemId: 'r', text: XSS }),
          log.next('tool.called', { callId: 'c', tool: XSS, argsSummary: XSS, status: 'running' }),
          log.next('command.started', { commandId: 'x', command: XSS, cwd: '.' }),
          log.next('command.output', { commandId: 'x', stream: 'stderr', chunk: XSS }),
          log.next('prompt.asked', { binding: binding(70), callId: 'p', tool: 'workspace_read', summary: XSS, args: { path: XSS }, reason: 'policy', deadline: new Date(Date.now() + 60_000).toISOString() }),
          log.next('changeset.proposed', {
            changesetId: 'cs',
            summary: XSS,
            files: [{ binding: binding(71), path: `src/${XSS}`, operation: 'create', state: 'ready', added: 1, removed: 0, diff: `+${XSS}`, rationale: XSS }],
          }),
          log.next('error', { kind: 'internal', message: XSS, fatal: false }),
        ],
      },
      { type: 'error', error: { errorId: 'x', kind: 'internal', message: XSS } },
    );
    const { page } = panel;
    await page.locator('vscode-collapsible[heading=Reasoning]').click();
    const links = page.locator('deputy-row [data-kind=agent] a');
    for (let i = 0; i < (await links.count()); i++) await links.nth(i).click();
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.deepEqual(await activeContent(panel), [], 'no script, image, handler, style or javascript: link reaches the DOM');
    const text = await renderedText(panel);
    const shownAsText = text.split('<img src=x onerror="window.__pwned = 2">').length - 1;
    assert.ok(shownAsText >= 8, `the payload is shown as text wherever it came from (${shownAsText} times)`);
    assert.ok(page.url().startsWith(server.url), 'no link navigated the panel away');
    await page.screenshot({ path: join(RESULTS, 'hostile-text.png'), fullPage: true });
    assert.deepEqual(await panel.problems(), [], 'nothing was even attempted against the CSP');
    await page.close();
  });

  test('invisible and bidi characters in agent text are shown as escapes', PER_TEST, async () => {
    const panel = await sessionPanel({ height: 1400 });
    const log = new EventLog(S);
    const sneaky = 'access = "user\u202E \u2066// admin\u2069 \u2066"\u200B;';
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('message.completed', { messageId: 'm', text: `Look: ${sneaky}` }),
        log.next('tool.called', { callId: 'c', tool: 'workspace_read', argsSummary: `read src/\u202Egnp.exe`, status: 'running' }),
        log.next('changeset.proposed', {
          changesetId: 'cs',
          summary: 'fix',
          files: [
            { binding: binding(80), path: 'src/\u200Badmin.ts', operation: 'update', state: 'ready', added: 1, removed: 0, diff: `+${sneaky}` },
            // Deputy's own words, quoting the agent's path.
            { binding: binding(82), path: 'x', operation: 'create', state: 'invalid', reason: 'outside the workspace: ../\u202Egnp.exe', added: 0, removed: 0, diff: '' },
          ],
        }),
        log.next('session.status', { status: 'running', detail: 'writing src/\u2066admin.ts' }),
      ],
    });
    const text = await renderedText(panel);
    assert.doesNotMatch(text, /[\u202A-\u202E\u2066-\u2069\u200B]/, 'no raw invisible or bidi character is rendered');
    assert.match(text, /Look: access = "user<U\+202E> <U\+2066>\/\/ admin<U\+2069> <U\+2066>"<U\+200B>;/);
    assert.match(text, /read src\/<U\+202E>gnp\.exe/);
    assert.match(text, /outside the workspace: \.\.\/<U\+202E>gnp\.exe/);
    assert.match(text, /writing src\/<U\+2066>admin\.ts/);
    assert.ok(await panel.page.getByRole('button', { name: 'Approve src/<U+200B>admin.ts', exact: true }).isVisible(), 'the escape is in the accessible name too');
    await panel.page.close();
  });

  test('character references in agent Markdown cannot bring invisible or bidi characters back', PER_TEST, async () => {
    const panel = await sessionPanel({ height: 1000 });
    const log = new EventLog(S);
    // The sanitiser runs on the Markdown source, where these are plain ASCII; the browser decodes them afterwards.
    const sneaky = 'access = "user&#x202E; &#x2066;// admin&#8297; &#x2066;"&#8203;;';
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('message.completed', { messageId: 'm', text: `Look: ${sneaky}\n\nSee [the report](https://example.com/&#x202E;gnp.exe "notes&#x200B;.txt").` }),
      ],
    });
    const text = await renderedText(panel);
    assert.doesNotMatch(text, /[\u202A-\u202E\u2066-\u2069\u200B]/, 'no raw invisible or bidi character is rendered');
    assert.match(text, /Look: access = "user<U\+202E> <U\+2066>\/\/ admin<U\+2069> <U\+2066>"<U\+200B>;/);
    const title = (await panel.page.locator('deputy-row [data-kind=agent] a').getAttribute('title')) ?? '';
    assert.doesNotMatch(title, /[\u202A-\u202E\u2066-\u2069\u200B]/, 'the link\'s tooltip shows no raw invisible character either');
    assert.match(title, /<U\+202E>gnp\.exe/);
    await panel.page.close();
  });

  test('keyboard alone: Tab, Enter, Ctrl+Enter and Esc do everything', PER_TEST, async () => {
    const panel = await openPanel(browser, server);
    const { page } = panel;
    await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(S, { status: 'running' })], selectedSessionId: null });
    await tabTo(panel, 'Task');
    await page.keyboard.type('Write the changelog');
    await page.keyboard.press('Control+Enter');
    await page.keyboard.type('Second task');
    await tabTo(panel, 'Send');
    await page.keyboard.press('Enter');
    assert.deepEqual(await panel.postedOf('newTask'), [
      { type: 'newTask', prompt: 'Write the changelog', attachSelection: false, attachFile: false },
      { type: 'newTask', prompt: 'Second task', attachSelection: false, attachFile: false },
    ]);
    await tabTo(panel, 'Add input validation to the signup handler — Running');
    await page.keyboard.press('Enter');
    assert.deepEqual(await panel.postedOf('selectSession'), [{ type: 'selectSession', sessionId: S }]);

    const log = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('session.status', { status: 'waiting' }),
        log.next('prompt.asked', { binding: binding(90), callId: 'a', tool: 'workspace_read', summary: 'read .env', args: { path: '.env' }, reason: 'secret', deadline: new Date(Date.now() + 60_000).toISOString() }),
      ],
    });
    await tabTo(panel, 'Allow once');
    await page.keyboard.press('Enter');
    assert.deepEqual(await panel.postedOf('answerPrompt'), [{ type: 'answerPrompt', sessionId: S, binding: binding(90), decision: 'allowOnce' }]);
    await page.keyboard.press('Escape');
    assert.deepEqual(await panel.postedOf('stop'), [{ type: 'stop', sessionId: S }]);
    await tabTo(panel, 'Stop');
    await page.keyboard.press(' ');
    assert.equal((await panel.postedOf('stop')).length, 2, 'the Stop button works from the keyboard too');

    await panel.deliver({ type: 'events', sessionId: S, replace: false, events: [log.next('turn.ended', { turnId: 't', outcome: 'cancelled' }), log.next('session.status', { status: 'cancelled' })] });
    assert.match(await renderedText(panel), /Stopped\./, 'a stopped turn says so');
    await page.keyboard.press('Escape');
    assert.equal((await panel.postedOf('stop')).length, 2, 'Esc does nothing once nothing runs');
    await tabTo(panel, 'Follow-up');
    await page.keyboard.type('Now the tests');
    await page.keyboard.press('Control+Enter');
    assert.deepEqual(await panel.postedOf('followUp'), [{ type: 'followUp', sessionId: S, text: 'Now the tests' }]);
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('an error outside a session is shown once, with its one action', PER_TEST, async () => {
    const panel = await openPanel(browser, server);
    const error = { errorId: 'signin-dev', kind: 'signInRequired' as const, message: 'Sign-in for profile dev expired — Sign in', action: { kind: 'signIn' as const, profile: 'dev' } };
    await panel.deliver(settingsMessage(), { type: 'error', error }, { type: 'error', error });
    const { page } = panel;
    assert.equal(await page.getByRole('alert').count(), 1);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.deepEqual(await panel.postedOf('runAction'), [{ type: 'runAction', action: { kind: 'signIn', profile: 'dev' } }]);
    await page.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await panel.deliver({ type: 'error', error });
    assert.equal(await page.getByRole('alert').count(), 0, 'a dismissed error does not come back');
    await page.close();
  });

  test('the task form checks the budget before sending and switches endpoint and model through intents', PER_TEST, async () => {
    const panel = await openPanel(browser, server);
    const { page } = panel;
    await panel.deliver(settingsMessage({ models: ['llama3.2', 'qwen2.5-coder'], folders: ['api', 'web'] }), { type: 'state', sessions: [], selectedSessionId: null });
    await page.getByRole('textbox', { name: 'Task', exact: true }).fill('Do it');
    await page.getByRole('textbox', { name: 'Budget (optional): US dollars or tokens' }).fill('-3');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.deepEqual(await panel.postedOf('newTask'), []);
    assert.match(await renderedText(panel), /"-3" is not a budget: write it in US dollars \(2usd, \$2\.50\) or tokens/);
    await page.getByRole('textbox', { name: 'Budget (optional): US dollars or tokens' }).fill('2.5');
    await page.locator('vscode-checkbox[label="Attach selection"]').click();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.deepEqual(await panel.postedOf('newTask'), [{ type: 'newTask', prompt: 'Do it', budgetUsd: 2.5, attachSelection: true, attachFile: false }]);
    // Deputy as the agent's environment, for this task.
    await page.getByRole('textbox', { name: 'Task', exact: true }).fill('Do it in the shadow');
    await page.locator('vscode-checkbox[label="Deputy\'s environment"]').click();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.deepEqual((await panel.postedOf('newTask')).at(-1), { type: 'newTask', prompt: 'Do it in the shadow', budgetUsd: 2.5, attachSelection: true, attachFile: false, environment: true });
    await page.evaluate(`(() => {
      const form = document.querySelector('deputy-panel').shadowRoot.querySelector('deputy-task-form').shadowRoot;
      const [endpoint, model] = form.querySelectorAll('vscode-single-select');
      endpoint.value = 'bedrock'; endpoint.dispatchEvent(new Event('change'));
      model.value = 'qwen2.5-coder'; model.dispatchEvent(new Event('change'));
    })()`);
    assert.deepEqual(await panel.postedOf('switchEndpoint'), [{ type: 'switchEndpoint', endpoint: 'bedrock' }]);
    assert.deepEqual(await panel.postedOf('switchModel'), [{ type: 'switchModel', model: 'qwen2.5-coder' }]);
    await page.close();
  });

  test('10,000 streamed events: all applied, only a window of rows in the DOM, the newest in view', PER_TEST, async () => {
    const panel = await sessionPanel();
    const events = longSession(S, 10_000);
    const { page } = panel;
    for (let i = 0; i < events.length; i += 100) {
      await page.evaluate(`window.__deliver([${JSON.stringify({ type: 'events', sessionId: S, events: events.slice(i, i + 100), replace: false })}])`);
    }
    await panel.settle();
    await panel.settle();
    const rows = await page.locator('deputy-row').count();
    assert.ok(rows > 5 && rows < 150, `a window of rows is rendered, not all (${rows})`);
    const last = events.at(-1)!;
    assert.equal(last.type, 'message.delta');
    // The list follows the newest row once the virtualizer has laid the last batch out: on a busy machine that can
    // take longer than two animation frames (a full run saw it not yet in view).
    const newest = page.getByText(`word${events.length - 1}`);
    assert.ok(await newest.waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false), 'the newest text is in view');
    assert.match(await renderedText(panel), /\d+(\.\d)?k in/);
    // Scrolling to the top brings the first message back.
    await page.evaluate(`${TRANSCRIPT_LIST}; transcriptList().scrollTop = 0`);
    await until(panel, `[...transcriptList().querySelectorAll('deputy-row')].some((r) => r.shadowRoot && r.shadowRoot.textContent.includes('Message 0 done'))`);
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    test(`themed by VS Code's variables: ${theme}`, PER_TEST, async () => {
      const panel = await sessionPanel({ theme, height: 1400 });
      await panel.deliver({ type: 'events', sessionId: S, events: everyKindEvents(S), replace: true });
      const card = panel.page.locator('section.changeset').first();
      const background = await card.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
      const expected = { light: 'rgb(248, 248, 248)', dark: 'rgb(32, 32, 32)', hc: 'rgb(12, 20, 31)' }[theme];
      assert.equal(background, expected, 'cards take editorWidget-background from the theme');
      if (theme === 'hc') assert.equal(await card.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderTopColor: string } }).getComputedStyle(el).borderTopColor), 'rgb(111, 195, 223)', 'high contrast draws contrastBorder');
      await panel.page.screenshot({ path: join(RESULTS, `theme-${theme}.png`), fullPage: true });
      await panel.page.close();
    });
  }
});
