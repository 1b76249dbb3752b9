// The remote direct transport against a local stand-in that verifies SigV4 the way the service does. The stand-in's
// expectations (signed headers, body, 409 → register again, plain JSON-RPC on the socket) are first checked
// against the real `codex exec-server --remote-transport direct --aws-sigv4` 0.171.0, a registering client like
// ours; then Deputy's client must satisfy the same stand-in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type WebSocket from 'ws';
import { startDirectStandin, type DirectStandin } from '../fixtures/direct-standin.js';
import {
  checkedUrl,
  DirectTransportError,
  runDirectTransport,
  type DirectTransportOptions,
  type DirectTransportState,
} from '../../src/environment/direct-transport.js';
import { SignInRequiredError } from '../../src/identity/errors.js';

const KEY = { accessKeyId: 'AKIDDIRECTTEST01', secretAccessKey: 'direct-transport-test-secret-0001', sessionToken: 'direct-session-token-0001' };
const REGION = 'us-west-2';
const SERVICE = 'bedrock-mantle';
const ENV_ID = 'env_direct_1';
const ROOT = path.resolve(__dirname, '..', '..');
const CODEX = path.join(ROOT, '.cache/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex');

let standin: DirectStandin;
before(async () => {
  standin = await startDirectStandin({ key: KEY, region: REGION, service: SERVICE, environmentId: ENV_ID });
});
after(async () => {
  await standin.close();
});

/** A minimal environment: answers `initialize` like an exec-server, until the socket closes. */
function answerInitialize(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString('utf8')) as { id?: number; method?: string };
      if (msg.method === 'initialize') socket.send(JSON.stringify({ id: msg.id, result: { sessionId: 'deputy-test-session' } }));
    });
    socket.once('close', () => resolve());
  });
}

function options(over: Partial<DirectTransportOptions> & { signal: AbortSignal }): DirectTransportOptions {
  return {
    remoteUrl: standin.url,
    environmentId: ENV_ID,
    credentials: async () => ({ ...KEY }),
    region: REGION,
    service: SERVICE,
    serve: answerInitialize,
    backoff: { initialMs: 20, maxMs: 100 },
    ...over,
  };
}

