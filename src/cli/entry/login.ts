/** `deputy login` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-login.js). */
import { describeError } from '../errors.js';
import { guard } from '../guard.js';
import { loginCommand } from '../login.js';

export const command = guard(loginCommand, describeError);
