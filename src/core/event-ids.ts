/** Ids the engine gives what it reports (a message, a turn): a prefix saying what it is and 20 random hex digits. */
import { randomUUID } from 'node:crypto';

export function newEventId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}
