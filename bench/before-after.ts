/**
 * `node --import tsx bench/before-after.ts <other-checkout> [verify|append|apply]...`: this checkout's audit
 * verify, audit append and changeset apply against another checkout's (say, `main` before a change), by the same
 * method as `npm run bench` (alternating rounds, median of per-round ratios with min and max). Prints only; it is
 * how a claim like "verify is 1.5× faster than before" is checked on one machine. The other checkout needs its
 * dependencies installed (`npm ci`, or a `node_modules` symlink).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../src/core/audit.js';
import type { ChangeResult, ProposedChange } from '../src/protocol/tools.js';
import { entry, writeLargeChain } from './audit.js';
import { compare, envInt, type Side } from './measure.js';
import { formatRatio, formatRatioRange } from './report.js';

interface Checkout {
  label: string;
  audit: {
    AuditLog: { open(root: string): Promise<{ append(e: AuditEntry): Promise<unknown>; close(): Promise<void> }> };
    verifyAudit(file: string): Promise<{ ok: boolean; records: number }>;
  };
  changeset: {
    prepareChangeset(ws: unknown, proposal: unknown, ledger: Map<string, string>, limits: unknown): Promise<unknown[]>;
    applyPreparedFile(ws: unknown, file: unknown): Promise<ChangeResult>;
    applyPreparedFiles?(ws: unknown, files: unknown[]): Promise<ChangeResult[]>;
  };
  Workspace: { open(root: string): Promise<unknown> };
}

function load(root: string, label: string): Checkout {
  const from = (rel: string) => require(path.join(root, rel)) as Record<string, unknown>;
  return {
    label,
    audit: from('src/core/audit.ts') as unknown as Checkout['audit'],
    changeset: from('src/core/changeset/index.ts') as unknown as Checkout['changeset'],
    Workspace: (from('src/core/workspace.ts') as { Workspace: Checkout['Workspace'] }).Workspace,
  };
}

const tmp = (prefix: string) => fs.mkdtemp(path.join(os.tmpdir(), prefix));
const rm = (dir: string) => fs.rm(dir, { recursive: true, force: true });

function verifySide(c: Checkout, file: string, count: number): Side<string> {
  return {
    label: c.label,
    setup: async () => file,
    run: async (f) => {
      const r = await c.audit.verifyAudit(f);
      if (!r.ok || r.records !== count) throw new Error(`${c.label} did not accept the chain`);
      return r.records;
    },
  };
}

function appendSide(c: Checkout, count: number): Side<string> {
  return {
    label: c.label,
    setup: () => tmp('deputy-ba-append-'),
    run: async (root) => {
      const log = await c.audit.AuditLog.open(root);
      for (let i = 0; i < count; i++) await log.append(entry(i));
      await log.close();
      return count;
    },
    teardown: rm,
  };
}

/** A folder of `files` files and a one-line change to each, for both sides to apply to fresh copies. */
async function applyFixture(files: number): Promise<{ dir: string; changes: ProposedChange[]; ledger: Map<string, string> }> {
  const dir = await tmp('deputy-ba-apply-');
  const changes: ProposedChange[] = [];
  const ledger = new Map<string, string>();
  for (let f = 0; f < files; f++) {
    const rel = `src/m${Math.floor(f / 50)}/f${f}.ts`;
    const text = Array.from({ length: 100 }, (_, l) => `export const v${f}_${l} = ${l};\n`).join('');
    await fs.mkdir(path.dirname(path.join(dir, 'template', rel)), { recursive: true });
    await fs.writeFile(path.join(dir, 'template', rel), text);
    ledger.set(rel, createHash('sha256').update(text).digest('hex'));
    changes.push({ path: rel, operation: 'update', rationale: 'bench', diff: `--- a/${rel}\n+++ b/${rel}\n@@ -5 +5 @@\n-export const v${f}_4 = 4;\n+export const v${f}_4 = 44;\n` });
  }
  return { dir, changes, ledger };
}

