/**
 * `verifyAudit` streams the log: memory stays bounded whatever the trail's size. A 96 MiB chain is verified in a
 * child process whose peak resident memory is compared with its resident memory just before verifying; reading the
 * file whole (as a string, then split into lines) would need more than the file's size on top.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GENESIS_PREV, formatRecordLine, headPathFor, recordHash, type AuditRecord } from '../../src/core/audit-record.js';
import { sha256Hex } from '../../src/core/workspace-text.js';

const repoRoot = path.resolve(__dirname, '..', '..');
const TRAIL_BYTES = 96 * 1024 * 1024;
const MAX_GROWTH = 48 * 1024 * 1024;

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-verify-mem-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Writes a valid chain of about `bytes` bytes (records carrying 16 KiB of agent text each) with its head. */
async function writeChain(file: string, bytes: number): Promise<number> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const filler = 'The agent explains its plan in some detail. '.repeat(372); // ~16 KiB
  let prev = GENESIS_PREV;
  let written = 0;
  let last: AuditRecord | null = null;
  for (let seq = 1; written < bytes; seq++) {
    const body: Omit<AuditRecord, 'hash'> = {
      v: 1,
      seq,
      time: new Date(1_700_000_000_000 + seq).toISOString(),
      type: 'message.agent',
      session: 's1',
      task: 't1',
      actor: { principal: 'alice' },
      data: { text: `${seq}: ${filler}` },
      prev,
    };
    last = { ...body, hash: recordHash(body) };
    const line = formatRecordLine(last);
    prev = sha256Hex(line);
    written += Buffer.byteLength(line) + 1;
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await fs.writeFile(headPathFor(file), JSON.stringify({ seq: last!.seq, hash: last!.hash }));
  return last!.seq;
}

function verifyInChild(file: string): Promise<{ ok: boolean; records: number; growth: number }> {
  const script = `
const mod = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, 'src/core/audit-verify.ts')).href)});
const verifyAudit = mod.verifyAudit ?? mod.default.verifyAudit;
globalThis.gc?.();
const before = process.memoryUsage().rss;
const result = await verifyAudit(${JSON.stringify(file)});
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ ok: result.ok, records: result.records, growth: peak - before }));
`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`verifier exited ${code}: ${stderr}`))));
  });
}

describe('verifyAudit on a large trail', () => {
  it(`checks a ${TRAIL_BYTES / 2 ** 20} MiB chain with its peak memory growing less than ${MAX_GROWTH / 2 ** 20} MiB`, async () => {
    const file = path.join(tmp, '.deputy', 'audit', 'audit.jsonl');
    const count = await writeChain(file, TRAIL_BYTES);
    const r = await verifyInChild(file);
    assert.equal(r.ok, true);
    assert.equal(r.records, count);
    assert.ok(r.growth < MAX_GROWTH, `peak memory grew by ${(r.growth / 2 ** 20).toFixed(1)} MiB verifying a ${(TRAIL_BYTES / 2 ** 20).toFixed(0)} MiB trail`);
  });
});
