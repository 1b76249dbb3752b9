/**
 * package.json's `contributes` is what users and scripts see; the code has its own list of the same names. This holds
 * them together: every command the table handles is contributed and described, every setting the settings module
 * reads is in the schema with a description, DESIGN.md §9's names are all there, and activation stays lazy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import {
  BODY_ONLY_COMMAND_IDS,
  CHANGES_VIEW_ID,
  CHAT_PARTICIPANT_ID,
  COMMAND_IDS,
  PANEL_VIEW_ID,
  PROPOSED_SCHEME,
  REVIEW_COMMAND_IDS,
  SETTING_IDS,
  VIEW_CONTAINER_ID,
} from '../../src/extension/manifest-ids.js';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const contributes = pkg.contributes;

const DESIGN_COMMANDS = ['deputy.openPanel', 'deputy.newTask', 'deputy.stop', 'deputy.stopAll', 'deputy.showSessions', 'deputy.selectEndpoint', 'deputy.signIn', 'deputy.showLog', 'deputy.verifyAudit', 'deputy.exportAudit', 'deputy.reviewChanges'];
const DESIGN_SETTINGS = ['deputy.endpoint', 'deputy.bedrock.region', 'deputy.bedrock.profile', 'deputy.model', 'deputy.embedded.modelBaseUrl', 'deputy.embedded.modelApi', 'deputy.embedded.modelApiKeyEnv', 'deputy.prompts.timeoutMinutes', 'deputy.budget.perTaskUsd'];

test('the commands contributed are exactly the command table, each titled, and include DESIGN.md §9', () => {
  const contributed = contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), [...COMMAND_IDS, ...REVIEW_COMMAND_IDS].sort());
  for (const c of contributes.commands) assert.ok(c.title && c.category === 'Deputy', `${c.command} has a title`);
  for (const id of DESIGN_COMMANDS) assert.ok(contributed.includes(id), `${id} (DESIGN.md §9)`);
});

test('the settings schema is exactly what settings.ts reads, each described, and includes DESIGN.md §9', () => {
  const props = contributes.configuration.properties as Record<string, { markdownDescription?: string; description?: string }>;
  assert.deepEqual(Object.keys(props).sort(), [...SETTING_IDS].sort());
  for (const [k, v] of Object.entries(props)) assert.ok((v.markdownDescription ?? v.description ?? '').length > 20, `${k} is described`);
  for (const id of DESIGN_SETTINGS) assert.ok(id in props, `${id} (DESIGN.md §9)`);
  // No setting holds a secret: keys go to SecretStorage.
  for (const k of Object.keys(props)) assert.doesNotMatch(k, /apiKey$|token$|secret/i, `${k} must not hold a secret`);
});

test('the panel is a webview view in its own container, the chat participant is declared, activation is lazy', () => {
  assert.deepEqual(contributes.viewsContainers.activitybar.map((c: { id: string }) => c.id), [VIEW_CONTAINER_ID]);
  assert.deepEqual(contributes.views[VIEW_CONTAINER_ID].map((v: { id: string; type?: string }) => [v.id, v.type ?? 'tree']), [[PANEL_VIEW_ID, 'webview'], [CHANGES_VIEW_ID, 'tree']]);
  assert.deepEqual(contributes.chatParticipants.map((p: { id: string; name: string }) => [p.id, p.name]), [[CHAT_PARTICIPANT_ID, 'deputy']]);
  assert.ok(!pkg.activationEvents.includes('*'), 'never activates on everything');
  // Lazy: the panel, a command, the chat (VS Code adds those events from the contributions), or a workspace Deputy has
  // worked in (its audit trail, policy or embedded runtime live in .deputy/, so does a session left running) — never
  // every window's start-up.
  assert.deepEqual(pkg.activationEvents, ['onView:deputy.panel', 'workspaceContains:.deputy']);
  assert.equal(pkg.main, './dist/extension.js');
  assert.ok(contributes.walkthroughs[0].steps.length >= 3);
  assert.equal(pkg.engines.vscode, '^1.138.0');
  assert.match(pkg.engines.node, /^>=22/);
});

test('every menu entry names a contributed command, and the review actions show only on proposed documents', () => {
  const contributed = new Set(contributes.commands.map((c: { command: string }) => c.command));
  for (const [menu, entries] of Object.entries(contributes.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const e of entries) assert.ok(contributed.has(e.command), `${menu}: ${e.command} is contributed`);
  }
  for (const e of contributes.menus['editor/title']) assert.match(e.when ?? '', /resourceScheme == deputy-proposed/, `${e.command} only on the diff of a proposal`);
});

/** The modules a file loads when it runs (type-only imports vanish), followed through relative imports. */
function runtimeImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gm)) visit(join(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return seen;
}

test("activation parses only the entry: the extension's body is a separate bundle, shipped, and required on first use", () => {
  const src = join(__dirname, '..', '..', 'src', 'extension');
  const loaded = [...runtimeImports(join(src, 'main.ts'))].map((f) => relative(src, f)).sort();
  // vscode-free names and constants only: the panel, the commands, the server client and the engine's protocol wait.
  assert.deepEqual(loaded, ['main.ts', 'manifest-ids.ts', 'workspace-state.ts'].sort());
  const main = readFileSync(join(src, 'main.ts'), 'utf8');
  // A namespace import of VS Code's API makes the bundle copy every member of it when the entry loads.
  assert.doesNotMatch(main, /import \* as vscode/);
  assert.match(main, /joinPath\(context\.extensionUri, 'dist', 'extension-full\.js'\)/);
  const shipped = readFileSync(join(__dirname, '..', '..', '.vscodeignore'), 'utf8').split('\n');
  for (const f of ['dist/extension.js', 'dist/extension-full.js', 'dist/language-client.js', 'dist/server.js']) assert.ok(shipped.includes(`!${f}`), `${f} is packaged`);
  const build = readFileSync(join(__dirname, '..', '..', 'scripts', 'build.mjs'), 'utf8');
  assert.match(build, /entryPoints: \['src\/extension\/full\.ts'\],\s*outfile: 'dist\/extension-full\.js'/);
});

test('the commands without a stand-in at activation are hidden from the Command Palette but on proposed documents, and have no key', () => {
  const palette = new Map((contributes.menus.commandPalette as { command: string; when?: string }[]).map((e) => [e.command, e.when]));
  const keys = new Set((contributes.keybindings as { command: string }[]).map((k) => k.command));
  for (const id of BODY_ONLY_COMMAND_IDS) {
    assert.ok((COMMAND_IDS as readonly string[]).includes(id) || (REVIEW_COMMAND_IDS as readonly string[]).includes(id), `${id} is a command`);
    // A `deputy-proposed:` document has content only once the body is loaded (the entry's provider loads it).
    assert.match(palette.get(id) ?? '', new RegExp(`^(false|resourceScheme == ${PROPOSED_SCHEME})$`), `${id} is hidden from the Command Palette`);
    assert.ok(!keys.has(id), `${id} has no keybinding`);
  }
  // The review's menus name the scheme the entry registers a content provider for.
  const scheme = new Set([...JSON.stringify(contributes.menus).matchAll(/resourceScheme == ([\w-]+)/g)].map((m) => m[1]));
  assert.deepEqual([...scheme], [PROPOSED_SCHEME]);
});
