/** `deputy stop` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-stop.js). */
import { describeLocalError } from '../errors-local.js';
import { guard } from '../guard.js';
import { stopCommand } from '../stop.js';

export const command = guard(stopCommand, describeLocalError);
