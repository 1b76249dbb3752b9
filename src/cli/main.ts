/**
 * `deputy`: the terminal client. One table of subcommands; each gets its arguments and the process's I/O.
 */
import type { Command, CliIO } from './io.js';
import { UserError } from './io.js';
import { auditCommand } from './audit.js';
import { environmentCommand } from './environment.js';
import { loginCommand } from './login.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { whoamiCommand } from './whoami.js';
import { DEPUTY_VERSION } from './version.js';
import { describeError } from './errors.js';
import { redactCredentials } from '../core/redact.js';
import { EXIT_CODES, handleTermination, type Termination } from './signals.js';
import { visibleText } from '../core/visible-text.js';

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: runCommand, summary: 'hand a task to a managed agent in this workspace, reviewing every change' },
  serve: { run: serveCommand, summary: 'run Deputy\'s runtime (an Agents API server) on loopback' },
  login: { run: loginCommand, summary: 'sign in to AWS IAM Identity Center for a profile' },
  whoami: { run: whoamiCommand, summary: 'show the AWS identity Deputy acts as' },
  audit: { run: auditCommand, summary: 'verify or export the audit trail (verify, export)' },
  environment: { run: environmentCommand, summary: 'serve this workspace as a Codex harness\'s execution environment (serve)' },
};

const USAGE = `Deputy ${DEPUTY_VERSION}: managed agents under your own identity, with you in charge.

Usage: deputy <command> [options]

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`)
  .join('\n')}

Run \`deputy <command> --help\` for a command's options.`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout.write(`${DEPUTY_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`Unknown command "${name}".\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UserError) {
      // A user's own input can be quoted back (a URL with `user:password@`): never a credential, even then. An
      // endpoint's words can be quoted too: shown through the one sanitiser, so they cannot rewrite the terminal.
      (err.exitCode === 0 ? io.stdout : io.stderr).write(`${visibleText(redactCredentials(err.message))}\n`);
      return err.exitCode;
    }
    io.stderr.write(`${visibleText(describeError(err))}\n`);
    return 1;
  }
}

if (require.main === module) {
  const termination = handleTermination(process);
  main(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: termination.signal,
  }).then(
    (code) => {
      // A task cancelled by SIGTERM ends with SIGTERM's code, not Ctrl-C's.
      const stoppedCode = termination.exitCode();
      finish(code === EXIT_CODES.SIGINT && stoppedCode !== undefined ? stoppedCode : code, termination);
    },
    (err) => {
      process.stderr.write(`${String(err)}\n`);
      finish(1, termination);
    },
  );
}

function finish(code: number, termination: Termination): void {
  termination.dispose();
  process.exitCode = code;
  // Close stdin so a pending prompt read does not hold the process open.
  process.stdin.destroy();
  // After a signal nothing may keep the process alive (a keep-alive socket, a timer of a library): the command has
  // closed what it owns, so end now.
  if (termination.received) process.exit(code);
}
