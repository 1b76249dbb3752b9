/**
 * The command gate: whether a command the agent asks the environment to run (`process/start`) runs at once, waits
 * for a person, or is refused.
 *
 * Every simple command that would run is a segment (`shell-analysis.ts` finds them inside pipelines, `&&`, `||`,
 * `;`, subshells, substitutions, `bash -c` strings and behind wrappers), and every segment must pass on its own.
 * Per segment, every matching rule counts and the strictest wins (deny beats ask beats allow), so no layer can
 * loosen what another refuses — the org policy, the workspace policy and the built-in rules are simply listed
 * together. A segment no rule matches asks. Constructs a prefix cannot describe (redirects, substitutions,
 * here-docs, `eval`, newlines, …) ask unless an `exact` rule allows the whole line; shapes that are never wanted (a
 * download piped into a shell, a fork bomb, a write to a disk device) are refused whatever the rules say.
 *
 * A rule "maybe" matches when the shell decides the word at run time (`rm -rf $DIR`, `git {push,pull} -f`): a
 * maybe-deny asks, and a maybe-allow does not allow.
 */
import type { CommandRule, CommandToken } from '../core/command-rules.js';
import { normalizeCommandLine } from '../core/command-rules.js';
import { Policy } from '../core/policy.js';
import type { Decision } from '../core/policy.js';
import type { CedarVerdict } from '../core/cedar/authorizer.js';
import type { CommandFacts } from '../core/cedar/request.js';
import { analyzeArgv } from './shell-analysis.js';
import { commandName } from './shell-programs.js';
import type { ShellWord } from './shell-words.js';

export type { CommandRule, CommandToken } from '../core/command-rules.js';

export interface CommandVerdict {
  decision: Decision;
  /** What decided, for the prompt, the audit record and the agent (names the rule or the construct). */
  reason: string;
  /** Labels of the rules that decided (empty when a default or a construct did). */
  rules: string[];
  /** Every simple command that would run, as words. */
  segments: string[][];
  /** The sandbox may give the command network access: every segment is allowed by a rule that grants it. */
  network: boolean;
  /** What the verdict would be with the log-only policy sets enforced; only when there are any. */
  trial?: { decision: Decision; reason: string; rules: string[] };
}

const RANK: Record<Decision, number> = { allow: 0, ask: 1, deny: 2 };
type Match = 'yes' | 'maybe' | 'no';

/** Read-only and test commands a reviewer lets run without asking. Paths in `argv[0]` other than system bin directories never match these. */
const READ_ONLY = [
  'ls', 'cat', 'head', 'tail', 'wc', 'grep', 'egrep', 'fgrep', 'rg', 'ag', 'pwd', 'echo', 'printf', 'true', 'false',
  'which', 'type', 'file', 'stat', 'du', 'df', 'tree', 'find', 'fd', 'diff', 'cmp', 'sort', 'uniq', 'cut', 'tr',
  'basename', 'dirname', 'realpath', 'readlink', 'date', 'whoami', 'id', 'uname', 'printenv', 'nl', 'od', 'strings',
  'jq', 'sha256sum', 'sha1sum', 'md5sum', 'cd', 'test', '[', 'column', 'comm', 'paste', 'fold', 'rev', 'seq', 'sleep',
  'hostname', 'nproc', 'tac',
];
const GIT_READ = [
  'status', 'diff', 'log', 'show', 'blame', 'ls-files', 'ls-tree', 'rev-parse', 'describe', 'shortlog', 'grep', 'cat-file',
  'rev-list', 'merge-base', 'name-rev', 'show-ref', 'for-each-ref', 'count-objects', 'check-ignore', 'whatchanged',
];
/** A path at or right under the root or a home directory, as `rm -rf` or `chmod -R` would take it. */
const ROOTISH = {
  // `/`, `//`, `/.`, `/..`, `/*`; `~`, `~user`, `~/`, `~/.`, `~/*`; `$HOME` in any spelling; a top-level system folder.
  regex: '(/[/.]*\\*?|~[^/]*(/[/.]*)?\\*?|\\$\\{?HOME\\}?(/[/.]*)?\\*?|/+(bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc|root|run|sbin|srv|sys|usr|var)/*\\*?)',
};

const builtIn = (rule: Omit<CommandRule, 'label'>, what: string): CommandRule => ({ ...rule, label: `built-in rule (${what})` });

