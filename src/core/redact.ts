/**
 * Redaction of credentials from anything Deputy writes down: audit records, logs, error text, the runtime's store.
 * DESIGN.md §5: credentials never appear in logs, audit records, session metadata or error text. The one home for
 * it: every writer imports these functions.
 *
 * Three layers, strictest last:
 * - the exact secrets Deputy was configured with (the model's API key, the runtime's bearer token), collected in a
 *   `KnownSecrets` and found in every encoding they travel in: raw, URL-encoded, JSON-escaped, base64 (standard and
 *   URL-safe, at any byte offset, as inside a Basic authorization header), and in any letter case;
 * - credential formats that leak in practice and are recognisable by shape alone: GitHub (`ghp_`, `gho_`, `ghu_`,
 *   `ghs_`, `ghr_`, `github_pat_`), GitLab (`glpat-`), npm (`npm_`), PyPI (`pypi-`), Slack (`xox?-`), Stripe
 *   (`sk_live_`, `rk_live_`, test keys), Google (`AIza`), OpenAI / Anthropic-style `sk-` keys, AWS access key ids and
 *   the secret key written next to one, PEM private-key blocks, JWTs, a URL's `user:password@`, presigned-URL
 *   signatures and Deputy's IAM proofs;
 * - for records, logs and errors only, heuristics that would also catch ordinary code (so they are kept out of the
 *   conversation the runtime stores): a value after a secret-looking name (`password = …`, `"apiKey": "…"`), a
 *   `Bearer`/`Basic` authorization value, any PEM block; and in structured data, the whole value under a
 *   secret-looking key (`apiKey`, `Authorization`, `aws_secret_access_key`, `sessionToken`, …).
 *
 * A match becomes `[redacted]`, keeping the text around it, so an error message stays readable. `redact` returns
 * plain JSON data (the shape `JSON.stringify` would produce), so it can be hashed.
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

/** Recognisable by shape: safe to remove from any text, including code and conversation. */
const CREDENTIAL_FORMATS: readonly RegExp[] = [
  // A key block, ended or cut off. Its body is base64 and PEM headers (`Proc-Type: 4,ENCRYPTED`), raw or
  // JSON-escaped: code that merely names the header (`startsWith('-----BEGIN … PRIVATE KEY-----')`) stays readable.
  /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[A-Za-z0-9+/=\s\\:,.-]*?(?:-----END \1-----|$)/g,
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,255}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  // npm and PyPI publish tokens: what `.npmrc` and `.pypirc` hold.
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bpypi-AgE[A-Za-z0-9_-]{40,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  // JSON Web Tokens (SSO access tokens, OIDC id tokens): three base64url parts, the first two JSON.
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  // A presigned URL's credentials, and Deputy's own IAM proofs (a presigned URL in a wrapper).
  /\b(X-Amz-(?:Security-Token|Signature|Credential))=[^&\s"']+/gi,
  /\bdeputy-iam-v\d+\.[A-Za-z0-9_-]+/g,
];

/** `scheme://user:password@`: the scheme is kept, the credentials go. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@:"'<>]+:[^\s/?#@"'<>]+@/gi;

/**
 * An AWS access key id in the text makes a 40-character base64 run beside it its secret key. "Beside": within
 * `AWS_SECRET_NEAR` characters, enough for a session token written between the two (STS output), so that a long
 * identifier elsewhere in a file that merely mentions an example key id is not rewritten in the code the agent reads.
 */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;
const AWS_SECRET_KEY = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const AWS_SECRET_NEAR = 2_000;

/**
 * A URL's password that is only a placeholder (`${token}`, `{{ pass }}`, `{pw}`, `%s`, `%(pw)s`, `$PGPASSWORD`): code
 * that builds an authenticated URL, left as it is.
 */
const PLACEHOLDER = /^(?:\$\{[^}]*\}|\{\{[^}]*\}\}|\{[A-Za-z_][\w.]*\}|%s|%\(\w+\)s|\$[A-Z_][A-Z0-9_]*)$/;

