/**
 * Tool-call policy: whether a client tool call of the agent runs at once, waits for a person, or is refused.
 *
 * Layers are combined, never overridden: every rule of every layer that matches a request is collected, and the
 * strictest decision wins (deny beats ask beats allow). So an org policy's deny or ask cannot be loosened by a
 * workspace policy below it, while a workspace may tighten what the org allows. Built-in rules sit under every
 * policy; when nothing matches, the read-only tools are allowed and everything else asks.
 *
 * Policy file (JSON; unknown fields are errors, so a typo cannot silently drop a rule):
 * ```json
 * { "rules": [
 *   { "tools": ["workspace_read"], "paths": ["secrets/**"], "decision": "deny", "reason": "no secrets" },
 *   { "tools": ["run_command"], "commands": ["npm test"], "decision": "allow" } ] }
 * ```
 * A rule matches when each criterion it names matches (a list matches when any entry does); a rule naming no
 * criterion matches every call. `paths` are globs (`glob.ts`) over workspace-relative paths; `commands` are exact
 * command lines (whitespace runs count as one space).
 *
 * `commandRules` (beside `rules`) judge the commands an agent runs in Deputy's environment: see
 * `command-rules.ts` for their format. A `rules` entry that names `run_command` with `commands` also counts there,
 * as an exact command rule, and one that matches every call (no tools, paths or commands, or tools `*`) as a
 * rule for every command.
 */
import { promises as fs } from 'node:fs';
import * as posix from 'node:path/posix';
import { TOOL_NAMES } from '../protocol/tools.js';
import { parseCommandRules, type CommandRule } from './command-rules.js';
import { compileGlob, matchGlob } from './glob.js';

/**
 * What policy says about a tool call.
 * For `propose_changes`, a `deny` without a path refuses the whole proposal and a `deny` for a file's path
 * refuses that file; `allow` and `ask` both still send every file to a person's review: there is no way to
 * auto-approve a change.
 */
export type Decision = 'allow' | 'ask' | 'deny';

/** One tool call as policy sees it. */
export interface PolicyRequest {
  tool: string;
  /** Workspace-relative, `/`-separated, normalized (no `.` or `..` segments). */
  path?: string;
  /** The command line, for `run_command`. */
  command?: string;
}

export interface PolicyVerdict {
  /** See `Decision` for what `allow` does and does not mean for `propose_changes`. */
  decision: Decision;
  /** Names the rule or default that decided, for the prompt, the audit record and the agent. */
  reason: string;
}

/** A rule as written in a policy file. */
export interface PolicyRule {
  tools?: string[];
  /** Globs over workspace-relative paths. */
  paths?: string[];
  /** Exact command lines. */
  commands?: string[];
  decision: Decision;
  reason?: string;
}

/** Thrown for a policy file that cannot be used; the message names the file and the field. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** Tools a rule may name: the client tools plus `run_command`, or `*` for any. */
export const POLICY_TOOLS: readonly string[] = [...TOOL_NAMES, 'run_command'];
const READ_TOOLS: ReadonlySet<string> = new Set(['workspace_list', 'workspace_read', 'workspace_search']);
const RANK: Record<Decision, number> = { allow: 0, ask: 1, deny: 2 };

interface NamedRule extends PolicyRule {
  /** How a verdict names this rule, e.g. `org.json rule 2`. */
  label: string;
}

/**
 * Files that hold credentials in real repositories and home folders, at any depth: reading (or listing) one always
 * needs a person's yes, whatever a policy allows. SSH keys are named by their key types (`id_rsa*`, `id_ed25519*`,
 * …) rather than `id_*`, which would catch `src/id_utils.ts`. README.md lists these; a test keeps the two in step.
 */
