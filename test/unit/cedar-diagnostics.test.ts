/** Schema-invalid policies give diagnostics with line and column (the CLI's side: test/integration/cli-policy.test.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicySet } from '../../src/core/cedar/policy-set.js';
import { Policy, PolicyError } from '../../src/core/policy.js';

const HEAD = 'permit (principal, action == Deputy::Action::"workspace_read", resource)\n';

/** [name, policy text, line, column, message pattern]. */
const INVALID: [string, string, number, number, RegExp][] = [
  ['a misspelt context attribute', `${HEAD}when { context.input.pth == "x" };`, 2, 8, /attribute `input\.pth`.*not found/],
  ['a fact compared with the wrong type', `${HEAD}when { context.input.secretFile == "yes" };`, 2, 8, /type/i],
  ['an unknown action', 'permit (principal, action == Deputy::Action::"delete_everything", resource);', 1, 1, /delete_everything/],
  ['an unknown entity type', 'permit (principal is Deputy::Robot, action, resource);', 1, 1, /Robot/],
  ['a syntax error', 'permit (principal, action, resource) when { context.input.path == };', 1, 1, /unexpected|parse/i],
  ['a missing semicolon', 'permit (principal, action, resource)\nforbid (principal, action, resource);', 2, 1, /unexpected|parse|expected/i],
  ['a tag read without hasTag', 'forbid (principal, action, resource) when { principal.getTag("role") == "x" };', 1, 1, /tag/],
  ['an unknown @decision', '@decision("maybe")\npermit (principal, action, resource);', 1, 1, /@decision must be "ask"/],
  ['@decision("ask") on a forbid', '@decision("ask")\nforbid (principal, action, resource);', 1, 1, /belongs on a permit/],
  ['@lock in a workspace policy', '@lock("workspace")\npermit (principal, action, resource);', 1, 1, /@lock is for the organisation/],
  ['an unknown @lock target', '@lock("everything")\npermit (principal, action, resource);', 1, 1, /@lock takes/],
  ['two policies with one id', '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);', 2, 1, /two policies have the id "a"/],
  ['@network on a forbid', '@network("allow")\nforbid (principal, action, resource);', 1, 1, /@network/],
];

describe('Cedar policy diagnostics', () => {
  for (const [name, text, line, column, message] of INVALID) {
    it(`${name}: an error at ${line}:${column}`, () => {
      const { set, diagnostics } = parsePolicySet(text, { kind: 'workspace', origin: 'p.cedar', idPrefix: 'workspace' });
      assert.equal(set, null, 'an invalid file is not used');
      const errors = diagnostics.filter((d) => d.severity === 'error');
      assert.ok(errors.length > 0, 'at least one error');
      const hit = errors.find((d) => message.test(d.message));
      assert.ok(hit, `an error matching ${message}: ${JSON.stringify(errors)}`);
      assert.ok(hit.line === line && (column === 1 ? hit.column >= 1 : hit.column === column), `at ${line}:${column}, got ${hit.line}:${hit.column}`);
    });
  }

  it('a valid file gives no diagnostics (control)', () => {
    const { set, diagnostics } = parsePolicySet(`${HEAD}when { context.input.path like "src/*" };`, { kind: 'workspace', origin: 'p.cedar', idPrefix: 'workspace' });
    assert.deepEqual(diagnostics, []);
    assert.equal(set?.policies[0]?.id, 'workspace:policy0');
  });

  it('loading an invalid Cedar file is an error naming file, line and column', () => {
    assert.throws(() => Policy.parseCedar(`${HEAD}when { context.input.pth == "x" };`, 'ws/policy.cedar'), (err: unknown) => err instanceof PolicyError && /ws\/policy\.cedar:2:8: error: .*input\.pth/.test((err as Error).message));
  });
});
