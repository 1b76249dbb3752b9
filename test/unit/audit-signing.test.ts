import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditCommand } from '../../src/cli/audit.js';
import { AuditLog, readAudit, verifyAudit, type AuditActor, type AuditRecord } from '../../src/core/audit.js';
import { generateSigningKey, parsePublicKey, pemSigner } from '../../src/core/audit-digest.js';
import { formatRecordLine, recordHash, GENESIS_PREV } from '../../src/core/audit-record.js';
import { sha256Hex } from '../../src/core/workspace-text.js';
import { kmsSigner } from '../../src/identity/kms-signer.js';
import { runCaptured } from '../fixtures/aws/cli-capture.js';
import { startKmsStandin } from '../fixtures/aws/kms-standin.js';

const actor: AuditActor = { principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice', account: '123456789012' };

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-audit-sign-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const ours = generateSigningKey();
const ourPublic = parsePublicKey(Buffer.from(ours.publicKeyPem));

/** A workspace whose trail holds two finished tasks of `steps` records each, signed with `key`. */
async function signedTrail(steps: number, key = ours.privateKeyPem): Promise<string> {
  const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
  const log = await AuditLog.open(root, { signer: pemSigner(key) });
  for (const task of ['t1', 't2']) {
    await log.append({ type: 'task.started', task, actor, data: { task: `do ${task}` } });
    for (let i = 1; i <= steps; i++) await log.append({ type: 'message.agent', session: 's1', task, actor, data: { text: `${task} step ${i}` } });
    await log.append({ type: 'task.finished', session: 's1', task, actor, data: { status: 'completed' } });
  }
  await log.close();
  return log.file;
}

/**
 * Rewrites the chain as someone with write access but without the key would: records changed by `edit`, then every
 * `prev`, `hash` and `seq` recomputed, each digest's `last_hash` pointed at the rewritten record before it, and
 * `audit.head` rewritten, so everything but the signatures is consistent again.
 */
async function rewriteChain(file: string, edit: (records: AuditRecord[]) => AuditRecord[]): Promise<void> {
  const records = edit(await readAudit(file));
  let prev = GENESIS_PREV;
  const lines: string[] = [];
  let lastHash = '';
  records.forEach((r, i) => {
    const data = r.type === 'audit.digest' ? { ...r.data, last_hash: lastHash } : r.data;
    const body = { ...r, data, seq: i + 1, prev };
    const record = { ...body, hash: recordHash(body) };
    const line = formatRecordLine(record);
    lines.push(line);
    prev = sha256Hex(line);
    lastHash = record.hash;
  });
  await fs.writeFile(file, lines.map((l) => `${l}\n`).join(''));
  const last = JSON.parse(lines[lines.length - 1]!) as AuditRecord;
  await fs.writeFile(path.join(path.dirname(file), 'audit.head'), JSON.stringify({ seq: last.seq, hash: last.hash }));
}

describe('signed audit digests', () => {
  it('signs a digest at the end of every task, covering everything since the last one, and verifies with the public key', async () => {
    const file = await signedTrail(3);
    const records = await readAudit(file);
    const digests = records.filter((r) => r.type === 'audit.digest');
    assert.equal(digests.length, 2);
    // Each digest follows its task's last record, covers the records since the previous digest, and links to it.
    assert.equal(records[digests[0]!.seq - 2]!.type, 'task.finished');
    assert.deepEqual([digests[0]!.data.from, digests[0]!.data.to], [1, 5]);
    assert.deepEqual([digests[1]!.data.from, digests[1]!.data.to], [7, 11]);
    assert.equal((digests[1]!.data.previous as { seq: number }).seq, 6);
    assert.equal(digests[0]!.data.key_id, ours.keyId);

    const result = await verifyAudit(file, { publicKeys: [ourPublic] });
    assert.equal(result.ok, true);
    assert.ok(result.ok);
    assert.deepEqual(result.signatures, { digests: 2, signedThrough: 12, keyIds: [ours.keyId], unsigned: null });
  });

  it('signs periodically within a long task, not only at its end', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root, { signer: pemSigner(ours.privateKeyPem), digestEvery: { records: 4 } });
    for (let i = 1; i <= 10; i++) await log.append({ type: 'message.agent', session: 's', task: 't', actor, data: { text: `${i}` } });
    await log.close();
    const types = (await readAudit(log.file)).map((r) => (r.type === 'audit.digest' ? 'D' : 'r')).join('');
    assert.equal(types, 'rrrrDrrrrDrr');
    const result = await verifyAudit(log.file, { publicKeys: [ourPublic] });
    assert.ok(result.ok);
    // The last two records come after the newest digest: named, and a failure when every record must be signed.
    assert.deepEqual(result.signatures?.unsigned, { from: 11, to: 12 });
    const strict = await verifyAudit(log.file, { publicKeys: [ourPublic], requireSigned: true });
    assert.equal(strict.ok, false);
    assert.ok(!strict.ok);
    assert.equal(strict.badIndex, 11);
  });

  it('keeps one digest chain when two processes append to the same trail', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const a = await AuditLog.open(root, { signer: pemSigner(ours.privateKeyPem) });
    const b = await AuditLog.open(root, { signer: pemSigner(ours.privateKeyPem) });
    for (let round = 0; round < 3; round++) {
      for (const [log, task] of [[a, `a${round}`], [b, `b${round}`]] as const) {
        await log.append({ type: 'task.started', task, actor, data: {} });
        await log.append({ type: 'task.finished', task, actor, data: { status: 'completed' } });
      }
    }
    await Promise.all([a.close(), b.close()]);
    const result = await verifyAudit(a.file, { publicKeys: [ourPublic] });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.signatures?.digests, 6);
  });

  it('catches a rewritten tail that the hash chain alone cannot see', async () => {
    const file = await signedTrail(2);
    await rewriteChain(file, (records) =>
      records.map((r) => (r.type === 'message.agent' && r.data.text === 't2 step 1' ? { ...r, data: { text: 'nothing to see' } } : r)),
    );
    // Recomputed consistently, the chain and head agree: without the key nothing shows.
    assert.equal((await verifyAudit(file)).ok, true);
    const result = await verifyAudit(file, { publicKeys: [ourPublic] });
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.badIndex, 10);
    assert.match(result.reason, /signature does not verify/);
  });

  it('catches a replaced chain: re-signed with another key, or with its digests stripped', async () => {
    const forged = await signedTrail(2, generateSigningKey().privateKeyPem);
    const resigned = await verifyAudit(forged, { publicKeys: [ourPublic] });
    assert.equal(resigned.ok, false);
    assert.ok(!resigned.ok);
    assert.match(resigned.reason, /signature does not verify/);

    const stripped = await signedTrail(2);
    await rewriteChain(stripped, (records) => records.filter((r) => r.type !== 'audit.digest'));
    assert.equal((await verifyAudit(stripped)).ok, true);
    const result = await verifyAudit(stripped, { publicKeys: [ourPublic] });
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.match(result.reason, /not covered by any signed digest/);
  });

  it('catches an edited digest and a removed one, even with the chain recomputed', async () => {
    const edited = await signedTrail(2);
    await rewriteChain(edited, (records) =>
      records.map((r) => (r.type === 'audit.digest' && r.seq === 5 ? { ...r, data: { ...r.data, signed_at: '2020-01-01T00:00:00.000Z' } } : r)),
    );
    const e = await verifyAudit(edited, { publicKeys: [ourPublic] });
    assert.ok(!e.ok);
    assert.equal(e.badIndex, 5);

    const removed = await signedTrail(2);
    await rewriteChain(removed, (records) => records.filter((r) => !(r.type === 'audit.digest' && r.seq === 5)));
    const r = await verifyAudit(removed, { publicKeys: [ourPublic] });
    assert.ok(!r.ok);
    // The second digest now covers records the first one was supposed to close.
    assert.match(r.reason, /must cover|does not link/);
    // Structure is checked even without a key.
    assert.equal((await verifyAudit(removed)).ok, false);
  });

  it('signs with an AWS KMS Ed25519 key through the real SDK, verifiable offline with its public key', async () => {
    const credentials = { accessKeyId: 'AKIAKMSTESTKEY000001', secretAccessKey: 'kms/test/secret/key/000000000000000000000' };
    const kms = await startKmsStandin(credentials);
    const env = { AWS_ENDPOINT_URL_KMS: kms.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const signer = await kmsSigner({ keyId: 'alias/deputy-audit', credentials: async () => credentials });
      assert.equal(signer.keyId, kms.keyArn);
      const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
      const log = await AuditLog.open(root, { signer });
      await log.append({ type: 'task.started', task: 't', actor, data: {} });
      await log.append({ type: 'task.finished', task: 't', actor, data: { status: 'completed' } });
      await log.close();
      assert.deepEqual(kms.calls.map((c) => c.operation), ['GetPublicKey', 'Sign']);
      assert.ok(kms.calls.every((c) => c.accessKeyId === credentials.accessKeyId));
      const publicKey = createPublicKey({ key: signer.publicKeyDer, format: 'der', type: 'spki' });
      const result = await verifyAudit(log.file, { publicKeys: [publicKey] });
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(result.signatures?.keyIds, [kms.keyArn]);
      // The wrong key id is a clear error naming it, not a trail that silently goes unsigned.
      await assert.rejects(kmsSigner({ keyId: 'alias/nope', credentials: async () => credentials }), /alias\/nope could not be read from AWS KMS/);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
      await kms.close();
    }
  });
});

