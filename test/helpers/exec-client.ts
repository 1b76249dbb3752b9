/** A minimal exec-server JSON-RPC client over a websocket, the way the Codex harness frames it, for tests and benches. */
import WebSocket from 'ws';

export interface RpcReply {
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

export class ExecClient {
  private id = 0;
  private readonly pending = new Map<number, (reply: RpcReply) => void>();
  readonly notifications: { method: string; params: any }[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.id !== undefined && m.id !== null && this.pending.has(m.id)) {
        this.pending.get(m.id)!(m);
        this.pending.delete(m.id);
      } else if (m.method) {
        this.notifications.push(m);
        for (const l of [...this.listeners]) l();
      }
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<ExecClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.once('open', () => resolve(new ExecClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with HTTP ${res.statusCode}`)));
    });
  }

  call(method: string, params: unknown): Promise<RpcReply> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  notify(method: string, params?: unknown): void {
    this.socket.send(JSON.stringify(params === undefined ? { method } : { method, params }));
  }

  /** initialize + initialized. */
  async handshake(): Promise<string> {
    const reply = await this.call('initialize', { clientName: 'deputy-test' });
    if (!reply.result?.sessionId) throw new Error(`initialize failed: ${JSON.stringify(reply)}`);
    this.notify('initialized');
    return reply.result.sessionId;
  }

  /** Resolves once a notification matching `match` has arrived (including ones already received). */
  waitFor(match: (n: { method: string; params: any }) => boolean, timeoutMs = 20_000): Promise<{ method: string; params: any }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.notifications.find(match);
        if (found) {
          this.listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error('timed out waiting for a notification'));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
