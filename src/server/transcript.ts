/**
 * A session this process did not start (after a server restart or a window reload) gets its transcript back from the
 * endpoint's durable items: the person's messages, the agent's messages, reasoning summaries and tool calls with
 * their results. Streaming detail (deltas, durations) is not in the items and is not invented.
 */
import type OpenAI from 'openai';
import type { AgentSessionItem } from 'openai/resources/beta/agents/agents';
import { agentSessions } from '../agents/session-client.js';
import { summarize } from '../core/tool-runner.js';
import type { EventInput } from './event-log.js';

/** At most this many items are read back; a longer history shows its most recent part only after this cap. */
const MAX_ITEMS = 5000;

export interface Transcript {
  /** The first message the person sent: the task. */
  task: string;
  events: EventInput[];
}

export async function readTranscript(client: OpenAI, sessionId: string): Promise<Transcript> {
  const items: AgentSessionItem[] = [];
  for await (const item of agentSessions(client).items(sessionId)) {
    items.push(item);
    if (items.length >= MAX_ITEMS) break;
  }
  const events: EventInput[] = [];
  let task = '';
  const names = new Map<string, string>();
  for (const item of items) {
    const i = item as unknown as Record<string, unknown>;
    switch (i.type) {
      case 'message': {
        const text = messageText(i.content);
        const id = String(i.id ?? '');
        if (i.role === 'user') {
          if (!task) task = text;
          events.push({ type: 'message.user', messageId: id, text });
        } else if (text) {
          events.push({ type: 'message.completed', messageId: id, text });
        }
        break;
      }
      case 'reasoning': {
        const summary = Array.isArray(i.summary) ? i.summary.map((s: { text?: string }) => s?.text ?? '').join('\n') : '';
        if (summary) events.push({ type: 'reasoning.summary', itemId: String(i.id ?? ''), text: summary });
        break;
      }
      case 'function_call': {
        const callId = String(i.call_id ?? '');
        const name = String(i.name ?? '');
        names.set(callId, name);
        events.push({ type: 'tool.called', callId, tool: name, argsSummary: summarize(name, parse(i.arguments)), status: 'running' });
        break;
      }
      case 'function_call_output': {
        const callId = String(i.call_id ?? '');
        const output = typeof i.output === 'string' ? i.output : JSON.stringify(i.output ?? '');
        events.push({
          type: 'tool.completed',
          callId,
          tool: names.get(callId) ?? 'tool',
          status: i.status === 'incomplete' || /^\{"error"/.test(output) ? 'failed' : 'succeeded',
          durationMs: 0,
          resultBytes: Buffer.byteLength(output, 'utf8'),
        });
        break;
      }
      default:
        break;
    }
  }
  return { task, events };
}

function messageText(content: unknown): string {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  return content.map((c: { text?: unknown }) => (typeof c?.text === 'string' ? c.text : '')).join('');
}

function parse(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
