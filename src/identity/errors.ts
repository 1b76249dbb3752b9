/**
 * Errors of identity and of the AWS services Deputy calls, turned into what the user should do next.
 * Messages never include a credential: service text is redacted before it is quoted.
 */
import { redactText } from '../core/redact.js';

/** `signedOut`: the person signed out of Deputy (the AWS CLI's cached sign-in is untouched, Deputy just stops using it). */
export type SignInReason = 'missing' | 'expired' | 'rejected' | 'signedOut';

/** The profile's IAM Identity Center session is missing, expired or no longer accepted: a person must sign in. */
export class SignInRequiredError extends Error {
  readonly profile: string;
  readonly reason: SignInReason;
  constructor(profile: string, reason: SignInReason = 'expired') {
    const what =
      reason === 'missing'
        ? 'you have not signed in to IAM Identity Center yet'
        : reason === 'expired'
          ? 'the IAM Identity Center sign-in has expired'
          : reason === 'signedOut'
            ? 'you signed out of Deputy for this profile'
            : 'IAM Identity Center no longer accepts the cached sign-in';
    super(
      `Sign-in required for AWS profile "${profile}": ${what}. ` +
        `Run \`deputy login --profile ${profile}\` (or \`aws sso login --profile ${profile}\`), then try again.`,
    );
    this.name = 'SignInRequiredError';
    this.profile = profile;
    this.reason = reason;
  }
}

const ACCESS_KEY = /\b(?:AKIA|ASIA|AROA|AIDA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z0-9]{12,}\b/g;
const LONG_RUN = /[A-Za-z0-9+/=_-]{40,}/g;

/**
 * A long run that mixes upper case, lower case and digits reads as a token (session tokens, signatures); one
 * that does not is usually a path or a documentation link a reader needs ("…/UserGuide/id_credentials_temp").
 */
function looksLikeToken(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run);
}

/** Service text can quote a canonical request (and so an access key id) or a token; strip both. */
export function redactSecrets(text: string): string {
  return redactText(text.replace(ACCESS_KEY, '[redacted]').replace(LONG_RUN, (run) => (looksLikeToken(run) ? '[redacted]' : run)));
}

interface ErrorFacts {
  names: string[];
  codes: string[];
  status?: number;
  hostname?: string;
  message?: string;
  signIn?: SignInRequiredError;
  /** The failure came from an AWS service (SDK metadata or AWS response headers), not any HTTP server. */
  fromAws: boolean;
}

function collectFacts(err: unknown): ErrorFacts {
  const facts: ErrorFacts = { names: [], codes: [], fromAws: false };
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const e = cur as Record<string, unknown>;
    if (cur instanceof SignInRequiredError && !facts.signIn) facts.signIn = cur;
    if (typeof e.name === 'string') facts.names.push(e.name);
    if (typeof e.code === 'string') facts.codes.push(e.code);
    if (typeof e.Code === 'string') facts.codes.push(e.Code);
    const body = e.error as Record<string, unknown> | undefined;
    if (body && typeof body === 'object') {
      if (typeof body.code === 'string') facts.codes.push(body.code);
      if (typeof body.type === 'string') facts.codes.push(body.type);
    }
    if (e.$metadata || hasAwsHeaders(e.headers)) facts.fromAws = true;
    // AWS JSON services name the error in a header, sometimes suffixed with `:<namespace url>`.
    const errorType = headerOf(e.headers, 'x-amzn-errortype');
    if (typeof errorType === 'string' && errorType) facts.codes.push(errorType.split(':')[0]!);
    const meta = e.$metadata as { httpStatusCode?: number } | undefined;
    const status = typeof e.status === 'number' ? e.status : meta?.httpStatusCode;
    if (facts.status === undefined && typeof status === 'number') facts.status = status;
    if (!facts.hostname && typeof e.hostname === 'string') facts.hostname = e.hostname;
    if (!facts.message && typeof e.message === 'string' && e.message) facts.message = e.message;
    cur = e.cause;
  }
  return facts;
}

function headerOf(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  return typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, unknown>)[name];
}

function hasAwsHeaders(headers: unknown): boolean {
  return Boolean(headerOf(headers, 'x-amzn-requestid') || headerOf(headers, 'x-amzn-errortype') || headerOf(headers, 'x-amz-apigw-id'));
}

function detail(facts: ErrorFacts): string {
  if (!facts.message) return '';
  const text = redactSecrets(facts.message).replace(/\s+/g, ' ').trim();
  return ` (service said: ${text.length > 240 ? `${text.slice(0, 240)}…` : text})`;
}

const has = (facts: ErrorFacts, ...needles: string[]) =>
  [...facts.names, ...facts.codes].some((v) => needles.some((n) => v.toLowerCase() === n.toLowerCase()));

/**
 * A message that says what happened and what to do for the service errors a user can act on, or null when
 * the error is not one of those (the caller then reports it as it is).
 */
export function describeServiceError(err: unknown): string | null {
  const facts = collectFacts(err);
  if (facts.signIn) return facts.signIn.message;

  if (has(facts, 'ENOTFOUND', 'EAI_AGAIN')) {
    const host = facts.hostname ?? hostFromMessage(facts.message);
    const mantle = host?.match(/^bedrock-mantle\.([a-z0-9-]+)\./);
    if (mantle) {
      return (
        `Could not resolve ${host}: Amazon Bedrock Managed Agents is not offered in region ${mantle[1]} ` +
        `(or this machine has no DNS). Choose a region where it is available with --region, or check your network.`
      );
    }
    return `Could not resolve ${host ?? 'the service host'}: check the endpoint, region and your network connection.`;
  }
  if (has(facts, 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT')) {
    return `Could not connect to ${facts.hostname ?? 'the service'}: check the endpoint URL and your network, then retry.`;
  }
  if (
    has(
      facts,
      'ExpiredToken',
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
    ) ||
    /security token included in the request is (expired|invalid)/i.test(facts.message ?? '')
  ) {
    return (
      'AWS rejected the credentials as expired or invalid. Sign in again with `deputy login --profile <profile>` ' +
      '(or `aws sso login --profile <profile>`), or refresh the credentials of the profile you use, then retry.'
    );
  }
  if (has(facts, 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'rate_limit_exceeded') || facts.status === 429) {
    return (
      'The service is throttling requests (429). Wait a minute and retry; if it keeps happening, lower your request ' +
      'rate or ask your AWS administrator to raise the quota.'
    );
  }
  if (has(facts, 'AccessDenied', 'AccessDeniedException') || (facts.fromAws && facts.status === 403)) {
    return (
      'Access denied: your AWS identity is not allowed to perform this action' +
      detail(facts) +
      '. Check which identity you are using with `deputy whoami`, then ask your administrator for the permission ' +
      'or pick a profile that has it with --profile.'
    );
  }
  if (facts.fromAws && facts.status === 401) {
    return 'The service did not accept your identity (401). Sign in again with `deputy login`, then retry.';
  }
  return null;
}

function hostFromMessage(message: string | undefined): string | undefined {
  return message?.match(/ENOTFOUND\s+([^\s,]+)/)?.[1];
}
