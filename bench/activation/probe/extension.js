// Benchmark only (bench/activation.ts). Activated on `*`, so before any extension that waits for onStartupFinished,
// it wraps Node's module loader in this extension host: when the main file of a watched extension is loaded, it
// times the load, then wraps the module's `activate` to time the call (until its promise settles, when it returns
// one). High-resolution clocks (`performance.now()`): the extension host's own activation marks are whole
// milliseconds, too coarse for an extension that does nothing. When every watched extension has activated it appends one JSON line per extension
// host to `activation.jsonl` in the first workspace folder, with the host's own marks beside ours as a cross-check.
const vscode = require('vscode');
const Module = require('module');
const fs = require('fs');
const path = require('path');

const WATCHED = ['deputy-dev.deputy', 'deputy-bench.empty'];

exports.activate = function activate() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (!folder) return;
  const byMain = new Map();
  for (const id of WATCHED) {
    const ext = vscode.extensions.getExtension(id);
    if (!ext) continue;
    const main = require.resolve(path.join(ext.extensionPath, ext.packageJSON.main));
    byMain.set(main, id);
  }
  const figures = {};
  const done = () => {
    const marks = globalThis.MonacoPerformanceMarks ? globalThis.MonacoPerformanceMarks.getMarks() : [];
    const hostMarks = {};
    for (const id of Object.keys(figures)) {
      const at = (what) => (marks.find((m) => m.name === `code/extHost/${what}/${id}`) || {}).startTime;
      const willLoad = at('willLoadExtensionCode');
      const didLoad = at('didLoadExtensionCode');
      const willActivate = at('willActivateExtension');
      const didActivate = at('didActivateExtension');
      hostMarks[id] = willLoad === undefined || didActivate === undefined ? null : { loadMs: didLoad - willLoad, activateMs: didActivate - willActivate };
    }
    fs.appendFileSync(path.join(folder.uri.fsPath, 'activation.jsonl'), `${JSON.stringify({ pid: process.pid, figures, hostMarks })}\n`);
  };
  const record = (id, key, ms) => {
    figures[id] = { ...figures[id], [key]: ms };
    if (WATCHED.every((w) => figures[w] && figures[w].activateMs !== undefined)) setTimeout(done, 500);
  };
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    let file;
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      return load.apply(this, arguments);
    }
    const id = byMain.get(file);
    // The first load only: a later require of the same file comes from the cache and is not the activation.
    if (!id || figures[id]) return load.apply(this, arguments);
    const t0 = performance.now();
    const exported = load.apply(this, arguments);
    record(id, 'loadMs', performance.now() - t0);
    if (!exported || typeof exported.activate !== 'function') return exported;
    // Bundlers export through getters that cannot be reassigned: VS Code gets a copy whose `activate` is timed.
    const activateFn = exported.activate;
    return {
      ...exported,
      activate(...args) {
        const t1 = performance.now();
        const result = activateFn.apply(this, args);
        // A synchronous activate ends when it returns. Waiting for a microtask instead would count whatever other
        // extensions' activations ran before it in the same queue (the host's own marks do: see bench/activation.ts).
        if (!result || typeof result.then !== 'function') {
          record(id, 'activateMs', performance.now() - t1);
          return result;
        }
        const settled = () => record(id, 'activateMs', performance.now() - t1);
        result.then(settled, settled);
        return result;
      },
    };
  };
};
