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

describe('redaction of credentials inside free text (task prompts, agent messages, errors)', () => {
  const cases: [string, string, RegExp][] = [
    ['~/.aws/credentials line', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', /wJalr/],
    ['.env lines', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEJr', /wJalr|IQoJ/],
    ['a JWT', 'use eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl', /eyJhbGci/],
    ['an SSO cache quoted as JSON', '{"accessToken": "aoaAAAAAGX1234567890", "refreshToken": "aorBBBBB1234567"}', /aoaA|aorB/],
    ['a presigned URL', 'https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Security-Token=IQoJabc%2Fdef&X-Amz-Signature=abcdef0123', /IQoJ|abcdef0123/],
    ['an IAM proof', 'proof deputy-iam-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbQ', /aHR0cHM6/],
  ];
  for (const [what, text, secret] of cases) {
    it(`removes ${what}, keeping the words around it`, () => {
      const out = redactText(text);
      assert.doesNotMatch(out, secret);
      assert.match(out, /\[redacted\]/);
    });
  }
  it('leaves usage counters and flag names alone', () => {
    const text = 'input_tokens: 123456, "total_tokens": 9999999; set --model-api-key-env VAR';
    assert.equal(redactText(text), text);
  });
  it('redacts proof, cookie, signature and verifier keys in headers and PKCE state', () => {
    const out = redact({ headers: { 'x-deputy-iam-proof': 'p', cookie: 'c', 'X-Amz-Signature': 's' }, code_verifier: 'v', private_key: 'k' });
    assert.deepEqual(out, { headers: { 'x-deputy-iam-proof': '[redacted]', cookie: '[redacted]', 'X-Amz-Signature': '[redacted]' }, code_verifier: '[redacted]', private_key: '[redacted]' });
  });
  it('keeps sparse arrays and __proto__ keys as JSON will read them back, so hashes verify', () => {
    const sparse: unknown[] = [];
    sparse[2] = 'x';
    const parsed = JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as unknown;
    const out = redact({ files: sparse, model: parsed });
    assert.equal(JSON.stringify(out), '{"files":[null,null,"x"],"model":{"__proto__":{"a":1},"b":2}}');
    assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
  });
});
