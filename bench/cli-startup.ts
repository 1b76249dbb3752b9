/**
 * CLI start-up: `deputy --help` (the built dist/cli.js) against `node -e 0`, both as child processes started one
 * after another. Node's own start-up is the floor any Node CLI pays; the ratio is what Deputy adds on top by
 * loading its code. Needs `npm run build` first (`npm run bench` does it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { formatRatio } from './report.js';
import { compare, type Side } from './measure.js';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

/** Runs `node ...args` to completion and returns its stdout; throws on a non-zero exit. */
function node(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited with ${code}`))));
  });
}

export const cliStartup: Benchmark = {
  id: 'cli-startup',
  title: 'CLI start-up: deputy --help vs node -e 0',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
    const starts = config.cliStarts ?? 20;
    const ours: Side<null> = {
      label: 'deputy --help',
      setup: async () => null,
      run: async () => {
        for (let i = 0; i < starts; i++) {
          const out = await node([CLI, '--help']);
          if (!out.includes('Usage: deputy <command>')) throw new Error(`deputy --help printed no usage: ${out.slice(0, 200)}`);
        }
        return starts;
      },
    };
    const reference: Side<null> = {
      label: 'node -e 0',
      setup: async () => null,
      run: async () => {
        for (let i = 0; i < starts; i++) await node(['-e', '0']);
        return starts;
      },
    };
    log(`cli-startup: ${starts} starts per run, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
    const comparison = await compare(ours, reference, config);
    const times = 1 / comparison.ratio;
    return {
      id: this.id,
      title: this.title,
      unit: 'starts',
      input: `${starts} process starts one after another per side and round`,
      ours: '`node dist/cli.js --help` to exit: Node start-up, loading the command table (each command\'s code is a bundle of its own, loaded only when it runs), printing the usage',
      reference: '`node -e 0` to exit: Node start-up and nothing else',
      meaning: `process starts per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means \`deputy --help\` takes ${times.toFixed(2)} times as long as starting Node to do nothing (the goal is at most 1.3 times, a ratio of 0.77× or more).`,
      verified: `every \`deputy --help\` printed its usage and every process exited with 0`,
      comparison,
    };
  },
};
