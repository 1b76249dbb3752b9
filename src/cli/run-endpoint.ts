/**
 * Connects `deputy run` to the endpoint it was told to use and works out who is acting. Everything that
 * differs between the embedded runtime, a runtime URL, OpenAI and Bedrock ends here; what comes out is an
 * `openai` client and an actor, the same shape for all.
 */
import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError } from 'openai';
import { createAgentsClient, openaiScope } from '../agents/endpoints.js';
import { displayUrl } from '../core/redact.js';
import type { AuditActor } from '../core/audit.js';
import { startRuntime, StoreInUseError, type LockOwner, type RuntimeHandle, type UpstreamConfig } from '../runtime/index.js';
import {
  IAM_PROOF_HEADER,
  createIamProofSource,
  credentialProviderFor,
  resolveIdentity,
  type AwsCredentialsProvider,
} from '../identity/index.js';
import { BMA_SIGNING_SERVICE } from '../environment/direct-transport.js';
import type { DirectTransportAuth } from '../environment/task-environment.js';
import { UserError } from './io.js';
import { upstreamFrom, type RunOptions } from './run-options.js';
import { DEPUTY_CLIENT } from './version.js';

export interface Connection {
  client: OpenAI;
  actor: AuditActor;
  /** One line for the user: where the task goes. */
  describe: string;
  /** `gen_ai.provider.name` of the endpoint. */
  provider: 'deputy' | 'openai' | 'aws.bedrock';
  /** Secrets this connection holds (the runtime's token): kept out of the audit trail and error text. */
  secrets: string[];
  /**
   * How Deputy's environment authenticates its direct transport (`--environment`) to this endpoint: SigV4 with the
   * developer's credentials for Bedrock; a Deputy runtime's own auth (the bearer token or an IAM proof) otherwise,
   * so the embedded runtime needs no AWS credentials. Absent where the direct transport is not offered (OpenAI).
   */
  environmentAuth?: DirectTransportAuth;
  close(): Promise<void>;
}

function bearer(token: string): DirectTransportAuth {
  return { authHeaders: async () => ({ authorization: `Bearer ${token}` }) };
}

/** The secrets the options point at in the environment: the model's and OpenAI's API keys, a runtime token. */
export function configuredSecrets(options: RunOptions, env: NodeJS.ProcessEnv): (string | undefined)[] {
  return [
    options.modelApiKeyEnv ? env[options.modelApiKeyEnv] : undefined,
    env[options.apiKeyEnv],
    env.DEPUTY_TOKEN,
  ];
}

/**
 * How a host adapts the credential providers `connect` builds: the language server wraps them so a session waits
 * for a sign-in instead of failing, and so a profile the person signed out of is not used. The CLI passes none.
 */
export interface ConnectHooks {
  credentials?(provider: AwsCredentialsProvider, profile: string | undefined): AwsCredentialsProvider;
}

function providerFor(options: Pick<RunOptions, 'profile'>, env: NodeJS.ProcessEnv, hooks: ConnectHooks): AwsCredentialsProvider {
  const provider = credentialProviderFor({ ...(options.profile ? { profile: options.profile } : {}), env });
  return hooks.credentials ? hooks.credentials(provider, options.profile) : provider;
}

