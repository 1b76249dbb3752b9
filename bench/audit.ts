/**
 * Audit chain throughput: appending records (`AuditLog.append`) and checking a chain (`verifyAudit`), each against
 * the least work its job could possibly do.
 *
 * - Append reference: the same hash-chained JSON lines written to one open file descriptor, one `fsync` per line,
 *   with nothing else — no lock file, no re-read of the tail, no `audit.head`, no redaction, no canonical JSON. That
 *   is the floor for "every record is on disk before append resolves"; the ratio is the price of being safe with
 *   several writers, of catching a cut-off tail and of telling a crash from a forgery.
 * - Verify reference: one pass of SHA-256 over every byte of the same file, in this process, read 1 MiB at a time
 *   as `verifyAudit` reads it: the least any chain check must do. The ratio is the price of parsing every record
 *   and checking its hash, `prev` and `seq`.
 *   The chain it reads is written in Deputy's record format directly (appending tens of thousands of records one
 *   fsync'd append at a time would take minutes) and then continued by `AuditLog.append`, which refuses a chain
 *   whose tail or head it cannot continue: so the input is a chain Deputy's own writer accepts as its own.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, promises as fs, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditLog, defaultAuditFile, verifyAudit, type AuditEntry } from '../src/core/audit.js';
import { generateSigningKey, parsePublicKey, pemSigner, type AuditSigner } from '../src/core/audit-digest.js';
import { GENESIS_PREV, formatRecordLine, headPathFor, recordHash, type AuditRecord } from '../src/core/audit-record.js';
import { sha256Hex } from '../src/core/workspace-text.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { formatRatio } from './report.js';
import { compare, type Side } from './measure.js';

const ACTOR = { principal: 'arn:aws:sts::123456789012:assumed-role/Developer/bench', account: '123456789012', client: 'deputy/bench' };

/** The i-th record a benchmark writes: a tool call with the kind of detail a real task records. */
export function entry(i: number): AuditEntry {
  return {
    type: i % 2 === 0 ? 'tool.call' : 'tool.result',
    session: 'sess_bench0000000000000000',
    task: 'task_bench',
    actor: ACTOR,
    data: {
      call_id: `call_${i.toString().padStart(8, '0')}`,
      tool: 'workspace_read',
      summary: `read src/module_${i % 97}/file_${i}.ts lines 1-200 for the refactor of the request handler`,
      ...(i % 2 === 1 ? { success: true } : {}),
    },
  };
}

async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** Appends `count` records through Deputy's log and returns the chain file. */
async function writeChain(root: string, count: number): Promise<string> {
  const log = await AuditLog.open(root);
  for (let i = 0; i < count; i++) await log.append(entry(i));
  await log.close();
  return log.file;
}

/**
 * A chain of `count` records in `root`'s audit folder: all but the last written straight in the record format
 * with its `audit.head`, the last appended by `AuditLog`, which checks the tail and head before it continues.
 */
export async function writeLargeChain(root: string, count: number): Promise<string> {
  const file = defaultAuditFile(root);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const lines: string[] = [];
  let prevLine: string | null = null;
  let last: AuditRecord | null = null;
  for (let i = 0; i < count - 1; i++) {
    const e = entry(i);
    const body: Omit<AuditRecord, 'hash'> = {
      v: 1,
      seq: i + 1,
      time: new Date().toISOString(),
      type: e.type,
      session: e.session ?? null,
      task: e.task ?? null,
      actor: e.actor,
      data: e.data ?? {},
      prev: prevLine === null ? GENESIS_PREV : sha256Hex(prevLine),
    };
    last = { ...body, hash: recordHash(body) };
    prevLine = formatRecordLine(last);
    lines.push(prevLine);
  }
  await fs.writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  if (last) await fs.writeFile(headPathFor(file), `${JSON.stringify({ seq: last.seq, hash: last.hash })}\n`);
  const log = await AuditLog.open(root);
  await log.append(entry(count - 1));
  await log.close();
  return file;
}

async function expectValidChain(file: string, count: number, who: string): Promise<void> {
  const result = await verifyAudit(file);
  if (!result.ok || result.records !== count) {
    throw new Error(`${who} left a chain that does not verify as ${count} records: ${JSON.stringify(result)}`);
  }
}

