/**
 * API keys for the embedded runtime's model and for OpenAI live in VS Code's SecretStorage (the OS keychain), never in
 * settings. They reach the language server at spawn, never over the LSP pipe: a JSON file, mode 0600, in a fresh
 * 0700 folder, named in `DEPUTY_SECRET_FILE`; the server reads it once and deletes it. When there is no key, no file.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type { ServerSecrets } from '../protocol/lsp.js';

export const SECRET_KEYS = {
  model: 'deputy.embedded.modelApiKey',
  openai: 'deputy.openai.apiKey',
  audit: 'deputy.audit.signingKey',
} as const;
export type SecretKind = keyof typeof SECRET_KEYS;

export async function readSecrets(storage: vscode.SecretStorage): Promise<ServerSecrets> {
  const model = await storage.get(SECRET_KEYS.model);
  const openai = await storage.get(SECRET_KEYS.openai);
  const audit = await storage.get(SECRET_KEYS.audit);
  return {
    ...(model ? { modelApiKey: model } : {}),
    ...(openai ? { openaiApiKey: openai } : {}),
    ...(audit ? { auditSigningKey: audit } : {}),
  };
}

/** Writes the handover file; returns its path, or undefined when there is nothing to hand over. */
export async function writeSecretFile(secrets: ServerSecrets): Promise<string | undefined> {
  if (!secrets.modelApiKey && !secrets.openaiApiKey && !secrets.auditSigningKey) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'deputy-keys-'));
  const file = join(dir, 'keys.json');
  try {
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return file;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The server deletes the file as it starts; this cleans up when it never started. */
export async function removeSecretFile(file: string | undefined): Promise<void> {
  if (file) await rm(join(file, '..'), { recursive: true, force: true });
}
