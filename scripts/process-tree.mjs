// The processes under one process (its children, theirs, and so on, whatever group or session they moved to), read
// from `ps`: what the test runner lists and stops when a run or a test file outlives its time (scripts/test.mjs,
// test/helpers/end-after-tests.mjs).
import { spawnSync } from 'node:child_process';

/** Every process below `pid`, parents before children, each with its `ps` line (pid, ppid, elapsed time, command). */
export function descendants(pid) {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,etime=,args='], { encoding: 'utf8' });
  const rows = (ps.stdout ?? '')
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter(Boolean)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), line: m[0].trim() }))
    .filter((r) => r.pid !== ps.pid);
  const under = new Set([pid]);
  const out = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (under.has(r.ppid) && !under.has(r.pid)) {
        under.add(r.pid);
        out.push(r);
        grew = true;
      }
    }
  }
  return out;
}

/** A `ps` line cut to what says what the process is: its start and its end (a test file's process repeats every option). */
export function shortLine(line) {
  return line.length > 240 ? `${line.slice(0, 80)} … ${line.slice(-150)}` : line;
}

/** SIGKILLs each process; one already gone is skipped. */
export function killAll(processes) {
  for (const { pid } of processes) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
