/**
 * One workspace folder as the server hosts it (multi-root: every folder is its own workspace, with its own policy,
 * audit trail and endpoint connection). The endpoint is connected on first use, so opening the editor never starts
 * the embedded runtime by itself.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { workspaceHash } from '../cli/run.js';
import { AuditLog } from '../core/audit.js';
import type { AuditSigner } from '../core/audit-digest.js';
import { Policy } from '../core/policy.js';
import { prepareStateDir } from '../core/state-dir.js';
import { Workspace } from '../core/workspace.js';
import type { ServerSecrets, ServerSettings } from '../protocol/lsp.js';
import { connectFolder, type Connection } from './endpoint.js';

/** In an untrusted workspace every tool asks, whatever the built-in defaults allow. */
const UNTRUSTED = Policy.parse(
  { rules: [{ tools: ['*'], decision: 'ask', reason: 'this workspace is not trusted: every tool asks' }] },
  'untrusted workspace',
);

export class Folder {
  readonly name: string;
  private connecting: Promise<Connection> | undefined;
  private connectedWith: string | undefined;

  private constructor(
    readonly root: string,
    readonly workspace: Workspace,
    readonly audit: AuditLog,
  ) {
    this.name = basename(root);
  }

  static async open(root: string, signer?: AuditSigner): Promise<Folder> {
    const s = await stat(root).catch(() => null);
    if (!s?.isDirectory()) throw new Error(`The workspace folder ${root} is not a folder.`);
    // `.deputy/` holds the audit trail and policy (committed) and the runtime's store (never), as for `deputy run`.
    await prepareStateDir(root);
    return new Folder(root, await Workspace.open(root), await AuditLog.open(root, signer ? { signer } : {}));
  }

  /** The workspace's own `.deputy/policy.json` over the defaults, read per task so an edit takes effect at once. */
  async policy(trusted: boolean): Promise<Policy> {
    if (!trusted) return Policy.combine(Policy.defaults(), UNTRUSTED);
    const file = join(this.root, '.deputy', 'policy.json');
    if (!(await stat(file).catch(() => null))) return Policy.defaults();
    return Policy.combine(Policy.defaults(), await Policy.load(file));
  }

  /** `sha256:<16 hex>` of the folder's path, as `deputy run` stamps it in `deputy.workspace`. */
  get hash(): string {
    return workspaceHash(this.root);
  }

  /**
   * The folder's endpoint, connected once per endpoint configuration; a changed endpoint setting connects anew for
   * new tasks (sessions already running keep the connection they started on).
   */
  connection(settings: ServerSettings, secrets: ServerSecrets, env: NodeJS.ProcessEnv): Promise<Connection> {
    const key = JSON.stringify([
      settings.endpoint,
      settings.bedrockRegion,
      settings.bedrockProfile,
      settings.model,
      settings.embeddedModelBaseUrl,
      settings.embeddedModelApi,
      settings.embeddedModelApiKeyEnv,
      settings.runtimeTokenFile,
    ]);
    if (!this.connecting || this.connectedWith !== key) {
      this.connectedWith = key;
      const attempt = connectFolder(this.root, settings, secrets, env);
      this.connecting = attempt;
      // A failed connection is not kept: the next task tries again (the model may have been started meanwhile).
      attempt.catch(() => {
        if (this.connecting === attempt) this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  /** The connection if one was made, without connecting. */
  async existingConnection(): Promise<Connection | undefined> {
    return this.connecting?.catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = await this.existingConnection();
    await c?.close().catch(() => undefined);
    await this.audit.close().catch(() => undefined);
  }
}
