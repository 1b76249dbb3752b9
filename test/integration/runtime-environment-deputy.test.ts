/**
 * The whole Bedrock Managed Agents path, locally: the runtime (in IAM mode, standing in for BMA) runs the agent; Deputy's
 * own environment connects to the session's `remote_url` through the direct transport (SigV4 with the developer's
 * test credentials, checked by the stand-in), so the agent's command and patch land in the shadow under policy, and
 * the review afterwards brings exactly the approved file into the real workspace.
 */
import assert from 'node:assert/strict';
import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import { AuditLog } from '../../src/core/audit.js';
import { Policy } from '../../src/core/policy.js';
import { Workspace } from '../../src/core/workspace.js';
import { runDirectTransport } from '../../src/environment/direct-transport.js';
import { openEnvironment, serveEnvironmentConnection, type Environment } from '../../src/environment/index.js';
import { createCommandGate } from '../../src/environment/process-types.js';
import { createIamAuthenticator, createIamProof, credentialProviderFor, IAM_PROOF_HEADER } from '../../src/identity/index.js';
import type { SigV4Verifier } from '../../src/runtime/index.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, type AwsHome } from '../fixtures/aws/aws-home.js';
import { verifyHeaderSignature } from '../fixtures/aws/sigv4-verify.js';
import { collectEvents, startHarness, waitForSession, type Harness } from '../fixtures/model-runtime-harness.js';
import { ScriptedPerson } from '../helpers/environment.js';
import { gitStatus, makeRepo } from '../helpers/git.js';

type SelfHosted = Extract<AgentSession['environment'], { type: 'self_hosted' }>;

const SERVER_ID = 'bma-standin';
const PATCH = ['*** Begin Patch', '*** Add File: notes/new.txt', '+kept', '*** Update File: app.txt', '@@', '-line two', '+line 2', '*** End Patch', ''].join('\n');

let aws: AwsStandins;
let home: AwsHome;
let harness: Harness;
let repo: { root: string; cleanup(): Promise<void> };
let alice: { accessKeyId: string; secretAccessKey: string; arn: string };
let environment: Environment;
let audit: AuditLog;
const verdicts: string[] = [];
const stop = new AbortController();
let transport: Promise<void> | undefined;

before(async () => {
  aws = await startAwsStandins();
  home = await makeAwsHome(aws, '');
  alice = aws.addIamUser('alice');
  await home.writeCredentials(`[alice]\naws_access_key_id = ${alice.accessKeyId}\naws_secret_access_key = ${alice.secretAccessKey}\n`);
  const verifySigV4: SigV4Verifier = async (req) => {
    const verdict = await verifyHeaderSignature(req, (id) => aws.lookupKey(id));
    verdicts.push(verdict.ok ? `ok ${verdict.service}` : verdict.code);
    return verdict.ok && verdict.accessKeyId === alice.accessKeyId ? { principal: alice.arn } : null;
  };
  harness = await startHarness(
    [
      { toolCalls: [{ name: 'exec_command', callId: 'c1', arguments: { cmd: 'cat app.txt' } }] },
      { toolCalls: [{ name: 'apply_patch', callId: 'c2', kind: 'custom', arguments: PATCH }] },
      { text: 'Edited.' },
    ],
    { runtime: { authenticate: createIamAuthenticator({ serverId: SERVER_ID, stsEndpoint: aws.stsUrl }), verifySigV4 } },
  );
  repo = await makeRepo({ 'app.txt': 'line one\nline two\n' });
  const workspace = await Workspace.open(repo.root);
  const policy = Policy.defaults();
  audit = await AuditLog.open(workspace.root);
  const person = new ScriptedPerson(
    () => true,
    (q) => (q.file.path === 'notes/new.txt' ? { verdict: 'approve' } : { verdict: 'reject', comment: 'keep "two" spelled out' }),
  );
  environment = await openEnvironment({
    workspace,
    policy,
    audit,
    prompter: person,
    actor: { principal: alice.arn },
    task: 'task_bma_local',
    commands: await createCommandGate({ policy, allowUnsandboxed: false }),
  });
});

after(async () => {
  stop.abort();
  await transport?.catch(() => undefined);
  await harness.close();
  await environment.dispose();
  await audit.close();
  await aws.close();
  await home.cleanup();
  await repo.cleanup();
});

it("Deputy's environment serves a runtime session through the direct transport; only reviewed, approved changes reach the workspace", async () => {
  const proof = await createIamProof({ credentialProvider: credentialProviderFor({ profile: 'alice', env: home.env }), serverId: SERVER_ID, env: home.env });
  const client = harness.clientAt('/v1', 'not-a-runtime-token', { [IAM_PROOF_HEADER]: proof });
  const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: realpathSync(repo.root) } });
  const env = session.environment as SelfHosted;

  const states: string[] = [];
  transport = runDirectTransport({
    remoteUrl: env.remote_url,
    environmentId: env.id,
    credentials: async () => ({ accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey }),
    region: 'us-west-2',
    serve: (socket) => serveEnvironmentConnection(socket, environment.context).closed,
    signal: stop.signal,
    onState: (s) => states.push(s.state),
  });
  await waitForSession(client, session.id, (s) => s.environment.type === 'self_hosted' && (s.environment as SelfHosted).id === env.id && states.includes('connected'));

  const collector = await collectEvents(client, session.id, (e) => e.type === 'agent.session.turn.completed' || e.type === 'agent.session.turn.failed');
  await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: 'Edit app.txt.' }] } as never);
  const events = await collector.done;
  assert.equal(events.at(-1)!.type, 'agent.session.turn.completed');
  assert.ok(verdicts.length >= 2 && verdicts.every((v) => v === 'ok bedrock-mantle'), verdicts.join(', '));

  // The command ran in the shadow (under the command policy and sandbox) and read the workspace's content.
  const items = (await client.beta.agents.sessions.items.list(session.id, { order: 'asc' } as never)).data;
  const [cat, patch] = items.filter((i) => i.type === 'command_execution') as Extract<(typeof items)[number], { type: 'command_execution' }>[];
  assert.equal(cat!.exit_code, 0, cat!.output ?? '');
  // (Lines around it may be the sandboxed login shell's own start-up noise on stderr.)
  assert.ok((cat!.output ?? '').includes('line one\nline two\n'), cat!.output ?? '');
  assert.equal(patch!.status, 'completed', patch!.output ?? '');

  // The patch landed in the shadow only: the real workspace is untouched until the review.
  assert.equal(await fs.readFile(path.join(repo.root, 'app.txt'), 'utf8'), 'line one\nline two\n');
  await assert.rejects(fs.stat(path.join(repo.root, 'notes/new.txt')), { code: 'ENOENT' });
  assert.equal(gitStatus(repo.root).replace(/^\?\? \.deputy\/\n/m, ''), '');

  // End of turn: the engine's review. The approved new file is applied, the rejected edit is not.
  const outcome = await environment.review.review('sess', 'end of turn');
  const byPath = Object.fromEntries(outcome.results.map((r) => [r.path, r.status]));
  assert.deepEqual(byPath, { 'app.txt': 'rejected', 'notes/new.txt': 'applied' });
  assert.equal(await fs.readFile(path.join(repo.root, 'notes/new.txt'), 'utf8'), 'kept\n');
  assert.equal(await fs.readFile(path.join(repo.root, 'app.txt'), 'utf8'), 'line one\nline two\n');
  assert.match(outcome.notes, /keep "two" spelled out/);
});
