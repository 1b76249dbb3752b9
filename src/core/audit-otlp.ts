/**
 * The audit chain as OpenTelemetry traces (OTLP/JSON `ExportTraceServiceRequest`), following the GenAI semantic
 * conventions, so a team can load Deputy's trail into the observability stack that already holds their agents'
 * traces.
 *
 * Shape: one trace per task (trace id from the task id's hash; records without a task get a trace per session).
 * Each session is a root span `invoke_agent` (kind CLIENT: the agent is remote) carrying `gen_ai.conversation.id`,
 * `gen_ai.agent.id` and the summed `gen_ai.usage.*_tokens`; each client tool call is a child span
 * `execute_tool <name>` from its `tool.call` to its `tool.result`, holding every record with that `call_id` (policy
 * decision, prompt, review of each file). Every record becomes a span event on the span it
 * belongs to, with its `seq` and `hash`, so the spans can be traced back to the verified chain. Ids are derived
 * from the records, so exporting the same chain twice yields the same ids.
 */
import type { AuditRecord } from './audit-record.js';
import { sha256Hex } from './workspace-text.js';

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number };

export interface OtlpAttribute {
  key: string;
  value: AnyValue;
}

export interface OtlpEvent {
  timeUnixNano: string;
  name: string;
  attributes: OtlpAttribute[];
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  events: OtlpEvent[];
  status: { code: number; message?: string };
}

/** An OTLP/JSON trace export request, ready to POST to a collector's `/v1/traces` or to write to a file. */
export interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpSpan[] }>;
  }>;
}

/** Builds an OTLP/JSON export of `records` (in chain order). */
export function toOtlp(records: AuditRecord[], options: { version?: string } = {}): OtlpTraces {
  const builder = new SpanBuilder();
  // A signed digest is about the chain, not an operation of the agent: it has no span (the chain export keeps it).
  for (const record of records) if (record.type !== 'audit.digest') builder.add(record);
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [attr('service.name', 'deputy'), ...(options.version ? [attr('service.version', options.version)] : [])],
        },
        scopeSpans: [
          { scope: { name: 'deputy.audit', ...(options.version ? { version: options.version } : {}) }, spans: builder.spans() },
        ],
      },
    ],
  };
}

interface SpanState {
  span: OtlpSpan;
  startMs: number;
  endMs: number;
  inputTokens: number;
  outputTokens: number;
  sawUsage: boolean;
}

class SpanBuilder {
  private readonly order: SpanState[] = [];
  /** Session span by trace key + session (or `task:` key for a task's records before its first session). */
  private readonly sessionSpans = new Map<string, SpanState>();
  /** The first session span of each trace, where that trace's session-less records go. */
  private readonly firstSessionOfTrace = new Map<string, SpanState>();
  private readonly toolSpans = new Map<string, SpanState>();
  /** Records of a task seen before any of its sessions, attached once the session span exists. */
  private readonly pendingByTrace = new Map<string, AuditRecord[]>();

  add(record: AuditRecord): void {
    const traceKey = record.task !== null ? `task:${record.task}` : `session:${record.session ?? ''}`;
    if (record.session === null && record.task !== null) {
      const first = this.firstSessionOfTrace.get(traceKey);
      if (first) this.attach(first, record);
      else this.pendingByTrace.set(traceKey, [...(this.pendingByTrace.get(traceKey) ?? []), record]);
      return;
    }
    const session = this.sessionSpan(traceKey, record);
    const callId = stringField(record.data, 'call_id');
    if (callId !== undefined) {
      const tool = this.toolSpan(session, callId, record);
      this.attach(tool, record);
      stretch(session, tool.endMs);
      return;
    }
    this.attach(session, record);
  }

  spans(): OtlpSpan[] {
    // A task whose records never reached a session still gets a root span to hold them.
    for (const [traceKey, pending] of this.pendingByTrace) {
      const first = pending[0]!;
      const root = this.newSpan(traceIdFor(traceKey), `${traceKey}/-`, 'deputy.task', SPAN_KIND_INTERNAL, first);
      root.span.attributes.push(attr('deputy.task.id', first.task ?? ''), ...actorAttrs(first));
      for (const record of pending) this.attach(root, record);
    }
    this.pendingByTrace.clear();
    return this.order.map((state) => {
      if (state.sawUsage) {
        state.span.attributes.push(
          intAttr('gen_ai.usage.input_tokens', state.inputTokens),
          intAttr('gen_ai.usage.output_tokens', state.outputTokens),
        );
      }
      state.span.startTimeUnixNano = nanos(state.startMs);
      state.span.endTimeUnixNano = nanos(state.endMs);
      return state.span;
    });
  }

