/**
 * The AWS shared config and credentials files, read the way the AWS CLI and SDKs read them, and the paths of
 * the SSO token cache they share. Only structure is returned to callers that list profiles; secret values from
 * the credentials file stay inside this module's result and are never echoed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type IniSection = Record<string, string>;

export interface AwsConfigFiles {
  /** `[profile x]` and `[default]` sections of the config file, by profile name. */
  profiles: Map<string, IniSection>;
  /** `[sso-session x]` sections of the config file, by session name. */
  ssoSessions: Map<string, IniSection>;
  /** Sections of the shared credentials file, by profile name. */
  credentials: Map<string, IniSection>;
}

export interface AwsPaths {
  configFile: string;
  credentialsFile: string;
  ssoCacheDir: string;
}

/** The home directory as the AWS SDK resolves it, so our cache writes land where `fromSSO` reads. */
export function awsHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return env.HOME;
  if (env.USERPROFILE) return env.USERPROFILE;
  if (env.HOMEPATH) return `${env.HOMEDRIVE ?? 'C:\\'}${env.HOMEPATH}`;
  return homedir();
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') ? join(awsHome(env), path.slice(2)) : path;
}

export function awsPaths(env: NodeJS.ProcessEnv): AwsPaths {
  const home = awsHome(env);
  return {
    configFile: expandHome(env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), env),
    credentialsFile: expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), env),
    ssoCacheDir: join(home, '.aws', 'sso', 'cache'),
  };
}

/** `~/.aws/sso/cache/<sha1(key)>.json`: the key is the sso-session name, or the start URL for legacy profiles. */
export function ssoTokenCachePath(env: NodeJS.ProcessEnv, key: string): string {
  const name = createHash('sha1').update(key).digest('hex');
  return join(awsPaths(env).ssoCacheDir, `${name}.json`);
}

/**
 * INI as the AWS tools read it: `#`/`;` comments, `key = value`, and indented sub-keys under an empty value
 * (`s3 =\n  max_concurrent_requests = 10`) kept as `parent.child`.
 */
export function parseIni(text: string): Map<string, IniSection> {
  const sections = new Map<string, IniSection>();
  let current: IniSection | undefined;
  let parent: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split(/(^|\s)[;#]/)[0]!.trim();
    if (!line) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1).trim().replace(/\s+/g, ' ');
      if (name === '__proto__' || name.endsWith(' __proto__')) {
        current = undefined;
        continue;
      }
      current = sections.get(name) ?? Object.create(null);
      sections.set(name, current!);
      parent = undefined;
      continue;
    }
    if (!current) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') {
      parent = key;
      continue;
    }
    const indented = raw.trimStart() !== raw;
    if (parent && !indented) parent = undefined;
    current[parent ? `${parent}.${key}` : key] = value;
  }
  return sections;
}

async function readIni(path: string): Promise<Map<string, IniSection>> {
  try {
    return parseIni(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
}

/** Reads both files fresh on every call (the SDK keeps its own per-path cache; we want a login to be seen at once). */
export async function loadAwsConfigFiles(env: NodeJS.ProcessEnv): Promise<AwsConfigFiles> {
  const paths = awsPaths(env);
  const [config, credentials] = await Promise.all([readIni(paths.configFile), readIni(paths.credentialsFile)]);
  const profiles = new Map<string, IniSection>();
  const ssoSessions = new Map<string, IniSection>();
  for (const [name, section] of config) {
    if (name === 'default') profiles.set('default', { ...section, ...(profiles.get('default') ?? {}) });
    else if (name.startsWith('profile ')) profiles.set(name.slice('profile '.length).trim(), section);
    else if (name.startsWith('sso-session ')) ssoSessions.set(name.slice('sso-session '.length).trim(), section);
  }
  return { profiles, ssoSessions, credentials };
}
