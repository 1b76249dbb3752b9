/**
 * One factory for every Agents API endpoint Deputy talks to. The engine's task code receives the `OpenAI`
 * client this returns and never knows which kind it is: Deputy's runtime, OpenAI, or Bedrock mantle.
 */
import OpenAI from 'openai';
import { bedrock, type AwsCredentialsProvider } from 'openai/providers/bedrock/aws';

export type EndpointSpec =
  /** Deputy's own runtime (embedded or self-hosted): a base URL such as `http://127.0.0.1:PORT/v1` and a bearer. */
  | {
      kind: 'runtime';
      baseURL: string;
      /** Bearer token; absent when the runtime authenticates callers another way (IAM proofs). */
      token?: string;
      /** Headers computed per request, e.g. a fresh short-lived IAM proof. */
      headers?: () => Promise<Record<string, string>>;
    }
  /** OpenAI's hosted Agents API. */
  | { kind: 'openai'; apiKey: string; baseURL?: string; organization?: string; project?: string }
  /**
   * Amazon Bedrock Managed Agents (mantle), signed with SigV4 by the caller's own credentials.
   * `baseURL` overrides the regional endpoint (tests, private endpoints).
   */
  | { kind: 'bedrock'; region: string; credentialProvider: AwsCredentialsProvider; baseURL?: string };

/** True for OpenAI's own API host, the only one the environment's `OPENAI_ORG_ID` / `OPENAI_PROJECT_ID` are meant for. */
export function isOpenAIHost(baseURL: string | undefined): boolean {
  if (baseURL === undefined) return true;
  try {
    return new URL(baseURL).hostname.toLowerCase() === 'api.openai.com';
  } catch {
    return false;
  }
}

/**
 * The `organization` / `project` options for a client of `baseURL`. The `openai` package reads `OPENAI_ORG_ID` and
 * `OPENAI_PROJECT_ID` from the environment by default and sends them as headers to whatever host it talks to; an
 * explicit null stops that for every host but OpenAI's own. Values configured on purpose are always sent.
 */
export function openaiScope(baseURL: string | undefined, configured: { organization?: string; project?: string } = {}): {
  organization?: string | null | undefined;
  project?: string | null | undefined;
} {
  const env = isOpenAIHost(baseURL) ? undefined : null;
  return { organization: configured.organization ?? env, project: configured.project ?? env };
}

export type EndpointKind = EndpointSpec['kind'];

/**
 * The largest tool result (UTF-8 bytes of the output text) Deputy sends to each kind of endpoint; a larger one is
 * cut to fit, with a note telling the agent to ask for less (see `limitToolOutput`), rather than failing the task.
 * - `runtime`: Deputy's runtime refuses request bodies over 8 MiB; the output travels inside a JSON body, where
 *   escaping can at most double it, so 3 MiB always fits with room for the envelope.
 * - `openai`, `bedrock`: the hosted services accept function outputs up to 10 MiB of text; 1 MiB keeps well inside
 *   that, and a result that large already fills most models' context.
 */
export const MAX_TOOL_OUTPUT_BYTES = {
  runtime: 3 * 1024 * 1024,
  openai: 1024 * 1024,
  bedrock: 1024 * 1024,
} as const satisfies Record<EndpointKind, number>;

/** `MAX_TOOL_OUTPUT_BYTES` for an endpoint named by its `gen_ai.provider.name` (what a connection knows). */
export function maxToolOutputBytesFor(provider: 'deputy' | 'openai' | 'aws.bedrock'): number {
  return MAX_TOOL_OUTPUT_BYTES[provider === 'deputy' ? 'runtime' : provider === 'aws.bedrock' ? 'bedrock' : 'openai'];
}

export interface ClientOptions {
  /** Retries of idempotent requests by the `openai` client; its own default when absent. */
  maxRetries?: number;
  timeoutMs?: number;
}

export function createAgentsClient(spec: EndpointSpec, options: ClientOptions = {}): OpenAI {
  const common = {
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  };
  switch (spec.kind) {
    case 'runtime':
      return new OpenAI({
        ...common,
        apiKey: spec.token ?? 'none',
        baseURL: spec.baseURL,
        organization: null,
        project: null,
        ...(spec.headers ? { fetch: withHeaders(spec.headers) } : {}),
      });
    case 'openai':
      return new OpenAI({
        ...common,
        apiKey: spec.apiKey,
        ...(spec.baseURL ? { baseURL: spec.baseURL } : {}),
        ...openaiScope(spec.baseURL, {
          ...(spec.organization ? { organization: spec.organization } : {}),
          ...(spec.project ? { project: spec.project } : {}),
        }),
      });
    case 'bedrock':
      return new OpenAI({
        ...common,
        organization: null,
        project: null,
        provider: bedrock({
          region: spec.region,
          endpoint: 'mantle',
          credentialProvider: spec.credentialProvider,
          // An explicit null keeps a stray AWS_BEDROCK_BASE_URL from redirecting signed requests.
          baseURL: spec.baseURL ?? null,
        }),
      });
  }
}

/** Wraps fetch so each request carries freshly computed headers (they may expire within a long task). */
function withHeaders(compute: () => Promise<Record<string, string>>): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(await compute())) headers.set(k, v);
    return fetch(input, { ...init, headers });
  };
}
