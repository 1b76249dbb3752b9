/**
 * Reads the person's answers. Two contracts (DESIGN.md §8):
 * - stdin is not a terminal (a script, a test): one answer per line, in order, whenever they were written; the line
 *   is echoed after its prompt so the transcript reads like a session. End of input is `null`, which every question
 *   treats as deny / reject.
 * - stdin is a terminal: only what is typed after a question is shown can answer it. A `y` typed early (while the
 *   agent was still working, or meant for the previous question) must not approve something its typist never saw.
 *   Between questions the terminal is left alone and not read, so early keystrokes wait in the terminal's own
 *   buffer; when a question opens, raw mode releases even a half-typed line, one full turn of the event loop reads
 *   all of it, and it is thrown away. Then the prompt is shown and line editing starts.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

type TtyInput = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export class LineReader {
  private readonly queue: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private ended = false;
  private readonly piped: Interface | null = null;
  private open: Interface | null = null;

  constructor(
    private readonly input: TtyInput,
    private readonly output: Writable,
  ) {
    if (this.terminal) return;
    this.piped = createInterface({ input, crlfDelay: Infinity, terminal: false });
    this.piped.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.queue.push(line);
    });
    this.piped.on('close', () => this.finish());
  }

  private get terminal(): boolean {
    return Boolean(this.input.isTTY && typeof this.input.setRawMode === 'function');
  }

  /**
   * Shows `prompt` and resolves to the answer line, or `null` at end of input (or after `close`), or when `signal`
   * aborts (the question was withdrawn: its deadline passed, its turn stopped); reading then stops for this question
   * only, and later questions are read as usual.
   */
  async ask(prompt: string, signal?: AbortSignal): Promise<string | null> {
    if (signal?.aborted) return null;
    if (!this.terminal) {
      this.output.write(prompt);
      const line = await this.next(signal);
      if (line !== null) this.output.write(`${line}\n`);
      return line;
    }
    if (this.ended) return null;
    await this.discardTypeAhead();
    if (this.ended || signal?.aborted) {
      this.input.setRawMode!(false);
      this.input.pause();
      return null;
    }
    return this.readTerminalLine(prompt, signal);
  }

  /** The next piped line (non-terminal input only); `null` when `signal` aborts first. */
  private next(signal?: AbortSignal): Promise<string | null> {
    const line = this.queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (l: string | null) => {
        signal?.removeEventListener('abort', withdrawn);
        resolve(l);
      };
      const withdrawn = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(null);
      };
      signal?.addEventListener('abort', withdrawn, { once: true });
      this.waiting.push(waiter);
    });
  }

  private async discardTypeAhead(): Promise<void> {
    const discard = () => undefined;
    this.input.setRawMode!(true);
    this.input.on('data', discard);
    this.input.resume();
    // Two check-phase turns: the stream starts reading on the next tick, and between the two turns the event loop
    // polls the terminal once, reading whatever was waiting in its buffer into `discard`.
    await nextTurn();
    await nextTurn();
    this.input.off('data', discard);
  }

  private readTerminalLine(prompt: string, signal?: AbortSignal): Promise<string | null> {
    return new Promise((resolve) => {
      const rl = createInterface({ input: this.input, output: this.output, terminal: true, historySize: 0, prompt });
      this.open = rl;
      let answered = false;
      let withdrawn = false;
      const withdraw = () => {
        withdrawn = true;
        rl.close();
      };
      signal?.addEventListener('abort', withdraw, { once: true });
      rl.once('line', (line) => {
        answered = true;
        rl.close();
        resolve(line);
      });
      // Raw mode turns Ctrl-C into a keystroke: pass it on as the signal it would have been, so the command's own
      // interrupt handling runs (cancel the turn; a second one quits).
      rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
      rl.once('close', () => {
        this.open = null;
        signal?.removeEventListener('abort', withdraw);
        if (withdrawn && !answered) {
          // The question is over, not the input: the terminal is left for the next one.
          this.output.write('\n');
          resolve(null);
          return;
        }
        if (!answered) {
          // Ctrl-D, the input ending, or `close()`: nothing more will be answered.
          this.output.write('\n');
          this.finish();
          resolve(null);
        }
      });
      rl.prompt();
    });
  }

  private finish(): void {
    this.ended = true;
    for (const w of this.waiting.splice(0)) w(null);
  }

  /** Ends reading: open and later questions get `null`. */
  close(): void {
    this.finish();
    this.piped?.close();
    this.open?.close();
  }
}
