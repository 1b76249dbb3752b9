/**
 * Answers the engine's questions on the terminal, or from stdin one line per question when it is piped
 * (DESIGN.md §7): permissions take y/yes/allow or n/no/deny, three unclear answers deny; a file takes
 * a/approve, r/reject or `c <comment>`; end of input denies / rejects everything still open.
 */
import type {
  FileReviewAnswer,
  FileReviewQuestion,
  PermissionAnswer,
  PermissionQuestion,
  Prompter,
} from '../core/prompter.js';
import type { CliIO } from './io.js';
import type { LineReader } from './lines.js';
import { colorDiff, type Style } from './style.js';
import { clean } from './terminal-text.js';

const MAX_TRIES = 3;

export class TerminalPrompter implements Prompter {
  constructor(
    private readonly io: CliIO,
    private readonly lines: LineReader,
    private readonly style: Style,
  ) {}

  async askPermission(q: PermissionQuestion): Promise<PermissionAnswer> {
    const { style } = this;
    this.write(`\n${style.yellow('?')} ${style.bold(`The agent wants to ${clean(q.summary)}`)} ${style.dim(`(${clean(q.reason)})`)}\n`);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      this.write(`  Allow? [y]es / [n]o: `);
      const line = await this.lines.next();
      if (line === null) {
        this.write(style.dim('(end of input: denied)\n'));
        return { binding: q.binding, allow: false };
      }
      if (!this.io.stdin.isTTY) this.write(`${line}\n`);
      const answer = line.trim().toLowerCase();
      if (['y', 'yes', 'allow'].includes(answer)) return { binding: q.binding, allow: true };
      if (['n', 'no', 'deny'].includes(answer)) return { binding: q.binding, allow: false };
      this.write(`  Please answer y or n${attempt === MAX_TRIES ? '' : ` (${MAX_TRIES - attempt} more)`}.\n`);
    }
    this.write(style.dim('  No clear answer: denied.\n'));
    return { binding: q.binding, allow: false };
  }

  async reviewFile(q: FileReviewQuestion): Promise<FileReviewAnswer> {
    const { style } = this;
    const f = q.file;
    if (q.index === 1 && q.summary) this.write(`\n${style.bold('Proposed change:')} ${clean(q.summary)}\n`);
    this.write(
      `\n${style.bold(`[${q.index}/${q.total}] ${f.operation} ${clean(f.path)}`)} ` +
        `${style.green(`+${f.stats.added}`)} ${style.red(`-${f.stats.removed}`)}\n`,
    );
    if (q.realPath) this.write(`${style.yellow(`  ${clean(f.path)} is a link: this writes ${clean(q.realPath)}`)}\n`);
    if (f.rationale) this.write(`${style.dim(clean(f.rationale))}\n`);
    this.write(`${colorDiff(clean(f.displayDiff).replace(/\n$/, ''), style)}\n`);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      this.write(`  [a]pprove / [r]eject / c <comment> (reject with a comment): `);
      const line = await this.lines.next();
      if (line === null) {
        this.write(style.dim('(end of input: rejected)\n'));
        return { binding: q.binding, verdict: 'reject' };
      }
      if (!this.io.stdin.isTTY) this.write(`${line}\n`);
      const trimmed = line.trim();
      const lower = trimmed.toLowerCase();
      if (lower === 'a' || lower === 'approve') return { binding: q.binding, verdict: 'approve' };
      if (lower === 'r' || lower === 'reject') {
        this.write(`  ${style.yellow(`✗ rejected ${clean(f.path)}`)}\n`);
        return { binding: q.binding, verdict: 'reject' };
      }
      const m = /^(?:c|comment)\s+(.+)$/is.exec(trimmed);
      if (m) {
        this.write(`  ${style.yellow(`✗ rejected ${clean(f.path)}; your comment goes to the agent`)}\n`);
        return { binding: q.binding, verdict: 'reject', comment: m[1]!.trim() };
      }
      this.write(`  Please answer a, r, or c followed by your comment.\n`);
    }
    this.write(style.dim('  No clear answer: rejected.\n'));
    return { binding: q.binding, verdict: 'reject' };
  }

  private write(s: string): void {
    this.io.stdout.write(s);
  }
}