  private sessionSpan(traceKey: string, record: AuditRecord): SpanState {
    const key = `${traceKey}/${record.session ?? '-'}`;
    const existing = this.sessionSpans.get(key);
    if (existing) return existing;
    if (record.session === null) {
      // Records of no task and no session (a sign-in, say): one span to hold them, no agent involved.
      const state = this.newSpan(traceIdFor(traceKey), key, 'deputy.audit', SPAN_KIND_INTERNAL, record);
      state.span.attributes.push(...actorAttrs(record));
      this.sessionSpans.set(key, state);
      return state;
    }
    const created = record.type === 'session.created' ? record.data : {};
    const agentName = stringField(created, 'agent_name');
    const name = agentName ? `invoke_agent ${agentName}` : 'invoke_agent';
    const state = this.newSpan(traceIdFor(traceKey), key, name, SPAN_KIND_CLIENT, record);
    const attrs = state.span.attributes;
    attrs.push(attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.conversation.id', record.session));
    const agentId = stringField(created, 'agent_id');
    if (agentId) attrs.push(attr('gen_ai.agent.id', agentId));
    if (agentName) attrs.push(attr('gen_ai.agent.name', agentName));
    const provider = stringField(created, 'provider');
    if (provider) attrs.push(attr('gen_ai.provider.name', provider));
    const model = stringField(created, 'model');
    if (model) attrs.push(attr('gen_ai.request.model', model));
    if (record.task !== null) attrs.push(attr('deputy.task.id', record.task));
    attrs.push(...actorAttrs(record));
    this.sessionSpans.set(key, state);
    if (!this.firstSessionOfTrace.has(traceKey)) {
      this.firstSessionOfTrace.set(traceKey, state);
      for (const pending of this.pendingByTrace.get(traceKey) ?? []) this.attach(state, pending);
      this.pendingByTrace.delete(traceKey);
    }
    return state;
  }

  private toolSpan(session: SpanState, callId: string, record: AuditRecord): SpanState {
    const key = `${session.span.spanId}/${callId}`;
    const existing = this.toolSpans.get(key);
    if (existing) return existing;
    const name = stringField(record.data, 'tool') ?? stringField(record.data, 'name') ?? 'unknown';
    const state = this.newSpan(session.span.traceId, key, `execute_tool ${name}`, SPAN_KIND_INTERNAL, record);
    state.span.parentSpanId = session.span.spanId;
    state.span.attributes.push(
      attr('gen_ai.operation.name', 'execute_tool'),
      attr('gen_ai.tool.name', name),
      attr('gen_ai.tool.call.id', callId),
      attr('gen_ai.tool.type', 'function'),
      ...actorAttrs(record),
    );
    this.toolSpans.set(key, state);
    return state;
  }

  private newSpan(traceId: string, spanSeed: string, name: string, kind: number, first: AuditRecord): SpanState {
    const ms = Date.parse(first.time);
    const state: SpanState = {
      span: {
        traceId,
        spanId: nonZeroId(`${traceId}/${spanSeed}`, 16),
        name,
        kind,
        startTimeUnixNano: '',
        endTimeUnixNano: '',
        attributes: [],
        events: [],
        status: { code: STATUS_UNSET },
      },
      startMs: ms,
      endMs: ms,
      inputTokens: 0,
      outputTokens: 0,
      sawUsage: false,
    };
    this.order.push(state);
    return state;
  }

  private attach(state: SpanState, record: AuditRecord): void {
    const ms = Date.parse(record.time);
    state.startMs = Math.min(state.startMs, ms);
    stretch(state, ms);
    state.span.events.push({ timeUnixNano: nanos(ms), name: record.type, attributes: eventAttrs(record) });
    if (record.type === 'usage') {
      state.sawUsage = true;
      state.inputTokens += numberField(record.data, 'input_tokens');
      state.outputTokens += numberField(record.data, 'output_tokens');
    }
    const failed =
      record.type === 'error' ||
      (record.type === 'tool.result' && (record.data.success === false || typeof record.data.error === 'string')) ||
      (record.type === 'task.finished' && record.data.status === 'failed');
    if (failed) {
      const message = stringField(record.data, 'message') ?? stringField(record.data, 'error');
      state.span.status = { code: STATUS_ERROR, ...(message ? { message } : {}) };
    }
  }
}

function stretch(state: SpanState, ms: number): void {
  state.endMs = Math.max(state.endMs, ms);
}

function actorAttrs(record: AuditRecord): OtlpAttribute[] {
  return [
    attr('deputy.principal', record.actor.principal),
    ...(record.actor.account ? [attr('deputy.account', record.actor.account)] : []),
    ...(record.actor.client ? [attr('deputy.client', record.actor.client)] : []),
  ];
}

function eventAttrs(record: AuditRecord): OtlpAttribute[] {
  const out: OtlpAttribute[] = [
    intAttr('deputy.audit.seq', record.seq),
    attr('deputy.audit.hash', record.hash),
    attr('deputy.principal', record.actor.principal),
  ];
  for (const [key, value] of Object.entries(record.data)) {
    const name = `deputy.data.${key}`;
    if (typeof value === 'string') out.push(attr(name, value));
    else if (typeof value === 'boolean') out.push({ key: name, value: { boolValue: value } });
    else if (typeof value === 'number') {
      out.push(Number.isSafeInteger(value) ? intAttr(name, value) : { key: name, value: { doubleValue: value } });
    } else if (value !== null && value !== undefined) out.push(attr(name, JSON.stringify(value)));
  }
  return out;
}

function attr(key: string, value: string): OtlpAttribute {
  return { key, value: { stringValue: value } };
}

/** int64 values are strings in OTLP/JSON (the proto3 JSON mapping). */
function intAttr(key: string, value: number): OtlpAttribute {
  return { key, value: { intValue: String(Math.trunc(value)) } };
}

function stringField(data: Record<string, unknown>, key: string): string | undefined {
  const value = data[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function numberField(data: Record<string, unknown>, key: string): number {
  const value = data[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function traceIdFor(traceKey: string): string {
  return nonZeroId(traceKey, 32);
}

function nanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

/** A lowercase hex id of `length` digits from `seed`; never all zeros (OTLP treats that as invalid). */
function nonZeroId(seed: string, length: number): string {
  const id = sha256Hex(seed).slice(0, length);
  return /^0+$/.test(id) ? `${'0'.repeat(length - 1)}1` : id;
}
