/** Deputy's environment in-process over a real workspace, served on the loopback transport, for tests and benches. */
import { ExecClient } from './exec-client.js';
import { makeRepo } from './git.js';
import { AuditLog } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import type { FileReviewAnswer, FileReviewQuestion, PermissionAnswer, PermissionQuestion, Prompter } from '../../src/core/prompter.js';
import { Workspace } from '../../src/core/workspace.js';
import { openEnvironment, serveEnvironmentConnection, startLocalTransport, type Environment, type EnvironmentConnection } from '../../src/environment/index.js';
import { createCommandGate, type CommandGate } from '../../src/environment/process-types.js';

/** A person whose answers the test decides, recording every question. */
export class ScriptedPerson implements Prompter {
  readonly permissions: PermissionQuestion[] = [];
  readonly reviews: FileReviewQuestion[] = [];
  constructor(
    private readonly allow: (q: PermissionQuestion) => boolean | Promise<boolean> = () => false,
    private readonly verdict: (q: FileReviewQuestion) => { verdict: 'approve' | 'reject'; comment?: string } = () => ({ verdict: 'reject' }),
  ) {}
  async askPermission(q: PermissionQuestion): Promise<PermissionAnswer> {
    this.permissions.push(q);
    return { binding: q.binding, allow: await this.allow(q) };
  }
  async reviewFile(q: FileReviewQuestion): Promise<FileReviewAnswer> {
    this.reviews.push(q);
    return { binding: q.binding, ...this.verdict(q) };
  }
}

export interface TestEnvironment {
  environment: Environment;
  audit: AuditLog;
  url: string;
  connections: EnvironmentConnection[];
  close(): Promise<void>;
}

export async function startTestEnvironment(
  root: string,
  options: { person?: ScriptedPerson; policy?: Policy; commands?: CommandGate | null; promptTimeoutMs?: number } = {},
): Promise<TestEnvironment> {
  const workspace = await Workspace.open(root);
  const policy = options.policy ?? Policy.defaults();
  // The real command policy and sandbox unless a test says otherwise (null: no command gate at all).
  const commands = options.commands === undefined ? await createCommandGate({ policy, allowUnsandboxed: false }) : options.commands;
  const audit = await AuditLog.open(workspace.root);
  const environment = await openEnvironment({
    workspace,
    policy,
    audit,
    prompter: options.person ?? new ScriptedPerson(),
    actor: { principal: 'local:tester@test' },
    task: 'task_test',
    ...(commands ? { commands } : {}),
    ...(options.promptTimeoutMs ? { promptTimeoutMs: options.promptTimeoutMs } : {}),
  });
  const connections: EnvironmentConnection[] = [];
  const transport = await startLocalTransport({ onConnection: (socket) => connections.push(serveEnvironmentConnection(socket, environment.context)) });
  return {
    environment,
    audit,
    url: transport.url,
    connections,
    async close() {
      await transport.close();
      await Promise.all(connections.map((c) => c.closed));
      await environment.dispose();
      await audit.close();
    },
  };
}

/**
 * A repository with `files`, Deputy's environment over it, and a client past the handshake. After the test the
 * environment closes first (its last audit records written), then the repository goes.
 */
export async function environmentWithClient(
  t: { after(fn: () => Promise<void>): void },
  files: Record<string, string>,
  options: Parameters<typeof startTestEnvironment>[1] = {},
): Promise<{ repo: { root: string }; env: TestEnvironment; client: ExecClient }> {
  const repo = await makeRepo(files);
  const env = await startTestEnvironment(repo.root, options);
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const client = await ExecClient.connect(env.url);
  await client.handshake();
  return { repo, env, client };
}