export const auditAppend: Benchmark = {
  id: 'audit-append',
  title: 'Audit append: AuditLog.append vs bare hash-chained append + fsync',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = config.auditAppends;
    const ours: Side<string> = {
      label: 'AuditLog.append',
      setup: () => tempDir('deputy-bench-audit-'),
      run: async (root) => {
        await writeChain(root, count);
        return count;
      },
      teardown: async (root) => {
        await expectValidChain(defaultAuditFile(root), count, 'AuditLog.append');
        await removeDir(root);
      },
    };
    const reference: Side<string> = {
      label: 'writeSync + fsyncSync per line',
      setup: () => tempDir('deputy-bench-audit-ref-'),
      run: async (dir) => {
        const fd = openSync(path.join(dir, 'audit.jsonl'), 'a', 0o600);
        try {
          let prev = GENESIS_PREV;
          for (let i = 0; i < count; i++) {
            const e = entry(i);
            const body = { v: 1, seq: i + 1, time: new Date().toISOString(), type: e.type, session: e.session, task: e.task, actor: e.actor, data: e.data, prev };
            const line = JSON.stringify({ ...body, hash: sha256Hex(JSON.stringify(body)) });
            writeSync(fd, `${line}\n`);
            fsyncSync(fd);
            prev = sha256Hex(line);
          }
        } finally {
          closeSync(fd);
        }
        return count;
      },
      teardown: removeDir,
    };
    log(`audit-append: ${count} records per run, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
    const comparison = await compare(ours, reference, config);
    return {
      id: this.id,
      title: this.title,
      unit: 'records',
      input: `${count.toLocaleString('en-US')} records appended one after another (each awaited) to a new chain`,
      ours: '`AuditLog.open` + `append` per record (each awaited, so no two share a batch): lock file once per burst, tail and head re-read, redaction, canonical-JSON hash, `audit.head` announcing the record (write + fsync + rename), the record written to the open log + fdatasync; the head confirmed once at the end of the burst',
      reference: 'the same records as hash-chained JSON lines on one open file descriptor, `writeSync` + `fsyncSync` per line, nothing else',
      meaning: `records appended per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means Deputy durably appends ${shareInWords(comparison.ratio)} records per second as the bare fsync-per-line floor. The gap is mostly the second fsync per record: \`audit.head\` announcing the record before it is written, which is what lets the next run tell a crash between record and head from a forged record; then the tail and head re-read that make several writers and a cut-off tail safe. Records queued together (as a task's are when they arrive at once) share one announcement, one write and one fsync. A task records tens of events, so this is milliseconds per task.`,
      verified: `every run's chain passes \`verifyAudit\` with exactly ${count.toLocaleString('en-US')} records`,
      comparison,
    };
  },
};

/** SHA-256 of a file read 1 MiB at a time, the way `verifyAudit` reads it. */
async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export const auditVerify: Benchmark = {
  id: 'audit-verify',
  title: 'Audit verify: verifyAudit vs SHA-256 of the same bytes',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = config.auditRecords;
    log(`audit-verify: writing a ${count}-record chain (untimed)`);
    const root = await tempDir('deputy-bench-verify-');
    try {
      const file = await writeLargeChain(root, count);
      const bytes = await fs.readFile(file);
      const expected = createHash('sha256').update(bytes).digest('hex');
      const ours: Side<string> = {
        label: 'verifyAudit',
        setup: async () => file,
        run: async (f) => {
          const result = await verifyAudit(f);
          if (!result.ok || result.records !== count) throw new Error(`verifyAudit did not accept the chain: ${JSON.stringify(result)}`);
          return result.records;
        },
      };
      const reference: Side<string> = {
        label: 'SHA-256 of the file in-process',
        setup: async () => file,
        run: async (f) => {
          const digest = await sha256File(f);
          if (digest !== expected) throw new Error(`hashing the file gave ${digest}, expected ${expected}`);
          return count;
        },
      };
      log(`audit-verify: ${(bytes.length / 2 ** 20).toFixed(1)} MiB chain, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'records',
        input: `one chain of ${count.toLocaleString('en-US')} records (${(bytes.length / 2 ** 20).toFixed(1)} MiB) in Deputy's record format, the last appended by \`AuditLog\` (which accepts only a chain it can continue)`,
        ours: '`verifyAudit(file)`: read 1 MiB at a time, split, parse and shape-check every line, recompute each record\'s canonical-JSON hash and the `prev` hash of the line before, check `seq` and `audit.head`',
        reference: 'one SHA-256 pass over the same bytes in the same process (no spawn), read 1 MiB at a time',
        meaning: `records checked per second, ours ÷ reference (the reference "checks" the same records by hashing their bytes once): ${formatRatio(comparison.ratio)} means \`verifyAudit\` gets through ${shareInWords(comparison.ratio)} records per second as one SHA-256 pass over the file. The gap is JSON parsing, shape checks, canonical re-serialisation and a second hash per record.`,
        verified: `\`verifyAudit\` reports ok with ${count.toLocaleString('en-US')} records every round; the reference's digest equals one computed beforehand`,
        comparison,
      };
    } finally {
      await removeDir(root);
    }
  },
};