export const DEFAULT_COMMAND_RULES: readonly CommandRule[] = [
  builtIn({ prefix: [READ_ONLY], decision: 'allow', reason: 'reads files or prints text' }, 'read-only commands'),
  builtIn({ prefix: ['env'], noMoreArgs: true, decision: 'allow', reason: 'prints the (scrubbed) environment' }, 'env'),
  builtIn({ prefix: ['command', ['-v', '-V']], decision: 'allow', reason: 'looks a command up' }, 'command -v'),
  builtIn({ prefix: ['sed', '-n', { regex: '(\\d+|\\$)(,(\\d+|\\$))?p' }], decision: 'allow', reason: 'prints lines of a file' }, 'sed -n Np'),
  builtIn({ prefix: ['git', GIT_READ], decision: 'allow', reason: 'reads the repository' }, 'git read-only'),
  builtIn({ prefix: ['git', ['branch', 'tag', 'remote', 'stash']], noMoreArgs: true, decision: 'allow', reason: 'lists refs' }, 'git listing'),
  builtIn({ prefix: ['git', 'branch', ['--list', '-a', '-r', '-v', '-vv', '--all', '--remotes', '--show-current']], noMoreArgs: true, decision: 'allow', reason: 'lists branches' }, 'git branch --list'),
  builtIn({ prefix: ['git', 'remote', '-v'], noMoreArgs: true, decision: 'allow', reason: 'lists remotes' }, 'git remote -v'),
  builtIn({ prefix: ['git', 'stash', 'list'], decision: 'allow', reason: 'lists stashes' }, 'git stash list'),
  builtIn({ prefix: ['git', 'config', ['--get', '--get-all', '--get-regexp', '--list', '-l']], decision: 'allow', reason: 'reads configuration' }, 'git config --get'),
  // Tests: they run the project's own code, which the sandbox contains.
  builtIn({ prefix: [['npm', 'pnpm', 'yarn', 'bun'], ['test', 't']], decision: 'allow', reason: 'runs the tests' }, 'tests'),
  builtIn({ prefix: [['npm', 'pnpm', 'yarn', 'bun'], 'run', ['test', 'lint', 'typecheck', 'check']], decision: 'allow', reason: 'runs the tests or linters' }, 'tests'),
  builtIn({ prefix: [['pytest', 'tsc', 'jest', 'vitest', 'mocha', 'tox', 'nox', 'rspec', 'phpunit', 'ctest']], decision: 'allow', reason: 'runs the tests' }, 'tests'),
  builtIn({ prefix: [['python', 'python3'], '-m', ['pytest', 'unittest', 'mypy']], decision: 'allow', reason: 'runs the tests' }, 'tests'),
  builtIn({ prefix: ['cargo', ['test', 'check', 'build', 'clippy']], decision: 'allow', reason: 'builds and tests' }, 'tests'),
  builtIn({ prefix: ['go', ['test', 'vet', 'build']], decision: 'allow', reason: 'builds and tests' }, 'tests'),
  builtIn({ prefix: [['make', 'mvn', 'gradle', './gradlew', 'deno', 'dotnet', 'swift', 'bundle'], 'test'], decision: 'allow', reason: 'runs the tests' }, 'tests'),
  builtIn({ prefix: ['node', '--test'], decision: 'allow', reason: 'runs the tests' }, 'tests'),
  // Allowed commands that can write files or run other programs through an option.
  builtIn({ prefix: ['find'], withArgs: [['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls']], decision: 'ask', reason: 'find can delete files or run commands' }, 'find -exec/-delete'),
  builtIn({ prefix: ['fd'], withArgs: [['-x', '--exec', '-X', '--exec-batch']], decision: 'ask', reason: 'fd runs a command' }, 'fd --exec'),
  builtIn({ prefix: ['rg'], withArgs: [['--pre']], decision: 'ask', reason: 'rg --pre runs a command on every file' }, 'rg --pre'),
  builtIn({ prefix: ['sort'], withArgs: [['-o', '--output', '--compress-program']], decision: 'ask', reason: 'sort writes a file or runs a program' }, 'sort -o'),
  builtIn({ prefix: ['tree'], withArgs: [['-o']], decision: 'ask', reason: 'tree -o writes a file' }, 'tree -o'),
  builtIn({ prefix: ['sed'], withArgs: [['-i', '--in-place', '-e', '--expression', '-f', '--file', '-s', '--separate']], decision: 'ask', reason: 'sed edits files or runs a script' }, 'sed -i'),
  builtIn({ prefix: ['git'], withArgs: [['--output', '-O', '--open-files-in-pager', '--ext-diff']], decision: 'ask', reason: 'git writes a file or runs a program' }, 'git --output'),
  // Known-destructive: refused.
  builtIn({ prefix: ['rm'], withArgs: [['-r', '-R', '--recursive'], [ROOTISH]], decision: 'deny', reason: 'deletes the root, a system folder or a home folder' }, 'rm -rf /'),
  builtIn({ prefix: ['rm'], withArgs: [['--no-preserve-root']], decision: 'deny', reason: 'deletes the root' }, 'rm --no-preserve-root'),
  builtIn({ prefix: [['chmod', 'chown', 'chgrp']], withArgs: [['-R', '--recursive'], [ROOTISH]], decision: 'deny', reason: 'changes the permissions of the whole system or a home folder' }, 'chmod -R /'),
  builtIn({ prefix: ['git', 'push'], withArgs: [['--force', '-f', '--force-with-lease', '--force-if-includes', '--mirror', { regex: '\\+.+' }]], decision: 'deny', reason: 'a force push rewrites the remote history' }, 'git push --force'),
  builtIn({ prefix: [{ regex: 'mkfs(\\..+)?|mke2fs|mkswap|wipefs|fdisk|sfdisk|parted' }], decision: 'deny', reason: 'formats or repartitions a disk' }, 'mkfs'),
  builtIn({ prefix: ['dd'], withArgs: [[{ regex: 'of=/dev/(?!null$|zero$|stdout$|stderr$).*' }]], decision: 'deny', reason: 'writes straight to a device' }, 'dd of=/dev/…'),
  builtIn({ prefix: [['shutdown', 'reboot', 'halt', 'poweroff']], decision: 'deny', reason: 'stops the machine' }, 'shutdown'),
  builtIn({ prefix: ['kill'], withArgs: [['-1']], decision: 'deny', reason: 'kills every process' }, 'kill -1'),
];

