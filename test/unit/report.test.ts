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
import { AuditLog } from '../../src/core/audit.js';
import { generateSigningKey, pemSigner } from '../../src/core/audit-digest.js';

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

  it("says per trail whether its signatures verify with --public-key: verified, broken, unsigned or not checked", async () => {
    const ours = generateSigningKey();
    const theirs = generateSigningKey();
    const signedWith = async (name: string, key: string): Promise<string> => {
      const root = path.join(tmp, name);
      await fs.mkdir(root, { recursive: true });
      const log = await AuditLog.open(root, { signer: pemSigner(key) });
      await log.append({ type: 'task.started', task: 't1', actor: ALICE, data: { task: 'sign me' } });
      await log.append({ type: 'session.created', session: `sess_${name}`, task: 't1', actor: ALICE, data: { model: 'gpt-5' } });
      await log.append({ type: 'task.finished', session: `sess_${name}`, task: 't1', actor: ALICE, data: { status: 'completed' } });
      await log.close();
      return root;
    };
    const good = await signedWith('signed-ours', ours.privateKeyPem);
    const replaced = await signedWith('signed-theirs', theirs.privateKeyPem);
    const keyFile = path.join(tmp, 'audit.pub');
    await fs.writeFile(keyFile, ours.publicKeyPem);

    const out = path.join(tmp, 'signed.json');
    const html = path.join(tmp, 'signed.html');
    const cli = await runCaptured(reportCommand, ['--public-key', keyFile, '--json', out, '--html', html, good, replaced, shop], {});
    assert.equal(cli.code, 0, cli.stderr);
    const json = JSON.parse(await fs.readFile(out, 'utf8')) as { trails: Array<{ workspace: string; signature: { state: string; detail: string } }>; sessions: Array<{ id: string }> };
    const state = (ws: string) => json.trails.find((t) => t.workspace === ws)?.signature;
    assert.equal(state(good)?.state, 'verified');
    assert.match(state(good)!.detail, /^1 digest verified, covering records 1–\d+$/);
    assert.equal(state(replaced)?.state, 'broken', 'a chain signed with another key does not verify');
    assert.equal(state(shop)?.state, 'unsigned');
    assert.match(cli.stderr, /signed-theirs.*signatures broken/);
    // What a broken signature cannot vouch for is left out, as after a broken chain.
    assert.ok(json.sessions.some((s) => s.id === 'sess_signed-ours'));
    assert.ok(!json.sessions.some((s) => s.id === 'sess_signed-theirs'));
    const page = await fs.readFile(html, 'utf8');
    assert.match(page, /<th scope="col">Signatures<\/th>/);
    assert.match(page, /class="ok">verified: 1 digest verified/);
    assert.match(page, /class="bad">broken: /);
    assert.match(page, /unsigned: no signed digests/);

    // Without a key: digests present are "not checked", none is "unsigned"; the summary says so.
    const summary = await runCaptured(reportCommand, [good, shop], {});
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /signed-ours.*signatures not checked: signed digests present; give --public-key/);
    assert.match(summary.stdout, /audit\.jsonl: chain verified; signatures unsigned/);
  });

  it('over several folders, one without a trail is skipped and named, not the end of the report', async () => {
    const empty = path.join(tmp, 'no-trail-yet');
    await fs.mkdir(empty, { recursive: true });
    const out = path.join(tmp, 'multi.json');
    const cli = await runCaptured(reportCommand, ['--json', out, shop, empty, infra], {});
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /skipped .*no-trail-yet: there is no audit trail/);
    const json = JSON.parse(await fs.readFile(out, 'utf8')) as { trails: unknown[]; skipped: Array<{ path: string }>; sessions: unknown[] };
    assert.equal(json.trails.length, 2);
    assert.deepEqual(json.skipped.map((s) => s.path), [empty]);
    assert.equal(json.sessions.length, 3);
    // Only folders without any trail: that is still an error.
    const none = await runCaptured(reportCommand, [empty], {});
    assert.equal(none.code, 1);
    assert.match(none.stderr, /There is no audit trail in .*no-trail-yet/);
  });
});
