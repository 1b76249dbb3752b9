/**
 * Redaction of credentials from anything Deputy writes down: audit records, logs, error text.
 * DESIGN.md §4: credentials never appear in logs, audit records, session metadata or error text.
 *
 * Two rules, applied recursively:
 * - a value under a secret-looking key (`apiKey`, `Authorization`, `aws_secret_access_key`, `sessionToken`, …)
 *   is replaced whole by `"[redacted]"`, whatever its type;
 * - inside any string, text that looks like a credential (an AWS access key id, a bearer/basic authorization
 *   value, a PEM block, an OpenAI-style `sk-` key) is replaced by `"[redacted]"`, keeping the text around it
 *   so an error message stays readable.
 *
 * The result is always plain JSON data (the shape `JSON.stringify` would produce), so it can be hashed.
 */

export const REDACTED = '[redacted]';

const SECRET_KEY =
  /secret|token|password|passphrase|authorization|api[_-]?key|credential|access_?key|signature|cookie|verifier|proof|private_?key/i;

/**
 * Token counters are usage, not credentials: `input_tokens`, `output_tokens`, `total_tokens`, `max_tokens`,
 * `cached_tokens`, `reasoning_tokens`, `prompt_tokens`, `completion_tokens` and their `_details` objects,
 * plus the OpenTelemetry spellings (`gen_ai.usage.input_tokens`).
 */
const USAGE_KEY =
  /(^|[._-])(input|output|total|max|cached|reasoning|prompt|completion|max_output|max_completion)_?tokens(_details)?$/i;

const SECRET_TEXT: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  // JSON Web Tokens (SSO access tokens, OIDC id tokens): three base64url parts, the first two JSON.
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g,
  // A presigned URL's credentials, and Deputy's own IAM proofs (a presigned URL in a wrapper).
  /\b(X-Amz-(?:Security-Token|Signature|Credential))=[^&\s"']+/gi,
  /\bdeputy-iam-v\d+\.[A-Za-z0-9_-]+/g,
  // `name = value` / `"name": "value"` where the name says secret: .env files, ~/.aws/credentials, JSON caches.
  /(\b[\w.-]*(?:secret|token|password|passphrase|api[_-]?key|access[_-]?key|private[_-]?key|credential)[\w.-]*["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"',}]{6,}/gi,
];

/** Whether a property name is one whose value Deputy never records. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !USAGE_KEY.test(key);
}

/** A string with every credential-looking run of text replaced by `[redacted]`. */
export function redactText(text: string): string {
  let out = text;
  for (const pattern of SECRET_TEXT) {
    // Patterns with a leading group keep it (the name and the `=`); the rest is the secret itself.
    out = out.replace(pattern, (match: string, keep: unknown) => {
      if (typeof keep !== 'string' || !/[:=]\s*["']?$/.test(keep)) return REDACTED;
      // `input_tokens: 123456` is usage, not a credential.
      const name = keep.replace(/["']?\s*[:=]\s*["']?$/, '');
      return USAGE_KEY.test(name) ? match : `${keep}${REDACTED}`;
    });
  }
  return out;
}

/** A JSON-safe deep copy of `value` with secrets replaced by `[redacted]`. */
export function redact(value: unknown): unknown {
  return walk(value, new WeakSet());
}

/** `redact` for the common case of a record's `data` object. */
export function redactRecord(data: Record<string, unknown>): Record<string, unknown> {
  const out = redact(data);
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return redactText(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const obj = value as object;
  if (seen.has(obj)) return '[circular]';
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return walk((obj as { toJSON(): unknown }).toJSON(), seen);
  }
  seen.add(obj);
  try {
    // Array.from, not map: a sparse array's holes become null here exactly as JSON.parse will read them back,
    // so the hash the writer computes is the hash the verifier recomputes.
    if (Array.isArray(obj)) return Array.from(obj, (item) => walk(item, seen) ?? null);
    if (obj instanceof Error) {
      return { name: obj.name, message: redactText(obj.message) };
    }
    if (obj instanceof Map) return walk(Object.fromEntries(obj), seen);
    if (obj instanceof Set) return walk([...obj], seen);
    if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(obj)) {
      // defineProperty, not assignment: a key named `__proto__` (model-made JSON can have one) stays a key.
      const put = (v: unknown) => Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      if (isSecretKey(key)) {
        if (item !== undefined) put(REDACTED);
        continue;
      }
      const clean = walk(item, seen);
      if (clean !== undefined) put(clean);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}
