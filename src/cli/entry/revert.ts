/** `deputy revert` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-revert.js). */
import { describeLocalError } from '../errors-local.js';
import { guard } from '../guard.js';
import { revertCommand } from '../revert.js';

export const command = guard(revertCommand, describeLocalError);
