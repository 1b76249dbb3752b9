/**
 * What a hosted task runs with, from the request and the window's settings: its budget, and the settings it keeps
 * for its whole life (the endpoint its connection was made with; everything else as it is now).
 */
import type { BudgetLimit } from '../core/budget.js';
import type { ServerSettings, StartTask } from '../protocol/lsp.js';

/** The task's budget: what the person gave for it, else `deputy.budget.perTask`, else `deputy.budget.perTaskUsd`. */
export function budgetFor(p: StartTask.Params, settings: ServerSettings): BudgetLimit | undefined {
  if (p.budget) return p.budget;
  if (p.budgetUsd !== undefined) return { unit: 'usd', amount: p.budgetUsd };
  if (settings.budgetPerTask) return settings.budgetPerTask;
  return settings.budgetPerTaskUsd !== undefined ? { unit: 'usd', amount: settings.budgetPerTaskUsd } : undefined;
}

/** `now` with the endpoint of `at`: which endpoint, and the Bedrock profile and region or runtime token file that reach it. */
export function withEndpointOf(now: ServerSettings, at: ServerSettings): ServerSettings {
  const { bedrockRegion: _region, bedrockProfile: _profile, runtimeTokenFile: _token, ...rest } = now;
  return {
    ...rest,
    endpoint: at.endpoint,
    ...(at.bedrockRegion !== undefined ? { bedrockRegion: at.bedrockRegion } : {}),
    ...(at.bedrockProfile !== undefined ? { bedrockProfile: at.bedrockProfile } : {}),
    ...(at.runtimeTokenFile !== undefined ? { runtimeTokenFile: at.runtimeTokenFile } : {}),
  };
}
