/**
 * How many processes a sandboxed command may have. RLIMIT_NPROC does not bind root (and counts all of a user's
 * processes), so where Deputy may create a pids cgroup (root, or a delegated cgroup v2 subtree) each command gets
 * its own with `pids.max`; elsewhere RLIMIT_NPROC (set with `prlimit` inside the sandbox) is the limit.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export type ProcessLimit = { kind: 'cgroup'; parent: string } | { kind: 'rlimit' };

export interface Cgroup {
  /** Writing a pid here moves that process (and so its future children) into the cgroup. */
  procsFile: string;
  killAll(): void;
  dispose(): void;
}

let counter = 0;

/** Finds a pids cgroup Deputy may create children in, proving it by creating and removing one. */
export function detectProcessLimit(): ProcessLimit {
  for (const parent of candidateParents()) {
    const probe = path.join(parent, `deputy-probe-${process.pid}-${counter++}`);
    try {
      mkdirSync(probe);
      try {
        writeFileSync(path.join(probe, 'pids.max'), '8');
        return { kind: 'cgroup', parent };
      } finally {
        rmdirSync(probe);
      }
    } catch {
      /* not writable here: try the next */
    }
  }
  return { kind: 'rlimit' };
}

export function createCgroup(limit: { kind: 'cgroup'; parent: string }, maxProcesses: number): Cgroup | null {
  const dir = path.join(limit.parent, `deputy-${process.pid}-${counter++}`);
  try {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'pids.max'), String(maxProcesses));
  } catch {
    return null;
  }
  const killAll = (): void => {
    try {
      // cgroup v2 kills the whole cgroup in one write; v1 needs each pid.
      if (existsSync(path.join(dir, 'cgroup.kill'))) writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    } catch {
      /* the cgroup is gone */
    }
  };
  return {
    procsFile: path.join(dir, 'cgroup.procs'),
    killAll,
    dispose: () => {
      // The kernel refuses while a process is still inside; retry briefly as the killed ones are reaped.
      let tries = 0;
      const attempt = (): void => {
        try {
          rmdirSync(dir);
        } catch {
          if (++tries < 50) setTimeout(attempt, 100).unref();
        }
      };
      attempt();
    },
  };
}

function candidateParents(): string[] {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of lines) {
    const [, controllers, rel] = line.split(':', 3) as [string, string, string];
    if (controllers.split(',').includes('pids')) out.push(path.join('/sys/fs/cgroup/pids', rel));
    if (controllers === '') {
      for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
        const dir = path.join(mount, rel);
        try {
          if (readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('pids')) out.push(dir);
        } catch {
          /* not cgroup v2 here */
        }
      }
    }
  }
  return out;
}
