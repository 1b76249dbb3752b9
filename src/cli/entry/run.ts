/** `deputy run` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-run.js). */
import { describeError } from '../errors.js';
import { guard } from '../guard.js';
import { runCommand } from '../run.js';

export const command = guard(runCommand, describeError);
