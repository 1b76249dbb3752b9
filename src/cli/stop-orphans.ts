/**
 * The second half of Stop all, shared by `deputy stop --all` and the editor's Stop All: on every endpoint a Deputy
 * process of this person remembered (`kill-switch-orphans.ts`), the sessions whose process is gone are stopped. Each
 * endpoint is reached again with the same `connect` a run uses; one that cannot be reached is reported, not retried.
 */
import { knownEndpoints, stopOrphanedSessions, type KnownEndpoint, type OrphanStop } from '../core/kill-switch-orphans.js';
import type { RunOptions } from './run-options.js';

export interface EndpointOutcome {
  endpoint: KnownEndpoint;
  stopped: OrphanStop[];
  /** Why the endpoint could not be reached (or listed), null when it was. */
  error: string | null;
}

/**
 * `answered` are the pids that answered this pull (their sessions are theirs to stop); `deadline` bounds the wait for
 * each stopped session to report it is no longer running.
 */
export async function stopOrphansEverywhere(
  env: NodeJS.ProcessEnv,
  pull: { requestedAt: number; answered: ReadonlySet<number>; deadline: number },
): Promise<EndpointOutcome[]> {
  const endpoints = await knownEndpoints(env);
  if (endpoints.length === 0) return [];
  // Loaded only here: connecting pulls in the AWS SDK and the runtime client, which a stop with no endpoint never needs.
  const { connect } = require('./run-endpoint.js') as typeof import('./run-endpoint.js');
  return Promise.all(
    endpoints.map(async (endpoint): Promise<EndpointOutcome> => {
      let connection: Awaited<ReturnType<typeof connect>> | undefined;
      try {
        connection = await connect(optionsFor(endpoint), env);
        const stopped = await stopOrphanedSessions(connection.client, { principal: connection.actor.principal, ...pull });
        return { endpoint, stopped, error: null };
      } catch (err) {
        return { endpoint, stopped: [], error: err instanceof Error ? err.message : String(err) };
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }),
  );
}

/** What `connect` needs to reach a remembered endpoint again; nothing about a task or a model. */
function optionsFor(e: KnownEndpoint): RunOptions {
  return {
    task: '',
    workspace: '.',
    endpoint: e.kind === 'url' ? { kind: 'url', url: e.url ?? '' } : { kind: e.kind },
    auth: e.auth ?? 'token',
    ...(e.tokenFile ? { tokenFile: e.tokenFile } : {}),
    ...(e.serverId ? { serverId: e.serverId } : {}),
    ...(e.profile ? { profile: e.profile } : {}),
    ...(e.region ? { region: e.region } : {}),
    apiKeyEnv: 'OPENAI_API_KEY',
    dataDir: '',
    policyFiles: [],
    model: '',
    modelBaseUrl: '',
    modelApi: 'responses',
  };
}
