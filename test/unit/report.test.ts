import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { reportCommand } from '../../src/cli/report.js';
import { buildReport } from '../../src/report/model.js';
import { readTrail, trailFile } from '../../src/report/read.js';
import { runCaptured } from '../fixtures/aws/cli-capture.js';
import { ALICE, BOB, writeReportTrails } from '../fixtures/report-trails.js';

let tmp: string;
let shop: string;
let infra: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-report-'));
  ({ shop, infra } = await writeReportTrails(tmp, 'http://127.0.0.1:9'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function reportOf(...folders: string[]) {
  return buildReport(await Promise.all(folders.map(async (f) => readTrail(await trailFile(f)))), { now: new Date('2026-11-30T00:00:00Z') });
}

describe('the governance report', () => {
  it('says per session who asked, which agent and endpoint, what the policy allowed, what it did and who approved each file', async () => {
    const report = await reportOf(shop, infra);
    assert.deepEqual(report.sessions.map((s) => [s.id, s.status]), [
      ['sess_shop_1', 'completed'],
      ['sess_shop_2', 'running'],
      ['sess_infra_1', 'failed'],
    ]);
    const s = report.sessions[0]!;
    assert.equal(s.principal, ALICE.principal);
    assert.equal(s.request, 'Make the greeting friendlier');
    assert.deepEqual([s.agent, s.model, s.provider, s.workspace], ['agent_7', 'gpt-5', 'openai', shop]);
    assert.deepEqual(s.decisions, [
      { decision: 'allow', rule: 'reading source is allowed', count: 1 },
      { decision: 'ask', rule: 'secret files ask', count: 1 },
      { decision: 'deny', rule: '.git is never exposed', count: 1 },
    ]);
    assert.deepEqual(
      s.tools.map((t) => [t.tool, t.decision, t.answer ?? null, t.outcome]),
      [
        ['workspace_read', 'allow', null, 'ok'],
        ['workspace_read', 'ask', 'deny', 'failed'],
        ['workspace_list', 'deny', null, 'failed'],
        ['propose_changes', undefined, null, 'ok'],
      ],
    );
    assert.deepEqual(
      s.changes.map((c) => [c.path, c.status, c.approver ?? null, c.comment ?? null]),
      [
        ['src/greet.js', 'applied', ALICE.principal, null],
        ['README.md', 'rejected', null, 'keep the wording'],
      ],
    );
    assert.equal(s.costUsd, 0.0036);
    assert.deepEqual(s.pending, []);
  });

  it('shows what a running session is waiting on, and a failed one with its error', async () => {
    const report = await reportOf(shop, infra);
    const running = report.sessions.find((s) => s.id === 'sess_shop_2')!;
    assert.deepEqual(running.pending, ['run_command: run npm test (waiting for a person)']);
    const failed = report.sessions.find((s) => s.id === 'sess_infra_1')!;
    assert.deepEqual(failed.failures.map((f) => f.message), ['The model server answered 503']);
    assert.equal(failed.tokens, 3100);
  });

  it('adds up spend by person and endpoint, denials by rule and changes by repository across trails', async () => {
    const { totals } = await reportOf(shop, infra);
    assert.deepEqual(
      totals.spendByPerson.map((p) => [p.principal, p.sessions, p.tokens, Number(p.costUsd.toFixed(4))]),
      [
        [ALICE.principal, 2, 1750, 0.0048],
        [BOB.principal, 1, 3100, 0],
      ],
    );
    assert.deepEqual(totals.spendByEndpoint.map((e) => [e.endpoint, e.sessions]), [['openai', 2], ['bedrock', 1]]);
    assert.deepEqual(totals.denialsByRule, [
      { rule: '.git is never exposed', count: 2 },
      { rule: 'denied by a person', count: 1 },
    ]);
    assert.deepEqual(totals.changesByRepository, [
      { repository: shop, applied: 1, rejected: 1, conflicts: 0 },
      { repository: infra, applied: 0, rejected: 0, conflicts: 0 },
    ]);
  });

  it('takes only sessions since a date, and only the verified part of a tampered trail', async () => {
    const cli = await runCaptured(reportCommand, ['--since', '2026-11-24', '--json', path.join(tmp, 'r.json'), shop, infra], {});
    assert.equal(cli.code, 0, cli.stderr);
    const json = JSON.parse(await fs.readFile(path.join(tmp, 'r.json'), 'utf8'));
    assert.deepEqual(json.sessions.map((s: { id: string }) => s.id), ['sess_infra_1']);

    const copy = path.join(tmp, 'tampered');
    await fs.cp(infra, copy, { recursive: true });
    const file = path.join(copy, '.deputy', 'audit', 'audit.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[6] = lines[6]!.replace('503', '200');
    await fs.writeFile(file, lines.join('\n'));
    const report = await reportOf(copy);
    assert.equal(report.trails[0]!.ok, false);
    assert.match(report.trails[0]!.integrity, /^broken at record 7/);
    assert.deepEqual(report.sessions[0]!.failures, [], 'the edited record is not reported as fact');
    const summary = await runCaptured(reportCommand, [copy], {});
    assert.match(summary.stderr, /warning: .*broken at record 7/);
    assert.match(summary.stdout, /1 session\n .*running .*bob/);
  });

  it('refuses a bad date and a folder without a trail, clearly', async () => {
    const bad = await runCaptured(reportCommand, ['--since', 'last tuesday', shop], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since last tuesday is not a date/);
    const empty = await fs.mkdtemp(path.join(tmp, 'empty-'));
    const none = await runCaptured(reportCommand, [empty], {});
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no audit trail at/);
  });
});
