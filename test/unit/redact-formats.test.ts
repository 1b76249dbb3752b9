/**
 * Credential formats that leak in practice, and the exact configured secrets in every encoding, are redacted from
 * text (src/core/redact.ts); look-alikes are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KnownSecrets, displayUrl, redactCredentials, redactStrings, redactText } from '../../src/core/redact.js';
import { CONTEXT_SAMPLES, CREDENTIAL_SAMPLES, LOOK_ALIKES } from '../fixtures/credential-samples.js';

for (const [format, token] of CREDENTIAL_SAMPLES) {
  test(`redacts a ${format}, keeping the words around it`, () => {
    for (const redactor of [redactText, redactCredentials]) {
      const out = redactor(`before ${token} after`);
      assert.equal(out, 'before [redacted] after', redactor.name);
    }
  });
}

for (const [what, text, secret] of CONTEXT_SAMPLES) {
  test(`redacts ${what}`, () => {
    for (const redactor of [redactText, redactCredentials]) {
      const out = redactor(text);
      assert.ok(!out.includes(secret), `${redactor.name}: ${out}`);
      assert.match(out, /\[redacted\]/);
    }
  });
}

test('beside an access key id, a git commit hash (hex, one letter case) is not taken for its secret key', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  assert.equal(redactCredentials(`AKIAZ7QWERTYUIOPASDF at commit ${sha}`), `[redacted] at commit ${sha}`);
});

test('a URL keeps its address when its credentials go', () => {
  assert.equal(redactText('see https://deploy:Tr0ub4dor-and-3@git.example.com/x'), 'see https://[redacted]@git.example.com/x');
  assert.equal(displayUrl('http://bob:hunter2pass@127.0.0.1:8080/v1'), 'http://127.0.0.1:8080/v1');
  assert.equal(displayUrl('http://127.0.0.1:8080/v1/'), 'http://127.0.0.1:8080/v1/');
});

for (const text of LOOK_ALIKES) {
  test(`leaves a look-alike alone in conversation text: ${JSON.stringify(text.slice(0, 40))}`, () => {
    assert.equal(redactCredentials(text), text);
  });
}

test('heuristics (secret-looking names, Bearer values, any PEM block) apply to records and errors, not to stored code', () => {
  assert.equal(redactText('const password = "hunter22";'), 'const password = "[redacted]";');
  assert.equal(redactCredentials('const password = "hunter22";'), 'const password = "hunter22";');
});

const SECRET = 'Zq9-r!t/s+u=v%w x~yz"7\\Q';

test('a configured secret is redacted raw, URL-encoded, form-encoded, JSON-escaped, upper- and lower-cased', () => {
  const known = new KnownSecrets([SECRET]);
  for (const form of [
    SECRET,
    encodeURIComponent(SECRET),
    encodeURIComponent(SECRET).toLowerCase(),
    encodeURIComponent(SECRET).replace(/%20/g, '+'),
    JSON.stringify(SECRET).slice(1, -1),
    SECRET.toUpperCase(),
    SECRET.toLowerCase(),
  ]) {
    assert.equal(redactCredentials(`x ${form} y`, known), 'x [redacted] y', form);
  }
});

test('a configured secret is redacted in base64, alone or inside a longer value at any byte offset', () => {
  const known = new KnownSecrets([SECRET]);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const b64url = (s: string) => Buffer.from(s).toString('base64url');
  for (const user of ['', 'a:', 'ab:', 'abc:']) {
    for (const encode of [b64, b64url]) {
      const shown = redactText(`Authorization: Basic ${encode(`${user}${SECRET}`)}`, known);
      const out = redactCredentials(`header ${encode(`${user}${SECRET}`)} end`, known);
      assert.match(out, /\[redacted\]/, `${user} ${encode.name}`);
      // What is left cannot be decoded back into the secret.
      for (const piece of out.split(/\s+/)) assert.ok(!Buffer.from(piece, 'base64').toString('latin1').includes(SECRET.slice(2, -2)), piece);
      assert.doesNotMatch(shown, /Basic [A-Za-z0-9+/]{12,}/);
    }
  }
});

test('short configured values are not treated as secrets (they would mask ordinary words)', () => {
  assert.equal(redactCredentials('use ollama here', new KnownSecrets(['ollama'])), 'use ollama here');
});

test('redactStrings changes strings only: keys and a tool schema survive', () => {
  const schema = { type: 'object', properties: { token: { type: 'string' }, password: { type: 'string' } } };
  const item = { tools: [schema], text: `key ${CREDENTIAL_SAMPLES[0]![1]}`, usage: { input_tokens: 3 } };
  assert.deepEqual(redactStrings(item), { tools: [schema], text: 'key [redacted]', usage: { input_tokens: 3 } });
});

test('a URL built from placeholders keeps them: code that builds an authenticated URL is not a credential', () => {
  for (const code of [
    'const remote = `https://${user}:${token}@github.com/${repo}.git`;',
    'url: "postgres://{{ db_user }}:{{ db_password }}@db:5432/app"',
    "dsn = 'mysql://%s:%s@localhost/app' % (user, password)",
    'DATABASE_URL=postgres://$PGUSER:$PGPASSWORD@localhost/app',
  ]) {
    assert.equal(redactCredentials(code), code);
  }
  assert.equal(redactCredentials('https://admin:${real}x@h.example/'), 'https://[redacted]@h.example/', 'a literal part makes it a credential');
});

test('an access key id in a file makes only a 40-character run near it its secret key, not one far away in the code', () => {
  const identifier = 'ReactComponentTestingLibraryHelperModule';
  const file = [
    '# example from the AWS docs',
    'aws_access_key_id = AKIAZ7QWERTYUIOPASDF',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ...Array.from({ length: 120 }, (_, i) => `const value${i} = compute(${i}); // an ordinary line of code`),
    `export { ${identifier} };`,
  ].join('\n');
  const out = redactCredentials(file);
  assert.doesNotMatch(out, /wJalrXUtnFEMI/, 'the secret key beside the id goes');
  assert.ok(out.includes(`export { ${identifier} };`), 'code far from the id is left as it is');
});

test('code that names a private-key header is read as it is; a key block, whole or cut off, still goes', () => {
  const code = [
    "export function isOpenSshKey(text: string): boolean {",
    "  return text.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----');",
    '}',
    '',
    'export function parse(text: string) {',
    '  return decode(text.split("\\n").slice(1, -1).join(""));',
    '}',
  ].join('\n');
  assert.equal(redactCredentials(code), code);
  const key = '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nMIIEpAIBAAKCAQEA7bq98y/+Z5aW\n';
  assert.equal(redactCredentials(`${key}-----END RSA PRIVATE KEY-----\nafter`), '[redacted]\nafter');
  assert.equal(redactCredentials(`cut: ${key}`), 'cut: [redacted]');
  assert.equal(redactCredentials(JSON.stringify(`${key}-----END RSA PRIVATE KEY-----`)), '"[redacted]"', 'JSON-escaped too');
});