/** Prepares untimed in `setup`; times only the apply step (all files, each checkout's own way). */
function applySide(c: Checkout, fx: Awaited<ReturnType<typeof applyFixture>>): Side<{ copy: string; ws: unknown; prepared: unknown[] }> {
  return {
    label: c.label,
    setup: async () => {
      const copy = await fs.mkdtemp(path.join(fx.dir, 'copy-'));
      await fs.cp(path.join(fx.dir, 'template'), copy, { recursive: true });
      const ws = await c.Workspace.open(copy);
      const prepared = await c.changeset.prepareChangeset(ws, { summary: 'bench', changes: fx.changes }, fx.ledger, {
        maxFiles: fx.changes.length,
        maxTotalBytes: Number.MAX_SAFE_INTEGER,
      });
      return { copy, ws, prepared };
    },
    run: async ({ ws, prepared }) => {
      const results = c.changeset.applyPreparedFiles
        ? await c.changeset.applyPreparedFiles(ws, prepared)
        : await (async () => {
            const out: ChangeResult[] = [];
            for (const file of prepared) out.push(await c.changeset.applyPreparedFile(ws, file));
            return out;
          })();
      if (results.some((r) => r.status !== 'applied')) throw new Error(`${c.label} did not apply every file`);
      return results.length;
    },
    teardown: async ({ copy }) => rm(copy),
  };
}

export interface BeforeAfterSizes {
  warmup: number;
  rounds: number;
  auditRecords: number;
  auditAppends: number;
  files: number;
}

export function sizesFromEnv(): BeforeAfterSizes {
  return {
    warmup: envInt('BENCH_WARMUP', 1, 0),
    rounds: envInt('BENCH_ROUNDS', 5, 1),
    auditRecords: envInt('BENCH_AUDIT_RECORDS', 20000),
    auditAppends: envInt('BENCH_AUDIT_APPENDS', 200),
    files: envInt('BENCH_FILES', 300),
  };
}

/** Runs the selected comparisons against the checkout at `other`; one line per comparison. */
export async function beforeAfter(other: string, which: readonly string[], sizes: BeforeAfterSizes): Promise<string[]> {
  const here = load(path.resolve(__dirname, '..'), 'this checkout');
  const before = load(path.resolve(other), path.basename(path.resolve(other)));
  const config = { warmup: sizes.warmup, rounds: sizes.rounds };
  const selected = which.length > 0 ? which : ['verify', 'append', 'apply'];
  const lines: string[] = [];
  const report = (name: string, c: Awaited<ReturnType<typeof compare>>) =>
    lines.push(`${name}: this checkout ÷ ${before.label} = ${formatRatio(c.ratio)} (rounds ${formatRatioRange(c)}; ${c.ratios.map(formatRatio).join(', ')})`);
  if (selected.includes('verify')) {
    const root = await tmp('deputy-ba-verify-');
    try {
      const file = await writeLargeChain(root, sizes.auditRecords);
      report(`verify (${sizes.auditRecords} records)`, await compare(verifySide(here, file, sizes.auditRecords), verifySide(before, file, sizes.auditRecords), config));
    } finally {
      await rm(root);
    }
  }
  if (selected.includes('append')) {
    report(`append (${sizes.auditAppends} records, each awaited)`, await compare(appendSide(here, sizes.auditAppends), appendSide(before, sizes.auditAppends), config));
  }
  if (selected.includes('apply')) {
    const fx = await applyFixture(sizes.files);
    try {
      report(`apply (${fx.changes.length} files, apply step only)`, await compare(applySide(here, fx), applySide(before, fx), config));
    } finally {
      await rm(fx.dir);
    }
  }
  return lines;
}

if (require.main === module) {
  const [other, ...which] = process.argv.slice(2);
  (other
    ? beforeAfter(other, which, sizesFromEnv()).then((lines) => process.stdout.write(`${lines.join('\n')}\n`))
    : Promise.reject(new Error('Usage: node --import tsx bench/before-after.ts <other-checkout> [verify|append|apply]...'))
  ).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
