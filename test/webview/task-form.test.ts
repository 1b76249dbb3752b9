// The new-task form's checkboxes in the built panel (headless Chromium): each says its label once, whether it can be
// ticked or not. With nothing to attach the "Attach selection" and "Attach file" boxes are disabled, and they read
// "Attach selection Attach selection" (the toolkit's label attribute drawn beside the same text as content).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launch, openPanel, RESULTS, servePanel, type PanelServer } from './fixtures/panel-page.js';
import { settingsMessage } from './fixtures/events.js';

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

/** Each checkbox of the task form: its accessible name, whether it is disabled, and all the text it draws (shadow included). */
const CHECKBOXES = `(() => {
  const form = document.querySelector('deputy-panel').shadowRoot.querySelector('deputy-task-form').shadowRoot;
  const text = (node) => {
    let out = '';
    if (node.nodeType === 3) out += node.data;
    if (node.nodeType === 1 && node.shadowRoot) {
      // What the shadow draws, with the light DOM text where a slot puts it.
      const walk = (n) => {
        if (n.nodeType === 3) out += n.data;
        if (n.nodeType === 1 && n.tagName === 'SLOT') for (const a of n.assignedNodes()) out += text(a);
        for (const c of n.childNodes) walk(c);
      };
      walk(node.shadowRoot);
      return out;
    }
    for (const c of node.childNodes) out += text(c);
    return out;
  };
  return [...form.querySelectorAll('vscode-checkbox')].map((c) => ({
    name: c.getAttribute('aria-label'),
    disabled: c.disabled === true,
    shown: text(c).replace(/\\s+/g, ' ').trim(),
  }));
})()`;

const PER_TEST = { timeout: 180_000 };

describe('the task form', () => {
  for (const canAttach of [false, true]) {
    test(`each checkbox shows its label once (${canAttach ? 'something to attach' : 'nothing to attach: disabled'})`, PER_TEST, async () => {
      const panel = await openPanel(browser, server);
      await panel.deliver(settingsMessage({ canAttachSelection: canAttach, canAttachFile: canAttach }), { type: 'state', sessions: [], selectedSessionId: null });
      await panel.settle();
      const boxes = (await panel.page.evaluate(CHECKBOXES)) as Array<{ name: string; disabled: boolean; shown: string }>;
      assert.deepEqual(
        boxes,
        [
          { name: 'Attach selection', disabled: !canAttach, shown: 'Attach selection' },
          { name: 'Attach file', disabled: !canAttach, shown: 'Attach file' },
          { name: "Deputy's environment", disabled: false, shown: "Deputy's environment" },
        ],
      );
      assert.deepEqual(await panel.problems(), []);
      await panel.page.close();
    });
  }
});
