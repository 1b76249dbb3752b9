/**
 * Command rules: the part of a policy file that judges the commands an agent runs in Deputy's environment
 * (`process/start`). Prefix rules in the spirit of Codex's execpolicy: a rule names the first words of a command
 * (each a word or a list of alternatives) and says allow, ask or deny, with a reason.
 *
 * In a policy file, beside `rules`:
 * ```json
 * { "commandRules": [
 *   { "prefix": ["npm", ["install", "ci"]], "decision": "allow", "network": true, "reason": "installs need the registry" },
 *   { "prefix": ["git", "push"], "withArgs": [["--force", "-f"]], "decision": "deny", "reason": "no force pushes" },
 *   { "exact": "npm test 2>&1 | tee test.log", "decision": "allow" } ] }
 * ```
 * The format lives in the engine (this file) because policy files are the engine's; the matching lives with the
 * command gate (`src/environment/command-policy.ts`).
 */

import type { Decision } from './policy.js';

/** One word of a pattern: the word itself, one of several words, or a whole-word regular expression. */
export type CommandToken = string | readonly string[] | { readonly regex: string };

export interface CommandRule {
  /**
   * The command's first words. The command name matches by its bare name (`rm` also matches `/bin/rm` for ask
   * and deny; allow needs the bare name or a system directory, so `./rm` or `/tmp/x/ls` are never allowed by
   * an `ls` rule). Absent when `exact` is given; an empty prefix matches every command.
   */
  prefix?: readonly CommandToken[];
  /** Each group must be matched by some argument after the prefix (`-f` also matches inside `-rf`; `--out` matches `--out=x`). */
  withArgs?: readonly (readonly CommandToken[])[];
  /** The command has no arguments beyond the prefix. */
  noMoreArgs?: boolean;
  /**
   * The whole command line, exactly (only leading and trailing whitespace is ignored: inside a line, a newline is
   * a command separator and spaces can be inside quotes). The only kind of rule that can allow a line with
   * redirects, substitutions, here-docs, `eval` or newlines: it allows exactly that text.
   */
  exact?: string;
  decision: Decision;
  reason?: string;
  /** A command this rule allows may use the network (the sandbox otherwise has none). */
  network?: boolean;
  /** Names the rule in verdicts: `org.json command rule 2`, `built-in: …`. */
  label?: string;
}

const RULE_FIELDS = ['prefix', 'withArgs', 'noMoreArgs', 'exact', 'decision', 'reason', 'network'];

/**
 * Validates the `commandRules` array of a policy file. `fail(field, problem)` throws the caller's error type, so a
 * bad command rule reads like any other policy error.
 */
export function parseCommandRules(raw: unknown, label: string, fail: (field: string, problem: string) => never): CommandRule[] {
  if (!Array.isArray(raw)) fail('"commandRules"', 'must be an array');
  return (raw as unknown[]).map((item, i): CommandRule => {
    const at = `commandRules[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) fail(at, 'must be an object');
    const r = item as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!RULE_FIELDS.includes(key)) fail(`${at}.${key}`, `is not a command rule field (expected ${RULE_FIELDS.join(', ')})`);
    }
    if (r.decision !== 'allow' && r.decision !== 'ask' && r.decision !== 'deny') fail(`${at}.decision`, 'must be "allow", "ask" or "deny"');
    if ((r.prefix === undefined) === (r.exact === undefined)) fail(at, 'must have exactly one of "prefix" and "exact"');
    const rule: CommandRule = { decision: r.decision as Decision, label: `${label} command rule ${i + 1}` };
    if (r.prefix !== undefined) {
      if (!Array.isArray(r.prefix)) fail(`${at}.prefix`, 'must be an array of words');
      rule.prefix = (r.prefix as unknown[]).map((t, j) => parseToken(t, `${at}.prefix[${j}]`, fail));
    }
    if (r.exact !== undefined) {
      if (typeof r.exact !== 'string' || r.exact.trim() === '') fail(`${at}.exact`, 'must be a non-empty string');
      if (r.withArgs !== undefined || r.noMoreArgs !== undefined) fail(at, '"exact" cannot be combined with "withArgs" or "noMoreArgs"');
      rule.exact = normalizeCommandLine(r.exact as string);
    }
    if (r.withArgs !== undefined) {
      if (!Array.isArray(r.withArgs) || r.withArgs.length === 0) fail(`${at}.withArgs`, 'must be a non-empty array of word lists');
      rule.withArgs = (r.withArgs as unknown[]).map((group, j) => {
        if (!Array.isArray(group) || group.length === 0) fail(`${at}.withArgs[${j}]`, 'must be a non-empty array of words');
        return (group as unknown[]).map((t, k) => parseToken(t, `${at}.withArgs[${j}][${k}]`, fail));
      });
    }
    if (r.noMoreArgs !== undefined) {
      if (typeof r.noMoreArgs !== 'boolean') fail(`${at}.noMoreArgs`, 'must be true or false');
      rule.noMoreArgs = r.noMoreArgs as boolean;
    }
    if (r.network !== undefined) {
      if (typeof r.network !== 'boolean') fail(`${at}.network`, 'must be true or false');
      rule.network = r.network as boolean;
    }
    if (r.reason !== undefined) {
      if (typeof r.reason !== 'string') fail(`${at}.reason`, 'must be a string');
      rule.reason = r.reason as string;
    }
    return rule;
  });
}

function parseToken(raw: unknown, field: string, fail: (field: string, problem: string) => never): CommandToken {
  if (typeof raw === 'string') {
    if (raw === '') fail(field, 'must be a non-empty word');
    return raw;
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0 || raw.some((w) => typeof w !== 'string' || w === '')) fail(field, 'must be a non-empty list of words');
    return raw as string[];
  }
  if (typeof raw === 'object' && raw !== null && Object.keys(raw).length === 1 && typeof (raw as { regex?: unknown }).regex === 'string') {
    const regex = (raw as { regex: string }).regex;
    try {
      new RegExp(regex);
    } catch (err) {
      fail(`${field}.regex`, `is not a valid regular expression: ${(err as Error).message}`);
    }
    return { regex };
  }
  return fail(field, 'must be a word, a list of alternative words, or {"regex": "…"}');
}

/** How an exact rule and a command line are compared: trimmed, nothing else (see `CommandRule.exact`). */
export function normalizeCommandLine(line: string): string {
  return line.trim();
}
