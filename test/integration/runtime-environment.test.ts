/**
 * The runtime as Bedrock Managed Agents' self-hosted environment path, against the real peers: the real
 * `codex exec-server --remote <remote_url> --remote-transport direct --aws-sigv4` (pinned Codex CLI) registers with the
 * runtime and serves a turn in which the scripted model runs `exec_command` and `apply_patch`; the `openai` client
 * creates the session and reads items and events. IAM mode checks the signatures with the test credentials.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentSession, AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { createIamAuthenticator, createIamProof, credentialProviderFor, IAM_PROOF_HEADER } from '../../src/identity/index.js';
import type { SigV4Verifier } from '../../src/runtime/index.js';
import { codexBinary } from '../fixtures/codex.js';
import { collectEvents, startHarness, waitForSession, type Harness } from '../fixtures/model-runtime-harness.js';
import type { RecordedRequest, ScriptEntry } from '../fixtures/model-server.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, type AwsHome } from '../fixtures/aws/aws-home.js';
import { verifyHeaderSignature } from '../fixtures/aws/sigv4-verify.js';

type SelfHosted = Extract<AgentSession['environment'], { type: 'self_hosted' }>;

const PATCH = [
  '*** Begin Patch',
  '*** Add File: notes/new.txt',
  '+created by the agent',
  '*** Update File: app.txt',
  '@@',
  ' line one',
  '-line two',
  '+line 2',
  '*** Delete File: old.txt',
  '*** End Patch',
  '',
].join('\n');

/** The turn the tests script: a command, a patch, then an answer that quotes what the tools returned. */
function script(): ScriptEntry[] {
  return [
    { toolCalls: [{ name: 'exec_command', callId: 'call_cmd', arguments: { cmd: 'echo hello from $(basename "$PWD") && echo oops >&2' } }] },
    { toolCalls: [{ name: 'apply_patch', callId: 'call_patch', kind: 'custom', arguments: PATCH }] },
    { toolCalls: [{ name: 'exec_command', callId: 'call_fail', arguments: { cmd: 'cat notes/new.txt; exit 3' } }] },
    { text: 'Done.' },
  ];
}

async function workspace(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-envws-'));
  await fs.writeFile(path.join(dir, 'app.txt'), 'line one\nline two\n');
  await fs.writeFile(path.join(dir, 'old.txt'), 'remove me\n');
  return dir;
}

