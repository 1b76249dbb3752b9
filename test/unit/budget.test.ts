/**
 * The price and meter math behind budgets: the cost of a usage report (cached input at its own rate), the table's
 * lookup and its override, budget parsing, the meter's 80% warning (once) and 100% stop, the day's ledger shared by
 * sessions of several processes (files written concurrently), and a raise that only `raise` performs, on the trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { AuditLog } from '../../src/core/audit.js';
import { EngineEvents } from '../../src/core/event-channel.js';
import { BudgetMeter, parseBudget, type BudgetEvent } from '../../src/core/budget.js';
import { DaySpendLedger, localDay } from '../../src/core/day-spend.js';
import { costUsd, normaliseModel, parsePriceOverrides, priceFor, PRICE_TABLE } from '../../src/core/prices.js';

const usage = (input: number, output: number, cached = 0) => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
  input_tokens_details: { cached_tokens: cached },
});

test('cost: cached input is charged at the cached rate, the rest of the input and the output at theirs', () => {
  const gpt5 = priceFor('gpt-5')!;
  // 1M input of which 400k cached, 100k output: 600k × 1.25 + 400k × 0.125 + 100k × 10 per million.
  assert.equal(costUsd(usage(1_000_000, 100_000, 400_000), gpt5), 0.75 + 0.05 + 1);
  // Without a cached rate, cached input costs the input price.
  assert.equal(costUsd(usage(1_000_000, 0, 500_000), { inputPerMillion: 2, outputPerMillion: 8 }), 2);
  // A report claiming more cached than input tokens cannot make the cost negative.
  assert.ok(costUsd(usage(10, 0, 50), gpt5) >= 0);
});

test('price table: dated snapshots and provider prefixes find their model; overrides win; unknown models have none', () => {
  assert.equal(normaliseModel('gpt-4.1-2025-04-14'), 'gpt-4.1');
  assert.equal(normaliseModel('openai/GPT-5-mini'), 'gpt-5-mini');
  assert.equal(normaliseModel('openai.o4-mini'), 'o4-mini');
  assert.deepEqual(priceFor('gpt-4.1-2025-04-14'), PRICE_TABLE['gpt-4.1']);
  assert.equal(priceFor('llama3.1:8b'), undefined);
  const overrides = parsePriceOverrides({ 'llama3.1:8b': { input: 0.1, output: 0.2 }, 'gpt-5': { input: 1, cachedInput: 0.1, output: 2 } });
  assert.deepEqual(priceFor('llama3.1:8b', overrides), { inputPerMillion: 0.1, outputPerMillion: 0.2 });
  assert.equal(priceFor('gpt-5', overrides)!.outputPerMillion, 2);
  assert.throws(() => parsePriceOverrides({ m: { input: -1, output: 1 } }), /"m" needs "input"/);
  assert.throws(() => parsePriceOverrides([1]), /Prices are an object/);
});

test('budgets parse in dollars or tokens, and nothing else', () => {
  assert.deepEqual(parseBudget('2usd'), { unit: 'usd', amount: 2 });
  assert.deepEqual(parseBudget('$2.50'), { unit: 'usd', amount: 2.5 });
  assert.deepEqual(parseBudget('3'), { unit: 'usd', amount: 3 });
  assert.deepEqual(parseBudget('50000tokens'), { unit: 'tokens', amount: 50_000 });
  assert.deepEqual(parseBudget('50k tokens'), { unit: 'tokens', amount: 50_000 });
  for (const bad of ['', '0usd', '-1', 'two dollars', '2k usd', '$5tokens', '1e9']) assert.throws(() => parseBudget(bad), /not a budget/, bad);
});

test('meter: warns once at 80%, stops at 100%, and a raise lifts the stop and is recorded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'deputy-budget-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  const audit = await AuditLog.open(dir);
  t.after(() => audit.close());
  const events: BudgetEvent[] = [];
  const actor = { principal: 'arn:aws:iam::1:user/dev' };
  const meter = new BudgetMeter({
    key: 'sess_1',
    perTask: { unit: 'usd', amount: 1 },
    price: { inputPerMillion: 1, outputPerMillion: 1 },
    trail: { events: EngineEvents.forTask(audit, actor, 'task_1'), session: 'sess_1' },
    onEvent: (e) => events.push(e),
  });
  const stops: number[] = [];
  meter.onReached((r) => stops.push(r.spent));
  assert.equal(await meter.observe({ usage: usage(500_000, 0) }), undefined);
  await meter.observe({ usage: usage(850_000, 0) });
  await meter.observe({ usage: usage(900_000, 0) });
  assert.equal(events.filter((e) => e.kind === 'warning').length, 1, 'one warning, however often the meter is read past 80%');
  const hit = await meter.observe({ usage: usage(1_000_000, 10_000) });
  assert.equal(hit?.scope, 'task');
  assert.match(hit!.message, /Budget reached: this task's budget of \$1\.00 is spent \(\$1\.01\)/);
  assert.deepEqual(stops, [1.01]);
  assert.ok(await meter.check(), 'stays reached until a person raises it');
  const meters = events.filter((e): e is Extract<BudgetEvent, { kind: 'meter' }> => e.kind === 'meter');
  assert.deepEqual(meters.at(-1)!.states, [{ scope: 'task', unit: 'usd', spent: 1.01, limit: 1 }]);

  await meter.raise('task', { unit: 'usd', amount: 2 }, actor);
  assert.equal(await meter.check(), undefined);
  await audit.close();
  const { readFile } = await import('node:fs/promises');
  const records = (await readFile(audit.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  assert.deepEqual(records.map((r) => r.type), ['budget.warning', 'budget.reached', 'budget.raised']);
  assert.deepEqual(records[2]!.data, { scope: 'task', unit: 'usd', from: 1, to: 2 });
});

test('meter: a dollar budget for a model without a price counts the endpoint\'s own spend, or says it cannot', async () => {
  const events: BudgetEvent[] = [];
  const meter = new BudgetMeter({ key: 's', perTask: { unit: 'usd', amount: 0.5 }, onEvent: (e) => events.push(e) });
  await meter.observe({ usage: usage(1000, 1000) });
  assert.equal(events.filter((e) => e.kind === 'unmeasured').length, 1);
  const hit = await meter.observe({ usage: usage(2000, 1000), spend_control: { consumed: 60 } });
  assert.equal(hit?.spent, 0.6);
});

test('day ledger: sessions of several processes add up, each writing its own total; the raise is shared', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'deputy-day-'));
  t.after(() => rm(home, { recursive: true, force: true, maxRetries: 5 }));
  const now = () => new Date(2026, 10, 30, 12);
  const ledger = DaySpendLedger.forHome({ DEPUTY_HOME: home }, now);
  const day = localDay(now());
  // Twelve writers in four processes at once, each rewriting its session's running total many times.
  const child = join(home, 'writer.mjs');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    child,
    `import { DaySpendLedger } from ${JSON.stringify(pathToFileURL(join(__dirname, '../../src/core/day-spend.ts')).href)};
     const l = DaySpendLedger.forHome({ DEPUTY_HOME: process.argv[2] }, () => new Date(2026, 10, 30, 12));
     await Promise.all([0, 1, 2].map(async (k) => { for (let i = 1; i <= 20; i++) await l.record(process.argv[3], 'p' + process.argv[4] + 's' + k, { usd: i / 100, tokens: i * 100 }); }));`,
  );
  await Promise.all(
    [0, 1, 2, 3].map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          const c = fork(child, [home, day, String(p)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
        }),
    ),
  );
  const total = await ledger.total(day);
  assert.equal(total.tokens, 12 * 2000);
  assert.equal(Math.round(total.usd * 100), 12 * 20);
  assert.deepEqual((await readdir(join(home, 'spend', day))).filter((n) => n.endsWith('.tmp')), []);

  const a = new BudgetMeter({ key: 'a', perDay: { unit: 'tokens', amount: 30_000 }, ledger });
  const b = new BudgetMeter({ key: 'b', perDay: { unit: 'tokens', amount: 30_000 }, ledger });
  assert.equal(await a.observe({ usage: usage(3000, 0) }), undefined);
  // Session b pushes the day past 30,000 tokens: a learns it at its next check, without any usage of its own.
  assert.equal((await b.observe({ usage: usage(3000, 1000) }))?.scope, 'day');
  assert.equal((await a.check())?.scope, 'day');
  await b.raise('day', { unit: 'tokens', amount: 40_000 }, { principal: 'me' });
  assert.equal(await a.check(), undefined, 'a raise of the day by one process holds for every session');
});