export const SECRET_FILE_GLOBS = [
  // Environment files: `.env`, `.env.local`, `.env_local`, `.envrc`, …
  '**/.env*',
  // Package-registry and network logins.
  '**/.npmrc',
  '**/.yarnrc*',
  '**/.pypirc',
  '**/.netrc',
  '**/_netrc',
  '**/.git-credentials',
  // Container and cluster logins.
  '**/.docker/config.json',
  '**/.kube/config',
  // Keys, certificates with their keys, and key stores.
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/*.jks',
  '**/*.keystore',
  '**/id_{rsa,dsa,ecdsa,ed25519}*',
  // Cloud credentials and infrastructure state (Terraform state holds every secret it created).
  '**/credentials.json',
  '**/terraform.tfvars',
  '**/*.tfstate',
  '**/*.tfstate.backup',
  '**/.aws',
  '**/.aws/**',
  '**/.ssh',
  '**/.ssh/**',
] as const;

const SECRET_FILE_RULE: NamedRule = {
  label: 'built-in rule',
  tools: [...READ_TOOLS],
  paths: [...SECRET_FILE_GLOBS],
  decision: 'ask',
  reason: 'the file may hold credentials, so reading it needs your yes',
};

export class Policy {
  private constructor(
    private readonly rules: readonly NamedRule[],
    private readonly commands: readonly CommandRule[] = [],
  ) {}

  /** No rules of its own: only the built-in rules and the defaults. */
  static defaults(): Policy {
    return new Policy([]);
  }

  static async load(file: string): Promise<Policy> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new PolicyError(
        code === 'ENOENT' ? `Policy file ${file} does not exist.` : `Cannot read policy file ${file}: ${(err as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new PolicyError(`Policy file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    return Policy.parse(json, file);
  }

  /** Validates `json`; `source` names it in errors and verdicts (a file path, "org policy", …). */
  static parse(json: unknown, source: string): Policy {
    const fail = (field: string, problem: string): never => {
      throw new PolicyError(`Policy ${source}: ${field} ${problem}.`);
    };
    if (!isObject(json)) fail('the top level', 'must be an object with a "rules" array');
    const top = json as Record<string, unknown>;
    for (const key of Object.keys(top)) {
      if (!['rules', 'commandRules', '$schema', 'version'].includes(key)) fail(`"${key}"`, 'is not a policy field (expected "rules" or "commandRules")');
    }
    if (top.version !== undefined && top.version !== 1) fail('"version"', 'must be 1');
    if (!Array.isArray(top.rules) && !(top.rules === undefined && top.commandRules !== undefined)) fail('"rules"', 'must be an array');
    const label = source.split(/[\\/]/).pop() || source;
    const commands = top.commandRules === undefined ? [] : parseCommandRules(top.commandRules, label, fail);
    const rules = ((top.rules ?? []) as unknown[]).map((raw, i): NamedRule => {
      const at = `rules[${i}]`;
      if (!isObject(raw)) fail(at, 'must be an object');
      const r = raw as Record<string, unknown>;
      for (const key of Object.keys(r)) {
        if (!['tools', 'paths', 'commands', 'decision', 'reason'].includes(key)) {
          fail(`${at}.${key}`, 'is not a rule field (expected tools, paths, commands, decision, reason)');
        }
      }
      if (r.decision !== 'allow' && r.decision !== 'ask' && r.decision !== 'deny') {
        fail(`${at}.decision`, 'must be "allow", "ask" or "deny"');
      }
      const rule: NamedRule = { label: `${label} rule ${i + 1}`, decision: r.decision as Decision };
      if (r.tools !== undefined) {
        rule.tools = stringList(r.tools, `${at}.tools`, fail);
        for (const [j, tool] of rule.tools.entries()) {
          if (tool !== '*' && !POLICY_TOOLS.includes(tool)) {
            fail(`${at}.tools[${j}]`, `names an unknown tool "${tool}" (known: ${POLICY_TOOLS.join(', ')}, or "*")`);
          }
        }
      }
      if (r.paths !== undefined) {
        rule.paths = stringList(r.paths, `${at}.paths`, fail);
        for (const [j, glob] of rule.paths.entries()) {
          try {
            compileGlob(glob);
          } catch (err) {
            fail(`${at}.paths[${j}]`, `is not a valid glob: ${(err as Error).message}`);
          }
        }
      }
      if (r.commands !== undefined) rule.commands = stringList(r.commands, `${at}.commands`, fail).map(normalizeCommand);
      if (r.reason !== undefined) {
        if (typeof r.reason !== 'string') fail(`${at}.reason`, 'must be a string');
        rule.reason = r.reason as string;
      }
      return rule;
    });
    return new Policy(rules, commands);
  }

