/** `deputy serve` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-serve.js). */
import { describeError } from '../errors.js';
import { guard } from '../guard.js';
import { serveCommand } from '../serve.js';

export const command = guard(serveCommand, describeError);
