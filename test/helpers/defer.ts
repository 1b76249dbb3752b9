/**
 * Clean-ups that run last-in first-out, every one whatever the others did. node:test runs a test's `t.after` hooks
 * first-in first-out and skips the rest after one fails: a folder removed while a process still wrote in it
 * (ENOTEMPTY) left that process, a server and the test file running (a full run caught `e2e/stop-all` so).
 * Registered first, so that what was started last is stopped first and folders go after the processes using them.
 */
export function deferrals(t: { after(fn: () => Promise<void>): void }): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (fn) => void stack.push(fn);
}
