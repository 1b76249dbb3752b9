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
import { compileGlob } from './glob.js';
import { CedarAuthorizer, type CedarOutcome, type CedarVerdict } from './cedar/authorizer.js';
import { formatDiagnostic } from './cedar/diagnostics.js';
import { parsePolicySet, type CedarPolicy, type CedarPolicySet, type PolicySourceKind } from './cedar/policy-set.js';
import { localPrincipal, type CommandFacts, type Principal } from './cedar/request.js';
import { actionRef, shorthandToCedar } from './cedar/shorthand.js';

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
  /** The exact arguments, for policies that test them (`context.input.args`, `query`, `operation`). */
  args?: unknown;
}

export interface PolicyVerdict {
  /** See `Decision` for what `allow` does and does not mean for `propose_changes`. */
  decision: Decision;
  /** Names the rule or default that decided, for the prompt, the audit record and the agent. */
  reason: string;
  /** Ids of the policies that decided (Cedar ids, or shorthand labels such as `org.json rule 2`); empty by default. */
  policies: string[];
  /** What log-only policy sets would have decided, when there are any (audited, not enforced). */
  trial?: CedarOutcome;
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

interface NamedRule extends PolicyRule {
  /** How a verdict names this rule, e.g. `org.json rule 2`. */
  label: string;
  /** Whose rule it is: a workspace's rules are fenced by the org's `@lock("workspace")`. */
  kind: PolicySourceKind;
}

/** Facts of the task a decision is made in. */
export interface PolicyTaskFacts {
  taskId?: string;
  budgetUsedCents?: number;
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

/** Under every policy, last: secret files ask, and reading the workspace is otherwise allowed. */
const BUILT_IN_READS = [...READ_TOOLS].map(actionRef).join(', ');
const BUILT_IN_TEXT = `@id("built-in rule")
@reason("the file may hold credentials, so reading it needs your yes")
@decision("ask")
permit (principal, action in [${BUILT_IN_READS}], resource) when { context.input.secretFile };

@id("default")
@reason("reading the workspace is allowed")
permit (principal, action in [${BUILT_IN_READS}], resource);
`;
/** Parsed on first use (the WASM module loads then). */
let builtInSet: CedarPolicySet | undefined;
function builtIns(): CedarPolicySet {
  if (!builtInSet) {
    const { set, diagnostics } = parsePolicySet(BUILT_IN_TEXT, { kind: 'builtin', origin: 'built-in rules' });
    if (!set) throw new Error(`Deputy's built-in policy does not validate: ${diagnostics.map((d) => d.message).join('; ')}`);
    builtInSet = set;
  }
  return builtInSet;
}

export class Policy {
  private authorizer: CedarAuthorizer | undefined;
  private commandAuthorizer: CedarAuthorizer | undefined;

  private constructor(
    private readonly rules: readonly NamedRule[],
    private readonly commands: readonly CommandRule[] = [],
    /** Cedar policy files and grants, org first. */
    private readonly cedar: readonly CedarPolicySet[] = [],
    readonly principal: Principal = localPrincipal(),
    private readonly task: PolicyTaskFacts = {},
  ) {}

  /** No rules of its own: only the built-in rules and the defaults. */
  static defaults(): Policy {
    return new Policy([]);
  }

