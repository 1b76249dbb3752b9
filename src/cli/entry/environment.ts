/** `deputy environment` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-environment.js). */
import { describeError } from '../errors.js';
import { guard } from '../guard.js';
import { environmentCommand } from '../environment.js';

export const command = guard(environmentCommand, describeError);