/** Records per task in the signing benchmark: a digest goes out with each task's `task.finished`. */
const RECORDS_PER_TASK = 20;

/** Appends `count` records as tasks of RECORDS_PER_TASK, each ending with `task.finished`. */
async function writeTasks(root: string, count: number, signer?: AuditSigner): Promise<string> {
  const log = await AuditLog.open(root, signer ? { signer } : {});
  for (let i = 0; i < count; i++) {
    const last = i % RECORDS_PER_TASK === RECORDS_PER_TASK - 1 || i === count - 1;
    await log.append(last ? { type: 'task.finished', task: 'task_bench', actor: ACTOR, data: { status: 'completed' } } : entry(i));
  }
  await log.close();
  return log.file;
}

export const auditSigned: Benchmark = {
  id: 'audit-signed',
  title: 'Audit append with signed digests vs without',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = config.auditAppends;
    const key = generateSigningKey();
    const publicKey = parsePublicKey(Buffer.from(key.publicKeyPem));
    const tasks = Math.ceil(count / RECORDS_PER_TASK);
    const side = (label: string, signed: boolean): Side<string> => ({
      label,
      setup: () => tempDir('deputy-bench-audit-signed-'),
      run: async (root) => {
        await writeTasks(root, count, signed ? pemSigner(key.privateKeyPem) : undefined);
        return count;
      },
      teardown: async (root) => {
        const result = await verifyAudit(defaultAuditFile(root), signed ? { publicKeys: [publicKey], requireSigned: true } : {});
        const expected = count + (signed ? tasks : 0);
        if (!result.ok || result.records !== expected || (signed && result.signatures?.digests !== tasks)) {
          throw new Error(`${label} left a chain that does not verify as ${expected} records: ${JSON.stringify(result)}`);
        }
        await removeDir(root);
      },
    });
    log(`audit-signed: ${count} records in tasks of ${RECORDS_PER_TASK}, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
    const comparison = await compare(side('AuditLog.append, Ed25519 key file', true), side('AuditLog.append, no key', false), config);
    return {
      id: this.id,
      title: this.title,
      unit: 'records',
      input: `${count.toLocaleString('en-US')} records appended one after another, as tasks of ${RECORDS_PER_TASK} records each ending with \`task.finished\``,
      ours: `\`AuditLog\` with an Ed25519 key file: after each task's last record a signed \`audit.digest\` (the previous digest found by reading back from the end, the message signed, the digest written in the same batch)`,
      reference: 'the same `AuditLog` appends without a signing key',
      meaning: `caller records appended per second with signing on ÷ off: ${formatRatio(comparison.ratio)} means signing keeps ${shareInWords(comparison.ratio)} of the unsigned rate. One digest per task of ${RECORDS_PER_TASK} records is one more record and one Ed25519 signature per task, inside a batch that is fsync'd anyway. A KMS key adds one \`kms:Sign\` round trip per digest, not measured here.`,
      verified: `every signed chain passes \`verifyAudit --public-key --require-signed\` with exactly ${tasks} digests; every unsigned one verifies with ${count} records`,
      comparison,
    };
  },
};
