/** `deputy audit` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-audit.js). */
import { describeLocalError } from '../errors-local.js';
import { guard } from '../guard.js';
import { auditCommand } from '../audit.js';

export const command = guard(auditCommand, describeLocalError);
