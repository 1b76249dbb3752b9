/**
 * Where a workspace's policy comes from, in the order verdicts name them:
 * 1. the organisation's policy file (the editor setting `deputy.policy.orgFile`, else `DEPUTY_ORG_POLICY`; JSON
 *    shorthand or Cedar by its extension), and files given with `--policy` (the person's own, also org-level);
 * 2. the workspace's `.deputy/policy.json` (shorthand) and `.deputy/policy.cedar`, unless the workspace is not
 *    trusted — then every tool asks instead;
 * 3. the person's grants (`.deputy/grants.cedar`), also only in a trusted workspace;
 * and Deputy's built-in rules under all of them. The org's `forbid` wins over anything below; its `@lock`
 * policies stop the workspace's (or grants') permits from allowing where they hold.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Policy, PolicyError } from './policy.js';
import { GrantStore } from './grants.js';
import type { Principal } from './cedar/request.js';

export interface PolicySourceOptions {
  root: string;
  /** The org policy file, resolved by the caller from its setting or environment. */
  orgFile?: string;
  /** More org-level files (`--policy`). */
  files?: readonly string[];
  /** An untrusted workspace's own files and grants are ignored, and every tool asks. */
  trusted?: boolean;
  principal?: Principal;
}

/** In an untrusted workspace every tool asks, whatever the built-in defaults allow. */
const UNTRUSTED = Policy.parse(
  { rules: [{ tools: ['*'], decision: 'ask', reason: 'this workspace is not trusted: every tool asks' }] },
  'untrusted workspace',
  'builtin',
);

export const ORG_POLICY_ENV = 'DEPUTY_ORG_POLICY';

/** The workspace policy files Deputy reads, relative to the workspace root. */
export const WORKSPACE_POLICY_FILES = ['.deputy/policy.json', '.deputy/policy.cedar'] as const;

export async function loadWorkspacePolicy(options: PolicySourceOptions): Promise<Policy> {
  const layers: Policy[] = [Policy.defaults()];
  if (options.orgFile) layers.push(await Policy.load(options.orgFile, 'org'));
  for (const file of options.files ?? []) layers.push(await Policy.load(file, 'org'));
  if (options.trusted === false) {
    layers.push(UNTRUSTED);
  } else {
    for (const rel of WORKSPACE_POLICY_FILES) {
      const file = join(options.root, rel);
      if (await exists(file)) layers.push(await Policy.load(file, 'workspace'));
    }
  }
  let policy = Policy.combine(...layers);
  if (options.principal) policy = policy.withPrincipal(options.principal);
  if (options.trusted !== false) {
    const grants = await new GrantStore(options.root).policySet();
    if (grants) policy = policy.withGrants([grants]);
  }
  return policy;
}

/** Whether a file exists; an error other than "not there" (a permission problem) is the caller's to see. */
async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new PolicyError(`Cannot read policy file ${file}: ${(err as Error).message}`);
  }
}
