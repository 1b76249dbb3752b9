/**
 * A subcommand with the CLI's error handling around it: a `UserError` is printed as is (credentials redacted) with
 * its exit code, anything else is described for the user with exit code 1.
 *
 * It lives beside each command rather than in main.ts because every command is its own bundle (scripts/build.mjs):
 * the `instanceof` checks here and in `errors*.ts` only recognise classes from the same bundle as the command that
 * threw.
 */
import { redactCredentials } from '../core/redact.js';
import { visibleText } from '../core/visible-text.js';
import { UserError, type Command } from './io.js';

/** `describe` words any other error: `describeError` (errors.ts), or `describeLocalError` for a command that needs no more. */
export function guard(command: Command, describe: (err: unknown) => string): Command {
  return async (argv, io) => {
    try {
      return await command(argv, io);
    } catch (err) {
      if (err instanceof UserError) {
        // A user's own input can be quoted back (a URL with `user:password@`): never a credential, even then. An
        // endpoint's words can be quoted too: shown through the one sanitiser, so they cannot rewrite the terminal.
        (err.exitCode === 0 ? io.stdout : io.stderr).write(`${visibleText(redactCredentials(err.message))}\n`);
        return err.exitCode;
      }
      io.stderr.write(`${visibleText(describe(err))}\n`);
      return 1;
    }
  };
}
