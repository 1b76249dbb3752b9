/**
 * Turns any error that escapes a command into one message the user can act on: never a stack trace
 * (unless DEPUTY_DEBUG is set), never a credential. The errors of Deputy's own engine are worded in
 * `errors-local.ts`; this adds the ones from the agent endpoint and AWS sign-in.
 */
import { APIConnectionError, APIError } from 'openai';
import { SignInRequiredError, describeServiceError } from '../identity/index.js';
import { redactCredentials, redactText, type KnownSecrets } from '../core/redact.js';
import { UserError } from './io.js';
import { describeLocalError, ownWords } from './errors-local.js';

export function describeError(err: unknown, known?: KnownSecrets): string {
  // These say what happened and what to do in their own words.
  if (err instanceof SignInRequiredError) return redactText(err.message, known);
  const local = ownWords(err, known);
  if (local !== null) return local;
  const service = describeServiceError(err);
  if (service) return redactText(service, known);
  if (err instanceof APIConnectionError) {
    const code = causeCode(err);
    const detail = `${err.message.replace(/\.$/, '')}${code ? ` (${code})` : ''}`;
    return redactText(`Cannot reach the agent endpoint: ${detail}. Check --endpoint and that the service is running.`, known);
  }
  if (err instanceof APIError && err.status === 401) {
    return redactText(
      `The agent endpoint did not accept Deputy's credentials (HTTP 401): ${err.message}. ` +
        'For a Deputy runtime, pass the token file `deputy serve` printed (--token-file), or with --auth iam the ' +
        'server id it was started with (--server-id) and a signed-in --profile.',
      known,
    );
  }
  if (err instanceof APIError) {
    const status = err.status ? ` (HTTP ${err.status})` : '';
    return redactText(`The agent endpoint refused the request${status}: ${err.message}`, known);
  }
  return describeLocalError(err, known);
}

/**
 * Runs a command that learns secrets as it goes (`known`: API keys from its options, a runtime token once started):
 * whatever error leaves it carries none of them, in any encoding, whether the command's own `UserError` or another.
 */
export async function withSecretsRedacted(known: KnownSecrets, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UserError) throw new UserError(redactCredentials(err.message, known), err.exitCode);
    throw new UserError(describeError(err, known));
  }
}

/** The first system error code (ECONNREFUSED, ENOTFOUND, …) down an error's cause chain. */
function causeCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}