describe('direct transport: the stand-in agrees with the real codex exec-server', () => {
  it('codex registers (again after a 409), dials with a signed handshake and serves JSON-RPC', async (t) => {
    if (!existsSync(CODEX)) execFileSync(path.join(ROOT, 'test/setup/codex.sh'), { stdio: 'inherit' });
    const home = await mkdtemp(path.join('/var/tmp', 'deputy-codex-home-'));
    t.after(() => rm(home, { recursive: true, force: true, maxRetries: 5 }));
    const from = standin.events.length;
    const seen = standin.initialized.length;
    standin.handshakeConflicts(1);
    const child = spawn(
      CODEX,
      ['exec-server', '--remote', standin.url, '--environment-id', ENV_ID, '--remote-transport', 'direct', '--aws-sigv4', '--aws-service', SERVICE, '--aws-region', REGION],
      {
        cwd: home,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          CODEX_HOME: home,
          HOME: home,
          AWS_ACCESS_KEY_ID: KEY.accessKeyId,
          AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
          AWS_SESSION_TOKEN: KEY.sessionToken,
          AWS_CONFIG_FILE: path.join(home, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
        },
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.after(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    await Promise.race([
      standin.waitInitialized(seen + 1),
      exited.then(() => {
        throw new Error(`codex exec-server exited: ${stderr.slice(-2000)}`);
      }),
    ]);
    const events = standin.events.slice(from);
    // A 409 on the handshake makes codex register again (a 409 on the registration itself is fatal to it).
    assert.deepEqual(
      events.map((e) => [e.kind, e.ok, e.detail === '409' ? '409' : 'ok']),
      [['register', true, 'ok'], ['upgrade', true, '409'], ['register', true, 'ok'], ['upgrade', true, 'ok']],
      JSON.stringify(events),
    );
    // What codex signs: the stand-in's verification passed with these, and Deputy's client must sign the same.
    assert.equal(events[0]!.signedHeaders, 'content-type;host;x-amz-date;x-amz-security-token');
    assert.equal(events[3]!.signedHeaders, 'host;x-amz-date;x-amz-security-token');
    assert.equal(typeof (standin.initialized.at(-1) as { sessionId?: unknown }).sessionId, 'string');
  });
});

describe('direct transport: Deputy as the registering environment', () => {
  it('registers (again after a 409), connects with a signed handshake, serves, reconnects after a drop, and stops on abort', async () => {
    const from = standin.events.length;
    const seen = standin.initialized.length;
    standin.handshakeConflicts(1);
    const controller = new AbortController();
    const states: DirectTransportState[] = [];
    const running = runDirectTransport(options({ signal: controller.signal, onState: (s) => states.push(s) }));
    await standin.waitInitialized(seen + 1);
    assert.deepEqual(standin.initialized.at(-1), { sessionId: 'deputy-test-session' });
    const first = standin.events.slice(from);
    assert.deepEqual(first.map((e) => [e.kind, e.ok, e.detail === '409']), [['register', true, false], ['upgrade', true, true], ['register', true, false], ['upgrade', true, false]]);
    assert.equal(first[0]!.signedHeaders, 'content-type;host;x-amz-date;x-amz-security-token', 'signed like codex');
    assert.equal(first[3]!.signedHeaders, 'host;x-amz-date;x-amz-security-token', 'handshake signed like codex');
    assert.equal(states.filter((s) => s.state === 'disconnected').length, 0, 'a stale registration is no disconnect: no backoff');

    standin.dropAll();
    await standin.waitInitialized(seen + 2);
    const afterDrop = standin.events.slice(from + first.length);
    assert.deepEqual(afterDrop.map((e) => [e.kind, e.ok]), [['register', true], ['upgrade', true]], 'a drop registers again and reconnects');
    assert.ok(states.some((s) => s.state === 'disconnected'));

    controller.abort();
    await running;
    assert.deepEqual(states.at(-1), { state: 'stopped' });
    assert.equal(states.filter((s) => s.state === 'connected').length, 2);
  });

  it('a 409 on the registration itself registers again', async () => {
    const from = standin.events.length;
    const seen = standin.initialized.length;
    standin.conflicts(2);
    const controller = new AbortController();
    const running = runDirectTransport(options({ signal: controller.signal }));
    await standin.waitInitialized(seen + 1);
    controller.abort();
    await running;
    assert.deepEqual(standin.events.slice(from).map((e) => [e.kind, e.detail === '409']), [['register', true], ['register', true], ['register', false], ['upgrade', false]]);
  });

  it('wrong credentials are refused by the stand-in and stop the transport with the service text (control: the right ones connect, above)', async () => {
    const controller = new AbortController();
    const run = runDirectTransport(
      options({ signal: controller.signal, credentials: async () => ({ ...KEY, secretAccessKey: 'not-the-secret-at-all-0000000000' }) }),
    );
    await assert.rejects(run, (err: unknown) => err instanceof DirectTransportError && err.status === 403 && /SignatureDoesNotMatch/.test(err.message) && !err.message.includes('not-the-secret'));
  });

  it('credentials that changed after a refusal are read again once: the next registration with them connects', async () => {
    // A runtime that restarted wrote a new token between the read and the request; keys rotated: the same thing.
    const from = standin.events.length;
    const seen = standin.initialized.length;
    let reads = 0;
    const controller = new AbortController();
    const states: DirectTransportState[] = [];
    const running = runDirectTransport(
      options({
        signal: controller.signal,
        onState: (s) => states.push(s),
        credentials: async () => (++reads === 1 ? { ...KEY, secretAccessKey: 'an-old-secret-rotated-away-00000' } : { ...KEY }),
      }),
    );
    await standin.waitInitialized(seen + 1);
    controller.abort();
    await running;
    assert.deepEqual(standin.events.slice(from).map((e) => [e.kind, e.ok]), [['register', false], ['register', true], ['upgrade', true]]);
    assert.equal(states.filter((s) => s.state === 'disconnected').length, 0, 'no disconnect, no backoff');
  });

  it('an expired sign-in is the SignInRequiredError of everywhere, not a retry loop', async () => {
    const controller = new AbortController();
    const run = runDirectTransport(
      options({
        signal: controller.signal,
        credentials: async () => {
          throw new SignInRequiredError('dev', 'expired');
        },
      }),
    );
    await assert.rejects(run, (err: unknown) => err instanceof SignInRequiredError && err.profile === 'dev');
  });

  it('retries an unreachable endpoint with backoff until aborted', async () => {
    const controller = new AbortController();
    const states: DirectTransportState[] = [];
    const run = runDirectTransport(options({ signal: controller.signal, remoteUrl: 'http://127.0.0.1:9/base', onState: (s) => states.push(s) }));
    while (states.filter((s) => s.state === 'disconnected').length < 3) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await run;
    const waits = states.flatMap((s) => (s.state === 'disconnected' ? [s.retryInMs] : []));
    assert.ok(waits[2]! > waits[0]!, `backoff grows: ${waits.join(', ')}`);
    assert.deepEqual(states.at(-1), { state: 'stopped' });
  });

  it('refuses unencrypted URLs except on loopback', () => {
    for (const ok of ['https://bedrock-mantle.us-east-1.api.aws/x', 'wss://example.com/ws', 'http://127.0.0.1:8080/x', 'ws://localhost:1/x', 'ws://[::1]:2/x']) {
      assert.doesNotThrow(() => checkedUrl(ok, 'URL'), ok);
    }
    for (const bad of ['http://example.com/x', 'ws://10.0.0.1/ws', 'ftp://127.0.0.1/x', 'https://user:pw@example.com/', 'not a url']) {
      assert.throws(() => checkedUrl(bad, 'URL'), DirectTransportError, bad);
    }
  });

  it('refuses a registration answer that points the socket at a non-loopback ws:// URL', async () => {
    const http = await import('node:http');
    const server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r', url: 'ws://example.com/steal' })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const controller = new AbortController();
      await assert.rejects(runDirectTransport(options({ signal: controller.signal, remoteUrl: `http://127.0.0.1:${port}/base` })), /not encrypted/);
    } finally {
      server.close();
    }
  });
});

