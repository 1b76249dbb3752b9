/**
 * `deputy report`: what agents did under whose name, from the audit trails — as a self-contained HTML file for a
 * security review, as JSON for other tools, or as a short summary in the terminal.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLogMissingError } from '../core/audit-verify.js';
import { visibleLine } from '../core/visible-text.js';
import { reportHtml } from '../report/html.js';
import { buildReport, type Report } from '../report/model.js';
import { readTrail, trailFile } from '../report/read.js';
import { UserError, type CliIO, type Command } from './io.js';
import { readPublicKey } from './public-key.js';

const USAGE = `Usage: deputy report [--since DATE] [--html FILE] [--json FILE] [--public-key KEY]... [PATH...]

From the audit trails of the workspaces (or trail files) given — the current folder by default — report per
session who asked, which agent, endpoint and model, what the policy let it access, what it did (tool calls,
commands, files changed and who approved each), what it was doing when the trail ends, its cost over time and its
failures; and across sessions spend by person and endpoint, denials by policy and changes by repository. Each
trail is verified first; a broken one contributes only the records before the break, and the report says so.
A folder without a trail is left out, and the report says which. Each trail's signatures are reported: verified,
broken, unsigned, or not checked (give --public-key).

Options:
  --since DATE   Only sessions that started at or after DATE (ISO 8601, e.g. 2026-11-01 or 2026-11-30T09:00Z).
  --html FILE    Write the report as one self-contained HTML file (no scripts, nothing from the network; prints well).
  --json FILE    Write the report as JSON.
  --public-key KEY  An Ed25519 public key (PEM, or the DER KMS returns) the trails' signed digests must verify with;
                 repeat for a rotated key. A signature that fails is a break: the trail counts up to it.
  -h, --help     Show this help.

Without --html or --json, a summary is printed.`;

export const reportCommand: Command = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { since: { type: 'string' }, html: { type: 'string' }, json: { type: 'string' }, 'public-key': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let since: Date | undefined;
  if (v.since !== undefined) {
    since = new Date(v.since);
    if (Number.isNaN(since.getTime())) throw new UserError(`--since ${v.since} is not a date (use ISO 8601, e.g. 2026-11-01).`, 2);
  }
  const publicKeys = await Promise.all((v['public-key'] ?? []).map((f) => readPublicKey(path.resolve(io.cwd, f))));
  const targets = parsed.positionals.length > 0 ? parsed.positionals : ['.'];
  const trails = [];
  const skipped: Array<{ path: string; why: string }> = [];
  for (const target of targets) {
    const file = await trailFile(path.resolve(io.cwd, target)).catch((err: Error) => {
      throw new UserError(err.message);
    });
    try {
      trails.push(await readTrail(file, { publicKeys }));
    } catch (err) {
      if (!(err instanceof AuditLogMissingError)) throw err;
      // One folder of a multi-root workspace where no agent ran yet: the others still make a report.
      skipped.push({ path: path.resolve(io.cwd, target), why: 'no audit trail: nothing has been recorded there yet' });
      io.stderr.write(`skipped ${visibleLine(path.resolve(io.cwd, target))}: there is no audit trail at ${visibleLine(file)}\n`);
    }
  }
  if (trails.length === 0) throw new UserError(`There is no audit trail in ${skipped.map((s) => s.path).join(', ')}: nothing has been recorded there yet.`);
  const report = buildReport(trails, { ...(since ? { since } : {}), skipped });
  for (const t of report.trails) if (!t.ok) io.stderr.write(`warning: ${visibleLine(t.file)}: ${visibleLine(t.integrity)}; the report covers the records before it\n`);
  for (const t of report.trails) {
    if (t.signature.state === 'broken') io.stderr.write(`warning: ${visibleLine(t.file)}: signatures broken: ${visibleLine(t.signature.detail)}; the report covers the records before it\n`);
  }
  if (v.html !== undefined) await write(path.resolve(io.cwd, v.html), reportHtml(report), io);
  if (v.json !== undefined) await write(path.resolve(io.cwd, v.json), `${JSON.stringify(report, null, 2)}\n`, io);
  if (v.html === undefined && v.json === undefined) io.stdout.write(summary(report));
  return 0;
};

async function write(file: string, text: string, io: CliIO): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text, { mode: 0o600 });
  io.stderr.write(`wrote ${file}\n`);
}

function summary(report: Report): string {
  const lines = [`${report.sessions.length} session${report.sessions.length === 1 ? '' : 's'}${report.since ? ` since ${report.since}` : ''}`];

  for (const s of report.sessions) {
    const applied = s.changes.filter((c) => c.status === 'applied').length;
    lines.push(
      `  ${s.started.slice(0, 16).replace('T', ' ')}  ${s.status.padEnd(9)} ${visibleLine(s.principal)}  ${visibleLine(s.model ?? s.provider ?? '?')}  ` +
        `${s.tools.length} tool call${s.tools.length === 1 ? '' : 's'}, ${applied} file${applied === 1 ? '' : 's'} changed, $${s.costUsd.toFixed(4)}`,
    );
  }
  if (report.totals.denialsByRule.length > 0) {
    lines.push('Denials:');
    for (const d of report.totals.denialsByRule) lines.push(`  ${d.count} × ${visibleLine(d.rule)}`);
  }
  lines.push('Trails:');
  for (const t of report.trails) lines.push(`  ${visibleLine(t.file)}: ${t.ok ? 'chain verified' : 'chain broken'}; signatures ${t.signature.state}: ${visibleLine(t.signature.detail)}`);
  for (const s of report.skipped) lines.push(`  skipped ${visibleLine(s.path)}: ${s.why}`);
  return `${lines.join('\n')}\n`;
}
