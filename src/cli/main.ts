/**
 * `deputy`: the terminal client. One table of subcommands; each gets its arguments and the process's I/O.
 *
 * A command's code is loaded only when that command runs: `deputy --help` must not pay for the AWS SDK, the
 * `openai` client and SQLite. The build (scripts/build.mjs) points each `require('./entry/<command>.js')` below at
 * that command's own bundle beside dist/cli.js (dist/cli-<command>.js), so keep these requires literal and this
 * file's static imports light.
 */
import type { Command, CliIO } from './io.js';
import { DEPUTY_VERSION } from './version.js';
import { EXIT_CODES, handleTermination, type Termination } from './signals.js';
import { visibleText } from '../core/visible-text.js';

const COMMANDS: Record<string, { load: () => Command; summary: string }> = {
  run: { load: () => (require('./entry/run.js') as typeof import('./entry/run.js')).command, summary: 'hand a task to a managed agent in this workspace, reviewing every change' },
  serve: { load: () => (require('./entry/serve.js') as typeof import('./entry/serve.js')).command, summary: 'run Deputy\'s runtime (an Agents API server) on loopback' },
  login: { load: () => (require('./entry/login.js') as typeof import('./entry/login.js')).command, summary: 'sign in to AWS IAM Identity Center for a profile' },
  whoami: { load: () => (require('./entry/whoami.js') as typeof import('./entry/whoami.js')).command, summary: 'show the AWS identity Deputy acts as' },
  audit: { load: () => (require('./entry/audit.js') as typeof import('./entry/audit.js')).command, summary: 'verify or export the audit trail (verify, export)' },
  revert: { load: () => (require('./entry/revert.js') as typeof import('./entry/revert.js')).command, summary: "put back the files a task's approved changes wrote" },
  stop: {
    load: () => (require('./entry/stop.js') as typeof import('./entry/stop.js')).command,
    summary: 'stop every running Deputy session of yours on this machine (--all)',
  },
  report: {
    load: () => (require('./entry/report.js') as typeof import('./entry/report.js')).command,
    summary: 'what agents did, under whose name, at what cost: HTML, JSON or a summary',
  },
  policy: { load: () => (require('./entry/policy.js') as typeof import('./entry/policy.js')).command, summary: 'check, explain and grant policy (check, explain, grants, schema)' },
  environment: {
    load: () => (require('./entry/environment.js') as typeof import('./entry/environment.js')).command,
    summary: 'serve this workspace as a Codex harness\'s execution environment (serve)',
  },
};

const USAGE = `Deputy ${DEPUTY_VERSION}: managed agents under your own identity, with you in charge.

Usage: deputy <command> [options]

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
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
  // The command's own bundle handles its errors (entry/*.ts); what reaches here is a failure to load it at all.
  try {
    return await command.load()(rest, io);
  } catch (err) {
    io.stderr.write(`${visibleText(`Deputy could not run "${name}": ${err instanceof Error ? err.message : String(err)}`)}\n`);
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
