/**
 * The loopback redirect of the authorization-code flow (RFC 8252 §7.3): a one-shot HTTP listener on
 * 127.0.0.1 that waits for `/oauth/callback?code=…&state=…` and checks the state it was given.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CALLBACK_PATH = '/oauth/callback';
/** Registered without a port: the authorization server accepts any loopback port for it (RFC 8252 §7.3). */
export const REDIRECT_URI_WITHOUT_PORT = `http://127.0.0.1${CALLBACK_PATH}`;

export interface Pkce {
  verifier: string;
  challenge: string;
  state: string;
}

export function createPkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return {
    verifier,
    challenge: createHash('sha256').update(verifier).digest('base64url'),
    state: randomBytes(16).toString('base64url'),
  };
}

export type CallbackOutcome = { code: string } | { error: string; description?: string };

export interface LoopbackListener {
  redirectUri: string;
  /** Settles with the first callback that carries the expected state. */
  result: Promise<CallbackOutcome>;
  close(): Promise<void>;
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${body}</p></body></html>`;

export async function listenForCallback(expectedState: string): Promise<LoopbackListener> {
  let settle!: (outcome: CallbackOutcome) => void;
  const result = new Promise<CallbackOutcome>((resolve) => {
    settle = resolve;
  });
  let done = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    // A callback with someone else's state is ignored, not fatal: a stale tab must not break this sign-in.
    if (url.searchParams.get('state') !== expectedState || done) {
      res.writeHead(400, { 'content-type': 'text/html' }).end(page('Sign-in not recognised', 'This sign-in link is stale. Return to the terminal.'));
      return;
    }
    done = true;
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (code) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page('Deputy is signed in', 'You can close this tab and return to the terminal.'));
      settle({ code });
    } else {
      const description = url.searchParams.get('error_description');
      res.writeHead(200, { 'content-type': 'text/html' }).end(page('Sign-in did not complete', 'Return to the terminal for details.'));
      settle({ error: error ?? 'unknown_error', ...(description ? { description } : {}) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    result,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