  /** Every layer's rules, the first layer's named first in verdicts (put the org policy first). */
  static combine(...layers: Policy[]): Policy {
    return new Policy(
      layers.flatMap((layer) => layer.rules),
      layers.flatMap((layer) => layer.commands),
    );
  }

  /** The command rules of every layer: `commandRules`, plus the `rules` that speak about every command or `run_command`. */
  commandRules(): CommandRule[] {
    const fromRules = this.rules.flatMap((rule): CommandRule[] => {
      const forCommands = !rule.tools || rule.tools.includes('*') || rule.tools.includes('run_command');
      if (!forCommands || rule.paths) return [];
      const reason = rule.reason ?? describe(rule);
      if (rule.commands) return rule.commands.map((exact) => ({ exact, decision: rule.decision, reason, label: rule.label }));
      return [{ prefix: [], decision: rule.decision, reason, label: rule.label }];
    });
    return [...this.commands, ...fromRules];
  }

  decide(req: PolicyRequest): PolicyVerdict {
    let path: string | undefined;
    if (req.path !== undefined) {
      const normal = normalizePath(req.path);
      if (normal === null) return { decision: 'deny', reason: `the path "${req.path}" is outside the workspace` };
      path = normal;
    }
    const request = { tool: req.tool, path, command: req.command === undefined ? undefined : normalizeCommand(req.command) };
    let best: NamedRule | undefined;
    for (const rule of [...this.rules, SECRET_FILE_RULE]) {
      if (!matches(rule, request)) continue;
      if (!best || RANK[rule.decision] > RANK[best.decision]) best = rule;
    }
    if (best) return { decision: best.decision, reason: `${best.label}: ${best.reason ?? describe(best)}` };
    return READ_TOOLS.has(req.tool)
      ? { decision: 'allow', reason: 'default: reading the workspace is allowed' }
      : { decision: 'ask', reason: `default: ${req.tool} needs your yes` };
  }
}

function matches(rule: NamedRule, req: { tool: string; path: string | undefined; command: string | undefined }): boolean {
  if (rule.tools && !rule.tools.some((tool) => tool === '*' || tool === req.tool)) return false;
  if (rule.paths) {
    const path = req.path;
    if (path === undefined) return false;
    // deny and ask match regardless of case: on a case-insensitive file system `Secrets/x` is `secrets/x`, and
    // tightening on a case variant is safe; allow matches only the exact spelling, so it never loosens more.
    const loose = rule.decision !== 'allow';
    if (!rule.paths.some((glob) => (loose ? matchGlob(glob.toLowerCase(), path.toLowerCase()) : matchGlob(glob, path)))) {
      return false;
    }
  }
  if (rule.commands) {
    const command = req.command;
    if (command === undefined || !rule.commands.includes(command)) return false;
  }
  return true;
}

function describe(rule: PolicyRule): string {
  const what = [
    rule.tools ? `tools ${rule.tools.join(', ')}` : '',
    rule.paths ? `paths ${rule.paths.join(', ')}` : '',
    rule.commands ? `commands ${rule.commands.map((c) => `"${c}"`).join(', ')}` : '',
  ].filter(Boolean);
  return `${rule.decision} ${what.length ? what.join('; ') : 'every call'}`;
}

/** `/`-separated, no `.` segments; null when the path leaves the workspace (absolute, or `..` above the root). */
function normalizePath(raw: string): string | null {
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return null;
  const normal = posix.normalize(slashed).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal === '' ? '.' : normal;
}

function normalizeCommand(command: string): string {
  return command.trim().replace(/\s+/g, ' ');
}

function stringList(value: unknown, field: string, fail: (field: string, problem: string) => never): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, 'must be a non-empty array of strings');
  return (value as unknown[]).map((item, i) => {
    if (typeof item !== 'string' || item.length === 0) fail(`${field}[${i}]`, 'must be a non-empty string');
    return item as string;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
