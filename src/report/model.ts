/**
 * The governance report's content, read from audit trails: for each session, who asked, which agent and model on
 * which endpoint, what it was allowed to touch (the policy decisions and the person's answers), what it did (tool
 * calls, commands, files changed and who approved each), what it was doing when the trail ends (anything started and
 * never finished), its cost over time and its failures; across sessions, spend by person and endpoint, denials by
 * the rule that made them, and changes by repository.
 *
 * Everything here is derived from verified records only: a trail that fails verification contributes the records
 * before the break, and the report says where it broke. Agent-written text is data to show, never to act on.
 */
import { basename, dirname } from 'node:path';
import type { AuditRecord } from '../core/audit-record.js';
import type { VerifyResult } from '../core/audit-verify.js';
import { costUsd, priceFor } from '../core/prices.js';

/** One audit trail, as the report reads it. */
export interface Trail {
  /** The workspace the trail belongs to (its repository), and the trail file. */
  workspace: string;
  file: string;
  records: AuditRecord[];
  integrity: VerifyResult;
  signature: TrailSignature;
}

/**
 * Whether a trail's signed digests vouch for it: `verified` with the public keys given, `broken` (a digest or its
 * signature fails: a rewrite, a replaced chain, an edited digest), `unsigned` (no digests: written without a key), or
 * `not checked` (digests present, no key given).
 */
export interface TrailSignature {
  state: 'verified' | 'broken' | 'unsigned' | 'not checked';
  detail: string;
}

export interface ToolUse {
  time: string;
  tool: string;
  summary: string;
  decision?: 'allow' | 'ask' | 'deny';
  /** Why the policy decided so (the rule's reason). */
  rule?: string;
  /** The person's answer when it asked. */
  answer?: 'allow' | 'deny';
  outcome: 'ok' | 'failed' | 'pending';
  error?: string;
}

export interface FileChange {
  time: string;
  path: string;
  status: 'applied' | 'rejected' | 'conflict' | 'invalid' | 'proposed';
  approver?: string;
  added?: number;
  removed?: number;
  comment?: string;
}

export interface SessionReport {
  id: string;
  task: string | null;
  workspace: string;
  /** The person the agent acted for (the principal ARN), and their account. */
  principal: string;
  account?: string;
  /** What was asked: the task's text. */
  request?: string;
  agent?: string;
  model?: string;
  provider?: string;
  endpoint?: string;
  started: string;
  ended?: string;
  status: 'completed' | 'failed' | 'cancelled' | 'running';
  tools: ToolUse[];
  changes: FileChange[];
  /** Decisions by outcome and rule: what the policy let it touch. */
  decisions: Array<{ decision: string; rule: string; count: number }>;
  /** Started and never finished when the trail ends: what it was trying to do. */
  pending: string[];
  failures: Array<{ time: string; message: string }>;
  /** Cumulative cost (USD, when the model's price was known) and tokens after each usage record. */
  usage: Array<{ time: string; costUsd: number; tokens: number }>;
  costUsd: number;
  tokens: number;
}

export interface ReportTotals {
  spendByPerson: Array<{ principal: string; costUsd: number; tokens: number; sessions: number }>;
  spendByEndpoint: Array<{ endpoint: string; costUsd: number; tokens: number; sessions: number }>;
  denialsByRule: Array<{ rule: string; count: number }>;
  changesByRepository: Array<{ repository: string; applied: number; rejected: number; conflicts: number }>;
}

export interface Report {
  generatedAt: string;
  since?: string;
  trails: Array<{ workspace: string; file: string; records: number; integrity: string; ok: boolean; signature: TrailSignature }>;
  /** Folders given that hold no audit trail (nothing was recorded there), left out of the report. */
  skipped: Array<{ path: string; why: string }>;
  sessions: SessionReport[];
  totals: ReportTotals;
}

export interface ReportOptions {
  /** Only sessions that started at or after this time. */
  since?: Date;
  skipped?: Array<{ path: string; why: string }>;
  now?: Date;
}

export function buildReport(trails: Trail[], options: ReportOptions = {}): Report {
  const sessions: SessionReport[] = [];
  for (const trail of trails) sessions.push(...sessionsOf(trail));
  const since = options.since?.getTime();
  const kept = sessions
    .filter((s) => since === undefined || Date.parse(s.started) >= since)
    .sort((a, b) => a.started.localeCompare(b.started));
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    ...(options.since ? { since: options.since.toISOString() } : {}),
    trails: trails.map((t) => ({
      workspace: t.workspace,
      file: t.file,
      records: t.records.length,
      ok: t.integrity.ok,
      integrity: t.integrity.ok
        ? `verified: ${t.integrity.records} records${t.integrity.signatures ? `, signed through record ${t.integrity.signatures.signedThrough}` : ''}`
        : `broken at record ${t.integrity.badIndex}: ${t.integrity.reason}`,
      signature: t.signature,
    })),
    skipped: options.skipped ?? [],
    sessions: kept,
    totals: totalsOf(kept),
  };
}

