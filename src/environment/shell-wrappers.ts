/**
 * What a wrapper or runner command runs: `env`, `timeout`, `nice`, `xargs`, `sudo`, `find -exec`, `flock -c`, … each
 * unwrapped to the inner command (or script) the command gate must judge as well.
 */
import type { ShellWord } from './shell-words.js';
import { assignmentProblem } from './shell-variables.js';

export interface Unwrapped {
  /** A wrapper only adjusts how the inner command runs; a runner is itself a command a rule must allow. */
  kind: 'wrapper' | 'runner';
  argv: ShellWord[];
  /** Further inner commands (a second `-exec`). */
  more?: ShellWord[][];
  script?: string;
  constructs: string[];
}

/** Options (of wrappers and runners) that take a value as the next word. */
const OPTION_VALUES: Record<string, ReadonlySet<string>> = {
  env: new Set(['-u', '--unset', '-C', '--chdir']),
  nice: new Set(['-n', '--adjustment']),
  timeout: new Set(['-s', '--signal', '-k', '--kill-after']),
  stdbuf: new Set(['-i', '-o', '-e', '--input', '--output', '--error']),
  ionice: new Set(['-c', '-n', '-p', '-P', '-u', '--class', '--classdata']),
  exec: new Set(['-a']),
  xargs: new Set(['-I', '-L', '-n', '-P', '-d', '-E', '-s', '-a', '--arg-file', '--delimiter', '--max-args', '--max-lines', '--max-procs', '--replace', '--eof', '--max-chars', '--process-slot-var']),
  sudo: new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-T', '-U', '--user', '--group', '--host', '--prompt', '--chdir', '--role', '--type']),
  doas: new Set(['-u', '-C']),
  watch: new Set(['-n', '-d', '--interval', '--differences']),
  flock: new Set(['-w', '-E', '--timeout', '--conflict-exit-code']),
  chroot: new Set(['--userspec', '--groups']),
  pkexec: new Set(['--user', '-u']),
};

function skipOptions(name: string, words: ShellWord[], from: number): number {
  const values = OPTION_VALUES[name] ?? new Set<string>();
  let i = from;
  while (i < words.length) {
    const w = words[i]!.text;
    if (w === '--') return i + 1;
    if (!w.startsWith('-') || w === '-') return i;
    i += values.has(w) ? 2 : 1;
  }
  return i;
}

export function unwrap(name: string, words: ShellWord[]): Unwrapped | null {
  const wrapper = (argv: ShellWord[], constructs: string[] = []): Unwrapped => ({ kind: 'wrapper', argv, constructs });
  const runner = (argv: ShellWord[], constructs: string[] = []): Unwrapped => ({ kind: 'runner', argv, constructs });
  switch (name) {
    case 'env': {
      const constructs: string[] = [];
      let i = 1;
      while (i < words.length) {
        const w = words[i]!.text;
        if (w === '-S' || w.startsWith('--split-string') || /^-[a-zA-Z]*S/.test(w)) constructs.push('env -S (a string split into a command)');
        if (w === '--') {
          i++;
          break;
        }
        if (w.startsWith('-')) {
          i += OPTION_VALUES.env!.has(w) ? 2 : 1;
          continue;
        }
        const eq = w.indexOf('=');
        if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(w.slice(0, eq))) {
          const problem = assignmentProblem(w.slice(0, eq), words[i]!.dynamic ? null : w.slice(eq + 1));
          if (problem) constructs.push(problem);
          i++;
          continue;
        }
        break;
      }
      return wrapper(words.slice(i), constructs);
    }
    case 'command':
    case 'builtin': {
      if (words.slice(1).some((w) => w.text === '-v' || w.text === '-V')) return null;
      return wrapper(words.slice(skipOptions(name, words, 1)));
    }
    case 'exec':
    case 'nohup':
    case 'nice':
    case 'stdbuf':
    case 'ionice':
    case 'setsid':
      return wrapper(words.slice(skipOptions(name, words, 1)));
    case 'time': {
      const i = skipOptions(name, words, 1);
      const writes = words.slice(1, i).some((w) => w.text === '-o' || w.text.startsWith('--output') || w.text === '-a');
      return wrapper(words.slice(writes ? i + 1 : i), writes ? ['time -o (writes a file)'] : []);
    }
    case 'timeout': {
      const i = skipOptions(name, words, 1);
      return wrapper(words.slice(i + 1));
    }
    case 'xargs':
    case 'sudo':
    case 'doas':
    case 'pkexec':
      return runner(words.slice(skipOptions(name, words, 1)));
    case 'busybox':
      // `busybox rm …` is rm; `busybox sh -c …` is a shell.
      return wrapper(words.slice(1));
    case 'flock':
    case 'chroot': {
      // Both take one operand (the lock file, the new root) before the command, or `-c SCRIPT` (flock).
      const i = skipOptions(name, words, 1);
      const dashC = words.findIndex((w, j) => j > i && (w.text === '-c' || w.text === '--command'));
      if (name === 'flock' && dashC !== -1) return { kind: 'runner', argv: [], script: words[dashC + 1]?.text ?? '', constructs: [] };
      return runner(words.slice(i + 1));
    }
    case 'script': {
      // util-linux `script -c COMMAND` runs COMMAND through a shell.
      const dashC = words.findIndex((w) => w.text === '-c' || w.text === '--command');
      return dashC > 0 && words[dashC + 1] ? { kind: 'runner', argv: [], script: words[dashC + 1]!.text, constructs: [] } : null;
    }
    case 'watch':
    case 'su': {
      // Both run their argument through a shell.
      const dashC = words.findIndex((w) => w.text === '-c' || w.text === '--command');
      if (name === 'su') return dashC > 0 && words[dashC + 1] ? { kind: 'runner', argv: [], script: words[dashC + 1]!.text, constructs: [] } : runner([]);
      const rest = words.slice(skipOptions(name, words, 1));
      return { kind: 'runner', argv: [], script: rest.map((w) => w.text).join(' '), constructs: [] };
    }
    case 'find':
    case 'fd': {
      const inner: ShellWord[][] = [];
      for (let i = 1; i < words.length; i++) {
        const w = words[i]!.text;
        const exec = name === 'find' ? ['-exec', '-execdir', '-ok', '-okdir'].includes(w) : w === '-x' || w === '--exec' || w === '-X' || w === '--exec-batch';
        if (!exec) continue;
        const end = words.findIndex((x, j) => j > i && (x.text === ';' || x.text === '+'));
        inner.push(words.slice(i + 1, end === -1 ? words.length : end));
        i = end === -1 ? words.length : end;
      }
      if (inner.length === 0) return null;
      // Each -exec command is its own segment; the find itself is judged as written.
      return { kind: 'runner', argv: inner[0]!, more: inner.slice(1), constructs: [] };
    }
    default:
      return null;
  }
}
