/**
 * `deputy audit`: check the workspace's audit chain, or export it (as the chain itself, or as OTLP traces).
 */
import { createPublicKey } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAuditFile } from '../core/audit.js';
import { toOtlp } from '../core/audit-otlp.js';
import { AuditLogMissingError, readAuditLines, verifyAudit, type VerifyOptions, type VerifyResult } from '../core/audit-verify.js';
import { generateSigningKey, type AuditSigner } from '../core/audit-digest.js';
import { readPublicKey } from './public-key.js';
import { displayUrl } from '../core/redact.js';
import { AUDIT_KEY_FILE_ENV, AUDIT_KMS_KEY_ENV } from '../identity/audit-signer-env.js';
import { headPathFor, type AuditRecord } from '../core/audit-record.js';
import { UserError, type CliIO, type Command } from './io.js';
import { DEPUTY_VERSION } from './version.js';

const USAGE = `Usage:
  deputy audit verify [--public-key KEY]... [--require-signed] [FILE]
  deputy audit export [--format jsonl|otlp] [--out FILE | --otlp-endpoint URL [--header NAME=VALUE]...] [--force] [FILE]
  deputy audit keygen --out KEYFILE
  deputy audit public-key [--out FILE]

Commands:
  verify       Check that no record of the audit chain was altered, removed, inserted or reordered, and that
               nothing was cut off its end. With --public-key, also check every signed digest: a rewritten
               tail or a replaced chain fails. Exit 0 when intact, 1 naming the first bad record.
  export       Write the chain out: jsonl (the records as stored, still verifiable) or otlp (OpenTelemetry
               traces as OTLP/JSON, one trace per task), to a file, standard output, or an OpenTelemetry
               collector over OTLP/HTTP. Refuses a chain that fails verification unless --force.
  keygen       Create an Ed25519 signing key for audit digests: the private key goes to KEYFILE (mode 600;
               keep it outside the repository and point ${AUDIT_KEY_FILE_ENV} at it), the public key
               (for auditors) to standard output.
  public-key   Print the public key of the configured signing key (${AUDIT_KEY_FILE_ENV} or
               ${AUDIT_KMS_KEY_ENV}) as PEM, for \`verify --public-key\`.

Options:
  --public-key KEY       An Ed25519 public key (PEM, or the DER KMS returns) the digests must verify with.
                         Repeat for a rotated key.
  --require-signed       Also fail when records after the newest digest are not signed yet.
  --format jsonl|otlp    Export format (default jsonl; otlp with --otlp-endpoint).
  --out FILE             Write to FILE instead of standard output.
  --otlp-endpoint URL    Send the traces to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318; /v1/traces
                         is added when the URL has no path).
  --header NAME=VALUE    A header for the collector (e.g. an API key). Repeatable.
  --force                Export what can be read even if the chain fails verification.
  -h, --help             Show this help.

FILE defaults to .deputy/audit/audit.jsonl in the current directory.`;

export const auditCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub === 'verify') return verify(rest, io);
  if (sub === 'export') return exportChain(rest, io);
  if (sub === 'keygen') return keygen(rest, io);
  if (sub === 'public-key') return publicKey(rest, io);
  io.stderr.write(`${sub ? `Unknown audit command "${sub}".` : 'Missing audit command.'}\n\n${USAGE}\n`);
  return 2;
};

