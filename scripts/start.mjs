// `npm start -- "<task>"`: builds Deputy (a second with esbuild, so never stale), then runs `deputy run` on the embedded defaults in the
// folder npm was started from (its own runtime and store, and the model at DEPUTY_MODEL_BASE_URL or Ollama's
// default address). Extra flags pass through: npm start -- --model qwen2.5-coder "<task>".
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0 || !existsSync(cli)) process.exit(built.status || 1);
const args = process.argv.slice(2);
const runArgs = args.length > 0 ? args : ['Give me a short tour of this workspace: what it is, how it is laid out, how to run it.'];
const r = spawnSync(process.execPath, [cli, 'run', ...runArgs], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
process.exit(r.status ?? 1);
