/** Changesets: `propose_changes` is the only way code reaches disk. Prepare (validate + diff), review, apply. */
export { prepareChangeset } from './prepare.js';
export { applyPreparedFile, applyPreparedFiles, cleanInterruptedApplies, DEFAULT_APPLY_CONCURRENCY } from './apply.js';
export { ChangesetError, DEFAULT_CHANGESET_LIMITS } from './types.js';
export type { ChangesetLimits, PreparedFile, ReadLedger } from './types.js';