/** Would also match ordinary code and prose: for records, logs and error text only. */
const HEURISTICS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // `name = value` / `"name": "value"` where the name says secret: .env files, ~/.aws/credentials, JSON caches.
  /(\b[\w.-]*(?:secret|token|password|passphrase|api[_-]?key|access[_-]?key|private[_-]?key|credential)[\w.-]*["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"',}]{6,}/gi,
];

/** Shorter configured values are not matched: masking every `abc` in a transcript would hide more than it protects. */
const MIN_KNOWN_LENGTH = 8;

/**
 * The exact secrets a command or the runtime was configured with, matched in every encoding they can take. Built by
 * whoever learns them (the CLI from its options, the runtime from its upstream config and token) and passed to
 * what writes things down; secrets can be added as they become known (a runtime token after start).
 */
export class KnownSecrets {
  private readonly values = new Set<string>();
  private matcher: RegExp | null = null;

  constructor(values: Iterable<string | null | undefined> = []) {
    this.add(...values);
  }

  add(...values: (string | null | undefined)[]): this {
    for (const value of values) {
      if (typeof value === 'string' && value.length >= MIN_KNOWN_LENGTH && !this.values.has(value)) {
        this.values.add(value);
        this.matcher = null;
      }
    }
    return this;
  }

  /** `text` with every encoding of every known secret replaced by `[redacted]`. */
  scrub(text: string): string {
    if (this.values.size === 0) return text;
    this.matcher ??= new RegExp(
      [...new Set([...this.values].flatMap(encodings))]
        .sort((a, b) => b.length - a.length)
        .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'gi',
    );
    return text.replace(this.matcher, REDACTED);
  }
}

/** The forms a secret takes on the wire and in logs. Matching is case-insensitive, which covers upper-casing. */
function encodings(secret: string): string[] {
  const url = encodeURIComponent(secret);
  const out = [secret, url, url.replace(/%20/g, '+'), JSON.stringify(secret).slice(1, -1)];
  const bytes = Buffer.from(secret, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    // Base64 of the secret somewhere inside a longer value (e.g. `user:secret` in a Basic header): only the
    // characters that depend on the secret's bytes alone, which are the same whatever surrounds it.
    const b64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const part = b64.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (part.length >= MIN_KNOWN_LENGTH) out.push(part, part.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Whether a property name is one whose value Deputy never records. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !USAGE_KEY.test(key);
}

/**
 * Known secrets and recognisable credential formats removed; ordinary code and prose untouched. For conversation
 * content the runtime stores (what the agent read, wrote and was told).
 */
export function redactCredentials(text: string, known?: KnownSecrets): string {
  let out = known ? known.scrub(text) : text;
  const ids = [...out.matchAll(ACCESS_KEY_ID)].map((m) => m.index);
  if (ids.length > 0) {
    const near = (at: number) => ids.some((id) => Math.abs(id - at) <= AWS_SECRET_NEAR);
    out = out.replace(AWS_SECRET_KEY, (run: string, at: number) =>
      /[A-Z]/.test(run) && /[a-z]/.test(run) && near(at) ? REDACTED : run,
    );
  }
  for (const pattern of CREDENTIAL_FORMATS) out = out.replace(pattern, REDACTED);
  return out.replace(URL_CREDENTIALS, (match: string, scheme: string) =>
    PLACEHOLDER.test(match.slice(scheme.length, -1).replace(/^[^:]*:/, '')) ? match : `${scheme}${REDACTED}@`,
  );
}

/** A string with every credential-looking run of text replaced by `[redacted]`: for records, logs and errors. */
export function redactText(text: string, known?: KnownSecrets): string {
  let out = redactCredentials(text, known);
  for (const pattern of HEURISTICS) {
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

/** A URL for display: `user:password@` dropped (not even `[redacted]`: the reader needs the address only). */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    const shown = parsed.toString();
    return url.endsWith('/') || !shown.endsWith('/') ? shown : shown.slice(0, -1);
  } catch {
    return redactText(url);
  }
}

/** A JSON-safe deep copy of `value` with secrets replaced by `[redacted]`. */
export function redact(value: unknown, known?: KnownSecrets): unknown {
  return walk(value, new WeakSet(), { text: (s) => redactText(s, known), keys: true });
}

/** `redact` for the common case of a record's `data` object. */
export function redactRecord(data: Record<string, unknown>, known?: KnownSecrets): Record<string, unknown> {
  const out = redact(data, known);
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

/**
 * A JSON-safe deep copy with `redactCredentials` applied to every string and no key-based rule (a tool schema's
 * `token` property or a session's metadata stays as it is): what the runtime stores.
 */
export function redactStrings<T>(value: T, known?: KnownSecrets): T {
  return walk(value, new WeakSet(), { text: (s) => redactCredentials(s, known), keys: false }) as T;
}

interface WalkRules {
  text: (s: string) => string;
  keys: boolean;
}

function walk(value: unknown, seen: WeakSet<object>, rules: WalkRules): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return rules.text(value);
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
    return walk((obj as { toJSON(): unknown }).toJSON(), seen, rules);
  }
  seen.add(obj);
  try {
    // Array.from, not map: a sparse array's holes become null here exactly as JSON.parse will read them back,
    // so the hash the writer computes is the hash the verifier recomputes.
    if (Array.isArray(obj)) return Array.from(obj, (item) => walk(item, seen, rules) ?? null);
    if (obj instanceof Error) {
      return { name: obj.name, message: rules.text(obj.message) };
    }
    if (obj instanceof Map) return walk(Object.fromEntries(obj), seen, rules);
    if (obj instanceof Set) return walk([...obj], seen, rules);
    if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(obj)) {
      // defineProperty, not assignment: a key named `__proto__` (model-made JSON can have one) stays a key.
      const put = (v: unknown) => Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      if (rules.keys && isSecretKey(key)) {
        if (item !== undefined) put(REDACTED);
        continue;
      }
      const clean = walk(item, seen, rules);
      if (clean !== undefined) put(clean);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}
