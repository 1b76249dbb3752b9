/**
 * HTTP plumbing of the runtime: bounded JSON bodies and errors in the OpenAI error shape
 * (`{error: {message, type, param, code}}`), which the `openai` client turns into typed `APIError`s.
 */
import type http from 'node:http';

/** An error answered to the client as is: status plus the OpenAI error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly type = status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function invalid(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, code, param);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

export function sendError(res: http.ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, {
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  });
}

/**
 * Reads a JSON body of at most `maxBytes`. Stops reading (and answers 413) as soon as the limit is passed,
 * so an oversized upload never sits in memory whole.
 */
export function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(tooLarge(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(invalid(`The request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json'));
      }
    });
  });
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    `The request body is larger than the runtime's limit of ${maxBytes} bytes. Send less data per request.`,
    'request_too_large',
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
