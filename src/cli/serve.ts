/**
 * `deputy serve`: Deputy's runtime as a standalone server: the Agents API on loopback (or a host you name),
 * running the agent loop against an OpenAI-compatible model. Prints its URL and where its token is.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { startRuntime, StoreInUseError, type RuntimeOptions } from '../runtime/index.js';
import { createIamAuthenticator } from '../identity/index.js';
import type { CliIO, Command } from './io.js';
import { KnownSecrets, displayUrl, redactText } from '../core/redact.js';
import { visibleLine, visibleText } from '../core/visible-text.js';
import { withSecretsRedacted } from './errors.js';
import { parseCommandArgs } from './args.js';
import { UserError } from './io.js';
import { upstreamFrom, MODEL_FLAGS, modelOptions, DEFAULT_MODEL, DEFAULT_MODEL_BASE_URL } from './run-options.js';

export const DEFAULT_SERVE_PORT = 8739;

export const SERVE_USAGE = `Usage: deputy serve [options]

Runs Deputy's runtime: an OpenAI Agents API server (sessions, events, items) under /v1 and /openai/v1.

  --host H                address to listen on (default 127.0.0.1)
  --port N                port (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)
  --data-dir DIR          where sessions, items and events are stored (default ~/.deputy/runtime)
  --token-file F          where the per-start bearer token is written, mode 0600 (default <data-dir>/token)
  --auth token|iam        token (default), or iam: callers prove their AWS identity with a presigned
                          sts:GetCallerIdentity request; each sees only their own sessions
  --server-id ID          the id callers sign into their proof (required with --auth iam)
  --sts-endpoint URL      the only STS endpoint proofs may name, e.g. a VPC endpoint (default: the
                          public sts[.region].amazonaws.com hosts)
  --public-url URL        the URL self-hosted environments dial, the base of a session's remote_url
                          (default: http://HOST:PORT as listened on)
  --model M               upstream model (DEPUTY_MODEL, default ${DEFAULT_MODEL})
  --model-base-url URL    upstream OpenAI-compatible base URL (DEPUTY_MODEL_BASE_URL, default ${DEFAULT_MODEL_BASE_URL})
  --model-api-key-env VAR variable holding the upstream API key (DEPUTY_MODEL_API_KEY_ENV)
  --model-api API         responses (default) or chat (DEPUTY_MODEL_API)
  --prices FILE           model prices over Deputy's table, charged against sessions' spend limits:
                          JSON {"model": {"input": USD, "cachedInput": USD, "output": USD}} per
                          million tokens (DEPUTY_PRICES)
  --price-input USD       one price per million input tokens for every model (default: the table's
                          price of the session's model, 2.50 for a model not in it)
  --price-output USD      one price per million output tokens for every model (10.00 when unknown)`;

export const serveCommand: Command = (argv, io) => {
  // The model's API key stays out of every error; the runtime keeps it and its token out of its log and store.
  const known = new KnownSecrets();
  return withSecretsRedacted(known, () => serve(argv, io, known));
};

async function serve(argv: string[], io: CliIO, known: KnownSecrets): Promise<number> {
  const v = parseCommandArgs(
    argv,
    {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'token-file': { type: 'string' },
      auth: { type: 'string' },
      'server-id': { type: 'string' },
      'sts-endpoint': { type: 'string' },
      'public-url': { type: 'string' },
      ...MODEL_FLAGS,
    },
    SERVE_USAGE,
  ).values;
  const port = Number(v.port ?? DEFAULT_SERVE_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be 0–65535; got "${v.port}".`, 2);
  const auth = v.auth ?? 'token';
  if (auth !== 'token' && auth !== 'iam') throw new UserError(`--auth must be token or iam, not "${auth}".`, 2);
  if (auth === 'iam' && !v['server-id']) throw new UserError('--auth iam needs --server-id: the id callers sign into their proofs.', 2);
  const model = modelOptions(v, io.env, io.cwd);
  const dataDir = resolve(io.cwd, v['data-dir'] ?? resolve(homedir(), '.deputy', 'runtime'));

  const upstream = upstreamFrom(model, io.env);
  known.add(upstream.apiKey);
  const options: RuntimeOptions = {
    dataDir,
    host: v.host ?? '127.0.0.1',
    port,
    upstream,
    // Log lines quote requests and the upstream's errors: shown through the one sanitiser, never obeyed.
    log: (line) => io.stderr.write(`${visibleText(line)}\n`),
  };
  if (v['token-file']) options.tokenFile = resolve(io.cwd, v['token-file']);
  if (v['public-url']) {
    if (!/^https?:\/\/[^/]+\/?$/.test(v['public-url'])) throw new UserError(`--public-url takes http(s)://HOST[:PORT]; got "${v['public-url']}".`, 2);
    options.publicUrl = v['public-url'];
  }
  if (auth === 'iam') {
    options.authenticate = createIamAuthenticator({
      serverId: v['server-id']!,
      ...(v['sts-endpoint'] ? { stsEndpoint: v['sts-endpoint'] } : {}),
      // The reason quotes the unauthenticated request (a parameter name): escaped, so it cannot rewrite the terminal.
      onReject: (reason) => io.stderr.write(`refused an IAM proof: ${visibleLine(redactText(reason, known))}\n`),
    });
  }

  const runtime = await startRuntime(options).catch((err: unknown) => {
    if (err instanceof StoreInUseError) throw new UserError(err.message);
    throw err;
  });
  io.stdout.write(`Deputy runtime listening on ${runtime.url} (Agents API under /v1 and /openai/v1)\n`);
  io.stdout.write(
    auth === 'iam'
      ? `Auth: IAM proofs for server id "${v['server-id']}"\n`
      : `Bearer token written to ${runtime.tokenFile} (mode 0600)\n`,
  );
  io.stdout.write(`Upstream model: ${model.model} at ${displayUrl(model.modelBaseUrl)} (${model.modelApi} API)\n`);
  await new Promise<void>((done) => {
    if (io.signal?.aborted) return done();
    io.signal?.addEventListener('abort', () => done(), { once: true });
  });
  io.stdout.write('Stopping…\n');
  await runtime.close();
  return 0;
}
