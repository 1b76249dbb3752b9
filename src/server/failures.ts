/**
 * What went wrong, classified and worded for the editor: the engine and `connect` speak in facts and CLI terms;
 * the panel needs an error kind, a sentence naming the setting or command that helps, and that one action.
 * Raw SDK text never reaches a person unredacted, and no credential is ever part of a message.
 */
import { classifyApiError, type ApiFailure } from '../agents/api-errors.js';
import { redactText, type KnownSecrets } from '../core/redact.js';
import { SignInRequiredError } from '../identity/index.js';
import type { ErrorAction, ErrorKind } from '../protocol/events.js';
import type { ServerSettings } from '../protocol/lsp.js';

export interface Failure {
  kind: ErrorKind;
  message: string;
  action?: ErrorAction;
}

export function classify(err: unknown, settings: ServerSettings, known?: KnownSecrets): Failure {
  const raw = redactText(err instanceof Error ? err.message : String(err), known);
  if (err instanceof SignInRequiredError) {
    return {
      kind: 'signInRequired',
      message:
        err.reason === 'signedOut'
          ? `You signed out of AWS profile "${err.profile}" in Deputy. Sign in, then send the task again.`
          : `The AWS sign-in for profile "${err.profile}" is missing or expired. Sign in, then send the task again.`,
      action: { kind: 'signIn', profile: err.profile },
    };
  }
  // An answer of the endpoint is judged by its status and code: its text is the server's to word (and a 400 that
  // mentions a budget, or a 500 that mentions a token file, says nothing about either).
  const api = classifyApiError(err);
  if (api.kind !== 'other') return apiFailure(api, raw, settings);
  // Deputy's own errors (connecting, the turn's outcome): these say what they are in Deputy's words.
  if (raw.startsWith('No model answered at')) {
    return {
      kind: 'modelUnavailable',
      message:
        `No model answers at ${settings.embeddedModelBaseUrl}. Start one there (e.g. \`ollama serve\` and \`ollama pull ${settings.model}\`), ` +
        'or point deputy.embedded.modelBaseUrl and deputy.model at your model server.',
      action: { kind: 'openSetting', setting: 'deputy.embedded.modelBaseUrl' },
    };
  }
  if (/needs an API key/.test(raw)) {
    return {
      kind: 'signInRequired',
      message: 'OpenAI needs an API key: run "Deputy: Set API Key" (kept in VS Code\'s secret storage), or set OPENAI_API_KEY.',
      action: { kind: 'signIn' },
    };
  }
  if (/--model-api-key-env names/.test(raw)) {
    return {
      kind: 'signInRequired',
      message: `deputy.embedded.modelApiKeyEnv names ${settings.embeddedModelApiKeyEnv ?? 'a variable'}, which is not set. Set it, or run "Deputy: Set API Key".`,
      action: { kind: 'signIn' },
    };
  }
  if (/needs a region/.test(raw)) {
    return { kind: 'invalidSetting', message: 'Bedrock needs a region: set deputy.bedrock.region (e.g. us-west-2).', action: { kind: 'openSetting', setting: 'deputy.bedrock.region' } };
  }
  if (/bearer token|token file/.test(raw)) {
    return {
      kind: 'invalidSetting',
      message: `The runtime at ${settings.endpoint} needs its bearer token: set deputy.runtime.tokenFile to the file \`deputy serve\` printed.`,
      action: { kind: 'openSetting', setting: 'deputy.runtime.tokenFile' },
    };
  }
  if (/ECONNREFUSED|fetch failed/.test(raw)) return unreachable(settings);
  if (/spend limit|budget/i.test(raw)) {
    return { kind: 'budgetReached', message: `${raw}`, action: { kind: 'raiseBudget' } };
  }
  return { kind: 'internal', message: raw };
}

function apiFailure(api: ApiFailure, raw: string, settings: ServerSettings): Failure {
  switch (api.kind) {
    case 'unreachable':
      return unreachable(settings);
    case 'unauthenticated':
      return { kind: 'signInRequired', message: `The endpoint refused Deputy's credentials (401). Sign in again or check the key.`, action: { kind: 'signIn' } };
    case 'forbidden':
      return { kind: 'accessDenied', message: `The endpoint refused this identity (403): ${raw}` };
    case 'budgetReached':
      return { kind: 'budgetReached', message: `The endpoint stopped the session at its spend limit: ${raw}`, action: { kind: 'raiseBudget' } };
    case 'busy':
    case 'serverError':
      return { kind: 'internal', message: `The endpoint could not take the request now: ${raw}. Try again in a moment.`, action: { kind: 'retry' } };
    default:
      return { kind: 'internal', message: `The endpoint answered with an error: ${raw}` };
  }
}

function unreachable(settings: ServerSettings): Failure {
  return {
    kind: 'endpointUnreachable',
    message: `The endpoint (${describeEndpoint(settings.endpoint)}) cannot be reached. Check that it is running and deputy.endpoint is right, then retry.`,
    action: { kind: 'retry' },
  };
}

/** An endpoint as a person reads it: a URL without any userinfo or query. */
export function describeEndpoint(endpoint: string): string {
  if (!/^https?:\/\//.test(endpoint)) return endpoint;
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return 'a runtime URL';
  }
}
