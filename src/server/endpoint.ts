/**
 * The endpoint of one workspace folder, from the editor's settings: the same `connect` that `deputy run` uses
 * (embedded runtime started on demand on loopback, a runtime URL, OpenAI, Bedrock), fed with options built from
 * `ServerSettings` and the keys the extension handed over at spawn. Keys stay in this process's memory: they are
 * given to `connect` through an environment object that no child process ever receives.
 */
import { join } from 'node:path';
import { connect, type Connection, type ConnectHooks } from '../cli/run-endpoint.js';
import { DEFAULT_MODEL, type EndpointChoice, type RunOptions } from '../cli/run-options.js';
import type { ServerSecrets, ServerSettings } from '../protocol/lsp.js';
import type { KnownEndpoint } from '../core/kill-switch-orphans.js';
import { remoteEndpointOf } from '../cli/run.js';

/** In-memory names under which the keys from SecretStorage are handed to `connect`. */
const MODEL_KEY_VAR = 'DEPUTY_EDITOR_MODEL_KEY';
const OPENAI_KEY_VAR = 'DEPUTY_EDITOR_OPENAI_KEY';

export type { Connection, ConnectHooks } from '../cli/run-endpoint.js';

export function endpointChoice(endpoint: string): EndpointChoice {
  if (endpoint === 'embedded' || endpoint === 'openai' || endpoint === 'bedrock') return { kind: endpoint };
  return { kind: 'url', url: endpoint.replace(/\/+$/, '') };
}

/**
 * The embedded runtime's store for the editor: beside the CLI's (`.deputy/runtime`, already git-ignored) but its
 * own database, so a `deputy run` in a terminal and the editor never write one SQLite file from two processes.
 */
export function editorDataDir(folder: string): string {
  return join(folder, '.deputy', 'runtime', 'editor');
}

export function connectFolder(
  folder: string,
  settings: ServerSettings,
  secrets: ServerSecrets,
  env: NodeJS.ProcessEnv,
  hooks: ConnectHooks = {},
): Promise<Connection> {
  const withKeys: NodeJS.ProcessEnv = {
    ...env,
    ...(secrets.modelApiKey ? { [MODEL_KEY_VAR]: secrets.modelApiKey } : {}),
    ...(secrets.openaiApiKey ? { [OPENAI_KEY_VAR]: secrets.openaiApiKey } : {}),
  };
  return connect(folderOptions(folder, settings, secrets, env), withKeys, hooks);
}

/**
 * How Stop all reaches this folder's endpoint again once this window is gone (null for the embedded runtime, which
 * ends with the server): the same description `deputy run` remembers, never a key.
 */
export function rememberedEndpointOf(folder: string, settings: ServerSettings, secrets: ServerSecrets, env: NodeJS.ProcessEnv): KnownEndpoint | null {
  return remoteEndpointOf(folderOptions(folder, settings, secrets, env));
}

function folderOptions(folder: string, settings: ServerSettings, secrets: ServerSecrets, env: NodeJS.ProcessEnv): RunOptions {
  const keyEnv = secrets.modelApiKey ? MODEL_KEY_VAR : settings.embeddedModelApiKeyEnv;
  return {
    task: '',
    workspace: folder,
    endpoint: endpointChoice(settings.endpoint),
    auth: 'token',
    model: settings.model || DEFAULT_MODEL,
    modelBaseUrl: settings.embeddedModelBaseUrl,
    modelApi: settings.embeddedModelApi,
    ...(keyEnv ? { modelApiKeyEnv: keyEnv } : {}),
    apiKeyEnv: secrets.openaiApiKey ? OPENAI_KEY_VAR : 'OPENAI_API_KEY',
    dataDir: editorDataDir(folder),
    policyFiles: [],
    ...(settings.runtimeTokenFile ? { tokenFile: settings.runtimeTokenFile } : {}),
    ...(profileOf(settings, env) ? { profile: profileOf(settings, env)! } : {}),
    ...(settings.bedrockRegion ? { region: settings.bedrockRegion } : env.AWS_REGION ? { region: env.AWS_REGION } : {}),
  };
}

/** The AWS profile the editor's sessions act as: `deputy.bedrock.profile`, else `AWS_PROFILE`, else none. */
export function profileOf(settings: ServerSettings, env: NodeJS.ProcessEnv): string | undefined {
  return settings.bedrockProfile || env.AWS_PROFILE || undefined;
}
