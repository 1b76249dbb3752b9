/**
 * What the editor's Stop All tells the person: how many sessions stopped (in live processes and where the process was
 * gone), and what could not be stopped — a process that did not answer, a session that had not reported stopped, an
 * endpoint that could not be reached. Incomplete outcomes are shown as a warning.
 */
import type { StopAll } from '../protocol/lsp.js';

export function stopAllMessage(r: StopAll.Result): { text: string; complete: boolean } {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const total = r.stopped + r.orphaned;
  const where = r.orphaned > 0 ? ` (${r.orphaned} of them whose window or run was gone)` : '';
  const head = total > 0 ? `Stopped ${plural(total, 'session', 'sessions')}${where} in ${(r.elapsedMs / 1000).toFixed(1)} s.` : 'No session was running.';
  const problems: string[] = [];
  if (r.silent > 0) problems.push(`${plural(r.silent, 'Deputy process', 'Deputy processes')} did not answer in time.`);
  if (r.orphanedLate > 0) problems.push(`${plural(r.orphanedLate, 'session', 'sessions')} whose process was gone had not stopped yet.`);
  for (const u of r.unreachable) problems.push(`Not reachable: ${u.endpoint} (${u.reason}).`);
  return { text: [head, ...problems].join(' '), complete: problems.length === 0 };
}
