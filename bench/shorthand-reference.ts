/**
 * The reference for `policy-decision`: how Deputy decided a tool call before Cedar — the JSON shorthand's rules
 * matched in JavaScript, strictest wins, then the built-in secret-file rule and the defaults. This is the
 * matcher of `src/core/policy.ts` at commit a6b60a5 (before the Cedar engine), kept here only to be measured
 * against; the decisions it gives on the table's shorthand rules are checked equal to the Cedar engine's.
 */
import * as posix from 'node:path/posix';
import { matchGlob } from '../src/core/glob.js';
import { SECRET_FILE_GLOBS, type Decision, type PolicyRequest, type PolicyRule } from '../src/core/policy.js';

const READ_TOOLS: ReadonlySet<string> = new Set(['workspace_list', 'workspace_read', 'workspace_search']);
const RANK: Record<Decision, number> = { allow: 0, ask: 1, deny: 2 };

export interface ReferenceRule extends PolicyRule {
  label: string;
}

const SECRET_FILE_RULE: ReferenceRule = { label: 'built-in rule', tools: [...READ_TOOLS], paths: [...SECRET_FILE_GLOBS], decision: 'ask' };

export function referenceDecide(rules: readonly ReferenceRule[], req: PolicyRequest): { decision: Decision; rule: string } {
  let path: string | undefined;
  if (req.path !== undefined) {
    const normal = normalizePath(req.path);
    if (normal === null) return { decision: 'deny', rule: 'built-in rule (workspace boundary)' };
    path = normal;
  }
  const request = { tool: req.tool, path, command: req.command?.trim().replace(/\s+/g, ' ') };
  let best: ReferenceRule | undefined;
  for (const rule of [...rules, SECRET_FILE_RULE]) {
    if (!matches(rule, request)) continue;
    if (!best || RANK[rule.decision] > RANK[best.decision]) best = rule;
  }
  if (best) return { decision: best.decision, rule: best.label };
  return READ_TOOLS.has(req.tool) ? { decision: 'allow', rule: 'default' } : { decision: 'ask', rule: '' };
}

function matches(rule: ReferenceRule, req: { tool: string; path: string | undefined; command: string | undefined }): boolean {
  if (rule.tools && !rule.tools.some((tool) => tool === '*' || tool === req.tool)) return false;
  if (rule.paths) {
    const path = req.path;
    if (path === undefined) return false;
    const loose = rule.decision !== 'allow';
    if (!rule.paths.some((glob) => (loose ? matchGlob(glob.toLowerCase(), path.toLowerCase()) : matchGlob(glob, path)))) return false;
  }
  if (rule.commands) {
    if (req.command === undefined || !rule.commands.includes(req.command)) return false;
  }
  return true;
}

function normalizePath(raw: string): string | null {
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return null;
  const normal = posix.normalize(slashed).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal === '' ? '.' : normal;
}
