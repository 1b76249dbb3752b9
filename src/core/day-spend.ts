/**
 * What this person spent today on this machine, across every session of every Deputy process (each `deputy run`,
 * each editor window), so a per-day budget holds whichever of them spends.
 *
 * Kept under Deputy's per-person folder (`~/.deputy/spend/<local date>/`, beside the kill switch's state): one file
 * per session holding that session's spend today, written whole (temp file and rename) by the process that follows
 * the session, and the day's total is the sum of the files. No two processes ever add to one number, so no lock is
 * needed and no increment is lost: a session's file holds a running total taken from the endpoint's own usage, and a
 * second writer (the same session followed in two windows) writes the same figures. A raise of the day's budget, a
 * person's gesture, is `limit.json` in the same folder; every process reads it with the totals.
 * The folder is outside every workspace and hidden from the agent's command sandbox (`DEPUTY_HOME`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { deputyHome } from './kill-switch.js';
import { ensureStateDir, readStateFile, writeStateJson } from './state-dir.js';

export interface Spend {
  /** USD, when the price of every model counted was known (or the endpoint reported it). */
  usd?: number;
  tokens: number;
}

export interface DayLimit {
  unit: 'usd' | 'tokens';
  amount: number;
  by: string;
  at: string;
}

const SESSION_PREFIX = 's-';
const LIMIT_FILE = 'limit.json';

/** The local calendar day, `YYYY-MM-DD`: a person's "today" is where they are. */
export function localDay(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export class DaySpendLedger {
  constructor(
    private readonly root: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static forHome(env: NodeJS.ProcessEnv, now?: () => Date): DaySpendLedger {
    return new DaySpendLedger(path.join(deputyHome(env), 'spend'), now);
  }

  today(): string {
    return localDay(this.now());
  }

  private dir(day: string): string {
    return path.join(this.root, day);
  }

  /** Records what session `key` has spent on `day` (a running total for that day, replacing the last one). */
  async record(day: string, key: string, spend: Spend): Promise<void> {
    const dir = this.dir(day);
    await ensureStateDir(dir);
    await writeStateJson(path.join(dir, `${SESSION_PREFIX}${safeName(key)}.json`), { ...spend, at: this.now().toISOString() });
  }

  /** Everything spent on `day`, every session of every process. */
  async total(day: string): Promise<Required<Spend> & { usdKnown: boolean }> {
    const dir = this.dir(day);
    const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    let usd = 0;
    let tokens = 0;
    let usdKnown = true;
    for (const name of names) {
      if (!name.startsWith(SESSION_PREFIX) || !name.endsWith('.json')) continue;
      const text = await readStateFile(path.join(dir, name)).catch(() => null);
      const value = parse(text) as Partial<Spend> | null;
      if (!value) continue;
      tokens += finite(value.tokens);
      if (typeof value.usd === 'number' && Number.isFinite(value.usd)) usd += value.usd;
      else if (finite(value.tokens) > 0) usdKnown = false;
    }
    return { usd, tokens, usdKnown };
  }

  /** The day's budget as a person raised it, when they did. */
  async raisedLimit(day: string): Promise<DayLimit | null> {
    const value = parse(await readStateFile(path.join(this.dir(day), LIMIT_FILE)).catch(() => null)) as Partial<DayLimit> | null;
    if (!value || (value.unit !== 'usd' && value.unit !== 'tokens') || !(finite(value.amount) > 0)) return null;
    return { unit: value.unit, amount: finite(value.amount), by: String(value.by ?? ''), at: String(value.at ?? '') };
  }

  async raise(day: string, limit: DayLimit): Promise<void> {
    const dir = this.dir(day);
    await ensureStateDir(dir);
    await writeStateJson(path.join(dir, LIMIT_FILE), limit);
  }
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120);
}

function finite(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null; // a file being replaced is read again at the next update
  }
}

