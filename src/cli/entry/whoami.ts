/** `deputy whoami` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-whoami.js). */
import { describeError } from '../errors.js';
import { guard } from '../guard.js';
import { whoamiCommand } from '../whoami.js';

export const command = guard(whoamiCommand, describeError);
