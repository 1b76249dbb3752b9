/**
 * `deputy audit`: check the workspace's audit chain, or export it (as the chain itself, or as OTLP traces).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAuditFile } from '../core/audit.js';
import { toOtlp } from '../core/audit-otlp.js';
import { AuditLogMissingError, readAuditLines, verifyAudit, type VerifyResult } from '../core/audit-verify.js';
import { headPathFor, type AuditRecord } from '../core/audit-record.js';
import { UserError, type CliIO, type Command } from './io.js';
import { DEPUTY_VERSION } from './version.js';

const USAGE = `Usage:
  deputy audit verify [FILE]
  deputy audit export [--format jsonl|otlp] [--out FILE] [--force] [FILE]

Commands:
  verify   Check that no record of the audit chain was altered, removed, inserted or reordered, and that
           nothing was cut off its end. Exit 0 when intact, 1 naming the first bad record.
  export   Write the chain out: jsonl (the records as stored, still verifiable) or otlp (OpenTelemetry
           traces as OTLP/JSON, one trace per task). Refuses a chain that fails verification unless --force.

Options:
  --format jsonl|otlp   Export format (default jsonl).
  --out FILE            Write to FILE instead of standard output.
  --force               Export what can be read even if the chain fails verification.
  -h, --help            Show this help.

FILE defaults to .deputy/audit/audit.jsonl in the current directory.`;

export const auditCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub === 'verify') return verify(rest, io);
  if (sub === 'export') return exportChain(rest, io);
  io.stderr.write(`${sub ? `Unknown audit command "${sub}".` : 'Missing audit command.'}\n\n${USAGE}\n`);
  return 2;
};

async function verify(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, io, {});
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.positionals.length > 1) return usageError(io, 'verify takes at most one FILE.');
  const file = resolveFile(args.positionals[0], io);
  const result = await check(file);
  if (result.ok) {
    io.stdout.write(`intact: ${result.records} record${result.records === 1 ? '' : 's'}\n`);
    if (!result.tailChecked) {
      io.stdout.write(`note: no ${path.basename(headPathFor(file))} beside ${file}, so records cut off its end would not show\n`);
    }
    if (result.interrupted) {
      const { from, to } = result.interrupted;
      io.stdout.write(
        `note: an append of ${from === to ? `record ${from}` : `records ${from}–${to}`} was cut short by a crash; ` +
          "the head recorded what it was writing, and Deputy's next append completes it\n",
      );
    }
    return 0;
  }
  io.stdout.write(`${describeFailure(file, result)}\n`);
  return 1;
}

async function exportChain(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, io, {
    format: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format = (args.values.format as string | undefined) ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'otlp') return usageError(io, `Unknown export format "${format}" (use jsonl or otlp).`);
  if (args.positionals.length > 1) return usageError(io, 'export takes at most one FILE.');
  const file = resolveFile(args.positionals[0], io);
  const outArg = args.values.out as string | undefined;
  const out = outArg === undefined ? undefined : path.resolve(io.cwd, outArg);
  if (out !== undefined && out === file) throw new UserError(`--out ${outArg} is the audit log itself; choose another file.`);

  const result = await check(file);
  if (!result.ok) {
    if (!args.values.force) {
      throw new UserError(`${describeFailure(file, result)}\nNothing was exported. Run again with --force to export what can be read.`);
    }
    io.stderr.write(`warning: ${describeFailure(file, result)}; exporting anyway (--force)\n`);
  }
  const lines = (await readAuditLines(file)).filter((line): line is typeof line & { record: AuditRecord } => 'record' in line);
  const text =
    format === 'jsonl'
      ? lines.map((line) => `${line.text}\n`).join('')
      : `${JSON.stringify(toOtlp(lines.map((line) => line.record), { version: DEPUTY_VERSION }))}\n`;
  if (out === undefined) {
    io.stdout.write(text);
  } else {
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(out, text, { mode: 0o600 });
    io.stderr.write(`exported ${lines.length} record${lines.length === 1 ? '' : 's'} as ${format} to ${out}\n`);
  }
  return 0;
}

type ParsedArgs = { values: Record<string, string | boolean | undefined>; positionals: string[]; help: boolean };

function parse(argv: string[], io: CliIO, options: Record<string, { type: 'string' | 'boolean' }>): ParsedArgs | null {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    return { values, positionals: parsed.positionals, help: values.help === true };
  } catch (err) {
    usageError(io, (err as Error).message);
    return null;
  }
}

function usageError(io: CliIO, message: string): number {
  io.stderr.write(`${message}\n\n${USAGE}\n`);
  return 2;
}

function resolveFile(arg: string | undefined, io: CliIO): string {
  return arg === undefined ? defaultAuditFile(io.cwd) : path.resolve(io.cwd, arg);
}

async function check(file: string): Promise<VerifyResult> {
  try {
    return await verifyAudit(file);
  } catch (err) {
    if (err instanceof AuditLogMissingError) {
      throw new UserError(`There is no audit log at ${file}: nothing has been recorded there yet (or give the log's path).`);
    }
    throw err;
  }
}

function describeFailure(file: string, result: Extract<VerifyResult, { ok: false }>): string {
  return `${path.basename(file)}: record ${result.badIndex} (line ${result.badIndex}) ${result.reason}`;
}
