/** The environment variables that name the audit signing key (`audit-signer.ts`), apart so help text can name them cheaply. */
export const AUDIT_KEY_FILE_ENV = 'DEPUTY_AUDIT_KEY_FILE';
export const AUDIT_KMS_KEY_ENV = 'DEPUTY_AUDIT_KMS_KEY_ID';
