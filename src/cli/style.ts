/** Terminal colours, only when the output is a terminal (or FORCE_COLOR is set) and NO_COLOR is not. */
import type { CliIO } from './io.js';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const code = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function styleFor(io: Pick<CliIO, 'stdout' | 'env'>): Style {
  const on = !io.env.NO_COLOR && (Boolean(io.env.FORCE_COLOR && io.env.FORCE_COLOR !== '0') || Boolean(io.stdout.isTTY));
  if (!on) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    bold: code(1, 22),
    dim: code(2, 22),
    red: code(31, 39),
    green: code(32, 39),
    yellow: code(33, 39),
    cyan: code(36, 39),
  };
}

/** Colours a unified diff line by line: headers bold, hunks cyan, additions green, removals red. */
export function colorDiff(diff: string, style: Style): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ')) return style.bold(line);
      if (line.startsWith('@@')) return style.cyan(line);
      if (line.startsWith('+')) return style.green(line);
      if (line.startsWith('-')) return style.red(line);
      return line;
    })
    .join('\n');
}
