/**
 * Deputy's settings (DESIGN.md §9), read and normalised in one place. `package.json` `contributes.configuration` is
 * the schema users see; this module turns it into the typed value the server gets. No setting holds a secret: API
 * keys live in SecretStorage (see secrets.ts).
 */
import * as vscode from 'vscode';
import type { CodeLensSettings, ServerSettings } from '../protocol/lsp.js';
import { DEFAULT_MARKERS } from '../core/task-markers.js';
import { parseBudget, type BudgetLimit } from '../core/budget.js';

export const SECTION = 'deputy';
const DEFAULT_MODEL_BASE_URL = 'http://127.0.0.1:11434/v1';
const DEFAULT_MODEL = 'llama3.2';

/** Endpoints a person picks from (a runtime URL is typed in). */
export const ENDPOINT_CHOICES = ['embedded', 'bedrock', 'openai'] as const;

export function readSettings(): ServerSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const str = (key: string): string | undefined => {
    const v = c.get<unknown>(key);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const num = (key: string): number | undefined => {
    const v = c.get<unknown>(key);
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const api = str('embedded.modelApi');
  const region = str('bedrock.region');
  const profile = str('bedrock.profile');
  const keyEnv = str('embedded.modelApiKeyEnv');
  const tokenFile = str('runtime.tokenFile');
  const budget = num('budget.perTaskUsd');
  const maxSteps = num('turns.maxSteps');
  const maxPrompts = num('turns.maxPrompts');
  const perTask = budgetSetting(str('budget.perTask'));
  const perDay = budgetSetting(str('budget.perDay'));
  const prices = c.get<unknown>('budget.prices');
  const orgPolicy = str('policy.orgFile');
  return {
    endpoint: normaliseEndpoint(str('endpoint')),
    ...(region ? { bedrockRegion: region } : {}),
    ...(profile ? { bedrockProfile: profile } : {}),
    model: str('model') ?? DEFAULT_MODEL,
    embeddedModelBaseUrl: str('embedded.modelBaseUrl') ?? DEFAULT_MODEL_BASE_URL,
    embeddedModelApi: api === 'chat' ? 'chat' : 'responses',
    ...(keyEnv ? { embeddedModelApiKeyEnv: keyEnv } : {}),
    ...(tokenFile ? { runtimeTokenFile: tokenFile } : {}),
    promptTimeoutMinutes: num('prompts.timeoutMinutes') ?? 15,
    ...(maxSteps !== undefined ? { maxStepsPerTurn: Math.max(1, Math.floor(maxSteps)) } : {}),
    ...(maxPrompts !== undefined ? { maxPromptsPerTurn: Math.max(1, Math.floor(maxPrompts)) } : {}),
    ...(budget !== undefined ? { budgetPerTaskUsd: budget } : {}),
    ...(perTask ? { budgetPerTask: perTask } : {}),
    ...(perDay ? { budgetPerDay: perDay } : {}),
    // Checked by the server, which logs and ignores a malformed entry.
    ...(prices && typeof prices === 'object' && !Array.isArray(prices) && Object.keys(prices).length > 0 ? { prices: prices as NonNullable<ServerSettings['prices']> } : {}),
    workspaceTrusted: vscode.workspace.isTrusted,
    ...(orgPolicy ? { policyOrgFile: orgPolicy } : {}),
    ...(c.get<unknown>('environment.allowUnsandboxed') === true ? { environmentAllowUnsandboxed: true } : {}),
    codeLens: readCodeLensSettings(c),
  };
}

/** A budget setting (`2usd`, `50000tokens`); an unreadable one counts as unset (the settings editor shows the pattern). */
function budgetSetting(value: string | undefined): BudgetLimit | undefined {
  if (!value) return undefined;
  try {
    return parseBudget(value);
  } catch {
    return undefined;
  }
}

/** A code-lens action on functions and classes: `{symbol}`, `{kind}` and `{file}` in the prompt are filled in. */
export interface SymbolAction {
  title: string;
  prompt: string;
}

export const DEFAULT_SYMBOL_ACTIONS: readonly SymbolAction[] = [
  { title: 'Write tests', prompt: 'Write tests for the {kind} `{symbol}` in {file}.' },
  { title: 'Explain', prompt: 'Explain what the {kind} `{symbol}` in {file} does, and why.' },
];

export function readCodeLensSettings(c: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration(SECTION)): CodeLensSettings {
  const markers = c.get<unknown>('codeLens.markers');
  const list = Array.isArray(markers) ? markers.filter((m): m is string => typeof m === 'string' && m.trim() !== '').map((m) => m.trim()) : [...DEFAULT_MARKERS];
  return { enabled: c.get<unknown>('codeLens.enabled') !== false, markers: [...new Set(list)].slice(0, 20) };
}

export function readSymbolActions(): SymbolAction[] {
  const v = vscode.workspace.getConfiguration(SECTION).get<unknown>('codeLens.symbolActions');
  if (!Array.isArray(v)) return [...DEFAULT_SYMBOL_ACTIONS];
  return v
    .filter((a): a is SymbolAction => !!a && typeof a === 'object' && typeof (a as SymbolAction).title === 'string' && typeof (a as SymbolAction).prompt === 'string')
    .filter((a) => a.title.trim() && a.prompt.trim())
    .slice(0, 10);
}

/** `embedded`, `openai`, `bedrock`, or an http(s) URL; anything else falls back to the embedded runtime. */
export function normaliseEndpoint(value: string | undefined): string {
  if (!value) return 'embedded';
  if ((ENDPOINT_CHOICES as readonly string[]).includes(value)) return value;
  if (/^https?:\/\/[^\s]+$/.test(value)) return value.replace(/\/+$/, '');
  return 'embedded';
}

export function affectsDeputy(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SECTION);
}

export async function update(key: 'endpoint' | 'model' | 'bedrock.profile', value: string): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update(key, value, target);
}

/**
 * `deputy.environment.default`: whether a new task (panel, code lens, chat) has Deputy as the agent's environment
 * unless the person chooses otherwise for that task (read by the editor only; each task says so to the server).
 */
export function readEnvironmentDefault(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<unknown>('environment.default') === true;
}

/** `deputy.signIn.flow`: how Deputy: Sign In signs in (read by the editor only; the server is told the flow per request). */
export function readSignInFlow(): 'auto' | 'browser' | 'deviceCode' {
  const v = vscode.workspace.getConfiguration(SECTION).get<unknown>('signIn.flow');
  return v === 'browser' || v === 'deviceCode' ? v : 'auto';
}
