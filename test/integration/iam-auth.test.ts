import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthenticationError, NotFoundError } from 'openai';
import {
  createIamAuthenticator,
  createIamProof,
  credentialProviderFor,
  IAM_PROOF_HEADER,
} from '../../src/identity/index.js';
import { RuntimeStore } from '../../src/runtime/store.js';
import { startAwsStandins, type AwsStandins } from '../fixtures/aws/aws-standins.js';
import { makeAwsHome, type AwsHome } from '../fixtures/aws/aws-home.js';
import { findLeaks } from '../fixtures/aws/cli-capture.js';
import { startHarness, type Harness } from '../fixtures/model-runtime-harness.js';

const SERVER_ID = 'deputy-prod-eu';

async function listenCounting(handler: (url: string, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req.url ?? '', res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe('IAM auth of the runtime (presigned sts:GetCallerIdentity proofs)', () => {
  let aws: AwsStandins;
  let home: AwsHome;
  let harness: Harness;
  let alice: { accessKeyId: string; secretAccessKey: string; arn: string };
  let bob: { accessKeyId: string; secretAccessKey: string; arn: string };
  const logs: string[] = [];
  const rejections: string[] = [];
  const proofs: string[] = [];

  before(async () => {
    aws = await startAwsStandins();
    home = await makeAwsHome(aws, '');
    alice = aws.addIamUser('alice');
    bob = aws.addIamUser('bob');
    await home.writeCredentials(
      `[alice]\naws_access_key_id = ${alice.accessKeyId}\naws_secret_access_key = ${alice.secretAccessKey}\n\n` +
        `[bob]\naws_access_key_id = ${bob.accessKeyId}\naws_secret_access_key = ${bob.secretAccessKey}\n`,
    );
    harness = await startHarness([], {
      runtime: {
        authenticate: createIamAuthenticator({ serverId: SERVER_ID, stsEndpoint: aws.stsUrl, onReject: (r) => rejections.push(r) }),
        log: (line) => logs.push(line),
      },
    });
  });
  after(async () => {
    await harness.close();
    const leaks = findLeaks([...logs, ...rejections], [...aws.issuedSecrets(), ...proofs]);
    await aws.close();
    await home.cleanup();
    assert.deepEqual(leaks, [], 'no key, secret or proof appears in runtime logs or rejection reasons');
  });

  async function proofFor(profile: string, extra: { serverId?: string; signingDate?: Date; env?: NodeJS.ProcessEnv } = {}) {
    const proof = await createIamProof({
      credentialProvider: credentialProviderFor({ profile, env: home.env }),
      serverId: extra.serverId ?? SERVER_ID,
      env: extra.env ?? home.env,
      ...(extra.signingDate ? { signingDate: extra.signingDate } : {}),
    });
    proofs.push(proof);
    return proof;
  }
  const clientWith = (proof: string) => harness.clientAt('/v1', 'not-a-runtime-token', { [IAM_PROOF_HEADER]: proof });
  const stsCalls = () => aws.requests.filter((r) => r.service === 'sts').length;

  it('accepts a valid proof, records the proven ARN as owner, and keeps callers apart', async () => {
    const asAlice = clientWith(await proofFor('alice'));
    const asBob = clientWith(await proofFor('bob'));
    const session = await asAlice.beta.agents.sessions.create({ environment: { type: 'none' } });
    const retrieved = await asAlice.beta.agents.sessions.retrieve(session.id);
    assert.equal(retrieved.id, session.id);

    await assert.rejects(asBob.beta.agents.sessions.retrieve(session.id), NotFoundError);
    const bobsList = await asBob.beta.agents.sessions.list();
    assert.ok(!bobsList.data.some((s) => s.id === session.id));
    const alicesList = await asAlice.beta.agents.sessions.list();
    assert.ok(alicesList.data.some((s) => s.id === session.id));
    assert.deepEqual(findLeaks([JSON.stringify(session), JSON.stringify(alicesList.data)], [...aws.issuedSecrets(), ...proofs]), []);

    // The owner on record is the ARN STS vouched for.
    await harness.runtime.close();
    const store = RuntimeStore.open(join(harness.dataDir, 'runtime.db'));
    try {
      assert.equal(store.getSession(session.id)?.principal, alice.arn);
    } finally {
      await store.close();
    }
    await harness.restart();
  });

  it('rejects a proof replayed too late without asking STS', async () => {
    const proof = await proofFor('alice', { signingDate: new Date(Date.now() - 10 * 60_000) });
    const before = stsCalls();
    await assert.rejects(clientWith(proof).beta.agents.sessions.list(), AuthenticationError);
    assert.equal(stsCalls(), before);
    assert.match(rejections.at(-1) ?? '', /expired/);
  });

  it('rejects a proof made for another server id (STS finds the signature does not cover ours)', async () => {
    const proof = await proofFor('alice', { serverId: 'someone-elses-runtime' });
    const before = stsCalls();
    await assert.rejects(clientWith(proof).beta.agents.sessions.list(), AuthenticationError);
    assert.equal(stsCalls(), before + 1);
    assert.match(rejections.at(-1) ?? '', /STS refused/);
  });

  it('rejects a proof pointing at another host and never contacts it', async () => {
    const evil = await listenCounting((_url, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: 'arn:aws:iam::999999999999:root' } } }),
      );
    });
    try {
      const proof = await proofFor('alice', { env: { ...home.env, AWS_ENDPOINT_URL_STS: evil.url } });
      await assert.rejects(clientWith(proof).beta.agents.sessions.list(), AuthenticationError);
      assert.deepEqual(evil.hits, []);
      assert.match(rejections.at(-1) ?? '', /not the configured STS endpoint/);
    } finally {
      evil.server.close();
    }
  });

  it('does not follow a redirect from the STS endpoint', async () => {
    const redirector = await listenCounting((url, res) => {
      res.writeHead(307, { location: `${aws.stsUrl}${url}` }).end();
    });
    try {
      const auth = createIamAuthenticator({ serverId: SERVER_ID, stsEndpoint: redirector.url });
      const proof = await proofFor('alice', { env: { ...home.env, AWS_ENDPOINT_URL_STS: redirector.url } });
      const before = stsCalls();
      assert.equal(await auth({ headers: { [IAM_PROOF_HEADER]: proof } }), null);
      assert.equal(redirector.hits.length, 1);
      assert.equal(stsCalls(), before, 'the redirect target was not called');
    } finally {
      redirector.server.close();
    }
  });

  it('rejects tampered proofs', async () => {
    const proof = await proofFor('alice');
    const url = new URL(Buffer.from(proof.slice('deputy-iam-v1.'.length), 'base64url').toString());
    const encode = (u: URL) => `deputy-iam-v1.${Buffer.from(u.toString()).toString('base64url')}`;

    // Claim to be bob with alice's signature.
    const asBob = new URL(url);
    asBob.searchParams.set('X-Amz-Credential', url.searchParams.get('X-Amz-Credential')!.replace(alice.accessKeyId, bob.accessKeyId));
    // Flip one character of the signature.
    const flipped = new URL(url);
    const sig = url.searchParams.get('X-Amz-Signature')!;
    flipped.searchParams.set('X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    // Sneak in another action.
    const otherAction = new URL(url);
    otherAction.searchParams.set('Action', 'AssumeRole');
    // Stretch the expiry.
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '86400');

    for (const tampered of [asBob, flipped, otherAction, longer]) {
      await assert.rejects(clientWith(encode(tampered)).beta.agents.sessions.list(), AuthenticationError);
    }
    await assert.rejects(clientWith('garbage').beta.agents.sessions.list(), AuthenticationError);
    // The untampered proof still works.
    await clientWith(proof).beta.agents.sessions.list();
  });
});