/** The command rules of a loaded policy (its files' `commandRules`, org first) and the built-in rules. */
export function commandRulesOf(policy: Policy): CommandRule[] {
  return [...policy.commandRules(), ...DEFAULT_COMMAND_RULES];
}

/** Loads policy files (the org's first) and returns their command rules with the built-in rules. */
export async function loadCommandRules(files: readonly string[]): Promise<CommandRule[]> {
  const layers = await Promise.all(files.map((file) => Policy.load(file)));
  return commandRulesOf(Policy.combine(Policy.defaults(), ...layers));
}

/**
 * Cedar's say on a command (`Policy.decideCommand`): asked once for the line as a whole (empty `segment`) and
 * once per segment. A Cedar permit of the whole line lets its constructs (redirects, substitutions, …) through,
 * as an exact rule does; a permit of a segment counts like a prefix rule for that segment.
 */
export type CedarCommandJudge = (facts: CommandFacts) => CedarVerdict;

/**
 * A command under a loaded policy: its shorthand command rules and the built-in rules, its Cedar files and grants,
 * and (when some policy set is log-only) what that trial would have decided.
 */
export function judgeWithPolicy(argv: readonly string[], policy: Policy, rules: readonly CommandRule[] = commandRulesOf(policy)): CommandVerdict {
  if (!policy.hasCedar()) return judgeCommand(argv, rules);
  const verdict = judgeCommand(argv, rules, (facts) => policy.decideCommand(facts));
  if (policy.hasLogOnly()) {
    const trial = judgeCommand(argv, rules, (facts) => {
      const v = policy.decideCommand(facts);
      return v.trial ? { ...v, ...v.trial } : v;
    });
    verdict.trial = { decision: trial.decision, reason: trial.reason, rules: trial.rules };
  }
  return verdict;
}

