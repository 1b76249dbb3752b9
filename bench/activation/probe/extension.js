// Benchmark only (bench/activation.ts). Activated on `*`, in a workspace where no watched extension activates by
// itself (no .deputy folder), it wraps Node's module loader in this extension host and then activates the watched
// extensions itself, one after the other, through VS Code's own path (`Extension.activate()`: the host loads the
// main file and calls `activate`, as it does for an activation event). The order turns from one extension host to
// the next (the line count of `activation.jsonl` picks it), so no extension always goes first. Left to an
// activation event, VS Code started them in one batch in an order of its own, and the first load of the batch took
// 16–69 ms of wall time in a run on a loaded machine, whichever extension it was.
//
// For each extension it times the load of its main file (and, within it, the extension's `require('vscode')`: VS
// Code building the API object for it) and the call of its `activate` (until its promise settles,
// when it returns one) with high-resolution clocks: wall time (`performance.now()`) and the CPU time of the extension
// host's main thread (`process.threadCpuUsage()`, which a busy machine does not inflate by running something else).
// The extension host's own activation marks are whole milliseconds, too coarse for an extension that does nothing;
// they are written beside ours as a cross-check. When every watched extension has activated it appends one JSON line
// per extension host to `activation.jsonl` in the first workspace folder.
//
// With DEPUTY_BENCH_CPU_PROFILE=<folder> in code-server's environment it also writes a V8 CPU profile of each
// extension host (`host-<pid>.cpuprofile`, 50 µs samples) from the probe's activation to the line: the loads and
// activations are under functions named PROBE_load_<n> and PROBE_activate_<n> (n: the extension's place in WATCHED).
const vscode = require('vscode');
const Module = require('module');
const fs = require('fs');
const path = require('path');

/** Deputy, the empty extension (the reference) and the registration floor (bench/activation/floor). */
const WATCHED = ['deputy-dev.deputy', 'deputy-bench.empty', 'deputy-bench.floor'];

/** Main-thread CPU time in ms (Node 23.9+; the extension host runs Node 24). */
const cpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/** Named frames for the CPU profile, one per watched extension and step (a profile names functions by their source). */
const FRAMES = [
  { load: function PROBE_load_0(f) { return f(); }, activate: function PROBE_activate_0(f) { return f(); } },
  { load: function PROBE_load_1(f) { return f(); }, activate: function PROBE_activate_1(f) { return f(); } },
  { load: function PROBE_load_2(f) { return f(); }, activate: function PROBE_activate_2(f) { return f(); } },
];

exports.activate = function activate() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (!folder) return;
  const out = path.join(folder.uri.fsPath, 'activation.jsonl');
  const round = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0;
  // Each extension goes first, second and last in turn; every other cycle runs backwards, so that each also follows
  // each of the others.
  const shift = round % WATCHED.length;
  const rotated = [...WATCHED.slice(shift), ...WATCHED.slice(0, shift)];
  const order = Math.floor(round / WATCHED.length) % 2 === 0 ? rotated : rotated.reverse();
  const byMain = new Map();
  for (const id of WATCHED) {
    const ext = vscode.extensions.getExtension(id);
    if (!ext) continue;
    const main = require.resolve(path.join(ext.extensionPath, ext.packageJSON.main));
    byMain.set(main, id);
  }
  const profile = process.env.DEPUTY_BENCH_CPU_PROFILE ? startProfile() : undefined;
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
    if (profile) profile.stop(path.join(process.env.DEPUTY_BENCH_CPU_PROFILE, `host-${process.pid}.cpuprofile`));
    fs.appendFileSync(out, `${JSON.stringify({ pid: process.pid, order, figures, hostMarks })}\n`);
  };
  const record = (id, values) => {
    figures[id] = { ...figures[id], ...values };
  };
  const load = Module._load;
  /** The watched extension whose main file is loading now, if any: its own `require('vscode')` is timed apart. */
  let loading;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode' && loading && figures[loading].apiMs === undefined) {
      const c = cpuMs();
      const t = performance.now();
      const api = load.apply(this, arguments);
      record(loading, { apiMs: performance.now() - t, apiCpuMs: cpuMs() - c });
      return api;
    }
    // An extension's main file is loaded by its path: a bare name (`vscode`, a Node module) is never one, and
    // resolving it here would add a failed lookup (an error thrown and caught) to the load being timed.
    if (!path.isAbsolute(request) && !request.startsWith('.')) return load.apply(this, arguments);
    let file;
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      return load.apply(this, arguments);
    }
    const id = byMain.get(file);
    // The first load only: a later require of the same file comes from the cache and is not the activation.
    if (!id || figures[id]) return load.apply(this, arguments);
    const frames = FRAMES[WATCHED.indexOf(id)];
    const args = arguments;
    const c0 = cpuMs();
    const t0 = performance.now();
    figures[id] = {};
    loading = id;
    let exported;
    try {
      exported = frames.load(() => load.apply(this, args));
    } finally {
      loading = undefined;
    }
    record(id, { loadMs: performance.now() - t0, loadCpuMs: cpuMs() - c0 });
    if (!exported || typeof exported.activate !== 'function') return exported;
    // Bundlers export through getters that cannot be reassigned: VS Code gets a copy whose `activate` is timed.
    const activateFn = exported.activate;
    return {
      ...exported,
      activate(...params) {
        const c1 = cpuMs();
        const t1 = performance.now();
        const result = frames.activate(() => activateFn.apply(this, params));
        // A synchronous activate ends when it returns. Waiting for a microtask instead would count whatever other
        // extensions' activations ran before it in the same queue (the host's own marks do: see bench/activation.ts).
        const settled = () => record(id, { activateMs: performance.now() - t1, activateCpuMs: cpuMs() - c1 });
        if (!result || typeof result.then !== 'function') {
          settled();
          return result;
        }
        result.then(settled, settled);
        return result;
      },
    };
  };
  // After this activation returns, one extension at a time, in this host's order (nothing else activates them here). A failure is left for the benchmark to report (the line then lacks that extension).
  setTimeout(async () => {
    for (const id of order) {
      const ext = vscode.extensions.getExtension(id);
      if (ext) await ext.activate().then(undefined, () => undefined);
    }
    setTimeout(done, 500);
  }, 0);
};

/** A V8 CPU profile of this extension host, through the inspector (same thread, no port opened). */
function startProfile() {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 50 });
  session.post('Profiler.start');
  return {
    stop(file) {
      session.post('Profiler.stop', (err, r) => {
        if (!err) fs.writeFileSync(file, JSON.stringify(r.profile));
        session.disconnect();
      });
    },
  };
}
