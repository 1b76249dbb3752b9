/**
 * `deputy.verifyAudit` and `deputy.exportAudit` run the CLI's own `deputy audit` command in-process, so the editor and
 * the terminal check and export a trail with one implementation and say the same thing about it.
 */
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { auditCommand } from '../cli/audit.js';
import { UserError } from '../cli/io.js';
import type { ExportAudit, VerifyAudit } from '../protocol/lsp.js';

export async function verifyAuditRequest(p: VerifyAudit.Params): Promise<VerifyAudit.Result> {
  return run(['verify'], p.folderUri);
}

export async function exportAuditRequest(p: ExportAudit.Params): Promise<ExportAudit.Result> {
  return run(['export', '--format', p.format, '--out', p.out, '--force'], p.folderUri);
}

async function run(argv: string[], folderUri: string): Promise<{ ok: boolean; message: string }> {
  const out: Buffer[] = [];
  const sink = () => {
    const s = new PassThrough();
    s.on('data', (d: Buffer) => out.push(d));
    return s;
  };
  const cwd = folderUri.startsWith('file:') ? fileURLToPath(folderUri) : folderUri;
  try {
    const code = await auditCommand(argv, { stdin: Readable.from([]), stdout: sink(), stderr: sink(), env: {}, cwd });
    return { ok: code === 0, message: Buffer.concat(out).toString('utf8').trim() };
  } catch (err) {
    return { ok: false, message: err instanceof UserError ? err.message : `The audit command failed: ${String(err)}` };
  }
}
