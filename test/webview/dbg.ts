import { servePanel, launch, openPanel } from './fixtures/panel-page.js';
import { settingsMessage } from './fixtures/events.js';
void (async () => {
const server = await servePanel();
const browser = await launch();
const panel = await openPanel(browser, server);
await panel.deliver(settingsMessage(), { type: 'state', sessions: [], selectedSessionId: null });
console.log(await panel.page.locator('body').ariaSnapshot());
console.log(await panel.page.getByRole('textbox', { name: 'Task', exact: true }).count());
console.log(await panel.page.evaluate(`document.querySelector('deputy-panel').shadowRoot.querySelector('deputy-task-form').shadowRoot.querySelector('vscode-textarea').shadowRoot.innerHTML.slice(0, 600)`));
await browser.close(); await server.close();
})();