export function judgeCommand(argv: readonly string[], rules: readonly CommandRule[], cedar?: CedarCommandJudge): CommandVerdict {
  const analysis = analyzeArgv(argv);
  const segments = analysis.segments.map((words) => words.map((w) => w.text));
  const line = normalizeCommandLine(analysis.line);
  const exact = rules.filter((r) => r.exact !== undefined && r.exact === line);
  const facts = cedar ? commandFacts(line, segments, analysis.constructs) : undefined;
  const whole = cedar && facts ? cedar(facts) : undefined;
  const exactAllow = exact.some((r) => r.decision === 'allow') || whole?.decision === 'allow';

  interface Finding {
    decision: Decision;
    reason: string;
    rule?: string;
    network?: boolean;
  }
  const findings: Finding[] = [];
  for (const danger of analysis.dangers) findings.push({ decision: 'deny', reason: `refused: the command ${danger}`, rule: 'built-in check' });
  for (const rule of exact) findings.push({ decision: rule.decision, reason: ruleReason(rule), rule: label(rule), network: rule.network === true });
  if (whole?.matched) for (const id of whole.policies) findings.push({ decision: whole.decision, reason: whole.reason, rule: id, network: whole.network });
  if (!exactAllow) {
    for (const construct of analysis.constructs) {
      findings.push({ decision: 'ask', reason: `${construct} needs your yes (only a rule naming this exact command line allows it)` });
    }
  }
  let networkEverywhere = analysis.segments.length > 0 || exact.length > 0;
  for (const words of analysis.segments) {
    const shown = words.map((w) => w.text).join(' ');
    let segmentNetwork = exact.some((r) => r.decision === 'allow' && r.network === true) || (whole?.decision === 'allow' && whole.network);
    let matched = exactAllow;
    if (cedar && facts) {
      const v = cedar({ ...facts, segment: words.map((w) => w.text) });
      if (v.matched) {
        matched = true;
        for (const id of v.policies) findings.push({ decision: v.decision, reason: `\`${shown}\`: ${v.reason}`, rule: id, network: v.network });
        if (v.decision === 'allow' && v.network) segmentNetwork = true;
      }
    }
    for (const rule of rules) {
      if (rule.prefix === undefined) continue;
      const m = matchRule(rule, view(words));
      if (m === 'no' || (m === 'maybe' && rule.decision === 'allow')) continue;
      matched = true;
      if (m === 'maybe') {
        findings.push({ decision: 'ask', reason: `\`${shown}\` may be refused once the shell expands it — ${ruleReason(rule)}`, rule: label(rule) });
        continue;
      }
      findings.push({ decision: rule.decision, reason: `\`${shown}\`: ${ruleReason(rule)}`, rule: label(rule), network: rule.network === true });
      if (rule.decision === 'allow' && rule.network === true) segmentNetwork = true;
    }
    if (!matched) findings.push({ decision: 'ask', reason: `\`${shown}\` needs your yes (no rule allows it)` });
    if (!segmentNetwork) networkEverywhere = false;
  }

  let worst = findings.reduce<Decision>((acc, f) => (RANK[f.decision] > RANK[acc] ? f.decision : acc), 'allow');
  // A grant is the person's earlier yes to this very line: it answers what would ask, never what is refused.
  const granted = whole?.decision === 'allow' && whole.policies.length > 0 && whole.policies.every((id) => id.startsWith('grant:'));
  if (granted && worst === 'ask') worst = 'allow';
  const deciding = granted && worst === 'allow' ? findings.filter((f) => f.decision === 'allow' && f.rule?.startsWith('grant:')) : findings.filter((f) => f.decision === worst);
  const reason =
    worst === 'allow'
      ? `allowed: ${dedupe(deciding.map((f) => f.reason)).join('; ')}`
      : deciding[0]!.reason;
  return {
    decision: worst,
    reason,
    rules: dedupe(deciding.flatMap((f) => (f.rule ? [f.rule] : []))),
    segments,
    network: worst !== 'deny' && networkEverywhere,
  };
}

