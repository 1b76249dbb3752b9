/**
 * Who the editor's sessions act as, kept current for the status item: the profile in use, the principal STS names
 * for it, and when its sign-in runs out. It re-resolves on start, on a settings change, on sign-in and sign-out, and
 * at two instants computed from the expiry on its clock: the start of the warning window (a renewable sign-in is
 * renewed silently there) and the expiry itself. Never a poll, never a credential in what it publishes.
 */
import {
  CredentialsUnavailableError,
  ProfileConfigError,
  SignInRequiredError,
  resolveIdentity,
  signIn,
  signInExpiryOf,
} from '../identity/index.js';
import { EXPIRY_WARNING_MS, type IdentityStatus, type ServerSettings } from '../protocol/lsp.js';
import { profileOf } from './endpoint.js';

/** Time for the monitor's schedule; injectable so tests move it instead of waiting. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): { clear(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { clear: () => clearTimeout(t) };
  },
};

/** setTimeout's longest delay; a later instant is reached in steps (each step re-resolves and reschedules). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface IdentityMonitorDeps {
  env: NodeJS.ProcessEnv;
  settings(): ServerSettings;
  clock: Clock;
  publish(status: IdentityStatus): void;
  log(line: string): void;
  /** Profiles the person signed out of in Deputy. */
  signedOut: Set<string>;
}

export function expiryPhase(expiresAt: string | undefined, now: number): IdentityStatus['expiry'] {
  if (!expiresAt) return 'none';
  const at = Date.parse(expiresAt);
  if (now >= at) return 'expired';
  return at - now <= EXPIRY_WARNING_MS ? 'expiring' : 'ok';
}

export class IdentityMonitor {
  private current: IdentityStatus = { state: 'checking', expiry: 'none' };
  private timer: { clear(): void } | undefined;
  private generation = 0;
  private closed = false;

  constructor(private readonly deps: IdentityMonitorDeps) {}

  get status(): IdentityStatus {
    return this.current;
  }

  /** The profile the editor acts as, if any. */
  profile(): string | undefined {
    return profileOf(this.deps.settings(), this.deps.env);
  }

  /** Resolves the identity anew and publishes it when it changed. A newer call's answer always wins. */
  async refresh(): Promise<IdentityStatus> {
    const generation = ++this.generation;
    const next = await this.resolve();
    if (generation !== this.generation || this.closed) return this.current;
    this.set(next);
    return this.current;
  }

  close(): void {
    this.closed = true;
    this.timer?.clear();
  }

  private async resolve(): Promise<IdentityStatus> {
    const settings = this.deps.settings();
    const env = this.deps.env;
    const profile = this.profile();
    if (!profile && settings.endpoint !== 'bedrock') return { state: 'none', expiry: 'none' };
    const named = profile ? { profile } : {};
    if (profile && this.deps.signedOut.has(profile)) {
      return {
        state: 'signInRequired',
        profile,
        reason: 'signedOut',
        expiry: 'none',
        message: `You signed out of AWS profile "${profile}" in Deputy. Sign in to use it again.`,
      };
    }
    try {
      const id = await resolveIdentity({ ...named, ...(settings.bedrockRegion ? { region: settings.bedrockRegion } : {}), env });
      const sso = profile ? await signInExpiryOf(profile, env, this.deps.clock.now()) : undefined;
      const expiresAt = (sso?.expiresAt ?? id.expiration)?.toISOString();
      const expiry = expiryPhase(expiresAt, this.deps.clock.now());
      const principal = {
        arn: id.arn,
        account: id.account,
        ...(id.roleName ? { roleName: id.roleName } : {}),
        ...(id.sessionName ? { sessionName: id.sessionName } : {}),
      };
      return {
        state: expiry === 'expired' ? 'signInRequired' : 'signedIn',
        ...named,
        ...(sso && sso.ssoProfile !== profile ? { ssoProfile: sso.ssoProfile } : {}),
        principal,
        ...(expiresAt ? { expiresAt } : {}),
        expiry,
        ...(sso ? { renewable: sso.renewable } : {}),
        ...(expiry === 'expired'
          ? { reason: 'expired' as const, message: `The AWS sign-in for profile "${sso?.ssoProfile ?? profile ?? 'default'}" has expired. Sign in again.` }
          : {}),
      };
    } catch (err) {
      if (err instanceof SignInRequiredError) {
        return {
          state: 'signInRequired',
          ...named,
          reason: err.reason,
          expiry: err.reason === 'expired' ? 'expired' : 'none',
          message:
            err.reason === 'missing'
              ? `AWS profile "${err.profile}" is not signed in to IAM Identity Center. Sign in to use it.`
              : `The AWS sign-in for profile "${err.profile}" has ${err.reason === 'expired' ? 'expired' : 'been refused'}. Sign in again.`,
        };
      }
      if (err instanceof ProfileConfigError || err instanceof CredentialsUnavailableError) {
        return { state: 'unavailable', ...named, expiry: 'none', message: err.message };
      }
      this.deps.log(`identity: ${err instanceof Error ? err.message : String(err)}`);
      return { state: 'unavailable', ...named, expiry: 'none', message: 'Deputy could not work out your AWS identity; see the log.' };
    }
  }

  private set(next: IdentityStatus): void {
    const changed = JSON.stringify(next) !== JSON.stringify(this.current);
    this.current = next;
    if (changed) this.deps.publish(next);
    this.schedule();
  }

  private schedule(): void {
    this.timer?.clear();
    this.timer = undefined;
    const s = this.current;
    if (this.closed || s.state !== 'signedIn' || !s.expiresAt) return;
    const at = Date.parse(s.expiresAt);
    const next = s.expiry === 'ok' ? at - EXPIRY_WARNING_MS : at;
    const delay = Math.min(Math.max(0, next - this.deps.clock.now()), MAX_TIMER_MS);
    this.timer = this.deps.clock.setTimer(() => void this.tick(), delay);
  }

  /** At the start of the warning window a renewable sign-in is renewed without a person; then the state is re-read. */
  private async tick(): Promise<void> {
    const s = this.current;
    const profile = this.profile();
    if (s.renewable && profile && expiryPhase(s.expiresAt, this.deps.clock.now()) !== 'ok') {
      await signIn({ profile: (await this.ssoProfile(profile)) ?? profile, env: this.deps.env, interactive: false, notify: (l) => this.deps.log(l) }).then(
        () => this.deps.log(`identity: renewed the sign-in of profile "${profile}" with its refresh token`),
        (err: unknown) => this.deps.log(`identity: could not renew the sign-in of "${profile}": ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    await this.refresh();
  }

  private async ssoProfile(profile: string): Promise<string | undefined> {
    return (await signInExpiryOf(profile, this.deps.env, this.deps.clock.now()))?.ssoProfile;
  }
}
