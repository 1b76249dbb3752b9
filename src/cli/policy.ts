/**
 * `deputy policy`: check a policy file against Deputy's Cedar schema, explain a decision (for a call on the audit
 * trail, or one described by flags), list and revoke grants, print the schema.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAuditFile } from '../core/audit.js';
import { readAuditLines } from '../core/audit-verify.js';
import type { AuditRecord } from '../core/audit-record.js';
import { formatDiagnostic, type PolicyDiagnostic } from '../core/cedar/diagnostics.js';
import { parsePolicySet, type CedarPolicy, type PolicySourceKind } from '../core/cedar/policy-set.js';
import { deputySchema } from '../core/cedar/schema.js';
import { GrantStore } from '../core/grants.js';
import { Policy, PolicyError, type PolicyRequest } from '../core/policy.js';
import { ORG_POLICY_ENV, loadWorkspacePolicy } from '../core/policy-sources.js';
import { judgeWithPolicy } from '../environment/command-policy.js';
import { UserError, type CliIO, type Command } from './io.js';
import { visibleText } from '../core/visible-text.js';

const USAGE = `Usage:
  deputy policy check [--as org|workspace] FILE...
  deputy policy explain [--workspace DIR] [--policy FILE]... (--call ID [--audit FILE] | --tool TOOL [--path P] [--command LINE])
  deputy policy grants [--workspace DIR] [--revoke ID]
  deputy policy schema

Commands:
  check    Validate Cedar policy files (.cedar) against Deputy's schema, or JSON shorthand files (.json).
           Prints file:line:column: error: message for each problem; exit 1 when any is an error.
  explain  Show which policies decide a tool call and why: a call recorded on the audit trail (--call, its
           call id), or a hypothetical one (--tool with --path, or --command for a command line).
  grants   List the grants you gave from prompts ("for this task", "for this workspace"), each as the Cedar
           policy it is; --revoke ID removes one.
  schema   Print the Cedar schema policies are validated against.

Options:
  --as org|workspace   Check a file as the organisation's policy or a workspace's (default: workspace for
                       .deputy/policy.cedar, else org).
  --workspace DIR      The workspace (default: the current directory).
  --policy FILE        Another org-level policy file, as for deputy run (repeatable).
  --audit FILE         The audit trail to find --call in (default: .deputy/audit/audit.jsonl).
  --json               explain: print the verdict as JSON.
  -h, --help           Show this help.

The organisation's policy file comes from ${ORG_POLICY_ENV}.`;

export const policyCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return sub ? 0 : 2;
  }
  if (sub === 'check') return check(rest, io);
  if (sub === 'explain') return explain(rest, io);
  if (sub === 'grants') return grants(rest, io);
  if (sub === 'schema') {
    io.stdout.write(deputySchema());
    return 0;
  }
  io.stderr.write(`Unknown policy command "${sub}".\n\n${USAGE}\n`);
  return 2;
};

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
function parse(argv: string[], options: Options): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | string[] | boolean | undefined>, positionals };
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
}

/** Diagnostics for one policy file: Cedar's, or the shorthand's error (which has no position). */
export async function checkPolicyFile(file: string, kind: PolicySourceKind): Promise<PolicyDiagnostic[]> {
  const text = await fs.readFile(file, 'utf8');
  if (file.endsWith('.cedar')) return parsePolicySet(text, { kind, origin: file, idPrefix: kind }).diagnostics;
  try {
    Policy.parse(JSON.parse(text), file, kind);
    return [];
  } catch (err) {
    if (!(err instanceof PolicyError) && !(err instanceof SyntaxError)) throw err;
    return [{ severity: 'error', message: (err as Error).message, line: 1, column: 1, endLine: 1, endColumn: 1 }];
  }
}

async function check(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, { as: { type: 'string' } });
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.positionals.length === 0) throw new UserError(`check needs a FILE.\n\n${USAGE}`, 2);
  const as = args.values.as as string | undefined;
  if (as !== undefined && as !== 'org' && as !== 'workspace') throw new UserError('--as takes org or workspace.', 2);
  let failed = false;
  for (const given of args.positionals) {
    const file = path.resolve(io.cwd, given);
    const kind: PolicySourceKind = (as as PolicySourceKind | undefined) ?? (file.endsWith(path.join('.deputy', 'policy.cedar')) ? 'workspace' : 'org');
    let diagnostics: PolicyDiagnostic[];
    try {
      diagnostics = await checkPolicyFile(file, kind);
    } catch (err) {
      throw new UserError(`Cannot read ${given}: ${(err as Error).message}`);
    }
    for (const d of diagnostics) io.stdout.write(`${visibleText(formatDiagnostic(given, d))}\n`);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    if (errors > 0) failed = true;
    else io.stdout.write(`${given}: ok${diagnostics.length ? ` (${diagnostics.length} warning${diagnostics.length === 1 ? '' : 's'})` : ''}\n`);
  }
  return failed ? 1 : 0;
}

const FS_TOOLS: Record<string, string> = {
  'fs/readFile': 'workspace_read',
  'fs/getMetadata': 'workspace_read',
  'fs/readDirectory': 'workspace_list',
  'fs/writeFile': 'fs_write',
  'fs/createDirectory': 'fs_write',
  'fs/remove': 'fs_write',
  'fs/copy': 'fs_write',
};