/** The workspace folder a trail file belongs to (`<ws>/.deputy/audit/audit.jsonl` → `<ws>`). */
export function workspaceOf(file: string): string {
  const dir = dirname(file);
  return basename(dir) === 'audit' && basename(dirname(dir)) === '.deputy' ? dirname(dirname(dir)) : dir;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Groups a trail's records into sessions: by session id, with a task's session-less records joining its session. */
function sessionsOf(trail: Trail): SessionReport[] {
  const bySession = new Map<string, SessionReport>();
  const taskText = new Map<string, string>();
  const taskSession = new Map<string, SessionReport>();
  /** Open tool calls per session (call id → row), to pair results, decisions and answers with them. */
  const open = new Map<string, Map<string, ToolUse>>();
  const running = new Map<string, RunningUsage>();

  const sessionFor = (r: AuditRecord): SessionReport | undefined => {
    const key = r.session ?? (r.task !== null ? taskSession.get(r.task)?.id : undefined);
    if (key === undefined) return undefined;
    let s = bySession.get(key);
    if (!s) {
      s = {
        id: key,
        task: r.task,
        workspace: trail.workspace,
        principal: r.actor.principal,
        ...(r.actor.account ? { account: r.actor.account } : {}),
        ...(r.task !== null && taskText.has(r.task) ? { request: taskText.get(r.task)! } : {}),
        started: r.time,
        status: 'running',
        tools: [],
        changes: [],
        decisions: [],
        pending: [],
        failures: [],
        usage: [],
        costUsd: 0,
        tokens: 0,
      };
      bySession.set(key, s);
      if (r.task !== null && !taskSession.has(r.task)) taskSession.set(r.task, s);
    }
    return s;
  };

  for (const r of trail.records) {
    if (r.type === 'audit.digest') continue;
    const d = r.data;
    if (r.type === 'task.started') {
      if (r.task !== null) taskText.set(r.task, str(d.task) ?? '');
      continue;
    }
    const s = sessionFor(r);
    if (!s) continue;
    const calls = open.get(s.id) ?? new Map<string, ToolUse>();
    open.set(s.id, calls);
    const callId = str(d.call_id);
    const call = callId !== undefined ? calls.get(callId) : undefined;
    switch (r.type) {
      case 'session.created': {
        const model = str(d.model);
        const agent = str(d.agent_name) ?? str(d.agent_id);
        const provider = str(d.provider);
        const endpoint = str(d.endpoint);
        Object.assign(s, model ? { model } : {}, agent ? { agent } : {}, provider ? { provider } : {}, endpoint ? { endpoint } : {});
        if (s.request === undefined && r.task !== null && taskText.has(r.task)) s.request = taskText.get(r.task)!;
        break;
      }
      case 'message.user':
        if (s.request === undefined) s.request = str(d.text) ?? '';
        break;
      case 'tool.call': {
        const row: ToolUse = { time: r.time, tool: str(d.tool) ?? 'tool', summary: str(d.summary) ?? '', outcome: 'pending' };
        s.tools.push(row);
        if (callId !== undefined) calls.set(callId, row);
        break;
      }
      case 'policy.decision': {
        const decision = str(d.decision);
        const rule = str(d.reason) ?? (Array.isArray(d.rules) ? d.rules.join(', ') : 'default');
        if (decision === 'allow' || decision === 'ask' || decision === 'deny') {
          if (call) Object.assign(call, { decision, rule });
          const entry = s.decisions.find((x) => x.decision === decision && x.rule === rule);
          if (entry) entry.count += 1;
          else s.decisions.push({ decision, rule, count: 1 });
        }
        break;
      }
      case 'prompt.answered': {
        const answer = str(d.answer) ?? str(d.decision);
        if (call && answer) call.answer = answer === 'allow' || answer.startsWith('allow') ? 'allow' : 'deny';
        break;
      }
      case 'tool.result':
        if (call) {
          call.outcome = d.success === false ? 'failed' : 'ok';
          const error = str(d.error);
          if (error) call.error = error;
        }
        break;
      case 'changeset.proposed':
        for (const f of Array.isArray(d.files) ? (d.files as Array<Record<string, unknown>>) : []) {
          s.changes.push({ time: r.time, path: str(f.path) ?? '?', status: 'proposed', added: num(f.added), removed: num(f.removed) });
        }
        break;
      case 'changeset.approved':
        break;
      case 'changeset.applied':
      case 'changeset.rejected':
      case 'changeset.conflict':
      case 'changeset.invalid': {
        const path = str(d.path) ?? '?';
        const status = r.type.slice('changeset.'.length) as FileChange['status'];
        const change = [...s.changes].reverse().find((c) => c.path === path && c.status === 'proposed');
        const approver = str(d.approver);
        const comment = str(d.comment);
        const fields = { status, time: r.time, ...(approver && status === 'applied' ? { approver } : {}), ...(comment ? { comment } : {}) };
        if (change) Object.assign(change, fields);
        else s.changes.push({ path, ...fields, ...(d.added !== undefined ? { added: num(d.added), removed: num(d.removed) } : {}) });
        break;
      }
      case 'usage': {
        const used = usageShare(running, s.id, d);
        s.tokens += used.input_tokens + used.output_tokens;
        const price = d.cost_usd === undefined ? priceFor(str(d.model) ?? s.model) : undefined;
        s.costUsd += d.cost_usd !== undefined ? num(d.cost_usd) : price ? costUsd(used, price) : 0;
        s.usage.push({ time: r.time, costUsd: s.costUsd, tokens: s.tokens });
        break;
      }
      case 'error':
        s.failures.push({ time: r.time, message: str(d.message) ?? 'error' });
        if (call) call.outcome = 'failed';
        break;
      case 'task.finished': {
        const status = str(d.status);
        s.status = status === 'failed' || status === 'cancelled' ? status : 'completed';
        s.ended = r.time;
        break;
      }
      default:
        break;
    }
  }

  for (const s of bySession.values()) {
    // What it was doing when the trail ends: calls with no result, changes never decided.
    for (const t of s.tools) if (t.outcome === 'pending') s.pending.push(`${t.tool}${t.summary ? `: ${t.summary}` : ''}${t.decision === 'ask' && !t.answer ? ' (waiting for a person)' : ''}`);
    for (const c of s.changes) if (c.status === 'proposed') s.pending.push(`change to ${c.path} awaiting review`);
    // A completed task left nothing in flight; one that failed, was cancelled or still runs shows what it was doing.
    if (s.status === 'completed') s.pending = [];
  }
  return [...bySession.values()];
}

function totalsOf(sessions: SessionReport[]): ReportTotals {
  const people = new Map<string, ReportTotals['spendByPerson'][number]>();
  const endpoints = new Map<string, ReportTotals['spendByEndpoint'][number]>();
  const denials = new Map<string, number>();
  const repos = new Map<string, ReportTotals['changesByRepository'][number]>();
  for (const s of sessions) {
    const p = people.get(s.principal) ?? { principal: s.principal, costUsd: 0, tokens: 0, sessions: 0 };
    p.costUsd += s.costUsd;
    p.tokens += s.tokens;
    p.sessions += 1;
    people.set(s.principal, p);
    const endpointName = s.endpoint ?? s.provider ?? 'unknown';
    const e = endpoints.get(endpointName) ?? { endpoint: endpointName, costUsd: 0, tokens: 0, sessions: 0 };
    e.costUsd += s.costUsd;
    e.tokens += s.tokens;
    e.sessions += 1;
    endpoints.set(endpointName, e);
    for (const d of s.decisions) if (d.decision === 'deny') denials.set(d.rule, (denials.get(d.rule) ?? 0) + d.count);
    for (const t of s.tools) if (t.answer === 'deny') denials.set('denied by a person', (denials.get('denied by a person') ?? 0) + 1);
    const repo = repos.get(s.workspace) ?? { repository: s.workspace, applied: 0, rejected: 0, conflicts: 0 };
    for (const c of s.changes) {
      if (c.status === 'applied') repo.applied += 1;
      else if (c.status === 'rejected') repo.rejected += 1;
      else if (c.status === 'conflict') repo.conflicts += 1;
    }
    repos.set(s.workspace, repo);
  }
  const byCost = <T extends { costUsd: number; tokens: number }>(a: T, b: T) => b.costUsd - a.costUsd || b.tokens - a.tokens;
  return {
    spendByPerson: [...people.values()].sort(byCost),
    spendByEndpoint: [...endpoints.values()].sort(byCost),
    denialsByRule: [...denials.entries()].map(([rule, count]) => ({ rule, count })).sort((a, b) => b.count - a.count),
    changesByRepository: [...repos.values()],
  };
}

interface RunningUsage {
  input: number;
  output: number;
  cached: number;
}

/**
 * What one usage record adds. Records are a turn's or a task's share; but editor sessions before the share was
 * marked (`turn`) recorded the session's running total after each turn, and summing those counted every turn again:
 * a second unmarked record of a session that is not below the last one is read as a running total.
 */
function usageShare(running: Map<string, RunningUsage>, session: string, d: Record<string, unknown>) {
  const now: RunningUsage = { input: num(d.input_tokens), output: num(d.output_tokens), cached: num(d.cached_input_tokens) };
  const last = d.turn === undefined ? running.get(session) : undefined;
  if (d.turn === undefined) running.set(session, now);
  const total = last !== undefined && now.input >= last.input && now.output >= last.output;
  const share = total ? { input: now.input - last.input, output: now.output - last.output, cached: Math.max(0, now.cached - last.cached) } : now;
  return { input_tokens: share.input, output_tokens: share.output, input_tokens_details: { cached_tokens: share.cached } };
}
