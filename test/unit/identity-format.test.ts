/** How the identity reads on the status bar, in its tooltip and on the clipboard. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityForClipboard, identityText, identityTooltip, principalName, timeLeft } from '../../src/extension/identity-format.js';
import type { IdentityStatus } from '../../src/protocol/lsp.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const signedIn: IdentityStatus = {
  state: 'signedIn',
  profile: 'dev',
  principal: {
    arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123/alice@example.com',
    account: '111122223333',
    roleName: 'AWSReservedSSO_Dev_0123',
    sessionName: 'alice@example.com',
  },
  expiresAt: '2026-11-30T14:05:30Z',
  expiry: 'ok',
};

test('the countdown reads in the largest units that matter', () => {
  const at = (ms: number) => new Date(NOW + ms).toISOString();
  assert.equal(timeLeft(at(2 * 3600_000 + 5 * 60_000 + 30_000), NOW), '2h 05m');
  assert.equal(timeLeft(at(14 * 60_000 + 59_000), NOW), '14m');
  assert.equal(timeLeft(at(42_000), NOW), '42s');
  assert.equal(timeLeft(at(3 * 86400_000 + 4 * 3600_000), NOW), '3d 4h');
  assert.equal(timeLeft(at(0), NOW), 'expired');
  assert.equal(timeLeft(at(-5000), NOW), 'expired');
});

test('the item names the principal, account, profile and time left; each other state says what to do', () => {
  assert.equal(identityText(signedIn, NOW), 'alice@example.com · 111122223333 · dev · 2h 05m');
  const roleOnly: IdentityStatus = { ...signedIn, principal: { arn: 'arn:aws:sts::1:assumed-role/Ops/x', account: '1', roleName: 'Ops' } };
  assert.equal(principalName(roleOnly), 'Ops');
  const user: IdentityStatus = { state: 'signedIn', expiry: 'none', principal: { arn: 'arn:aws:iam::1:user/bob', account: '1' } };
  assert.equal(identityText(user, NOW), 'bob · 1 · default', 'no expiry: no countdown');
  assert.equal(identityText({ state: 'signInRequired', profile: 'dev', reason: 'expired', expiry: 'expired' }, NOW), 'dev: sign-in expired');
  assert.equal(identityText({ state: 'signInRequired', profile: 'dev', reason: 'signedOut', expiry: 'none' }, NOW), 'dev: signed out');
  assert.equal(identityText({ state: 'signInRequired', profile: 'dev', reason: 'missing', expiry: 'none' }, NOW), 'dev: sign in');
});

test('the tooltip has the full ARN and expiry; the clipboard has the facts and nothing else', () => {
  const tip = identityTooltip({ ...signedIn, renewable: true }, NOW);
  assert.match(tip, /Principal: arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_Dev_0123\/alice@example.com/);
  assert.match(tip, /renews by itself/);
  assert.equal(
    identityForClipboard(signedIn),
    [
      'Principal: arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123/alice@example.com',
      'Account: 111122223333',
      'Role: AWSReservedSSO_Dev_0123',
      'Session: alice@example.com',
      'Profile: dev',
      'Expires: 2026-11-30T14:05:30Z',
    ].join('\n'),
  );
  assert.equal(identityForClipboard({ state: 'none', expiry: 'none' }), '');
});