export async function connect(options: RunOptions, env: NodeJS.ProcessEnv, hooks: ConnectHooks = {}): Promise<Connection> {
  switch (options.endpoint.kind) {
    case 'embedded':
      return connectEmbedded(options, env, hooks);
    case 'url':
      return connectRuntimeUrl(options, options.endpoint.url, env, hooks);
    case 'openai': {
      const apiKey = env[options.apiKeyEnv];
      if (!apiKey) {
        throw new UserError(
          `--endpoint openai needs an API key in the environment variable ${options.apiKeyEnv}. ` +
            `Set it (export ${options.apiKeyEnv}=...) or name another variable with --api-key-env.`,
        );
      }
      const client = createAgentsClient({ kind: 'openai', apiKey, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}) });
      return { client, actor: await actorFor(options, env, hooks), describe: 'OpenAI Agents API', provider: 'openai', secrets: [apiKey], close: async () => undefined };
    }
    case 'bedrock': {
      if (!options.region) {
        throw new UserError('--endpoint bedrock needs a region: pass --region (e.g. us-west-2) or set AWS_REGION.');
      }
      const credentialProvider = providerFor(options, env, hooks);
      const identity = await resolveIdentity({
        ...(options.profile ? { profile: options.profile } : {}),
        region: options.region,
        env,
        credentialProvider,
      });
      const client = createAgentsClient({
        kind: 'bedrock',
        region: options.region,
        credentialProvider,
        ...(env.DEPUTY_BEDROCK_BASE_URL ? { baseURL: env.DEPUTY_BEDROCK_BASE_URL } : {}),
      });
      return {
        client,
        actor: { principal: identity.arn, account: identity.account, client: DEPUTY_CLIENT },
        describe: `Amazon Bedrock Managed Agents (${options.region})`,
        provider: 'aws.bedrock',
        secrets: [],
        environmentAuth: { credentials: async () => credentialProvider(), region: options.region, service: BMA_SIGNING_SERVICE },
        close: async () => undefined,
      };
    }
  }
}

async function connectEmbedded(options: RunOptions, env: NodeJS.ProcessEnv, hooks: ConnectHooks): Promise<Connection> {
  const upstream = upstreamFrom(options, env);
  await checkModelAnswers(options, upstream.apiKey);
  const { runtime, dataDir, busy } = await startOwnRuntime(options.dataDir, upstream);
  const client = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token });
  const own = busy ? ` (store ${dataDir}: ${options.dataDir} is in use by process ${busy.pid}, ${busy.command})` : '';
  return {
    client,
    actor: await actorFor(options, env, hooks),
    describe: `embedded runtime${own} → ${options.model} at ${displayUrl(options.modelBaseUrl)}`,
    provider: 'deputy',
    secrets: [runtime.token, ...(upstream.apiKey ? [upstream.apiKey] : [])],
    environmentAuth: bearer(runtime.token),
    close: () => runtime.close(),
  };
}

/** How many `deputy run`s can share a workspace at once, each with a store of its own. */
const PARALLEL_STORES = 16;

/**
 * One runtime per data directory: when another live process owns `dataDir` (a second `deputy run` in the same
 * workspace), this run keeps its sessions in a store of its own, the first free `<dataDir>/parallel/<n>`. A store
 * whose owner died is taken over (and its interrupted turns marked failed), so the numbers are reused.
 */
async function startOwnRuntime(
  dataDir: string,
  upstream: UpstreamConfig,
): Promise<{ runtime: RuntimeHandle; dataDir: string; busy: LockOwner | null }> {
  let busy: LockOwner | null = null;
  for (let n = 0; n <= PARALLEL_STORES; n++) {
    const dir = n === 0 ? dataDir : join(dataDir, 'parallel', String(n));
    try {
      return { runtime: await startRuntime({ dataDir: dir, upstream }), dataDir: dir, busy };
    } catch (err) {
      if (!(err instanceof StoreInUseError)) throw err;
      busy ??= err.owner;
    }
  }
  throw new UserError(
    `${dataDir} and its ${PARALLEL_STORES} parallel stores are all in use by other Deputy processes. Wait for one to finish, or pass --data-dir.`,
  );
}

