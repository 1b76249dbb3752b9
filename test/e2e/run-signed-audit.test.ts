/**
 * End to end, through the built CLI: `deputy run` with an AWS KMS key named in `DEPUTY_AUDIT_KMS_KEY_ID` (the KMS
 * stand-in, reached by the real SDK with the person's credentials) signs the trail at the end of the task; the
 * auditor's `deputy audit public-key` / `verify --public-key --require-signed` accept it, and a consistent rewrite of
 * the trail without the key is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startKmsStandin } from '../fixtures/aws/kms-standin.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

test('deputy run signs its audit trail with a KMS key, and verify --public-key holds it to that key', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const credentials = { accessKeyId: 'AKIAKMSE2ETESTKEY001', secretAccessKey: 'kms/e2e/secret/key/0000000000000000000000' };
  const kms = await startKmsStandin(credentials);
  t.after(() => kms.close());
  const model = await startScriptedModel([{ text: 'Nothing to change.', usage: { input_tokens: 10, output_tokens: 2 } }]);
  t.after(() => model.close());
  const env = {
    DEPUTY_AUDIT_KMS_KEY_ID: kms.keyArn,
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(repo.root, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(repo.root, 'no-aws-credentials'),
  };

  const run = await runCli(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'Look around'], { cwd: repo.root, env });
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.ok(kms.calls.some((c) => c.operation === 'Sign'), 'the digest was signed by KMS');

  const pub = await runCli(['audit', 'public-key', '--out', 'audit.pub'], { cwd: repo.root, env });
  assert.equal(pub.code, 0, pub.stderr);
  const verified = await runCli(['audit', 'verify', '--public-key', 'audit.pub', '--require-signed'], { cwd: repo.root });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, new RegExp(`signed: 1 digest verified with ${kms.keyArn.replace(/[/.]/g, '\\$&')}`));

  // The agent's message, reworded in place: caught (hash mismatch) even before signatures come into it.
  const file = join(repo.root, '.deputy', 'audit', 'audit.jsonl');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('Nothing to change.', 'Deleted everything.'));
  const tampered = await runCli(['audit', 'verify', '--public-key', 'audit.pub'], { cwd: repo.root });
  assert.equal(tampered.code, 1);
});
