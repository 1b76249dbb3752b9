/**
 * `deputy whoami`: the AWS identity Deputy acts as for a profile: account, principal ARN, role and session
 * names, and when the credentials expire. This is the principal sessions and audit records will name.
 */
import {
  CredentialsUnavailableError,
  ProfileConfigError,
  SignInRequiredError,
  resolveIdentity,
  type CallerIdentity,
} from '../identity/index.js';
import type { Command } from './io.js';
import { parseCommandArgs } from './args.js';
import { UserError } from './io.js';

export const WHOAMI_USAGE = `Usage: deputy whoami [--profile P] [--region R] [--json]

Shows the AWS identity Deputy acts as (STS GetCallerIdentity) and when its credentials expire.

  --profile P   the AWS profile (default: AWS_PROFILE, else the default credential chain)
  --region R    the STS region (default: the profile's region, AWS_REGION, else us-east-1)
  --json        print one JSON object`;

function untilText(expiration: Date, now: number): string {
  const minutes = Math.round((expiration.getTime() - now) / 60_000);
  if (minutes <= 0) return 'expired';
  if (minutes < 120) return `in ${minutes} min`;
  return `in ${Math.round(minutes / 60)} h`;
}

export function formatIdentity(id: CallerIdentity, now = Date.now()): string {
  const rows: Array<[string, string | undefined]> = [
    ['Account', id.account],
    ['Principal', id.arn],
    ['User id', id.userId],
    ['Role', id.roleName],
    ['Session', id.sessionName],
    ['Profile', id.profile],
    ['Expires', id.expiration ? `${id.expiration.toISOString()} (${untilText(id.expiration, now)})` : 'no expiry (long-term credentials)'],
  ];
  return rows
    .filter((r): r is [string, string] => r[1] !== undefined)
    .map(([k, val]) => `${`${k}:`.padEnd(11)}${val}`)
    .join('\n');
}

export const whoamiCommand: Command = async (argv, io) => {
  const v = parseCommandArgs(
    argv,
    {
      profile: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean' },
    },
    WHOAMI_USAGE,
  ).values;

  let id: CallerIdentity;
  try {
    id = await resolveIdentity({
      ...(v.profile ? { profile: v.profile } : {}),
      ...(v.region ? { region: v.region } : {}),
      env: io.env,
    });
  } catch (err) {
    if (err instanceof SignInRequiredError || err instanceof ProfileConfigError || err instanceof CredentialsUnavailableError) {
      throw new UserError(err.message, 1);
    }
    throw err;
  }
  if (v.json) {
    io.stdout.write(
      `${JSON.stringify({
        account: id.account,
        arn: id.arn,
        userId: id.userId,
        ...(id.roleName ? { roleName: id.roleName } : {}),
        ...(id.sessionName ? { sessionName: id.sessionName } : {}),
        ...(id.profile ? { profile: id.profile } : {}),
        expiration: id.expiration ? id.expiration.toISOString() : null,
      })}\n`,
    );
  } else {
    io.stdout.write(`${formatIdentity(id)}\n`);
  }
  return 0;
};