/** What Cedar policies may test about a command line (see `src/core/cedar/schema.ts`). */
function commandFacts(line: string, segments: string[][], constructs: readonly string[]): CommandFacts {
  const redirects = constructs.flatMap((c) => {
    const m = /^a redirect \((.*)\)$/s.exec(c);
    return m ? [m[1]!] : [];
  });
  const envAssignments = [...new Set([...line.matchAll(/(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!))];
  return {
    line,
    segment: [],
    segments,
    names: segments.map((words) => commandName(words[0] ?? '')),
    redirects,
    constructs,
    subshell: /\$\(|`|(^|[\s;&|])\(/.test(line),
    envAssignments,
  };
}

function ruleReason(rule: CommandRule): string {
  return `${label(rule)}: ${rule.reason ?? `${rule.decision} ${rule.exact !== undefined ? `"${rule.exact}"` : describePrefix(rule.prefix ?? [])}`}`;
}

function label(rule: CommandRule): string {
  return rule.label ?? 'command rule';
}

function describePrefix(prefix: readonly CommandToken[]): string {
  return prefix.map((t) => (typeof t === 'string' ? t : Array.isArray(t) ? `{${t.join('|')}}` : `/${(t as { regex: string }).regex}/`)).join(' ') || 'every command';
}

/**
 * The words rules compare: for git, the global options that do not change what the subcommand does (`-C dir`,
 * `--no-pager`) are dropped, so `git -C sub status` is `git status`; any other global option (`-c`, `--git-dir`,
 * `--exec-path`, `-p`, which starts a pager program) stays in front of the subcommand, so no allow rule matches.
 */
function view(words: ShellWord[]): ShellWord[] {
  const first = words[0];
  if (!first || first.dynamic || first.pattern || commandName(first.text) !== 'git') return words;
  const out = [first];
  let i = 1;
  while (i < words.length) {
    const w = words[i]!;
    if (w.dynamic || w.pattern) break;
    if (w.text === '-C') i += 2;
    else if (['--no-pager', '-P', '--no-optional-locks', '--literal-pathspecs', '--no-replace-objects'].includes(w.text)) i += 1;
    else break;
  }
  return [...out, ...words.slice(i)];
}

function matchRule(rule: CommandRule, words: ShellWord[]): Match {
  const prefix = rule.prefix ?? [];
  let result: Match = 'yes';
  for (const [i, token] of prefix.entries()) {
    const word = words[i];
    if (!word) return 'no';
    const m = i === 0 ? matchName(token, word, rule.decision) : matchWord(token, word, false);
    if (m === 'no') return 'no';
    if (m === 'maybe') result = 'maybe';
  }
  const rest = words.slice(prefix.length);
  if (rule.noMoreArgs && rest.length > 0) return 'no';
  for (const group of rule.withArgs ?? []) {
    let best: Match = 'no';
    for (const word of rest) {
      for (const token of group) {
        const m = matchWord(token, word, true);
        if (m === 'yes') best = 'yes';
        else if (m === 'maybe' && best === 'no') best = 'maybe';
      }
    }
    if (best === 'no') return 'no';
    if (best === 'maybe') result = 'maybe';
  }
  return result;
}

/**
 * The command name: allow compares the name as written (`ls`, `/usr/bin/ls`), so `./ls` is not `ls`; ask and
 * deny compare the last path segment too, so `/tmp/x/rm -rf /` is still `rm -rf /`.
 */
function matchName(token: CommandToken, word: ShellWord, decision: Decision): Match {
  const name: ShellWord = { ...word, text: commandName(word.text) };
  const direct = matchWord(token, name, false);
  if (direct !== 'no' || decision === 'allow') return direct;
  const base = word.text.slice(word.text.lastIndexOf('/') + 1);
  return base === name.text ? 'no' : matchWord(token, { ...word, text: base }, false);
}

/**
 * One word against one token. `asArg`: `-f` also matches inside a cluster of letter flags (`-rf`), and `--out`
 * matches `--out=file`. A word the shell computes matches a token it spells out literally (`$HOME`, `~`) and
 * maybe-matches any other; a glob or brace word maybe-matches a token it could expand to.
 */
function matchWord(token: CommandToken, word: ShellWord, asArg: boolean): Match {
  if (Array.isArray(token)) {
    let best: Match = 'no';
    for (const t of token as readonly string[]) {
      const m = matchWord(t, word, asArg);
      if (m === 'yes') return 'yes';
      if (m === 'maybe') best = 'maybe';
    }
    return best;
  }
  if (typeof token === 'object') {
    const re = compiled((token as { regex: string }).regex);
    if (re.test(word.text)) return 'yes';
    return word.dynamic || word.pattern ? 'maybe' : 'no';
  }
  const text = token as string;
  const literalHit =
    word.text === text ||
    (asArg && text.startsWith('--') && word.text.startsWith(`${text}=`)) ||
    (asArg && /^-[A-Za-z]$/.test(text) && /^-[A-Za-z]+$/.test(word.text) && word.text.includes(text[1]!));
  if (literalHit && !word.dynamic && !word.pattern) return 'yes';
  if (literalHit) return word.dynamic ? 'yes' : 'maybe';
  if (word.dynamic) return 'maybe';
  if (word.pattern && (word.pattern.test(text) || (asArg && clusterCouldHold(word.pattern, text)))) return 'maybe';
  return 'no';
}

/** Whether a glob or brace word could expand to a flag cluster holding the short flag `text` (`-{r,f}f` holds `-f`). */
function clusterCouldHold(pattern: RegExp, text: string): boolean {
  if (!/^-[A-Za-z]$/.test(text)) return false;
  return pattern.test(`${text}x`) || pattern.test(`-x${text[1]}`) || pattern.test(`-${text[1]}${text[1]}`);
}

/** Compiled regex tokens, by source: every command is matched against every rule. */
const REGEX_CACHE = new Map<string, RegExp>();
function compiled(regex: string): RegExp {
  let re = REGEX_CACHE.get(regex);
  if (!re) {
    re = new RegExp(`^(?:${regex})$`, 's');
    if (REGEX_CACHE.size < 1000) REGEX_CACHE.set(regex, re);
  }
  return re;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
