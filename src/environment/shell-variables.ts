/**
 * Which variable assignments in a command the gate lets pass: those whose value cannot make a command run other code.
 * Setting any other variable asks.
 */
const HARMLESS_VARIABLES = new Set([
  'CI', 'FORCE_COLOR', 'NO_COLOR', 'TERM', 'COLUMNS', 'LINES', 'LANG', 'LANGUAGE', 'TZ', 'NODE_ENV', 'RUST_BACKTRACE',
  'RUST_LOG', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'PYTHONHASHSEED', 'DEBUG', 'VERBOSE', 'GIT_TERMINAL_PROMPT',
]);
/** Pager variables are harmless only when they name a plain pager: a pager command is run by git, man, … */
const PAGER_VARIABLES = new Set(['PAGER', 'GIT_PAGER', 'MANPAGER', 'SYSTEMD_PAGER']);
const PLAIN_PAGERS = new Set(['', 'cat', 'less', 'more']);

/** Why setting `name` (to `value`, null when computed) needs a person, or null when it is harmless. */
export function assignmentProblem(name: string, value: string | null): string | null {
  if (HARMLESS_VARIABLES.has(name) || name.startsWith('LC_')) return null;
  if (PAGER_VARIABLES.has(name) && value !== null && PLAIN_PAGERS.has(value)) return null;
  return `sets ${name}`;
}
