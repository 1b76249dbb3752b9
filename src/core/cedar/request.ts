/**
 * A tool call as Cedar sees it: the principal entity, the action, the resource and the facts in
 * `context.input` (the exact arguments and what Deputy derives from them). Facts that do not apply to a tool are
 * empty, never absent (see schema.ts), so every validated policy evaluates without errors.
 */
import * as os from 'node:os';
import * as posix from 'node:path/posix';
import { canonicalJson } from '../prompter.js';
import { matchGlob } from '../glob.js';
import { NAMESPACE, MCP_GROUP } from './schema.js';
import type { CedarContext, EntityJson } from './wasm.js';

/** The person the agent acts for. On AWS, from STS GetCallerIdentity; otherwise the local user. */
export interface Principal {
  /** IAM ARN, or `local:<user>` off AWS. */
  arn: string;
  account: string;
  user: string;
  onAws: boolean;
  tags: Record<string, string>;
}

export function localPrincipal(): Principal {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the policy still sees a principal, named unknown.
  }
  return { arn: `local:${user}`, account: '', user, onAws: false, tags: identityTags(`local:${user}`, '') };
}

/** A principal from an IAM caller identity (`arn:aws:sts::123:assumed-role/Role/name`). */
export function awsPrincipal(arn: string, account: string, tags: Record<string, string> = {}): Principal {
  const user = arn.slice(arn.lastIndexOf('/') + 1) || arn;
  return { arn, account, user, onAws: true, tags: { ...identityTags(arn, account), ...tags } };
}

/**
 * The principal of an audit actor: the IAM identity when it is an ARN, else the local user it names. `profile` is
 * the AWS profile Deputy acts through, when there is one.
 */
export function principalOf(actor: { principal: string; account?: string }, options: { profile?: string | undefined } = {}): Principal {
  // The profile tags only an AWS identity: a local user was not resolved through it.
  if (actor.principal.startsWith('arn:')) {
    return awsPrincipal(actor.principal, actor.account ?? actor.principal.split(':')[4] ?? '', options.profile ? { profile: options.profile } : {});
  }
  const arn = `local:${actor.principal}`;
  return { arn, account: actor.account ?? '', user: actor.principal, onAws: false, tags: identityTags(arn, actor.account ?? '') };
}

/**
 * The principal's tags, read from its identity exactly as IAM spells it (no case folding: Cedar compares strings
 * case-sensitively, and so does every policy that tests a tag):
 * - `kind`: `assumed-role` (a role session, SSO included), `user` (an IAM user), `federated-user`, `root`, `role`,
 *   or `local` off AWS;
 * - `account` (when known), `partition` (`aws`, `aws-cn`, `aws-us-gov`), `role` and `session` (a role session:
 *   for SSO the permission set's role `AWSReservedSSO_<set>_<id>` and the person's sign-in name), `userName` (an IAM
 *   user or a local user), `path` (an IAM user's or role's path, when not `/`);
 * - `profile`: the AWS profile the identity was resolved through, added by `principalOf` when there is one.
 */
export function identityTags(arn: string, account: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (account) tags.account = account;
  if (!arn.startsWith('arn:')) {
    tags.kind = 'local';
    tags.userName = arn.startsWith('local:') ? arn.slice('local:'.length) : arn;
    return tags;
  }
  const parts = arn.split(':');
  const partition = parts[1] ?? '';
  if (partition) tags.partition = partition;
  if (!tags.account && parts[4]) tags.account = parts[4];
  const resource = parts.slice(5).join(':');
  const words = resource.split('/');
  const kind = words[0] ?? '';
  if (kind === 'assumed-role' && words.length >= 3) {
    tags.kind = kind;
    tags.role = words[1]!;
    tags.session = words.slice(2).join('/');
  } else if ((kind === 'user' || kind === 'role') && words.length >= 2) {
    tags.kind = kind;
    tags[kind === 'user' ? 'userName' : 'role'] = words[words.length - 1]!;
    if (words.length > 2) tags.path = `/${words.slice(1, -1).join('/')}/`;
  } else if (kind === 'federated-user' && words.length >= 2) {
    tags.kind = kind;
    tags.userName = words.slice(1).join('/');
  } else if (resource === 'root') {
    tags.kind = 'root';
  } else if (kind) {
    tags.kind = kind;
  }
  return tags;
}

/** One simple command of a command line, as words. */
export interface CommandFacts {
  /** The whole command line. */
  line: string;
  /** The segment this request judges; empty for the request about the line as a whole. */
  segment: readonly string[];
  segments: readonly (readonly string[])[];
  /**
   * Each segment's command name as the gate reads it: a system binary by its bare name (`/usr/bin/git` → `git`),
   * anything else as written (`./git` is not git). Same order as `segments`.
   */
  names: readonly string[];
  /** What the line writes to or reads from, as written (`> out.txt`, `2>&1`). */
  redirects: readonly string[];
  /** Constructs the gate flags (redirects, substitutions, here-docs, …), described. */
  constructs: readonly string[];
  subshell: boolean;
  /** Names of variables the line sets (`FOO=1 cmd`). */
  envAssignments: readonly string[];
}

export interface CedarRequest {
  /** The action: a tool name, `run_command`, `fs_write` or `mcp:<server>/<tool>`. */
  tool: string;
  /** Workspace-relative, normalized; absent when the call names no path. */
  path?: string;
  outsideWorkspace?: boolean;
  command?: CommandFacts;
  /** The exact arguments of the call. */
  args?: unknown;
  taskId?: string;
  budgetUsedCents?: number;
}

