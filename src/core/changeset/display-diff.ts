/**
 * The diff the reviewer sees: a git-style unified diff drawn from the whole-file edit script (so it shows exactly
 * what will be written, with 3 lines of context, whatever context the agent sent), plus added/removed counts.
 */
import type { ChangeOperation } from '../../protocol/tools.js';
import type { ScriptLine } from './apply-hunks.js';

const CONTEXT = 3;
const NO_NEWLINE = '\\ No newline at end of file';

export interface DisplayDiff {
  text: string;
  added: number;
  removed: number;
}

/** A kept line whose terminator changes (the old last line gaining or losing its final newline) is shown as -/+. */
function splitTerminatorChanges(script: ScriptLine[]): ScriptLine[] {
  return script.flatMap((s) =>
    s.kind === ' ' && s.old && s.new && s.old.eol !== s.new.eol && (s.old.eol === '' || s.new.eol === '')
      ? [{ kind: '-', old: s.old }, { kind: '+', new: s.new }]
      : [s],
  );
}

function rangeHeader(start: number, count: number): string {
  // Unified diffs number an empty range by the line before it.
  return `${count === 0 ? start : start + 1},${count}`;
}

export function renderDisplayDiff(path: string, operation: ChangeOperation, edit: ScriptLine[]): DisplayDiff {
  const script = splitTerminatorChanges(edit);
  const oldBefore: number[] = [];
  const newBefore: number[] = [];
  let o = 0;
  let n = 0;
  for (const s of script) {
    oldBefore.push(o);
    newBefore.push(n);
    if (s.kind !== '+') o++;
    if (s.kind !== '-') n++;
  }
  const changed = script.flatMap((s, i) => (s.kind === ' ' ? [] : [i]));
  const header = [
    `diff --git a/${path} b/${path}`,
    ...(operation === 'create' ? ['new file mode 100644'] : operation === 'delete' ? ['deleted file mode 100644'] : []),
    operation === 'create' ? '--- /dev/null' : `--- a/${path}`,
    operation === 'delete' ? '+++ /dev/null' : `+++ b/${path}`,
  ];
  const out = [...header];
  let k = 0;
  while (k < changed.length) {
    let last = k;
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * CONTEXT + 1) last++;
    const from = Math.max(0, changed[k]! - CONTEXT);
    const to = Math.min(script.length, changed[last]! + CONTEXT + 1);
    const slice = script.slice(from, to);
    const oldCount = slice.filter((s) => s.kind !== '+').length;
    const newCount = slice.filter((s) => s.kind !== '-').length;
    out.push(`@@ -${rangeHeader(oldBefore[from]!, oldCount)} +${rangeHeader(newBefore[from]!, newCount)} @@`);
    for (const s of slice) {
      const line = s.kind === '+' ? s.new! : s.old!;
      out.push(`${s.kind}${line.text}`);
      if (line.eol === '') out.push(NO_NEWLINE);
    }
    k = last + 1;
  }
  return {
    text: `${out.join('\n')}\n`,
    added: script.filter((s) => s.kind === '+').length,
    removed: script.filter((s) => s.kind === '-').length,
  };
}
