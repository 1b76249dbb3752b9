/**
 * The JSON policy rules (the friendly shorthand, `policy.ts`) written as Cedar, so one engine decides everything
 * and `deputy policy explain` can show each rule as the Cedar it is. A rule becomes one policy:
 * deny → `forbid`, ask → `permit` with `@decision("ask")`, allow → `permit`; `tools` → the actions; `paths` →
 * the globs that matched (`context.input.globs`, or `globsIgnoreCase` for deny and ask, which also catch another
 * spelling of the same file on a case-insensitive disk); `commands` → the exact command line.
 */
import { NAMESPACE } from './schema.js';

export interface ShorthandRule {
  /** The rule's name in decisions, e.g. `org.json rule 2`. */
  label: string;
  tools?: readonly string[];
  paths?: readonly string[];
  commands?: readonly string[];
  decision: 'allow' | 'ask' | 'deny';
  reason: string;
}

/** A Cedar string literal (Cedar's escapes differ from JSON's for control characters). */
export function cedarString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

const list = (items: readonly string[]): string => `[${items.map(cedarString).join(', ')}]`;
export const actionRef = (tool: string): string => `${NAMESPACE}::Action::${cedarString(tool)}`;

/** `allTools`: what a rule without `tools` (or with `*`) covers. */
export function shorthandToCedar(rule: ShorthandRule, allTools: readonly string[]): string {
  const tools = !rule.tools || rule.tools.includes('*') ? allTools : rule.tools;
  const conditions: string[] = [];
  if (rule.paths) conditions.push(`context.input.${rule.decision === 'allow' ? 'globs' : 'globsIgnoreCase'}.containsAny(${list(rule.paths)})`);
  if (rule.commands) conditions.push(`${list(rule.commands)}.contains(context.input.command)`);
  const notes = [`@id(${cedarString(rule.label)})`, `@reason(${cedarString(rule.reason)})`];
  if (rule.decision === 'ask') notes.push('@decision("ask")');
  const effect = rule.decision === 'deny' ? 'forbid' : 'permit';
  const when = conditions.length ? `\nwhen { ${conditions.join(' && ')} }` : '';
  return `${notes.join('\n')}\n${effect} (principal, action in [${tools.map(actionRef).join(', ')}], resource)${when};\n`;
}
