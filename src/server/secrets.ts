/**
 * The keys the extension hands the server at spawn (DESIGN.md §5: no secret crosses the LSP pipe). The extension
 * writes them to a 0600 file in a fresh 0700 folder and names it in `DEPUTY_SECRET_FILE`; the server reads the file
 * once, deletes it and its folder, and keeps the keys in memory only. A file that is missing, unreadable or not
 * private is refused: the server then runs without keys and says so.
 */
import { readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SECRET_FILE_ENV, type ServerSecrets } from '../protocol/lsp.js';

export interface SecretsRead {
  secrets: ServerSecrets;
  /** Why the file was refused, for the log (never its content). */
  problem?: string;
}

export function takeSecrets(env: NodeJS.ProcessEnv): SecretsRead {
  const file = env[SECRET_FILE_ENV];
  if (!file) return { secrets: {} };
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) return { secrets: {}, problem: `the secrets file is readable by others (mode ${mode.toString(8)}); ignored` };
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return { secrets: pick(parsed) };
  } catch (err) {
    return { secrets: {}, problem: `the secrets file could not be read (${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'})` };
  } finally {
    rmSync(file, { force: true });
    // The folder the extension made for it; left alone when anything else is in it.
    try {
      rmdirSync(dirname(file));
    } catch {
      /* not empty or not ours */
    }
  }
}

function pick(value: unknown): ServerSecrets {
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' && x.length > 0 ? x : undefined);
  const model = str(v.modelApiKey);
  const openai = str(v.openaiApiKey);
  const audit = str(v.auditSigningKey);
  return {
    ...(model ? { modelApiKey: model } : {}),
    ...(openai ? { openaiApiKey: openai } : {}),
    ...(audit ? { auditSigningKey: audit } : {}),
  };
}
