// The changeset card of issue 9 §1 in Chromium, under the panel's CSP: files with +/− counts, state and rationale,
// per-file and per-hunk choices, the comment round (request changes, then the agent's revision marked against the
// last round), conflicts, sanitised agent text, the keyboard, and a 1,000-file changeset that stays windowed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { ChangesetFile, ChangesetHunk } from '../../src/protocol/events.js';
import { launch, openPanel, RESULTS, servePanel, type Panel, type PanelServer } from './fixtures/panel-page.js';
import { EventLog, binding, settingsMessage, summary } from './fixtures/events.js';

const S = 'sess_r';
const PER_TEST = { timeout: 180_000 };
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

async function sessionPanel(height = 1400): Promise<Panel> {
  const panel = await openPanel(browser, server, { height });
  await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(S, { status: 'waiting' })], selectedSessionId: S });
  return panel;
}

function hunk(id: string, newStart: number, lines: string[], revision?: ChangesetHunk['revision']): ChangesetHunk {
  const removed = lines.filter((l) => l.startsWith('-')).length;
  const added = lines.filter((l) => l.startsWith('+')).length;
  const context = lines.length - removed - added;
  return {
    hunkId: id,
    header: `@@ -${newStart},${context + removed} +${newStart},${context + added} @@`,
    oldStart: newStart,
    oldLines: context + removed,
    newStart,
    newLines: context + added,
    lines,
    ...(revision ? { revision } : {}),
  };
}

function file(n: number, path: string, extra: Partial<ChangesetFile> = {}): ChangesetFile {
  const hunks = extra.hunks ?? [hunk(`${n.toString(16).padStart(2, '0')}00000000000001`, 1, ['-old', '+new'])];
  const diff = [`--- a/${path}`, `+++ b/${path}`, ...hunks.flatMap((h) => [h.header, ...h.lines])].join('\n');
  return { binding: binding(n), path, operation: 'update', state: 'ready', added: 1, removed: 1, diff, hunks, rationale: `Why ${path}`, ...extra };
}

const H1 = 'aaaaaaaaaaaaaaa1';
const H2 = 'aaaaaaaaaaaaaaa2';
const H3 = 'aaaaaaaaaaaaaaa3';