describe('deputy audit keygen / public-key / verify --public-key', () => {
  it('makes a private key only its owner can read, never overwrites one, and verifies with the printed public key', async () => {
    const dir = await fs.mkdtemp(path.join(tmp, 'keys-'));
    const keyFile = path.join(dir, 'audit.key');
    const made = await runCaptured(auditCommand, ['keygen', '--out', keyFile], {});
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);
    const again = await runCaptured(auditCommand, ['keygen', '--out', keyFile], {});
    assert.equal(again.code, 1);
    assert.match(again.stderr, /never overwrites a key/);

    const env = { DEPUTY_AUDIT_KEY_FILE: keyFile };
    const printed = await runCaptured(auditCommand, ['public-key'], env);
    assert.equal(printed.stdout, made.stdout);
    const pubFile = path.join(dir, 'audit.pub');
    await fs.writeFile(pubFile, printed.stdout);

    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const log = await AuditLog.open(root, { signer: pemSigner(await fs.readFile(keyFile, 'utf8')) });
    await log.append({ type: 'task.finished', task: 't', actor, data: { status: 'completed' } });
    await log.append({ type: 'task.started', task: 'u', actor, data: {} });
    await log.close();
    const ok = await runCaptured(auditCommand, ['verify', '--public-key', pubFile, log.file], {});
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /signed: 1 digest verified with ed25519:[0-9a-f]{32}, covering records 1–2/);
    assert.match(ok.stdout, /records 3–3 come after the newest digest/);
    const strict = await runCaptured(auditCommand, ['verify', '--public-key', pubFile, '--require-signed', log.file], {});
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /record 3 .*not covered by a signed digest/);

    // A key others can read is refused before anything is signed with it.
    await fs.chmod(keyFile, 0o644);
    const loose = await runCaptured(auditCommand, ['public-key'], env).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    assert.match(loose.stderr, /readable by others/);
  });
});

