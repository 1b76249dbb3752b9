import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretKey, redact, redactText } from '../../src/core/redact.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----';

describe('redact', () => {
  it('replaces values under secret-looking keys, at any depth and of any type', () => {
    const out = redact({
      apiKey: 'k1',
      api_key: 'k2',
      'x-api-key': 'k3',
      Authorization: 'Basic Zm9v',
      password: 1234,
      credentials: { accessKeyId: 'AKIA…', secretAccessKey: 'x' },
      sessionToken: 'tok',
      aws_secret_access_key: 'sec',
      nested: [{ client_secret: 's', keep: 'visible' }],
      path: 'src/index.ts',
    });
    assert.deepEqual(out, {
      apiKey: '[redacted]',
      api_key: '[redacted]',
      'x-api-key': '[redacted]',
      Authorization: '[redacted]',
      password: '[redacted]',
      credentials: '[redacted]',
      sessionToken: '[redacted]',
      aws_secret_access_key: '[redacted]',
      nested: [{ client_secret: '[redacted]', keep: 'visible' }],
      path: 'src/index.ts',
    });
  });

  it('keeps token counts, which are usage and not credentials', () => {
    const usage = { input_tokens: 10, output_tokens: 5, total_tokens: 15, input_tokens_details: { cached_tokens: 2 }, max_tokens: 100 };
    assert.deepEqual(redact(usage), usage);
    assert.equal(isSecretKey('gen_ai.usage.input_tokens'), false);
    assert.equal(isSecretKey('token'), true);
    assert.equal(isSecretKey('refresh_token'), true);
  });

  it('replaces credential-looking text inside any string, keeping the rest readable', () => {
    assert.equal(redactText('key AKIAIOSFODNN7EXAMPLE leaked'), 'key [redacted] leaked');
    assert.equal(redactText('ASIAY34FZKBOKMUTVV7A'), '[redacted]');
    assert.equal(redactText('header was Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'), 'header was [redacted]');
    assert.equal(redactText(`cert:\n${PEM}\ndone`), 'cert:\n[redacted]\ndone');
    assert.equal(redactText('using sk-proj-abcdefghijklmnopqrstuvwxyz012345'), 'using [redacted]');
    assert.equal(redactText('AKIA is a prefix, not a key'), 'AKIA is a prefix, not a key');
    assert.deepEqual(redact({ message: ['see AKIAIOSFODNN7EXAMPLE'] }), { message: ['see [redacted]'] });
  });

  it('returns plain JSON data for anything it is given', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const shared = { a: 1 };
    const out = redact({
      when: new Date('2024-01-02T03:04:05Z'),
      big: 12n,
      skip: undefined,
      fn: () => 1,
      err: new Error('failed with AKIAIOSFODNN7EXAMPLE'),
      circular,
      twice: [shared, shared],
      nan: Number.NaN,
    });
    assert.deepEqual(out, {
      when: '2024-01-02T03:04:05.000Z',
      big: '12',
      err: { name: 'Error', message: 'failed with [redacted]' },
      circular: { name: 'loop', self: '[circular]' },
      twice: [{ a: 1 }, { a: 1 }],
      nan: null,
    });
  });
});
