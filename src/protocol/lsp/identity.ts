/**
 * The acting identity over the language-server pipe (src/protocol/lsp.ts): who Deputy acts as and until when, the
 * profiles, and signing in and out.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { RequestFailure } from './failure.js';

/** Warn this long before the sign-in runs out (the status item turns to the warning colour, one notification). */
export const EXPIRY_WARNING_MS = 15 * 60_000;

/**
 * Who Deputy acts as, for the status item. Facts only, never a credential: the principal STS names, the profile, and
 * when the sign-in runs out. `expiry` is the server's judgement on its own clock, so every front end agrees on it.
 */
export interface IdentityStatus {
  /**
   * `none`: no AWS profile is in use (the actor is the local user); `checking`: being resolved; `signedIn`: the
   * principal is known; `signInRequired`: a person must sign in (`reason` says why); `unavailable`: credentials could
   * not be resolved for another reason (`message`).
   */
  state: 'none' | 'checking' | 'signedIn' | 'signInRequired' | 'unavailable';
  profile?: string;
  /** The SSO profile whose sign-in `profile` depends on, when it is another (a role assumed from an SSO profile). */
  ssoProfile?: string;
  principal?: {
    arn: string;
    account: string;
    roleName?: string;
    /** For SSO, usually the person's user name. */
    sessionName?: string;
  };
  /** ISO time when a person must act again: the SSO sign-in's expiry, else the credentials' own. Absent: no expiry. */
  expiresAt?: string;
  /** `expiring`: within `EXPIRY_WARNING_MS` of `expiresAt`. */
  expiry: 'none' | 'ok' | 'expiring' | 'expired';
  /** The sign-in renews without a person (a refresh token is cached): the server renews it when it starts expiring. */
  renewable?: boolean;
  reason?: 'missing' | 'expired' | 'rejected' | 'signedOut';
  /** Worded for a person, for `signInRequired` and `unavailable`. */
  message?: string;
}

export namespace IdentityChanged {
  export const method = 'deputy/identity' as const;
  /**
   * Sent by the server whenever the acting identity or its expiry state changes: at start, on a settings change, on
   * sign-in and sign-out, when the sign-in enters the warning window and when it runs out (timers on the server's clock).
   */
  export const type = new NotificationType<IdentityStatus>(method);
}

export namespace GetIdentity {
  export const method = 'deputy/getIdentity' as const;
  /** Sent by the client for the status item's menu and "Refresh": with `refresh`, the server resolves the identity anew. */
  export interface Params {
    refresh: boolean;
  }
  export const type = new RequestType<Params, IdentityStatus, void>(method);
}

export namespace ListProfiles {
  export const method = 'deputy/listProfiles' as const;
  /** Sent by the client for "Switch profile": the AWS profiles the server finds (no secret, kinds only). */
  export interface Result {
    profiles: Array<{ name: string; kind: string; accountId?: string; roleName?: string; region?: string }>;
    /** The profile in use now. */
    current?: string;
  }
  export const type = new RequestType0<Result, void>(method);
}

export namespace SignIn {
  export const method = 'deputy/signIn' as const;
  /**
   * Sent by the client for "Sign in": the server signs the profile in to IAM Identity Center and writes the AWS CLI's
   * token cache (one sign-in for `aws` and Deputy). `browser`: authorization code + PKCE, the page opened through
   * `OpenExternal`; `deviceCode`: the code and link come as `SignInProgress`. A silent renewal (refresh token) is
   * tried first. Cancellable with `$/cancelRequest`. Sessions paused for this profile resume on success.
   */
  export interface Params {
    profile?: string;
    flow: 'browser' | 'deviceCode';
  }
  export type Result = { identity: IdentityStatus } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SignInProgress {
  export const method = 'deputy/signInProgress' as const;
  /** Sent by the server during a device-code sign-in: what the person must confirm, and where. Not secret. */
  export interface Params {
    profile: string;
    userCode: string;
    verificationUri: string;
    verificationUriComplete?: string;
    /** ISO time the code stops working. */
    expiresAt: string;
  }
  export const type = new NotificationType<Params>(method);
}

export namespace OpenExternal {
  export const method = 'deputy/openExternal' as const;
  /**
   * Sent by the server during a browser sign-in: the client opens the IAM Identity Center page with `env.openExternal`
   * (the server process has no way to a browser of its own in a remote window). The URL carries no secret: a PKCE
   * challenge and state only.
   */
  export interface Params {
    url: string;
  }
  export interface Result {
    opened: boolean;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SignOut {
  export const method = 'deputy/signOut' as const;
  /**
   * Sent by the client for "Sign out": the server stops using the profile's cached sign-in (new tasks are refused,
   * running sessions pause until a sign-in from Deputy). The AWS CLI's token cache is left as it is.
   */
  export interface Params {
    profile?: string;
  }
  export interface Result {
    identity: IdentityStatus;
    /** The profile signed out, for the client to remember across windows. */
    profile?: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}
