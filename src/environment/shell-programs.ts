/** Which programs the command gate treats as shells, interpreters and downloaders, and the name a command is known by. */
export const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish']);
export const INTERPRETERS = new Set([...SHELLS, 'python', 'python2', 'python3', 'perl', 'ruby', 'node', 'php', 'lua', 'tclsh', 'osascript']);
export const DOWNLOADERS = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https', 'lwp-download', 'nc', 'ncat']);
const SYSTEM_BIN = /^\/(usr\/)?(local\/)?s?bin\/[^/]+$/;

/** The bare name a command is known by: `/usr/bin/git` → `git`; `./git` stays `./git` (it is not that program). */
export function commandName(word: string): string {
  return SYSTEM_BIN.test(word) ? word.slice(word.lastIndexOf('/') + 1) : word;
}
