/** `deputy report` with its error handling, loaded by main.ts only when that command runs (its own bundle: dist/cli-report.js). */
import { describeLocalError } from '../errors-local.js';
import { guard } from '../guard.js';
import { reportCommand } from '../report.js';

export const command = guard(reportCommand, describeLocalError);
