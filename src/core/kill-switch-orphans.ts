/**
 * Stop all, for sessions no Deputy process is left to stop: a `deputy run` killed outright (`kill -9`, a crash, a
 * closed laptop lid that never came back) leaves its session running at a remote endpoint — a turn in progress, or
 * waiting for a person's answer that will never come. The kill switch (`kill-switch.ts`) reaches only live
 * processes, so Stop all also goes to the endpoints itself:
 * - every process that uses a remote endpoint (a runtime URL, Bedrock, OpenAI) remembers it in
 *   `~/.deputy/kill-switch/endpoints/` — how to reach it (URL, token file path, profile, region: never a secret) and
 *   whose identity used it;
 * - every session Deputy starts carries `deputy.owner` in its metadata: the host, pid and start time of the process
 *   that follows it;
 * - after the live processes answered, each remembered endpoint's sessions of this person that are still running,
 *   were created before the gesture, and whose owner on this host is gone (or did not answer) are stopped here:
 *   pending MCP approvals are answered deny, the turn is cancelled, and the session is watched until it reports it is
 *   no longer running. Nothing is applied: a changeset the agent proposed stays in the session's items, and applying
 *   it needs a fresh review by a person.
 * Sessions owned by a process on another host are left to that host's Stop all: whether their owner lives cannot be
 * told from here.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type OpenAI from 'openai';
import { agentSessions, type SessionInputEvent } from '../agents/session-client.js';
import { deputyHome, killSwitchDir } from './kill-switch.js';
import { ensureStateDir, isSameProcessRunning, openStateFile, processStart, readStateFile } from './state-dir.js';

/** How a remote endpoint is reached again, without any secret: the token is read from its file, credentials from the profile. */
export interface KnownEndpoint {
  kind: 'url' | 'openai' | 'bedrock';
  url?: string;
  tokenFile?: string;
  auth?: 'token' | 'iam';
  serverId?: string;
  profile?: string;
  region?: string;
  /** Shown in Stop all's report. */
  describe: string;
  lastUsed?: string;
}

export const OWNER_METADATA = 'deputy.owner';

/** `deputy.owner` for sessions this process starts: `<host>/<pid>/<process start>`. */
export async function ownerTag(): Promise<string> {
  return `${hostname()}/${process.pid}/${(await processStart(process.pid)) ?? ''}`;
}

function parseOwner(tag: string | undefined): { host: string; pid: number; start: string | undefined } | null {
  if (!tag) return null;
  const m = /^(.*)\/(\d+)\/([^/]*)$/.exec(tag);
  if (!m) return null;
  return { host: m[1]!, pid: Number(m[2]), start: m[3] || undefined };
}

function endpointKey(e: KnownEndpoint): string {
  const identity = JSON.stringify([e.kind, e.url ?? '', e.auth ?? '', e.serverId ?? '', e.profile ?? '', e.region ?? '', e.tokenFile ?? '']);
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** Remembers an endpoint this process uses, so Stop all can reach its sessions after the process is gone. */
export async function rememberEndpoint(env: NodeJS.ProcessEnv, endpoint: KnownEndpoint): Promise<void> {
  const dir = path.join(killSwitchDir(env), 'endpoints');
  await ensureStateDir(dir, deputyHome(env));
  const file = path.join(dir, `${endpointKey(endpoint)}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await openStateFile(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify({ ...endpoint, lastUsed: new Date().toISOString() })}\n`);
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
}

/** The endpoints remembered by `rememberEndpoint`, most recently used first. */
export async function knownEndpoints(env: NodeJS.ProcessEnv): Promise<KnownEndpoint[]> {
  const dir = path.join(killSwitchDir(env), 'endpoints');
  const out: KnownEndpoint[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const text = await readStateFile(path.join(dir, name)).catch(() => null);
    if (text === null) continue;
    try {
      const e = JSON.parse(text) as KnownEndpoint;
      if (e.kind === 'url' || e.kind === 'openai' || e.kind === 'bedrock') out.push(e);
    } catch {
      // A half-written file of a crashed process: the next use rewrites it.
    }
  }
  return out.sort((a, b) => (b.lastUsed ?? '').localeCompare(a.lastUsed ?? ''));
}

export interface OrphanStop {
  session: string;
  /** The owner as recorded (`host/pid/start`). */
  owner: string;
  /** Pending approvals answered deny. */
  denied: number;
  /** When the session reported it is no longer running, after the gesture; null when it had not by the deadline. */
  afterMs: number | null;
}

const RUNNING = new Set(['in_progress', 'requires_action']);

/**
 * Stops, on one endpoint, the running sessions of `principal` that Deputy started and no live process of this host
 * follows any more (see the file comment). `answered` are the pids that answered this pull: their sessions are
 * already stopped by them.
 */
export async function stopOrphanedSessions(
  client: OpenAI,
  options: { principal: string; requestedAt: number; answered: ReadonlySet<number>; deadline: number },
): Promise<OrphanStop[]> {
  const here = hostname();
  const targets: Array<{ id: string; owner: string; pending: string[] }> = [];
  for (const s of await agentSessions(client).list({ metadata: { 'deputy.principal': options.principal }, limit: 100 }, 1000)) {
    if (!RUNNING.has(s.status)) continue;
    const metadata = s.metadata ?? {};
    if (metadata['deputy.principal'] !== options.principal || !metadata['deputy.task']) continue;
    const owner = parseOwner(metadata[OWNER_METADATA]);
    if (owner === null || owner.host !== here || options.answered.has(owner.pid)) continue;
    // Started after the gesture: by a process the pull was not for.
    if (s.created_at * 1000 > options.requestedAt + 1000) continue;
    if (await isSameProcessRunning(owner.pid, owner.start)) continue;
    const pending = (s.required_actions ?? []).flatMap((a) => {
      if (a.type !== 'mcp_approval_request') return [];
      const id = (a as { id?: string; request_id?: string }).request_id ?? (a as { id?: string }).id;
      return id ? [id] : [];
    });
    targets.push({ id: s.id, owner: metadata[OWNER_METADATA]!, pending });
  }
  return Promise.all(targets.map((t) => stopOne(client, t, options)));
}

async function stopOne(client: OpenAI, t: { id: string; owner: string; pending: string[] }, options: { requestedAt: number; deadline: number }): Promise<OrphanStop> {
  // Questions nobody is left to answer are a no, as a prompt that times out is.
  const events = [
    ...t.pending.map((id) => ({ type: 'agent.session.input.mcp_approval_request_result' as const, request_id: id, response: { type: 'mcp_tool_call' as const, decision: 'deny' as const } })),
    { type: 'agent.session.input.cancel' as const },
  ];
  const sessions = agentSessions(client);
  await sessions.sendEvents(t.id, events as SessionInputEvent[]);
  for (;;) {
    const s = await sessions.retrieve(t.id);
    if (!RUNNING.has(s.status)) return { session: t.id, owner: t.owner, denied: t.pending.length, afterMs: Date.now() - options.requestedAt };
    if (Date.now() >= options.deadline) return { session: t.id, owner: t.owner, denied: t.pending.length, afterMs: null };
    await new Promise((r) => setTimeout(r, 50));
  }
}
