/** `deputy policy` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-policy.js). */
import { describeLocalError } from '../errors-local.js';
import { guard } from '../guard.js';
import { policyCommand } from '../policy.js';

export const command = guard(policyCommand, describeLocalError);