/** Commands that reach the network (or whose usual subcommands do). */
const NETWORK_NAMES = new Set(['curl', 'wget', 'ssh', 'scp', 'sftp', 'rsync', 'nc', 'ncat', 'telnet', 'ftp', 'aria2c', 'http', 'https', 'dig', 'nslookup', 'ping']);
const NETWORK_SUBCOMMANDS: Record<string, ReadonlySet<string>> = {
  git: new Set(['clone', 'fetch', 'pull', 'push', 'ls-remote', 'submodule']),
  npm: new Set(['install', 'i', 'ci', 'add', 'publish', 'update', 'view', 'exec']),
  pnpm: new Set(['install', 'i', 'add', 'publish', 'update', 'dlx']),
  yarn: new Set(['install', 'add', 'publish', 'upgrade', 'dlx']),
  pip: new Set(['install', 'download']),
  pip3: new Set(['install', 'download']),
  cargo: new Set(['install', 'fetch', 'publish', 'update']),
  go: new Set(['get', 'install', 'mod']),
  docker: new Set(['pull', 'push', 'login', 'run', 'build']),
  aws: new Set(['*']),
  gh: new Set(['*']),
};

/** The last path segment of a command word (`/tmp/x/sudo` → `sudo`): what a forbid should test. */
const baseName = (word: string | undefined): string => (word ?? '').slice((word ?? '').lastIndexOf('/') + 1);

function reachesNetwork(words: readonly string[]): boolean {
  const name = baseName(words[0]);
  if (NETWORK_NAMES.has(name)) return true;
  const subs = NETWORK_SUBCOMMANDS[name];
  return subs !== undefined && (subs.has('*') || subs.has(words[1] ?? ''));
}


/** Globs whose match a policy may test (`context.input.globs`): those compiled shorthand rules name. */
export interface GlobFacts {
  globs: readonly string[];
  secretGlobs: readonly string[];
}

export function resourceOf(req: CedarRequest): { type: string; id: string } {
  if (req.tool === 'run_command') return { type: `${NAMESPACE}::Command`, id: req.command?.line ?? '' };
  if (req.tool.startsWith('mcp:')) return { type: `${NAMESPACE}::Tool`, id: req.tool.slice(4) };
  return { type: `${NAMESPACE}::Path`, id: req.path ?? '.' };
}

export function entitiesOf(req: CedarRequest, principal: Principal): EntityJson[] {
  const entities: EntityJson[] = [
    {
      uid: { type: `${NAMESPACE}::Person`, id: principal.arn },
      attrs: { arn: principal.arn, account: principal.account, user: principal.user, onAws: principal.onAws },
      parents: [],
      tags: principal.tags,
    },
  ];
  const resource = resourceOf(req);
  if (resource.type === `${NAMESPACE}::Path`) {
    // Every folder above the path is a parent, so `resource in Deputy::Path::"src"` reads as "under src/".
    const folders: string[] = [];
    if (resource.id !== '.') {
      const parts = resource.id.split('/');
      for (let i = parts.length - 1; i > 0; i--) folders.push(parts.slice(0, i).join('/'));
      folders.push('.');
    }
    entities.push({ uid: resource, attrs: {}, parents: folders.map((id) => ({ type: resource.type, id })) });
  }
  if (req.tool.startsWith('mcp:')) {
    entities.push({ uid: { type: `${NAMESPACE}::Action`, id: req.tool }, attrs: {}, parents: [{ type: `${NAMESPACE}::Action`, id: MCP_GROUP }] });
  }
  return entities;
}

export function contextOf(req: CedarRequest, globFacts: GlobFacts): CedarContext {
  const path = req.path ?? '';
  const segments = path === '' || path === '.' ? [] : path.split('/');
  const fileName = segments[segments.length - 1] ?? '';
  const lower = path.toLowerCase();
  const globs = path === '' ? [] : globFacts.globs.filter((g) => matchGlob(g, path));
  const globsIgnoreCase = path === '' ? [] : globFacts.globs.filter((g) => matchGlob(g.toLowerCase(), lower));
  const secretFile = path !== '' && globFacts.secretGlobs.some((g) => matchGlob(g.toLowerCase(), lower));
  const args = (req.args ?? {}) as Record<string, unknown>;
  const c = req.command;
  const segmentWords = c?.segment ?? [];
  const segmentIndex = c ? c.segments.findIndex((words) => words.length === segmentWords.length && words.every((w, i) => w === segmentWords[i])) : -1;
  const name = segmentWords.length === 0 ? '' : (c?.names[segmentIndex] ?? segmentWords[0] ?? '');
  return {
    input: {
      args: canonicalJson(req.args ?? {}),
      path,
      pathSegments: segments,
      fileName,
      extension: posix.extname(fileName),
      secretFile,
      outsideWorkspace: req.outsideWorkspace === true,
      globs,
      globsIgnoreCase,
      query: typeof args.query === 'string' ? args.query : '',
      operation: typeof args.operation === 'string' ? args.operation : '',
      command: c?.line ?? '',
      segment: { name, baseName: baseName(segmentWords[0]), words: segmentWords.join(' '), args: segmentWords.slice(1) },
      segments: (c?.segments ?? []).map((words) => words.join(' ')),
      commandNames: [...new Set([...(c?.names ?? []), ...(c?.segments ?? []).map((words) => baseName(words[0]))])],
      redirects: [...(c?.redirects ?? [])],
      constructs: [...(c?.constructs ?? [])],
      subshell: c?.subshell === true,
      envAssignments: [...(c?.envAssignments ?? [])],
      network: (c?.segments ?? []).some(reachesNetwork),
    },
    session: { taskId: req.taskId ?? '', budgetUsedCents: Math.round(req.budgetUsedCents ?? 0) },
  };
}
