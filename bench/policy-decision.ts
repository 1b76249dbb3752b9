/**
 * `policy-decision`: what deciding by Cedar costs against the JSON shorthand's JavaScript matcher, on the same
 * requests — the decision table's 80-odd cases (test/fixtures/policy/table.ts).
 *
 * - ours: the table's full policy (org and workspace Cedar, the workspace's shorthand compiled to Cedar, grants)
 *   through the Cedar engine: `Policy.decide` for tool calls, `judgeWithPolicy` (shell parse, every segment and
 *   the whole line asked of Cedar) for commands;
 * - reference: the workspace's shorthand alone, decided the pre-Cedar way: the JavaScript rule matcher
 *   (`shorthand-reference.ts`) for tool calls, `judgeCommand` with the shorthand and built-in command rules (no
 *   Cedar) for commands.
 * Before timing, the Cedar engine is checked to decide a shorthand-only policy exactly as the reference does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Policy } from '../src/core/policy.js';
import { commandRulesOf, judgeCommand, judgeWithPolicy } from '../src/environment/command-policy.js';
import { COMMAND_CASES, EXTRA_CASES, TOOL_CASES, tablePolicy } from '../test/fixtures/policy/table.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { compare, type Side } from './measure.js';
import { formatRatio } from './report.js';
import { referenceDecide, type ReferenceRule } from './shorthand-reference.js';

const SHORTHAND = JSON.parse(readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'policy', 'workspace.json'), 'utf8')) as { rules: Omit<ReferenceRule, 'label'>[] };
const REFERENCE_RULES: ReferenceRule[] = SHORTHAND.rules.map((r, i) => ({ ...r, label: `workspace.json rule ${i + 1}` }));
const TOOL_REQUESTS = [...TOOL_CASES, ...EXTRA_CASES].map((c) => c.req);
const COMMAND_ARGVS = COMMAND_CASES.map((c) => ['bash', '-lc', c.line]);

/** One pass over every case; returns how many decisions were made. */
function pass(decideTool: (i: number) => string, decideCommand: (i: number) => string): number {
  let n = 0;
  for (let i = 0; i < TOOL_REQUESTS.length; i++, n++) if (!decideTool(i)) throw new Error('no decision');
  for (let i = 0; i < COMMAND_ARGVS.length; i++, n++) if (!decideCommand(i)) throw new Error('no decision');
  return n;
}

export const policyDecision: Benchmark = {
  id: 'policy-decision',
  title: 'Policy decision: Cedar (org + workspace + grants) vs the JSON shorthand matcher, same 80-odd cases',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const passes = Math.max(1, Math.round((config.commands ?? 100) / 10));
    const shorthandOnly = Policy.combine(Policy.defaults(), Policy.parse(SHORTHAND, 'workspace.json', 'workspace'));
    // The engines agree where both can speak: the shorthand alone, compiled to Cedar, decides as the matcher did.
    for (const req of TOOL_REQUESTS) {
      const cedar = shorthandOnly.decide(req);
      const ref = referenceDecide(REFERENCE_RULES, req);
      if (cedar.decision !== ref.decision || (cedar.policies[0] ?? '') !== ref.rule) {
        throw new Error(`Cedar and the shorthand matcher disagree on ${JSON.stringify(req)}: ${cedar.decision} ${cedar.policies[0]} vs ${ref.decision} ${ref.rule}`);
      }
    }
    const referenceRules = commandRulesOf(shorthandOnly);
    const ours: Side<Policy> = {
      label: 'Cedar',
      setup: async () => tablePolicy(),
      run: async (policy) => {
        let n = 0;
        for (let k = 0; k < passes; k++) n += pass((i) => policy.decide(TOOL_REQUESTS[i]!).decision, (i) => judgeWithPolicy(COMMAND_ARGVS[i]!, policy).decision);
        return n;
      },
    };
    const reference: Side<null> = {
      label: 'shorthand matcher',
      setup: async () => null,
      run: async () => {
        let n = 0;
        for (let k = 0; k < passes; k++) n += pass((i) => referenceDecide(REFERENCE_RULES, TOOL_REQUESTS[i]!).decision, (i) => judgeCommand(COMMAND_ARGVS[i]!, referenceRules).decision);
        return n;
      },
    };
    const cases = TOOL_REQUESTS.length + COMMAND_ARGVS.length;
    log(`policy-decision: ${cases} cases × ${passes} passes per run, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
    const comparison = await compare(ours, reference, config);
    return {
      id: this.id,
      title: this.title,
      unit: 'decisions',
      input: `the decision table's ${cases} cases (${TOOL_REQUESTS.length} tool calls, ${COMMAND_ARGVS.length} command lines) × ${passes} passes`,
      ours: '`Policy.decide` / `judgeWithPolicy` with the org and workspace Cedar files, the workspace shorthand and grants (cedar-wasm, preparsed policy sets)',
      reference: 'the pre-Cedar JavaScript shorthand matcher (`bench/shorthand-reference.ts`) / `judgeCommand` with the shorthand and built-in command rules',
      meaning: `decisions per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means Cedar makes ${shareInWords(comparison.ratio)} decisions per second as the JavaScript matcher; a decision stays far below a model turn either way.`,
      verified: 'before timing, the workspace shorthand compiled to Cedar gives the same decision and deciding rule as the JavaScript matcher on every tool case',
      comparison,
    };
  },
};