interface ExecServer {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `codex exec-server --remote … --remote-transport direct --aws-sigv4`, signing with `keys`. */
function startRemoteExecServer(remoteUrl: string, environmentId: string, cwd: string, keys: { accessKeyId: string; secretAccessKey: string }): ExecServer {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: cwd,
    CODEX_HOME: path.join(cwd, '..', `${path.basename(cwd)}-codex-home`),
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const args = ['exec-server', '--remote', remoteUrl, '--environment-id', environmentId, '--remote-transport', 'direct', '--aws-sigv4', '--aws-service', 'bedrock-mantle', '--aws-region', 'us-west-2'];
  const child = spawn(codexBinary(), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function toolOutput(req: RecordedRequest, callId: string): string | undefined {
  const item = (req.body?.input as { type?: string; call_id?: string; output?: string }[] | undefined)?.find(
    (i) => (i.type === 'function_call_output' || i.type === 'custom_tool_call_output') && i.call_id === callId,
  );
  return item?.output;
}

/** The first command item once it has settled. */
async function waitForItem(client: Harness['client'], sessionId: string): Promise<unknown> {
  for (;;) {
    const items = (await client.beta.agents.sessions.items.list(sessionId)).data;
    const item = items.find((i) => i.type === 'command_execution');
    if (item && (item as { status: string }).status !== 'in_progress') return item;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function mkCodexHome(ws: string): Promise<void> {
  await fs.mkdir(path.join(ws, '..', `${path.basename(ws)}-codex-home`), { recursive: true });
}

describe('runtime self-hosted environment (token mode) with the real codex exec-server', () => {
  let harness: Harness;
  let ws: string;
  let server: ExecServer | undefined;

  before(async () => {
    codexBinary();
    harness = await startHarness(script());
    ws = await workspace();
    await mkCodexHome(ws);
  });
  after(async () => {
    await server?.stop();
    await harness.close();
    await fs.rm(ws, { recursive: true, force: true });
    await fs.rm(path.join(ws, '..', `${path.basename(ws)}-codex-home`), { recursive: true, force: true });
  });

  it('waits for the environment, then runs exec_command and apply_patch through it and reports them', async () => {
    const { client } = harness;
    const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: ws } });
    const env = session.environment as SelfHosted;
    assert.equal(env.type, 'self_hosted');
    assert.equal(env.workspace_directory, ws);
    assert.match(env.remote_url, new RegExp(`^${harness.runtime.url}/v1/agents/sessions/${session.id}/environment/[A-Za-z0-9_-]{43}$`));

    const collector = await collectEvents(client, session.id, (e) => e.type === 'agent.session.turn.completed' || e.type === 'agent.session.turn.failed');
    await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: 'Look around and edit.' }] } as never);

    // No environment yet: the turn waits on an environment_connection action, as BMA's does.
    const waiting = await waitForSession(client, session.id, (s) => s.status === 'requires_action');
    assert.deepEqual(waiting.required_actions, [{ type: 'environment_connection', environment_id: env.id }]);
    assert.equal(harness.model.requests.length, 0, 'the model is not called before the environment connects');

    server = startRemoteExecServer(env.remote_url, env.id, ws, { accessKeyId: 'AKIATESTEXAMPLE00001', secretAccessKey: 'not-checked-in-token-mode' });
    const events = await collector.done;
    const types = events.map((e) => e.type);
    assert.ok(types.includes('agent.session.environment.connected'), types.join(' '));
    assert.equal(events.at(-1)!.type, 'agent.session.turn.completed', server.output());

    // The command ran in the environment (the workspace folder is its cwd) and its output streamed as deltas.
    const items = (await client.beta.agents.sessions.items.list(session.id, { order: 'asc' } as never)).data;
    const commands = items.filter((i) => i.type === 'command_execution');
    assert.equal(commands.length, 3);
    const [echo, patch, failing] = commands as Extract<(typeof items)[number], { type: 'command_execution' }>[];
    assert.equal(echo!.command, 'echo hello from $(basename "$PWD") && echo oops >&2');
    assert.equal(echo!.exit_code, 0);
    assert.equal(echo!.status, 'completed');
    assert.match(echo!.output ?? '', new RegExp(`hello from ${path.basename(ws)}`));
    assert.ok(!('model_call' in echo!), 'the runtime keeps its replay record to itself');
    const deltas = events.filter((e): e is Extract<AgentSessionEvent, { type: 'agent.output.command_execution_output.delta' }> => e.type === 'agent.output.command_execution_output.delta');
    assert.match(deltas.filter((d) => d.item_id === echo!.id).map((d) => d.delta).join(''), /hello from/);

    // apply_patch became file operations in the environment: the real folder changed exactly so.
    assert.equal(patch!.command, 'apply_patch');
    assert.equal(patch!.status, 'completed');
    assert.equal(await fs.readFile(path.join(ws, 'notes/new.txt'), 'utf8'), 'created by the agent\n');
    assert.equal(await fs.readFile(path.join(ws, 'app.txt'), 'utf8'), 'line one\nline 2\n');
    await assert.rejects(fs.stat(path.join(ws, 'old.txt')), { code: 'ENOENT' });

    // A failing command is a failed item with its exit code; the model is told all of it.
    assert.equal(failing!.exit_code, 3);
    assert.equal(failing!.status, 'failed');
    const reqs = harness.model.requests;
    assert.equal(reqs.length, 4);
    const tools = reqs[0]!.body.tools as { type: string; name: string; format?: { type: string } }[];
    assert.deepEqual(tools.map((t) => [t.type, t.name]), [['function', 'exec_command'], ['custom', 'apply_patch']]);
    assert.equal(tools[1]!.format?.type, 'grammar');
    // stdout and stderr both reach the model (their relative order is the pipes', not fixed).
    const echoed = toolOutput(reqs[1]!, 'call_cmd') ?? '';
    assert.match(echoed, /^Exit code: 0\nWall time: [\d.]+ seconds\nOutput:\n/);
    assert.match(echoed, /hello from /);
    assert.match(echoed, /(^|\n)oops\n/);
    assert.match(toolOutput(reqs[2]!, 'call_patch') ?? '', /^Success[\s\S]*A notes\/new\.txt\nM app\.txt\nD old\.txt/);
    assert.match(toolOutput(reqs[3]!, 'call_fail') ?? '', /^Exit code: 3\n[\s\S]*created by the agent/);
    const patchCall = (reqs[2]!.body.input as { type: string; call_id?: string; input?: string }[]).find((i) => i.type === 'custom_tool_call');
    assert.equal(patchCall?.input, PATCH, 'the model sees its own custom tool call replayed as it made it');

    const final = await client.beta.agents.sessions.retrieve(session.id);
    assert.equal((final.environment as SelfHosted).id, env.id);
    assert.equal(final.status, 'idle');
  });

  it('a cancelled turn terminates the command running in the environment', async () => {
    const cancelHarness = await startHarness([{ toolCalls: [{ name: 'exec_command', callId: 'call_sleep', arguments: { cmd: 'echo started; sleep 60; echo never' } }] }]);
    const { client } = cancelHarness;
    let sleeper: ExecServer | undefined;
    try {
      const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: ws } });
      const env = session.environment as SelfHosted;
      sleeper = startRemoteExecServer(env.remote_url, env.id, ws, { accessKeyId: 'AKIATESTEXAMPLE00002', secretAccessKey: 'not-checked-in-token-mode' });
      const collector = await collectEvents(client, session.id, (e) => e.type === 'agent.session.turn.cancelled' || e.type === 'agent.session.turn.completed');
      await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: 'Wait.' }] } as never);
      // Cancel once the command is visibly running: its own first line arrived (a login shell's start-up files may
      // print before it, on a developer's machine).
      for (;;) {
        const items = (await client.beta.agents.sessions.items.list(session.id)).data;
        const running = items.find((i) => i.type === 'command_execution');
        const started = collector.events.some((e) => e.type === 'agent.output.command_execution_output.delta' && JSON.stringify(e).includes('started'));
        if (running && started) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.cancel' }] } as never);
      const events = await collector.done;
      assert.equal(events.at(-1)!.type, 'agent.session.turn.cancelled');
      const item = (await waitForItem(client, session.id)) as { status: string; output: string | null };
      assert.equal(item.status, 'incomplete');
      assert.match(item.output ?? '', /started/);
      assert.doesNotMatch(item.output ?? '', /never/);
      const { execFileSync } = await import('node:child_process');
      const running = () => /sleep 60; echo never/.test(execFileSync('ps', ['-eo', 'args']).toString());
      for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(running(), false, 'the command was terminated in the environment');
      assert.equal(cancelHarness.model.requests.length, 1, 'nothing more is asked of the model');
    } finally {
      await sleeper?.stop();
      await cancelHarness.close();
    }
  });

  it('refuses the register endpoint and websocket without the session capability or with a stale registration', async () => {
    const { client } = harness;
    await assert.rejects(client.beta.agents.sessions.create({ environment: { type: 'self_hosted' } as never }), { status: 400, param: 'environment.workspace_directory' });
    await assert.rejects(
      client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: ws }, agent: { tools: [{ type: 'function', name: 'exec_command', parameters: {} }] } } as never),
      { status: 400, param: 'agent.tools[0].name' },
    );
    const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: ws } });
    const env = session.environment as SelfHosted;
    const register = (url: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/cloud/environment/${env.id}/direct/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ transport: 'direct_jsonrpc_v1' }),
      });
    const wrongSecret = env.remote_url.replace(/[A-Za-z0-9_-]{43}$/, 'A'.repeat(43));
    assert.equal((await register(wrongSecret, { authorization: `Bearer ${harness.runtime.token}` })).status, 404);
    assert.equal((await register(env.remote_url)).status, 401, 'no credentials at all');
    assert.equal((await register(env.remote_url, { authorization: 'Bearer wrong' })).status, 401);
    const ok = await register(env.remote_url, { authorization: `Bearer ${harness.runtime.token}` });
    assert.equal(ok.status, 200);
    const first = (await ok.json()) as { environment_id: string; transport: string; registration_id: string; url: string };
    assert.equal(first.environment_id, env.id);
    assert.equal(first.transport, 'direct_jsonrpc_v1');
    assert.ok(first.url.startsWith(env.remote_url.replace(/^http/, 'ws')));
    const again = (await (await register(env.remote_url, { authorization: `Bearer ${harness.runtime.token}` })).json()) as { url: string };
    const { default: WebSocket } = await import('ws');
    const handshake = (url: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(url, { headers });
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('error', () => resolve(-1));
      });
    const bearer = { authorization: `Bearer ${harness.runtime.token}` };
    assert.equal(await handshake(first.url, bearer), 409, 'a superseded registration must register again');
    assert.equal(await handshake(again.url, {}), 401);
    assert.equal(await handshake(again.url, { ...bearer, origin: 'https://evil.example' }), 403);
  });
});

