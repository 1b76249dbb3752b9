/**
 * A session's audit timeline: its records read from the folder's chain and shaped for a person (who acted, with which
 * tool, what was decided and by which rule, which files, tokens and cost), beside the integrity of the WHOLE chain.
 * The check runs wherever this runs — the language server for the editor — never in the extension host.
 *
 * Reading goes on past a damaged record (so the timeline still shows what can be read) while the integrity names the
 * first bad record, exactly as `deputy audit verify` does.
 */
import type { AuditActorKind, AuditIntegrity, AuditTimelineData, AuditTimelineEntry } from '../protocol/webview.js';
import type { AuditEventType, AuditRecord } from './audit-record.js';
import { AuditLogMissingError, readAuditLines, verifyAudit } from './audit-verify.js';

/** Entries sent at most: a long session keeps its newest events; the count left out is reported. */
export const MAX_TIMELINE_ENTRIES = 2_000;
const DETAIL_CHARS = 200;

const PERSON: ReadonlySet<AuditEventType> = new Set(['task.started', 'message.user', 'prompt.answered', 'changeset.approved', 'changeset.rejected']);
const AGENT: ReadonlySet<AuditEventType> = new Set(['message.agent', 'tool.call', 'changeset.proposed']);

export function actorKind(type: AuditEventType): AuditActorKind {
  return PERSON.has(type) ? 'person' : AGENT.has(type) ? 'agent' : 'deputy';
}

export async function sessionTimeline(file: string, sessionId: string, limit = MAX_TIMELINE_ENTRIES): Promise<AuditTimelineData> {
  let integrity: AuditIntegrity;
  try {
    const v = await verifyAudit(file);
    integrity = v.ok ? { state: 'verified', records: v.records, tailChecked: v.tailChecked } : { state: 'broken', records: v.records, badIndex: v.badIndex, reason: v.reason };
  } catch (err) {
    if (err instanceof AuditLogMissingError) return { sessionId, file, entries: [], omitted: 0, integrity: { state: 'missing' } };
    throw err;
  }
  const records: AuditRecord[] = [];
  for (const line of await readAuditLines(file).catch((err: unknown) => (err instanceof AuditLogMissingError ? [] : Promise.reject(err)))) {
    if ('record' in line) records.push(line.record);
  }
  // A task's first record comes before its session exists (session null): the session's task id claims it.
  const tasks = new Set(records.filter((r) => r.session === sessionId && r.task).map((r) => r.task));
  const mine = records.filter((r) => r.session === sessionId || (r.session === null && r.task !== null && tasks.has(r.task)));
  const kept = mine.slice(Math.max(0, mine.length - limit));
  return { sessionId, file, entries: kept.map(toEntry), omitted: mine.length - kept.length, integrity };
}

export function toEntry(r: AuditRecord): AuditTimelineEntry {
  const d = r.data;
  const str = (k: string): string | undefined => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof d[k] === 'number' && Number.isFinite(d[k]) ? (d[k] as number) : undefined);
  const entry: AuditTimelineEntry = { seq: r.seq, time: r.time, kind: r.type, actor: actorKind(r.type), principal: r.actor.principal, files: filesOf(d) };
  const tool = str('tool');
  if (tool) entry.tool = tool;
  const decision = decisionOf(r.type, d);
  if (decision) entry.decision = decision;
  const rule = r.type === 'policy.decision' || r.type === 'prompt.asked' ? str('reason') : undefined;
  if (rule) entry.rule = rule;
  if (r.type === 'usage') {
    const input = num('input_tokens');
    const output = num('output_tokens');
    if (input !== undefined) entry.inputTokens = input;
    if (output !== undefined) entry.outputTokens = output;
  }
  const cost = num('cost_usd');
  if (cost !== undefined) entry.costUsd = cost;
  const detail = str('summary') ?? str('text') ?? str('message') ?? str('task') ?? str('comment') ?? str('error');
  if (detail) entry.detail = detail.length > DETAIL_CHARS ? `${detail.slice(0, DETAIL_CHARS)}…` : detail;
  return entry;
}

function decisionOf(type: AuditEventType, d: Record<string, unknown>): string | undefined {
  switch (type) {
    case 'policy.decision':
      return typeof d.decision === 'string' ? d.decision : undefined;
    case 'prompt.answered':
      return typeof d.answer === 'string' ? d.answer : undefined;
    case 'changeset.approved':
      return 'approve';
    case 'changeset.rejected':
      return 'reject';
    case 'changeset.applied':
      return 'applied';
    case 'changeset.conflict':
      return 'conflict';
    case 'changeset.invalid':
      return 'invalid';
    case 'tool.result':
      return d.success === false ? 'failed' : d.success === true ? 'ok' : undefined;
    case 'task.finished':
      return typeof d.status === 'string' ? d.status : undefined;
    default:
      return undefined;
  }
}

/** `path`, `files: [{path}]` (a proposed changeset) and `files_changed: [path]` (a task's end). */
function filesOf(d: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof d.path === 'string') out.push(d.path);
  for (const key of ['files', 'files_changed']) {
    const list = d[key];
    if (!Array.isArray(list)) continue;
    for (const f of list) {
      if (typeof f === 'string') out.push(f);
      else if (f && typeof f === 'object' && typeof (f as { path?: unknown }).path === 'string') out.push((f as { path: string }).path);
    }
  }
  return [...new Set(out)];
}
