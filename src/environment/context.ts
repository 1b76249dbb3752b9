/**
 * What every connection of Deputy's environment shares: the shadow, the real workspace, policy, the person
 * (through the Prompter port), the audit trail and who Deputy acts for. Also the one way the environment asks a
 * person: bound to the exact request, held until answered or timed out (a timeout is a deny), audited.
 */
import { askWithin } from '../core/ask-within.js';
import type { AuditActor, AuditEventType, AuditLog } from '../core/audit.js';
import type { Policy, PolicyVerdict } from '../core/policy.js';
import { bindingFor, type Prompter } from '../core/prompter.js';
import type { EngineEvents } from '../core/event-channel.js';
import type { Workspace } from '../core/workspace.js';
import type { WorkspaceFiles } from '../core/workspace-files.js';
import type { CommandGate } from './process-types.js';
import type { Shadow } from './shadow.js';

export interface EnvironmentContext {
  shadow: Shadow;
  /** The real workspace reviewed changes are applied to. */
  workspace: Workspace;
  policy: Policy;
  audit: AuditLog;
  prompter: Prompter;
  actor: AuditActor;
  /** The task id every audit record of this environment carries. */
  task: string;
  /** Judges and runs `process/start`; absent, every process request is refused with a clear message. */
  commands?: CommandGate;
  /** How long a question to the person may stay open before it counts as a deny. */
  promptTimeoutMs: number;
  /** Where approved text is read and written: the editor's buffers and WorkspaceEdit, else the disk. */
  files?: WorkspaceFiles;
  /** The task's event channel: the review reports there as `propose_changes` reviews do (applied files, conflicts). */
  events?: EngineEvents;
}

export async function record(env: EnvironmentContext, type: AuditEventType, session: string, data: Record<string, unknown>): Promise<void> {
  await env.audit.append({ type, session, task: env.task, actor: env.actor, data });
}

export interface PersonAnswer {
  allow: boolean;
  /** Why, in words for the agent when it is a deny. */
  why: string;
}

const RANK: Record<PolicyVerdict['decision'], number> = { allow: 0, ask: 1, deny: 2 };

/** The stricter of the verdicts for the path as named and the path it really is (a link inside the shadow). */
export function strictestVerdict(policy: Policy, tool: string, rel: string, realRel: string): PolicyVerdict {
  const spelled = policy.decide({ tool, path: rel === '' ? '.' : rel });
  if (realRel === rel) return spelled;
  const real = policy.decide({ tool, path: realRel === '' ? '.' : realRel });
  return RANK[real.decision] > RANK[spelled.decision] ? { ...real, reason: `${real.reason} (${rel} is a link to ${realRel})` } : spelled;
}

/**
 * Asks the person about one request of the agent. The answer counts only when it carries this request's binding;
 * no answer within `promptTimeoutMs` is a deny. `prompt.asked` and `prompt.answered` go on the audit trail.
 */
export async function askPerson(
  env: EnvironmentContext,
  question: { session: string; callId: string; tool: string; summary: string; reason: string; args: unknown },
): Promise<PersonAnswer> {
  const binding = bindingFor(question.session, question.callId, { tool: question.tool, args: question.args });
  await record(env, 'prompt.asked', question.session, { call_id: question.callId, tool: question.tool, summary: question.summary, reason: question.reason });
  const deadline = new Date(Date.now() + env.promptTimeoutMs).toISOString();
  const asked = await askWithin((signal) => env.prompter.askPermission({ binding, ...question, deadline }, { signal }), { timeoutMs: env.promptTimeoutMs });
  let result: PersonAnswer;
  let note: string | undefined;
  if ('withdrawn' in asked) {
    const minutes = Math.round(env.promptTimeoutMs / 6000) / 10;
    result = { allow: false, why: `No one answered within ${minutes} minute${minutes === 1 ? '' : 's'}, so the request was denied.` };
    note = 'timed out';
  } else if (asked.answer.binding !== binding) {
    result = { allow: false, why: 'The user denied this request.' };
    note = 'answer not bound to this request; treated as deny';
  } else {
    result = asked.answer.allow ? { allow: true, why: 'allowed by the user' } : { allow: false, why: 'The user denied this request.' };
  }
  await record(env, 'prompt.answered', question.session, {
    call_id: question.callId,
    tool: question.tool,
    answer: result.allow ? 'allow' : 'deny',
    ...(result.allow ? { approver: env.actor.principal } : {}),
    ...(note ? { note } : {}),
  });
  return result;
}