  /**
   * A policy file: Cedar when it ends in `.cedar`, else the JSON shorthand. `kind` says whose it is (the
   * workspace's own files are fenced by the org's locks).
   */
  static async load(file: string, kind: PolicySourceKind = 'workspace'): Promise<Policy> {
    if (file.endsWith('.cedar')) return Policy.parseCedar(await readPolicyText(file), file, kind);
    const text = await readPolicyText(file);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new PolicyError(`Policy file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    return Policy.parse(json, file, kind);
  }

  /** A Cedar policy file's text; its policies are named `<kind>:<id>`. Any error diagnostic refuses the file. */
  static parseCedar(text: string, origin: string, kind: PolicySourceKind = 'workspace'): Policy {
    const { set, diagnostics } = parsePolicySet(text, { kind, origin, idPrefix: kind });
    if (!set) {
      const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(origin, d));
      throw new PolicyError(`Policy ${origin} has errors:\n${errors.join('\n')}`);
    }
    return new Policy([], [], [set]);
  }

  /** Validates `json`; `source` names it in errors and verdicts (a file path, "org policy", …). */
  static parse(json: unknown, source: string, kind: PolicySourceKind = 'workspace'): Policy {
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
      const rule: NamedRule = { label: `${label} rule ${i + 1}`, kind, decision: r.decision as Decision };
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
    const first = layers[0];
    return new Policy(
      layers.flatMap((layer) => layer.rules),
      layers.flatMap((layer) => layer.commands),
      layers.flatMap((layer) => layer.cedar),
      first?.principal,
      first?.task,
    );
  }

  /** The same policy deciding for `principal` (the IAM identity, or the local user). */
  withPrincipal(principal: Principal): Policy {
    return new Policy(this.rules, this.commands, this.cedar, principal, this.task);
  }

  /** The same policy with grants (Cedar, the person's earlier yeses) added. */
  withGrants(grants: readonly CedarPolicySet[]): Policy {
    return new Policy(this.rules, this.commands, [...this.cedar.filter((s) => s.kind !== 'grant'), ...grants], this.principal, this.task);
  }

  /** The same policy, deciding within a task (its id and budget used are facts policies may test). */
  withTask(task: PolicyTaskFacts): Policy {
    return new Policy(this.rules, this.commands, this.cedar, this.principal, { ...this.task, ...task });
  }

  /** Every policy set that decides, in the order verdicts name them: shorthand (compiled), Cedar, built-in. */
  policySets(): CedarPolicySet[] {
    const seen = new Set<string>();
    const compiled = this.rules.map((rule): CedarPolicySet => {
      let id = rule.label;
      for (let n = 2; seen.has(id); n++) id = `${rule.label} #${n}`;
      seen.add(id);
      const reason = rule.reason ?? describe(rule);
      const text = shorthandToCedar({ ...rule, label: id, reason }, POLICY_TOOLS);
      const policy: CedarPolicy = { id, effect: rule.decision === 'deny' ? 'forbid' : 'permit', ask: rule.decision === 'ask', reason, network: false, lock: [], text, source: rule.kind, logOnly: false };
      return { kind: rule.kind, origin: rule.label, policies: [policy], logOnly: false };
    });
    return [...compiled, ...this.cedar, builtIns()];
  }

  /** The full Cedar verdict for a request: what decides, what else matched, locks, errors, the log-only trial. */
  explain(req: PolicyRequest): CedarVerdict {
    this.authorizer ??= new CedarAuthorizer(this.policySets(), { globs: this.globs(), secretGlobs: SECRET_FILE_GLOBS });
    const path = req.path === undefined ? undefined : normalizePath(req.path);
    return this.authorizer.decide(
      {
        tool: req.tool,
        ...(path ? { path } : {}),
        ...(path === null ? { outsideWorkspace: true } : {}),
        ...(req.command !== undefined ? { command: lineFacts(normalizeCommand(req.command)) } : {}),
        ...(req.args !== undefined ? { args: req.args } : {}),
        ...this.taskFacts(),
      },
      this.principal,
    );
  }

  /**
   * The Cedar files' and grants' verdict on one command (the line as a whole when `facts.segment` is empty, else
   * one segment of it). The shorthand's command rules are judged by the command gate itself.
   */
  decideCommand(facts: CommandFacts): CedarVerdict {
    this.commandAuthorizer ??= new CedarAuthorizer(this.cedar, { globs: [], secretGlobs: [] });
    return this.commandAuthorizer.decide({ tool: 'run_command', command: facts, ...this.taskFacts() }, this.principal);
  }

  /** Whether any Cedar file or grant is loaded (the command gate skips asking Cedar otherwise). */
  hasCedar(): boolean {
    return this.cedar.length > 0;
  }

  /** Whether any Cedar file is log-only (decisions then carry a `trial`). */
  hasLogOnly(): boolean {
    return this.cedar.some((s) => s.logOnly);
  }

  private taskFacts(): PolicyTaskFacts {
    return {
      ...(this.task.taskId !== undefined ? { taskId: this.task.taskId } : {}),
      ...(this.task.budgetUsedCents !== undefined ? { budgetUsedCents: this.task.budgetUsedCents } : {}),
    };
  }

  private globs(): string[] {
    return [...new Set(this.rules.flatMap((r) => r.paths ?? []))];
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
    if (req.path !== undefined && normalizePath(req.path) === null) {
      return { decision: 'deny', reason: `the path "${req.path}" is outside the workspace`, policies: ['built-in rule (workspace boundary)'] };
    }
    const v = this.explain(req);
    const verdict: PolicyVerdict = { decision: v.decision, reason: v.reason, policies: v.policies };
    if (v.trial) verdict.trial = v.trial;
    return verdict;
  }
}

async function readPolicyText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyError(code === 'ENOENT' ? `Policy file ${file} does not exist.` : `Cannot read policy file ${file}: ${(err as Error).message}`);
  }
}

/** A command line judged whole, without a shell's reading of it (the client-tool path has no shell). */
function lineFacts(line: string): CommandFacts {
  return { line, segment: [], segments: [], names: [], redirects: [], constructs: [], subshell: false, envAssignments: [] };
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