async function connectRuntimeUrl(options: RunOptions, url: string, env: NodeJS.ProcessEnv, hooks: ConnectHooks): Promise<Connection> {
  const baseURL = /\/v1$/.test(url) ? url : `${url}/v1`;
  if (options.auth === 'iam') {
    const profile = options.profile ? { profile: options.profile } : {};
    const region = options.region ? { region: options.region } : {};
    const credentialProvider = providerFor(options, env, hooks);
    // One proof serves requests for a few minutes; a fresh one is signed before the runtime would refuse it.
    const proof = createIamProofSource({ credentialProvider, serverId: options.serverId!, ...region, env });
    const client = createAgentsClient({
      kind: 'runtime',
      baseURL,
      headers: async () => ({ [IAM_PROOF_HEADER]: await proof() }),
    });
    const identity = await resolveIdentity({ ...profile, ...region, env, credentialProvider });
    return {
      client,
      actor: { principal: identity.arn, account: identity.account, client: DEPUTY_CLIENT },
      describe: `Deputy runtime at ${displayUrl(url)} (IAM)`,
      provider: 'deputy',
      secrets: [],
      environmentAuth: { authHeaders: async () => ({ [IAM_PROOF_HEADER]: await proof() }) },
      close: async () => undefined,
    };
  }
  const tokenFile = options.tokenFile;
  let token = env.DEPUTY_TOKEN;
  if (tokenFile) {
    const text = await readFile(tokenFile, 'utf8').catch(() => {
      throw new UserError(`Cannot read the runtime token file ${tokenFile}. \`deputy serve\` prints where it wrote it.`);
    });
    token = text.trim();
    if (!token) throw new UserError(`The runtime token file ${tokenFile} is empty. \`deputy serve\` prints where it wrote the token.`);
  }
  if (!token) {
    throw new UserError(`A runtime at ${displayUrl(url)} needs its bearer token: pass --token-file (printed by \`deputy serve\`) or set DEPUTY_TOKEN.`);
  }
  const client = createAgentsClient({ kind: 'runtime', baseURL, token });
  return {
    client,
    actor: await actorFor(options, env, hooks),
    describe: `Deputy runtime at ${displayUrl(url)}`,
    provider: 'deputy',
    secrets: [token],
    // `deputy serve` writes a fresh token at every start: the environment re-reads the file, so after a restart it
    // registers again with the new one instead of stopping on a 401.
    environmentAuth: tokenFile ? { authHeaders: async () => ({ authorization: `Bearer ${(await readFile(tokenFile, 'utf8').catch(() => token!)).trim() || token!}` }) } : bearer(token),
    close: async () => undefined,
  };
}

/**
 * Who acts: the AWS principal when the user named a profile (so the trail shows the governed identity), else
 * the local account. Resolving an identity that needs sign-in fails here, before any work starts.
 */
export async function actorFor(options: Pick<RunOptions, 'profile' | 'region'>, env: NodeJS.ProcessEnv, hooks: ConnectHooks = {}): Promise<AuditActor> {
  if (options.profile) {
    const identity = await resolveIdentity({
      profile: options.profile,
      ...(options.region ? { region: options.region } : {}),
      env,
      credentialProvider: providerFor(options, env, hooks),
    });
    return { principal: identity.arn, account: identity.account, client: DEPUTY_CLIENT };
  }
  return { principal: `local:${safeUser()}@${hostname()}`, client: DEPUTY_CLIENT };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Before starting the embedded runtime, make sure something answers at the model's address; otherwise say
 * exactly what to configure rather than failing deep inside the first turn.
 */
async function checkModelAnswers(options: RunOptions, apiKey: string | undefined): Promise<void> {
  const probe = new OpenAI({
    baseURL: options.modelBaseUrl,
    apiKey: apiKey ?? 'none',
    maxRetries: 0,
    timeout: 5000,
    ...openaiScope(options.modelBaseUrl),
  });
  try {
    await probe.models.list();
  } catch (err) {
    if (err instanceof APIConnectionError || err instanceof APIConnectionTimeoutError) {
      throw new UserError(
        [
          `No model answered at ${displayUrl(options.modelBaseUrl)}.`,
          'Deputy\'s embedded runtime needs an OpenAI-compatible model server. Either:',
          `  • start Ollama there: \`ollama serve\`, then \`ollama pull ${options.model}\``,
          '  • or point Deputy at your model: --model-base-url URL --model NAME [--model-api-key-env VAR]',
          '    (or DEPUTY_MODEL_BASE_URL / DEPUTY_MODEL / DEPUTY_MODEL_API_KEY_ENV), adding --model-api chat',
          '    for servers without the Responses API',
          '  • or use a managed endpoint: --endpoint openai, or --endpoint bedrock --profile P --region R.',
        ].join('\n'),
      );
    }
    // Any HTTP answer (even 404 for servers without /models) means a server is there.
  }
}
