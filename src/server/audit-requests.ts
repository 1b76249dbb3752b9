/**
 * `deputy.verifyAudit`, `deputy.exportAudit` and `deputy.report` run the CLI's own `deputy audit` / `deputy report`
 * commands in-process, so the editor and the terminal check, export and report a trail with one implementation and
 * say the same thing about it.
 */
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { auditCommand } from '../cli/audit.js';
import { UserError } from '../cli/io.js';
import { reportCommand } from '../cli/report.js';
import type { Command } from '../cli/io.js';
import type { ExportAudit, Report, VerifyAudit } from '../protocol/lsp.js';

export async function verifyAuditRequest(p: VerifyAudit.Params): Promise<VerifyAudit.Result> {
  return run(['verify'], p.folderUri);
}

export async function exportAuditRequest(p: ExportAudit.Params): Promise<ExportAudit.Result> {
  return run(['export', '--format', p.format, '--out', p.out, '--force'], p.folderUri);
}

export async function reportRequest(p: Report.Params): Promise<Report.Result> {
  const folders = p.folderUris.map(toPath);
  if (folders.length === 0) return { ok: false, message: 'Open a folder first: the report reads its audit trail.' };
  return run(['--html', p.out, ...(p.since ? ['--since', p.since] : []), ...folders], p.folderUris[0]!, reportCommand);
}

function toPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

async function run(argv: string[], folderUri: string, command: Command = auditCommand): Promise<{ ok: boolean; message: string }> {
  const out: Buffer[] = [];
  const sink = () => {
    const s = new PassThrough();
    s.on('data', (d: Buffer) => out.push(d));
    return s;
  };
  const cwd = toPath(folderUri);
  try {
    const code = await command(argv, { stdin: Readable.from([]), stdout: sink(), stderr: sink(), env: {}, cwd });
    return { ok: code === 0, message: Buffer.concat(out).toString('utf8').trim() };
  } catch (err) {
    return { ok: false, message: err instanceof UserError ? err.message : `The audit command failed: ${String(err)}` };
  }
}