describe('a signer that fails', () => {
  it('never costs the records: they are written unsigned, and the next digest that signs covers them', async () => {
    const root = await fs.mkdtemp(path.join(tmp, 'ws-'));
    const good = pemSigner(ours.privateKeyPem);
    let failing = true;
    const errors: unknown[] = [];
    const flaky = { keyId: good.keyId, sign: (m: Buffer) => (failing ? Promise.reject(new Error('KMS unreachable')) : good.sign(m)) };
    const log = await AuditLog.open(root, { signer: flaky, onDigestError: (e) => errors.push(e) });
    await log.append({ type: 'task.started', task: 't1', actor, data: {} });
    const finished = await log.append({ type: 'task.finished', task: 't1', actor, data: { status: 'completed' } });
    assert.equal(finished.seq, 2, 'the task end is on the trail');
    assert.equal(errors.length, 1);
    failing = false;
    await log.append({ type: 'task.finished', task: 't2', actor, data: { status: 'completed' } });
    await log.close();
    const records = await readAudit(log.file);
    assert.deepEqual(records.map((r) => r.type), ['task.started', 'task.finished', 'task.finished', 'audit.digest']);
    assert.deepEqual([records[3]!.data.from, records[3]!.data.to], [1, 3]);
    const result = await verifyAudit(log.file, { publicKeys: [ourPublic], requireSigned: true });
    assert.ok(result.ok, JSON.stringify(result));
  });
});