describe('runtime self-hosted environment (IAM mode): SigV4 from codex exec-server verified', () => {
  const SERVER_ID = 'env-runtime-test';
  let aws: AwsStandins;
  let home: AwsHome;
  let harness: Harness;
  let ws: string;
  let alice: { accessKeyId: string; secretAccessKey: string; arn: string };
  let bob: { accessKeyId: string; secretAccessKey: string; arn: string };
  const servers: ExecServer[] = [];
  const verdicts: string[] = [];

  before(async () => {
    codexBinary();
    aws = await startAwsStandins();
    home = await makeAwsHome(aws, '');
    alice = aws.addIamUser('alice');
    bob = aws.addIamUser('bob');
    await home.writeCredentials(`[alice]\naws_access_key_id = ${alice.accessKeyId}\naws_secret_access_key = ${alice.secretAccessKey}\n`);
    const users = () => [alice, bob];
    // The stand-in knows the test users' secret keys, as AWS knows real ones: it checks the signature and names the signer.
    const verifySigV4: SigV4Verifier = async (req) => {
      const verdict = await verifyHeaderSignature(req, (id) => aws.lookupKey(id));
      verdicts.push(verdict.ok ? `ok ${verdict.service}` : verdict.code);
      const user = verdict.ok ? users().find((u) => u.accessKeyId === verdict.accessKeyId) : undefined;
      return user ? { principal: user.arn } : null;
    };
    harness = await startHarness(script(), {
      runtime: { authenticate: createIamAuthenticator({ serverId: SERVER_ID, stsEndpoint: aws.stsUrl }), verifySigV4 },
    });
    ws = await workspace();
    await mkCodexHome(ws);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await harness.close();
    await aws.close();
    await home.cleanup();
    await fs.rm(ws, { recursive: true, force: true });
    await fs.rm(path.join(ws, '..', `${path.basename(ws)}-codex-home`), { recursive: true, force: true });
  });

  it("admits only the session owner's valid signature, and the turn runs through the environment", async () => {
    const proof = await createIamProof({ credentialProvider: credentialProviderFor({ profile: 'alice', env: home.env }), serverId: SERVER_ID, env: home.env });
    const client = harness.clientAt('/v1', 'not-a-runtime-token', { [IAM_PROOF_HEADER]: proof });
    const session = await client.beta.agents.sessions.create({ environment: { type: 'self_hosted', workspace_directory: ws } });
    const env = session.environment as SelfHosted;

    // A wrong secret key: the signature does not verify, registration is refused and the exec-server gives up.
    const forged = startRemoteExecServer(env.remote_url, env.id, ws, { accessKeyId: alice.accessKeyId, secretAccessKey: 'not-alices-secret-key-000000000' });
    servers.push(forged);
    await forged.exited;
    assert.match(forged.output(), /401/);
    // Bob's valid signature: a real identity, but not the session's owner.
    const intruder = startRemoteExecServer(env.remote_url, env.id, ws, bob);
    servers.push(intruder);
    await intruder.exited;
    assert.match(intruder.output(), /401/);
    assert.deepEqual(verdicts, ['SignatureDoesNotMatch', 'ok bedrock-mantle']);
    assert.equal((await client.beta.agents.sessions.retrieve(session.id)).environment.type, 'self_hosted');

    const collector = await collectEvents(client, session.id, (e) => e.type === 'agent.session.turn.completed' || e.type === 'agent.session.turn.failed');
    const owner = startRemoteExecServer(env.remote_url, env.id, ws, alice);
    servers.push(owner);
    await client.beta.agents.sessions.events.create(session.id, { events: [{ type: 'agent.session.input.message', input: 'Edit.' }] } as never);
    const events = await collector.done;
    assert.equal(events.at(-1)!.type, 'agent.session.turn.completed', owner.output());
    // Register POST and websocket handshake were both signed by alice and verified.
    assert.deepEqual(verdicts.slice(2), ['ok bedrock-mantle', 'ok bedrock-mantle']);
    assert.equal(await fs.readFile(path.join(ws, 'app.txt'), 'utf8'), 'line one\nline 2\n');
  });
});