describe('the changeset card', () => {
  test('shows each file with its counts, rationale and diff, and sends per-file verdicts with the bindings', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('changeset.proposed', {
          changesetId: 'cs1',
          summary: 'Validate input',
          round: 1,
          files: [file(1, 'src/a.ts', { added: 7, removed: 3 }), file(2, 'src/b.ts'), file(3, 'src/c.ts', { operation: 'create', removed: 0 })],
        }),
      ],
    });
    const { page } = panel;
    const card = page.locator('section.changeset[data-changeset=cs1]');
    const text = (await card.textContent()) ?? '';
    assert.match(text, /3 files/);
    assert.match(text, /\+9[\s\S]*−4/, 'the totals over every file');
    assert.match(text, /src\/a\.ts[\s\S]*\+7[\s\S]*−3[\s\S]*Why src\/a\.ts/);
    assert.ok(await page.getByRole('checkbox', { name: 'Keep hunk 1 of src/a.ts' }).isVisible(), 'three files: every diff is shown, hunk by hunk');
    await page.screenshot({ path: join(RESULTS, 'review-card.png') });

    await page.getByRole('textbox', { name: 'Comment on src/b.ts' }).fill('keep the old name');
    await page.getByRole('button', { name: 'Reject src/b.ts', exact: true }).click();
    await page.getByRole('button', { name: 'Approve src/a.ts', exact: true }).click();
    await page.getByRole('button', { name: 'Open diff src/c.ts', exact: true }).click();
    await page.getByRole('button', { name: 'Open all diffs', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Reviewed src/c.ts' }).click();
    assert.deepEqual((await panel.posted()).slice(1), [
      { type: 'reviewFile', sessionId: S, changesetId: 'cs1', binding: binding(2), verdict: 'reject', comment: 'keep the old name' },
      { type: 'reviewFile', sessionId: S, changesetId: 'cs1', binding: binding(1), verdict: 'approve' },
      { type: 'openDiff', sessionId: S, changesetId: 'cs1', binding: binding(3) },
      { type: 'openAllDiffs', sessionId: S, changesetId: 'cs1' },
      { type: 'markReviewed', sessionId: S, changesetId: 'cs1', binding: binding(3), reviewed: true },
    ]);
    assert.equal(await page.getByRole('button', { name: 'Approve src/a.ts', exact: true }).getAttribute('disabled'), '', 'a sent verdict waits for the engine');

    // The engine's word decides what the card says; the extension's draft says the file was marked reviewed.
    await panel.deliver(
      { type: 'reviewDrafts', drafts: { [binding(3)]: { dropped: [], reviewed: true, lineComments: 2 } } },
      {
        type: 'events',
        sessionId: S,
        replace: false,
        events: [
          log.next('changeset.verdict', { changesetId: 'cs1', binding: binding(2), path: 'src/b.ts', verdict: 'reject', decision: 'reject', comment: 'keep the old name' }),
          log.next('changeset.verdict', { changesetId: 'cs1', binding: binding(1), path: 'src/a.ts', verdict: 'approve', decision: 'approve' }),
        ],
      },
    );
    const after = (await card.textContent()) ?? '';
    assert.match(after, /src\/a\.ts[\s\S]*Approved[\s\S]*src\/b\.ts[\s\S]*Rejected[\s\S]*Comment: keep the old name/);
    assert.match(after, /src\/c\.ts[\s\S]*reviewed[\s\S]*2 line comments/);
    assert.equal(await page.getByRole('button', { name: 'Approve src/a.ts', exact: true }).count(), 0);
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });

  test('keeps a subset of hunks: each hunk has its own Keep choice, and the draft the extension holds is what shows', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    const hunks = [hunk(H1, 1, [' a', '-b', '+B']), hunk(H2, 10, [' j', '+k']), hunk(H3, 20, ['-t'])];
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [log.next('changeset.proposed', { changesetId: 'cs2', summary: 'Three hunks', files: [file(9, 'lib/util.py', { hunks, added: 2, removed: 2 })] })],
    });
    const { page } = panel;
    for (const i of [1, 2, 3]) assert.equal(await page.getByRole('checkbox', { name: `Keep hunk ${i} of lib/util.py` }).isChecked(), true, `hunk ${i} starts kept`);
    await page.getByRole('checkbox', { name: 'Keep hunk 2 of lib/util.py' }).click();
    assert.deepEqual(await panel.postedOf('chooseHunk'), [{ type: 'chooseHunk', sessionId: S, changesetId: 'cs2', binding: binding(9), hunkId: H2, keep: false }]);

    // The extension answers with the draft (from here or from the diff editor's lens): the card follows it.
    await panel.deliver({ type: 'reviewDrafts', drafts: { [binding(9)]: { dropped: [H2], reviewed: false, lineComments: 0 } } });
    assert.equal(await page.getByRole('checkbox', { name: 'Keep hunk 2 of lib/util.py' }).isChecked(), false);
    assert.equal(await page.getByRole('checkbox', { name: 'Keep hunk 1 of lib/util.py' }).isChecked(), true);
    assert.match((await page.locator('section.changeset[data-changeset=cs2]').textContent()) ?? '', /1 hunk dropped/);
    assert.equal(await page.locator(`.hunk-block.dropped[data-hunk="${H2}"]`).count(), 1, 'the dropped hunk is drawn struck through');
    await page.screenshot({ path: join(RESULTS, 'review-hunks.png') });

    // A drop made in the diff editor arrives the same way.
    await panel.deliver({ type: 'reviewDrafts', drafts: { [binding(9)]: { dropped: [H2, H3], reviewed: false, lineComments: 0 } } });
    assert.equal(await page.getByRole('checkbox', { name: 'Keep hunk 3 of lib/util.py' }).isChecked(), false);
    // Applied: which hunks went in is the engine's word.
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: false,
      events: [
        log.next('changeset.verdict', { changesetId: 'cs2', binding: binding(9), path: 'lib/util.py', verdict: 'approve', decision: 'keepHunks', hunkIds: [H1] }),
        log.next('changeset.applied', { changesetId: 'cs2', results: [{ path: 'lib/util.py', status: 'applied', keptHunks: [H1] }] }),
      ],
    });
    const text = (await page.locator('section.changeset[data-changeset=cs2]').textContent()) ?? '';
    assert.match(text, /Applied/);
    assert.match(text, /Hunk 1 kept[\s\S]*Hunk 2 dropped[\s\S]*Hunk 3 dropped/);
    assert.equal(await page.getByRole('checkbox', { name: /Keep hunk/ }).count(), 0, 'a decided file takes no more choices');
    await page.close();
  });

  test('the comment round: changes requested with a comment, then the revision says what changed since', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [log.next('changeset.proposed', { changesetId: 'r1', summary: 'First try', round: 1, files: [file(20, 'a.go'), file(21, 'b.go')] })],
    });
    const { page } = panel;
    const r1 = page.locator('section.changeset[data-changeset=r1]');
    await r1.getByRole('textbox', { name: 'Changes to request' }).fill('Use the existing helper instead');
    await r1.getByRole('button', { name: 'Request changes', exact: true }).click();
    assert.deepEqual(await panel.postedOf('reviewAll'), [
      { type: 'reviewAll', sessionId: S, changesetId: 'r1', bindings: [binding(20), binding(21)], verdict: 'requestChanges', comment: 'Use the existing helper instead' },
    ]);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: false,
      events: [
        log.next('changeset.verdict', { changesetId: 'r1', binding: binding(20), path: 'a.go', verdict: 'reject', decision: 'requestChanges', comment: 'Use the existing helper instead' }),
        log.next('changeset.verdict', { changesetId: 'r1', binding: binding(21), path: 'b.go', verdict: 'reject', decision: 'requestChanges', comment: 'Use the existing helper instead' }),
        log.next('changeset.applied', { changesetId: 'r1', results: [{ path: 'a.go', status: 'rejected' }, { path: 'b.go', status: 'rejected' }] }),
        log.next('changeset.proposed', {
          changesetId: 'r2',
          summary: 'Second try',
          round: 2,
          previousChangesetId: 'r1',
          files: [
            file(22, 'a.go', { revision: 'changed', hunks: [hunk('bbbbbbbbbbbbbbb1', 1, ['-x', '+helper(x)'], 'changed')] }),
            file(23, 'b.go', { revision: 'unchanged' }),
            file(24, 'c.go', { revision: 'new', operation: 'create' }),
          ],
        }),
      ],
    });
    assert.match((await r1.textContent()) ?? '', /Changes requested[\s\S]*Use the existing helper instead/);
    const r2 = page.locator('section.changeset[data-changeset=r2]');
    const text = (await r2.textContent()) ?? '';
    assert.match(text, /round 2/);
    assert.match(text, /Since round 1: 1 changed, 1 new, 1 unchanged/);
    assert.match(text, /a\.go[\s\S]*changed since last round[\s\S]*b\.go[\s\S]*unchanged since last round[\s\S]*c\.go[\s\S]*new this round/);
    await page.screenshot({ path: join(RESULTS, 'review-round-2.png') });
    await page.close();
  });

  test('a conflicting file offers both versions and a redo on the current content, never an approval', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    const conflict = { path: 'src/x.ts', baseSha256: 'a'.repeat(64), currentSha256: 'b'.repeat(64), reason: 'It changed since the agent read it.' };
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [log.next('changeset.proposed', { changesetId: 'c1', summary: 'Touch x', files: [{ ...file(30, 'src/x.ts'), state: 'conflict', reason: 'changed since read', diff: '', hunks: [], conflict }] })],
    });
    const { page } = panel;
    assert.equal(await page.getByRole('button', { name: 'Approve src/x.ts', exact: true }).count(), 0);
    assert.match((await page.locator('section.changeset').textContent()) ?? '', /It changed since the agent read it\./);
    // Which version the agent worked from, and which is there now.
    assert.equal(await page.getByLabel('Versions of src/x.ts', { exact: true }).textContent(), `the agent read ${'a'.repeat(12)} · now ${'b'.repeat(12)}`);
    await page.getByRole('button', { name: 'Show both versions of src/x.ts', exact: true }).click();
    await page.getByRole('button', { name: 'Ask the agent to redo src/x.ts on the current content', exact: true }).click();
    assert.deepEqual((await panel.posted()).slice(1), [
      { type: 'showConflict', sessionId: S, changesetId: 'c1', binding: binding(30) },
      { type: 'reviewChangeset', sessionId: S, changesetId: 'c1', files: [{ binding: binding(30), decision: 'redo' }] },
    ]);
    await page.close();
  });

  test('a file approved, then found changed at apply time, still offers the redo (the approval does not hold its button)', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    await panel.deliver({ type: 'events', sessionId: S, replace: true, events: [log.next('changeset.proposed', { changesetId: 'e1', summary: 'Touch e', files: [file(31, 'e.txt')] })] });
    const { page } = panel;
    await page.getByRole('button', { name: 'Approve e.txt', exact: true }).click();
    const conflict = { path: 'e.txt', baseSha256: 'a'.repeat(64), currentSha256: 'c'.repeat(64), reason: 'it changed since the agent read it' };
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: false,
      events: [
        log.next('changeset.verdict', { changesetId: 'e1', binding: binding(31), path: 'e.txt', verdict: 'approve', decision: 'approve' }),
        log.next('changeset.conflict', { changesetId: 'e1', binding: binding(31), conflict }),
        log.next('changeset.applied', { changesetId: 'e1', results: [{ path: 'e.txt', status: 'conflict', reason: conflict.reason }] }),
      ],
    });
    const redo = page.getByRole('button', { name: 'Ask the agent to redo e.txt on the current content', exact: true });
    await redo.click({ timeout: 10_000 });
    assert.deepEqual((await panel.posted()).slice(-1), [
      { type: 'followUp', sessionId: S, text: 'e.txt changed since you read it and was left as it is. Read its current content and redo your change on it.' },
    ]);
    await page.close();
  });

  test('agent-made paths, rationales and diff lines are shown with their hidden characters escaped', PER_TEST, async () => {
    const panel = await sessionPanel();
    const log = new EventLog(S);
    const sneaky = 'src/\u202eadmin.ts';
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: true,
      events: [
        log.next('changeset.proposed', {
          changesetId: 'x1',
          summary: 'Looks \u200bharmless',
          files: [file(40, sneaky, { rationale: 'Approve\u2066 me', hunks: [hunk('ccccccccccccccc1', 1, ['+ok \u202e// hidden'])] })],
        }),
      ],
    });
    const text = (await panel.page.locator('section.changeset').textContent()) ?? '';
    assert.doesNotMatch(text, /[\u200b\u202e\u2066]/, 'no invisible character reaches the page');
    assert.match(text, /src\/<U\+202E>admin\.ts[\s\S]*Approve<U\+2066> me[\s\S]*\+ok <U\+202E>\/\/ hidden/);
    assert.match(text, /Looks <U\+200B>harmless/);
    assert.ok(await panel.page.getByRole('button', { name: 'Approve src/<U+202E>admin.ts', exact: true }).isVisible());
    await panel.page.close();
  });

  test('a 1,000-file changeset is windowed, opens diffs on demand, and is reviewable from the keyboard', PER_TEST, async () => {
    const panel = await sessionPanel(900);
    const log = new EventLog(S);
    const files = Array.from({ length: 1000 }, (_, i) => file(1000 + i, `pkg/m${String(i).padStart(4, '0')}.ts`));
    await panel.deliver({ type: 'events', sessionId: S, replace: true, events: [log.next('changeset.proposed', { changesetId: 'big', summary: 'Rename everywhere', files })] });
    const { page } = panel;
    const card = page.locator('section.changeset[data-changeset=big]');
    await card.locator('.file').first().waitFor();
    const inDom = await card.locator('.file').count();
    assert.ok(inDom > 0 && inDom < 100, `only the files in view are in the DOM (${inDom} of 1000)`);
    assert.equal(await card.locator('pre.diff').count(), 0, 'no diff is drawn until a file is expanded');
    assert.match((await card.textContent()) ?? '', /1000 files[\s\S]*1000 to review/);

    // The window scrolls to the last file.
    await card.locator('lit-virtualizer').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.getByRole('button', { name: 'Approve pkg/m0999.ts', exact: true }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByRole('button', { name: 'Approve pkg/m0000.ts', exact: true }).count(), 0, 'the first files left the DOM');

    // Expanding one file draws its diff (and its hunk choice) only.
    await page.getByRole('button', { name: 'Show changes of pkg/m0999.ts', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Keep hunk 1 of pkg/m0999.ts' }).waitFor();
    assert.equal(await card.locator('pre.diff').count(), 1);

    // Keyboard: Enter on a file's Approve; Tab from another file's Approve reaches its Reject, Space presses it.
    await page.getByRole('button', { name: 'Approve pkg/m0998.ts', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Approve pkg/m0997.ts', exact: true }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    assert.deepEqual(await panel.postedOf('reviewFile'), [
      { type: 'reviewFile', sessionId: S, changesetId: 'big', binding: binding(1998), verdict: 'approve' },
      { type: 'reviewFile', sessionId: S, changesetId: 'big', binding: binding(1997), verdict: 'reject' },
    ]);
    await panel.deliver({
      type: 'events',
      sessionId: S,
      replace: false,
      events: [
        log.next('changeset.verdict', { changesetId: 'big', binding: binding(1998), path: 'pkg/m0998.ts', verdict: 'approve' }),
        log.next('changeset.verdict', { changesetId: 'big', binding: binding(1997), path: 'pkg/m0997.ts', verdict: 'reject' }),
      ],
    });
    await card.getByRole('button', { name: 'Reject all', exact: true }).click();
    const [all] = await panel.postedOf('reviewAll');
    assert.equal(all?.bindings.length, 998, 'Reject all names every open file, windowed or not, and no decided one');
    assert.ok(!all?.bindings.includes(binding(1998)));
    await page.screenshot({ path: join(RESULTS, 'review-1000-files.png') });
    assert.deepEqual(await panel.problems(), []);
    await page.close();
  });
});
