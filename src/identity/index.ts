/** Identity: AWS profiles, credential providers, SSO sign-in, caller identity, and IAM proofs for the runtime. */
export { SignInRequiredError, describeServiceError, redactSecrets, type SignInReason } from './errors.js';
export { listProfiles, findProfile, selectedProfileName, ssoSignInTarget, type ProfileInfo, type ProfileKind, type SsoSignInTarget } from './profiles.js';
export {
  credentialProviderFor,
  ssoRootOf,
  CredentialsUnavailableError,
  ProfileConfigError,
  REFRESH_WINDOW_MS,
  type AwsCredentialIdentity,
  type AwsCredentialsProvider,
  type CredentialProviderOptions,
} from './credentials.js';
export { resolveIdentity, parsePrincipalArn, stsRegionFor, type CallerIdentity, type ResolveIdentityOptions } from './caller.js';
export { signIn, SignInFailedError, type SignInOptions, type SignInResult, type SignInFlow } from './sign-in.js';
export type { DeviceCodePrompt, SignInFailure } from './oidc-flows.js';
export { signInExpiryOf, type SignInExpiry } from './sign-in-state.js';
export { systemBrowser, type BrowserLauncher } from './browser.js';
export { readSsoToken, writeSsoToken, type SsoCachedToken } from './token-cache.js';
export {
  createIamProof,
  createIamProofSource,
  IAM_PROOF_HEADER,
  SERVER_ID_HEADER,
  IAM_PROOF_TTL_SECONDS,
  type IamProofOptions,
} from './iam-proof.js';
export { createIamAuthenticator, type Authenticator, type IamAuthenticatorOptions } from './iam-authenticator.js';
