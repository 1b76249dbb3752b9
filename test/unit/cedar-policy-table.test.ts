/**
 * The decision table: org, workspace (Cedar and the JSON shorthand) and grant policies together, each case with
 * the decision and the ids of the policies that made it. Policies and cases: test/fixtures/policy/table.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeWithPolicy } from '../../src/environment/command-policy.js';
import { COMMAND_CASES, EXTRA_CASES, TOOL_CASES, tablePolicy, trialPolicy } from '../fixtures/policy/table.js';

describe('Cedar policy: the decision table', () => {
  it('has at least 80 cases', () => {
    assert.ok(TOOL_CASES.length + COMMAND_CASES.length + EXTRA_CASES.length >= 80, String(TOOL_CASES.length + COMMAND_CASES.length + EXTRA_CASES.length));
  });
  const shared = tablePolicy();
  for (const c of [...TOOL_CASES, ...EXTRA_CASES]) {
    it(`${c.name}: ${c.req.tool} ${c.req.path ?? c.req.command ?? ''} → ${c.expect[0]}`, () => {
      const v = (c.policy?.() ?? shared).decide(c.req);
      assert.deepEqual([v.decision, v.policies], c.expect, v.reason);
    });
  }
  for (const c of COMMAND_CASES) {
    it(`${c.name}: ${c.line} → ${c.expect[0]}`, () => {
      const v = judgeWithPolicy(['bash', '-lc', c.line], c.policy?.() ?? shared);
      assert.deepEqual([v.decision, v.rules], c.expect, v.reason);
    });
  }
});

describe('Cedar policy: log-only sets', () => {
  it('a log-only forbid is computed and reported as the trial, not enforced (commands)', () => {
    const v = judgeWithPolicy(['bash', '-lc', 'npm test'], trialPolicy());
    assert.equal(v.decision, 'allow');
    assert.deepEqual(v.trial && [v.trial.decision, v.trial.rules], ['deny', ['workspace:no-tests-yet']]);
  });
  it('a log-only forbid is reported as the trial (tools)', () => {
    const v = trialPolicy().decide({ tool: 'workspace_read', path: 'docs/a.md' });
    assert.deepEqual(v.trial && [v.trial.decision, v.trial.policies], ['deny', ['workspace:no-docs-reads']]);
  });
  it('no trial where nothing is log-only', () => {
    assert.equal(tablePolicy().decide({ tool: 'workspace_read', path: 'docs/a.md' }).trial, undefined);
  });
});
