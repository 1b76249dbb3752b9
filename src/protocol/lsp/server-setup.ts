/**
 * How Deputy's language server is set up (src/protocol/lsp.ts): the secrets file and the settings the client hands it
 * at spawn, the settings pushed on a change, and the server's health for the status item.
 */
import { NotificationType } from 'vscode-jsonrpc';
import type { BudgetAmount } from '../events.js';
import type { PanelError } from '../webview.js';

/**
 * The environment variable naming the secrets file the extension writes (mode 0600, in a fresh 0700 folder) before it
 * starts the server. The server reads it once at start, deletes it, and keeps the keys in memory only.
 */
export const SECRET_FILE_ENV = 'DEPUTY_SECRET_FILE';

/** What the secrets file holds: JSON, every field optional. */
export interface ServerSecrets {
  /** The embedded runtime's upstream model key (`deputy.setApiKey` → "model"). */
  modelApiKey?: string;
  /** The OpenAI API key for `deputy.endpoint: openai` (`deputy.setApiKey` → "openai"). */
  openaiApiKey?: string;
  /** The Ed25519 private key (PEM) that signs audit digests (`deputy.setAuditSigningKey`). */
  auditSigningKey?: string;
}

/** The settings the server needs, read and normalised by the extension's settings module (DESIGN.md §9). */
export interface ServerSettings {
  /** `embedded`, `openai`, `bedrock`, or the URL of a Deputy runtime. */
  endpoint: string;
  bedrockRegion?: string;
  bedrockProfile?: string;
  model: string;
  embeddedModelBaseUrl: string;
  embeddedModelApi: 'responses' | 'chat';
  /** A variable in the server's environment holding the upstream model's key (SecretStorage wins over it). */
  embeddedModelApiKeyEnv?: string;
  /** The bearer token file of a Deputy runtime at a URL endpoint. */
  runtimeTokenFile?: string;
  promptTimeoutMinutes: number;
  /** Most tool calls one turn may make (`deputy.turns.maxSteps`); the engine's default when absent. */
  maxStepsPerTurn?: number;
  /** Most permission prompts one turn may ask (`deputy.turns.maxPrompts`); the engine's default when absent. */
  maxPromptsPerTurn?: number;
  budgetPerTaskUsd?: number;
  /** `deputy.budget.perTask` (dollars or tokens); wins over `budgetPerTaskUsd`. */
  budgetPerTask?: BudgetAmount;
  /** `deputy.budget.perDay`: every session of this person on this machine today. */
  budgetPerDay?: BudgetAmount;
  /** `deputy.budget.prices`: USD per million tokens by model, over Deputy's price table. */
  prices?: Record<string, { input: number; cachedInput?: number; output: number }>;
  /** False in an untrusted workspace: the workspace's `.deputy/policy.json` is ignored and every tool asks. */
  workspaceTrusted: boolean;
  /** `deputy.policy.orgFile`: the organisation's policy file (else the server's `DEPUTY_ORG_POLICY`). */
  policyOrgFile?: string;
  /**
   * `deputy.environment.allowUnsandboxed`: with Deputy as the agent's environment and no command sandbox on this
   * machine, the agent's commands run bare (still under policy and approval) instead of being refused.
   */
  environmentAllowUnsandboxed?: boolean;
  /** The task code lenses (`deputy.codeLens.*`); absent or disabled: the server asks for no document at all. */
  codeLens?: CodeLensSettings;
}

/** `deputy.codeLens.*`, normalised by the extension. */
export interface CodeLensSettings {
  enabled: boolean;
  /** Comment markers that make a task, matched literally at the start of a comment (`TODO(agent):`, `AGENT:`). */
  markers: string[];
}

/** Sent as the LSP `initializationOptions`. */
export interface ServerInitOptions {
  settings: ServerSettings;
  /**
   * Profiles the person signed out of in Deputy (kept by the extension across windows): the server does not use their
   * cached sign-in until the person signs in from Deputy again. The AWS CLI's cache itself is never touched.
   */
  signedOutProfiles?: string[];
  /** Deputy's version as the extension knows it, for the provenance of sessions (`deputy.client`). */
  clientVersion: string;
  /**
   * The client implements `deputy/readWorkspaceFiles` and `deputy/applyWorkspaceEdit`: approved changes and reverts
   * go through the editor (unsaved buffers seen, one Undo per set). Absent or false: the server writes the disk.
   */
  editorFiles?: boolean;
}

export namespace Configure {
  export const method = 'deputy/configure' as const;
  /**
   * Sent by the client when a `deputy.*` setting or the workspace's trust changes. New tasks use the new settings;
   * running sessions keep the endpoint they started on.
   */
  export const type = new NotificationType<ServerSettings>(method);
}

export namespace ServerStatus {
  export const method = 'deputy/status' as const;
  /** Sent by the server when its health changes (the embedded runtime starting, an endpoint failing): the status item. */
  export interface Params {
    health: 'ok' | 'starting' | 'error';
    /** One line, worded for a person. */
    message: string;
    runningSessions: number;
    /** An error outside any session (the endpoint unreachable at start), for the panel. */
    error?: PanelError;
  }
  export const type = new NotificationType<Params>(method);
}
