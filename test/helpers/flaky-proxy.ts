/**
 * A TCP proxy in front of a real server that cuts event streams (responses of type text/event-stream) after
 * a number of bytes: how a test drops an SSE stream mid-flight without touching the server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FlakyProxy {
  url: string;
  /** Cut the next `count` event streams after `bytes` bytes of each. */
  cutNext(count: number, bytes: number): void;
  connections: number;
  cuts: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: URL): Promise<FlakyProxy> {
  const pending: number[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0, cuts: 0 };
  const server: Server = createServer((client) => {
    state.connections++;
    let limit: number | undefined;
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    let sent = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (limit === undefined && pending.length > 0 && /content-type: text\/event-stream/i.test(chunk.toString('latin1'))) {
        limit = pending.shift();
        sent = 0;
      }
      if (limit !== undefined && sent + chunk.length >= limit) {
        client.write(chunk.subarray(0, Math.max(0, limit - sent)));
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cutNext(count, bytes) {
      for (let i = 0; i < count; i++) pending.push(bytes);
    },
    get connections() {
      return state.connections;
    },
    get cuts() {
      return state.cuts;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