async function verify(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, io, { 'public-key': { type: 'string', multiple: true }, 'require-signed': { type: 'boolean' } });
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.positionals.length > 1) return usageError(io, 'verify takes at most one FILE.');
  const file = resolveFile(args.positionals[0], io);
  const keyFiles = (args.values['public-key'] as string[] | undefined) ?? [];
  if (args.values['require-signed'] && keyFiles.length === 0) return usageError(io, '--require-signed needs --public-key.');
  const publicKeys = await Promise.all(keyFiles.map((f) => readPublicKey(path.resolve(io.cwd, f))));
  const result = await check(file, { publicKeys, requireSigned: args.values['require-signed'] === true });
  if (result.ok) {
    io.stdout.write(`intact: ${result.records} record${result.records === 1 ? '' : 's'}\n`);
    const sig = result.signatures;
    if (sig && sig.digests > 0) {
      io.stdout.write(
        `signed: ${sig.digests} digest${sig.digests === 1 ? '' : 's'} verified with ${sig.keyIds.join(', ')}, covering records 1–${sig.signedThrough}\n`,
      );
      if (sig.unsigned) {
        io.stdout.write(
          `note: records ${sig.unsigned.from}–${sig.unsigned.to} come after the newest digest and are not signed yet ` +
            '(the next digest, at the end of the task at the latest, will sign them)\n',
        );
      }
    }
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
    'otlp-endpoint': { type: 'string' },
    header: { type: 'string', multiple: true },
  });
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const endpoint = args.values['otlp-endpoint'] as string | undefined;
  const format = (args.values.format as string | undefined) ?? (endpoint ? 'otlp' : 'jsonl');
  if (endpoint !== undefined && format !== 'otlp') return usageError(io, '--otlp-endpoint sends OTLP traces: leave out --format or use --format otlp.');
  if (endpoint !== undefined && args.values.out !== undefined) return usageError(io, '--otlp-endpoint and --out cannot be used together.');
  const headers = parseHeaders((args.values.header as string[] | undefined) ?? []);
  if (headers === null) return usageError(io, '--header takes NAME=VALUE.');
  if (Object.keys(headers).length > 0 && endpoint === undefined) return usageError(io, '--header is for --otlp-endpoint.');
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
  if (endpoint !== undefined) {
    const url = tracesUrl(endpoint);
    let sent: number;
    // Loaded only here: OpenTelemetry's exporter is most of this command's code and verify never needs it.
    // The build points this literal require at its own bundle (scripts/build.mjs, LAZY_SHARED).
    const { sendOtlp } = require('../core/audit-otlp-send.js') as typeof import('../core/audit-otlp-send.js');
    try {
      sent = await sendOtlp(toOtlp(lines.map((line) => line.record), { version: DEPUTY_VERSION }), { url, headers });
    } catch (err) {
      throw new UserError(`The collector at ${displayUrl(url)} did not take the traces: ${(err as Error).message}`);
    }
    io.stderr.write(`sent ${sent} span${sent === 1 ? '' : 's'} (${lines.length} records) to ${displayUrl(url)}\n`);
    return 0;
  }
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

async function keygen(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, io, { out: { type: 'string' } });
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const outArg = args.values.out as string | undefined;
  if (outArg === undefined || args.positionals.length > 0) return usageError(io, 'keygen needs --out KEYFILE (and nothing else).');
  const out = path.resolve(io.cwd, outArg);
  const key = generateSigningKey();
  try {
    await fs.writeFile(out, key.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`${out} already exists; Deputy never overwrites a key.`);
    throw err;
  }
  io.stderr.write(`private key written to ${out} (${key.keyId}); set ${AUDIT_KEY_FILE_ENV}=${out} to sign the audit trail\n`);
  io.stdout.write(key.publicKeyPem);
  return 0;
}

async function publicKey(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, io, { out: { type: 'string' } });
  if (args === null) return 2;
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { resolveAuditSigner } = await import('../identity/audit-signer.js');
  const signer = await resolveAuditSigner(io.env);
  if (!signer) throw new UserError(`No audit signing key is configured: set ${AUDIT_KEY_FILE_ENV} or ${AUDIT_KMS_KEY_ENV}.`);
  const pem = publicKeyPem(signer, io.env);
  const outArg = args.values.out as string | undefined;
  if (outArg === undefined) io.stdout.write(pem);
  else await fs.writeFile(path.resolve(io.cwd, outArg), pem);
  return 0;
}

/** The signer's public key as PEM: from KMS's DER, or derived from the key file. */
function publicKeyPem(signer: AuditSigner, env: NodeJS.ProcessEnv): string {
  if ('publicKeyDer' in signer) {
    return createPublicKey({ key: signer.publicKeyDer as Buffer, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
  }
  return createPublicKey(readFileSync(env[AUDIT_KEY_FILE_ENV]!, 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
}

function parseHeaders(list: string[]): Record<string, string> | null {
  const headers: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) return null;
    headers[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return headers;
}

/** A bare collector address gets the standard traces path. */
function tracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UserError(`--otlp-endpoint ${endpoint} is not a URL.`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError('--otlp-endpoint must be an http:// or https:// URL.', 2);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

type ParsedArgs = { values: Record<string, string | string[] | boolean | undefined>; positionals: string[]; help: boolean };

function parse(argv: string[], io: CliIO, options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>): ParsedArgs | null {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
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

async function check(file: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    return await verifyAudit(file, options);
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
