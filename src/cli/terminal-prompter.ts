/**
 * Answers the engine's questions on the terminal, or from stdin one line per question when it is piped
 * (DESIGN.md §8): permissions take y/yes/allow or n/no/deny, three unclear answers deny; a file takes
 * a/approve, r/reject or `c <comment>`; end of input denies / rejects everything still open. On a terminal only
 * what is typed after a question is shown answers it (`lines.ts`).
 *
 * Everything the agent chose is shown through the sanitiser; its free text (summary, rationale) is quoted behind a
 * gutter so it can never pass for a diff line or for Deputy's own words (`terminal-text.ts`).
 */
import type {
  AskOptions,
  FileReviewAnswer,
  FileReviewQuestion,
  PermissionAnswer,
  PermissionQuestion,
  Prompter,
} from '../core/prompter.js';
import type { CliIO } from './io.js';
import type { LineReader } from './lines.js';
import { colorDiff, type Style } from './style.js';
import { clean, cleanLine, fitDiff, quoteAgent } from './terminal-text.js';

const MAX_TRIES = 3;

export class TerminalPrompter implements Prompter {
  constructor(
    private readonly io: CliIO,
    private readonly lines: LineReader,
    private readonly style: Style,
  ) {}

  async askPermission(q: PermissionQuestion, options?: AskOptions): Promise<PermissionAnswer> {
    const { style } = this;
    this.write(`\n${style.yellow('?')} ${style.bold(`The agent wants to ${cleanLine(q.summary)}`)} ${style.dim(`(${cleanLine(q.reason)})`)}\n`);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const line = await this.lines.ask(`  Allow? [y]es / [n]o / [t]his task / [w]orkspace: `, options?.signal);
      // Withdrawn: the engine already counts it as a deny and says why.
      if (options?.signal.aborted) return { binding: q.binding, allow: false };
      if (line === null) {
        this.write(style.dim('(end of input: denied)\n'));
        return { binding: q.binding, allow: false };
      }
      const answer = line.trim().toLowerCase();
      if (['y', 'yes', 'allow'].includes(answer)) return { binding: q.binding, allow: true };
      if (['n', 'no', 'deny'].includes(answer)) return { binding: q.binding, allow: false };
      if (['t', 'task'].includes(answer)) return { binding: q.binding, allow: true, scope: 'task' };
      if (['w', 'workspace'].includes(answer)) return { binding: q.binding, allow: true, scope: 'workspace' };
      this.write(`  Please answer y, n, t or w${attempt === MAX_TRIES ? '' : ` (${MAX_TRIES - attempt} more)`}.\n`);
    }
    this.write(style.dim('  No clear answer: denied.\n'));
    return { binding: q.binding, allow: false };
  }

  async reviewFile(q: FileReviewQuestion, options?: AskOptions): Promise<FileReviewAnswer> {
    const { style } = this;
    const f = q.file;
    const columns = this.columns;
    if (q.index === 1 && q.summary) {
      this.write(`\n${style.bold('Proposed change')}\n${quoteAgent('agent says (summary):', q.summary, style, columns)}\n`);
    }
    this.write(
      `\n${style.bold(`[${q.index}/${q.total}] ${f.operation} ${cleanLine(f.path)}`)} ` +
        `${style.green(`+${f.stats.added}`)} ${style.red(`-${f.stats.removed}`)}\n`,
    );
    if (q.realPath) this.write(`${style.yellow(`  ${cleanLine(f.path)} is a link: this writes ${cleanLine(q.realPath)}`)}\n`);
    if (f.rationale) this.write(`${quoteAgent('agent says (why):', f.rationale, style, columns)}\n`);
    this.write(`${colorDiff(fitDiff(clean(f.displayDiff).replace(/\n$/, ''), columns), style)}\n`);
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const line = await this.lines.ask(`  [a]pprove / [r]eject / c <comment> (reject with a comment): `, options?.signal);
      if (options?.signal.aborted) return { binding: q.binding, verdict: 'reject' };
      if (line === null) {
        this.write(style.dim('(end of input: rejected)\n'));
        return { binding: q.binding, verdict: 'reject' };
      }
      const trimmed = line.trim();
      const lower = trimmed.toLowerCase();
      if (lower === 'a' || lower === 'approve') return { binding: q.binding, verdict: 'approve' };
      if (lower === 'r' || lower === 'reject') {
        this.write(`  ${style.yellow(`✗ rejected ${cleanLine(f.path)}`)}\n`);
        return { binding: q.binding, verdict: 'reject' };
      }
      const m = /^(?:c|comment)\s+(.+)$/is.exec(trimmed);
      if (m) {
        this.write(`  ${style.yellow(`✗ rejected ${cleanLine(f.path)}; your comment goes to the agent`)}\n`);
        return { binding: q.binding, verdict: 'reject', comment: m[1]!.trim() };
      }
      this.write(`  Please answer a, r, or c followed by your comment.\n`);
    }
    this.write(style.dim('  No clear answer: rejected.\n'));
    return { binding: q.binding, verdict: 'reject' };
  }

  /** The terminal's width, when output goes to one: agent text and diff lines are broken before its edge. */
  private get columns(): number | undefined {
    return this.io.stdout.isTTY ? this.io.stdout.columns : undefined;
  }

  private write(s: string): void {
    this.io.stdout.write(s);
  }
}