async function explain(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, {
    workspace: { type: 'string' },
    policy: { type: 'string', multiple: true },
    call: { type: 'string' },
    audit: { type: 'string' },
    tool: { type: 'string' },
    path: { type: 'string' },
    command: { type: 'string' },
    json: { type: 'boolean' },
  });
  const v = args.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = path.resolve(io.cwd, (v.workspace as string | undefined) ?? '.');
  const orgFile = io.env[ORG_POLICY_ENV];
  const policy = await loadWorkspacePolicy({
    root,
    files: ((v.policy as string[] | undefined) ?? []).map((f) => path.resolve(io.cwd, f)),
    ...(orgFile ? { orgFile: path.resolve(io.cwd, orgFile) } : {}),
  });

  let tool = v.tool as string | undefined;
  let target = v.path as string | undefined;
  let argvOfCommand: string[] | undefined;
  let line = v.command as string | undefined;
  let recorded: AuditRecord | undefined;
  if (v.call !== undefined) {
    const file = v.audit ? path.resolve(io.cwd, v.audit as string) : defaultAuditFile(root);
    const records = (await readAuditLines(file)).flatMap((l) => ('record' in l && l.record ? [l.record as AuditRecord] : []));
    const about = records.filter((r) => r.data.call_id === v.call);
    if (about.length === 0) throw new UserError(`No call ${String(v.call)} on the audit trail ${file}.`);
    const call = about.find((r) => r.type === 'tool.call') ?? about[0]!;
    recorded = about.find((r) => r.type === 'policy.decision');
    const recordedTool = String(call.data.tool ?? '');
    if (recordedTool === 'process/start' && Array.isArray(call.data.command)) argvOfCommand = call.data.command.map(String);
    tool = recordedTool === 'process/start' ? 'run_command' : (FS_TOOLS[recordedTool] ?? recordedTool);
    const p = recorded?.data.path ?? call.data.path;
    if (typeof p === 'string') target = p;
  } else if (line !== undefined) {
    tool ??= 'run_command';
    argvOfCommand = ['bash', '-lc', line];
  }
  if (!tool) throw new UserError(`explain needs --call ID, --tool TOOL or --command LINE.\n\n${USAGE}`, 2);

  const out = (s: string): void => void io.stdout.write(`${visibleText(s)}\n`);
  const texts = new Map<string, CedarPolicy>();
  for (const set of policy.policySets()) for (const p of set.policies) texts.set(p.id, p);
  const show = (ids: readonly string[]): void => {
    for (const id of ids) {
      const p = texts.get(id);
      if (!p) continue;
      out(`  ── ${id} (${p.source}${p.logOnly ? ', log-only' : ''})`);
      for (const l of p.text.trimEnd().split('\n')) out(`     ${l}`);
    }
  };

  if (tool === 'run_command' && argvOfCommand) {
    const verdict = judgeWithPolicy(argvOfCommand, policy);
    if (v.json) {
      io.stdout.write(`${JSON.stringify({ tool, command: argvOfCommand, ...verdict, recorded: recorded?.data ?? null }, null, 2)}\n`);
      return 0;
    }
    out(`Request: run_command ${argvOfCommand.join(' ')} (as ${policy.principal.arn})`);
    out(`Segments: ${verdict.segments.map((s) => s.join(' ')).join(' | ') || '(none)'}`);
    out(`Decision: ${verdict.decision}${verdict.network ? ' (with network)' : ''}`);
    out(`Why: ${verdict.reason}`);
    out(`Decided by: ${verdict.rules.join(', ') || '(defaults and checks)'}`);
    show(verdict.rules);
    if (verdict.trial) out(`With log-only policies enforced: ${verdict.trial.decision} — ${verdict.trial.reason}`);
  } else {
    const req: PolicyRequest = { tool, ...(target !== undefined ? { path: target } : {}), ...(line !== undefined ? { command: line } : {}) };
    const verdict = policy.explain(req);
    const decided = policy.decide(req);
    if (v.json) {
      io.stdout.write(`${JSON.stringify({ request: req, ...verdict, decision: decided.decision, reason: decided.reason, recorded: recorded?.data ?? null }, null, 2)}\n`);
      return 0;
    }
    out(`Request: ${tool}${target !== undefined ? ` ${target}` : ''}${line !== undefined ? ` ${line}` : ''} (as ${policy.principal.arn})`);
    out(`Decision: ${decided.decision}`);
    out(`Why: ${decided.reason}`);
    out(`Decided by: ${decided.policies.join(', ') || '(nothing matched: asks by default)'}`);
    show(decided.policies);
    const others = verdict.satisfied.filter((id) => !decided.policies.includes(id));
    if (others.length) out(`Also matched (not deciding): ${others.join(', ')}`);
    if (verdict.locks.length) out(`Locks in force: ${verdict.locks.join(', ')}`);
    if (verdict.errors.length) out(`Could not evaluate: ${verdict.errors.map((e) => `${e.policy} (${e.message})`).join('; ')}`);
    if (verdict.trial) out(`With log-only policies enforced: ${verdict.trial.decision} — ${verdict.trial.reason}`);
  }
  if (recorded) {
    out(`Recorded (record ${recorded.seq}, ${recorded.time}): ${String(recorded.data.decision)} — ${String(recorded.data.reason)}`);
  }
  return 0;
}

async function grants(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv, { workspace: { type: 'string' }, revoke: { type: 'string' } });
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const store = new GrantStore(path.resolve(io.cwd, (args.values.workspace as string | undefined) ?? '.'));
  const revoke = args.values.revoke as string | undefined;
  if (revoke !== undefined) {
    if (!(await store.revoke(revoke))) throw new UserError(`No grant ${revoke} in ${store.file}.`);
    io.stdout.write(`revoked ${revoke}\n`);
    return 0;
  }
  const list = await store.list();
  if (list.length === 0) {
    io.stdout.write(`No grants in ${store.file}.\n`);
    return 0;
  }
  for (const g of list) io.stdout.write(`${visibleText(`${g.id} (${g.scope})`)}\n${visibleText(g.cedar.trimEnd()).replace(/^/gm, '  ')}\n`);
  return 0;
}
