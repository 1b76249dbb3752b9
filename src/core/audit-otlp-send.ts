/**
 * Sends the audit trail's OTLP traces (`audit-otlp.ts`) to an OpenTelemetry collector over OTLP/HTTP, through
 * OpenTelemetry's own exporter, so the wire format (and its future revisions) is theirs: any collector, AgentCore
 * Observability or CloudWatch's OTLP endpoint takes it.
 *
 * The exporter takes SDK spans; the spans here were not recorded live but rebuilt from the chain, so they are handed
 * over as finished `ReadableSpan`s with the ids, times and attributes the chain determines.
 */
import type { Attributes, HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpAttribute, OtlpTraces } from './audit-otlp.js';

export interface OtlpHttpOptions {
  /** The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Extra request headers (an API key for a hosted collector). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Posts every span of `traces`; rejects with the exporter's error when the collector does not accept them. */
export async function sendOtlp(traces: OtlpTraces, options: OtlpHttpOptions): Promise<number> {
  const spans = toReadableSpans(traces);
  if (spans.length === 0) return 0;
  const exporter = new OTLPTraceExporter({
    url: options.url,
    headers: options.headers ?? {},
    timeoutMillis: options.timeoutMs ?? 10_000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      exporter.export(spans, (result) => {
        if (result.code === 0) resolve();
        else reject(result.error ?? new Error('the collector did not accept the spans'));
      });
    });
  } finally {
    await exporter.shutdown();
  }
  return spans.length;
}

export function toReadableSpans(traces: OtlpTraces): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  for (const rs of traces.resourceSpans) {
    const resource = resourceFromAttributes(attributes(rs.resource.attributes));
    for (const ss of rs.scopeSpans) {
      const instrumentationScope = { name: ss.scope.name, ...(ss.scope.version ? { version: ss.scope.version } : {}) };
      for (const s of ss.spans) {
        const startTime = hrTime(s.startTimeUnixNano);
        const endTime = hrTime(s.endTimeUnixNano);
        const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 };
        spans.push({
          name: s.name,
          kind: (s.kind - 1) as SpanKind, // OTLP numbers kinds from 1 (INTERNAL); the API from 0.
          spanContext: () => context,
          ...(s.parentSpanId ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } } : {}),
          startTime,
          endTime,
          duration: hrTime((BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)).toString()),
          status: { code: s.status.code as SpanStatusCode, ...(s.status.message ? { message: s.status.message } : {}) },
          attributes: attributes(s.attributes),
          links: [],
          events: s.events.map((e) => ({ name: e.name, time: hrTime(e.timeUnixNano), attributes: attributes(e.attributes) })),
          ended: true,
          resource,
          instrumentationScope,
          droppedAttributesCount: 0,
          droppedEventsCount: 0,
          droppedLinksCount: 0,
        });
      }
    }
  }
  return spans;
}

function hrTime(unixNano: string): HrTime {
  const n = BigInt(unixNano);
  return [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];
}

function attributes(list: OtlpAttribute[]): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list) {
    if ('stringValue' in value) out[key] = value.stringValue;
    else if ('boolValue' in value) out[key] = value.boolValue;
    else if ('intValue' in value) out[key] = Number(value.intValue);
    else out[key] = value.doubleValue;
  }
  return out;
}
