/**
 * The principal's tags come from the identity Deputy acts as (account, partition, kind, role and session of a role
 * session, IAM user name, the AWS profile), so an organisation's policy can name roles and accounts; and Cedar's
 * comparisons are case-sensitive — a tag is matched exactly as IAM spells it, which the tests pin down. The same tags
 * reach the decisions of a real task through the tool runner, not only a policy built by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityTags, principalOf } from '../../src/core/cedar/request.js';
import { Policy } from '../../src/core/policy.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { AuditLog } from '../../src/core/audit.js';
import type { Prompter } from '../../src/core/prompter.js';
import { Workspace } from '../../src/core/workspace.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSO_ARN = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice@example.com';

test('tags from each kind of identity', () => {
  assert.deepEqual(identityTags(SSO_ARN, '111122223333'), {
    account: '111122223333',
    partition: 'aws',
    kind: 'assumed-role',
    role: 'AWSReservedSSO_Developer_0123456789abcdef',
    session: 'alice@example.com',
  });
  assert.deepEqual(identityTags('arn:aws-us-gov:iam::444455556666:user/eng/bob', ''), {
    account: '444455556666',
    partition: 'aws-us-gov',
    kind: 'user',
    userName: 'bob',
    path: '/eng/',
  });
  assert.deepEqual(identityTags('arn:aws:iam::111122223333:root', '111122223333'), { account: '111122223333', partition: 'aws', kind: 'root' });
  assert.deepEqual(identityTags('local:carol', ''), { kind: 'local', userName: 'carol' });
  assert.deepEqual(principalOf({ principal: SSO_ARN, account: '111122223333' }, { profile: 'dev' }).tags.profile, 'dev');
  // A local user was not resolved through a profile: no profile tag.
  assert.equal(principalOf({ principal: 'carol' }, { profile: 'dev' }).tags.profile, undefined);
});

const ORG = `@id("admins-write") permit (principal, action == Deputy::Action::"propose_changes", resource)
when { principal.hasTag("role") && principal.getTag("role") like "AWSReservedSSO_Admin*" };

@id("prod-account-asks") @decision("ask") permit (principal, action == Deputy::Action::"workspace_read", resource)
when { principal.hasTag("account") && principal.getTag("account") == "999999999999" };

@id("contractors-no-secrets") forbid (principal, action == Deputy::Action::"workspace_read", resource)
when { principal.hasTag("profile") && principal.getTag("profile") == "contractor" && context.input.pathSegments.contains("secrets") };
`;

function policyFor(arn: string, profile?: string): Policy {
  return Policy.combine(Policy.defaults(), Policy.parseCedar(ORG, 'org.cedar', 'org')).withPrincipal(principalOf({ principal: arn }, { profile }));
}

test('organisation policies decide by role, account and profile', () => {
  const admin = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_42/dana';
  assert.deepEqual(policyFor(admin).decide({ tool: 'propose_changes', path: 'a.txt' }).policies, ['org:admins-write']);
  assert.equal(policyFor(admin).decide({ tool: 'propose_changes', path: 'a.txt' }).decision, 'allow');
  assert.equal(policyFor(SSO_ARN).decide({ tool: 'propose_changes', path: 'a.txt' }).decision, 'ask', 'a developer is not an admin');
  const prod = 'arn:aws:sts::999999999999:assumed-role/Deploy/erin';
  assert.deepEqual(policyFor(prod).decide({ tool: 'workspace_read', path: 'src/a.ts' }).policies, ['org:prod-account-asks']);
  assert.equal(policyFor(SSO_ARN, 'contractor').decide({ tool: 'workspace_read', path: 'secrets/x.txt' }).decision, 'deny');
  assert.equal(policyFor(SSO_ARN, 'dev').decide({ tool: 'workspace_read', path: 'secrets/x.txt' }).decision, 'allow');
});

test('tags are compared case-sensitively, exactly as IAM spells them', () => {
  const lower = 'arn:aws:sts::111122223333:assumed-role/awsreservedsso_admin_42/dana';
  assert.equal(policyFor(lower).decide({ tool: 'propose_changes', path: 'a.txt' }).decision, 'ask', 'another spelling of the role is another string');
  assert.equal(policyFor(SSO_ARN, 'Contractor').decide({ tool: 'workspace_read', path: 'secrets/x.txt' }).decision, 'allow');
});

test("a task's tool calls are decided with the identity's tags (the runner keeps the loader's principal)", async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-principal-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  await mkdir(join(root, 'secrets'));
  await writeFile(join(root, 'secrets', 'x.txt'), 'classified\n');
  const admin = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_42/dana';
  const audit = await AuditLog.open(root);
  t.after(() => audit.close());
  const runner = new ToolRunner({
    workspace: await Workspace.open(root),
    policy: policyFor(admin, 'contractor'),
    audit,
    prompter: { ask: () => Promise.reject(new Error('no question expected')) } as unknown as Prompter,
    actor: { principal: admin, account: '111122223333' },
    task: 'task_1',
  });
  const out = await runner.run({ session: 'sess_1', callId: 'call_1', name: 'workspace_read', args: { path: 'secrets/x.txt' } });
  assert.equal(out.success, false);
  assert.match(out.error ?? '', /contractors-no-secrets/);
});
