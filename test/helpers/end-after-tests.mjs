// Loaded into every test file's process (scripts/test.mjs): a file whose tests are over but that something it started
// keeps alive (a server, a child process, a timer) would otherwise keep the whole run waiting forever. Once its tests
// are over, it has as long as a test may take (DEPUTY_TEST_TIMEOUT_MS) plus a minute to end by itself, enough for its
// own `after` hooks (this hook runs before them); then it names what still held it, stops the processes it started,
// and ends. Not `--test-force-exit`: that ends a file before the tests inside its `describe` blocks have run.
import { after } from 'node:test';
import { descendants, killAll, shortLine } from '../../scripts/process-tree.mjs';

const GRACE_MS = Number(process.env.DEPUTY_TEST_TIMEOUT_MS ?? 180_000) + 60_000;

after(() => {
  setTimeout(() => {
    const left = descendants(process.pid);
    killAll(left);
    process.stderr.write(
      `# ${process.argv[1] ?? 'a test file'} was still running ${Math.round(GRACE_MS / 1000)} s after its tests, held by ` +
        `${process.getActiveResourcesInfo().join(', ')}; ended, and stopped what it had started:\n` +
        (left.map((p) => `#   ${shortLine(p.line)}\n`).join('') || '#   (no process)\n'),
    );
    process.exit();
  }, GRACE_MS).unref();
});
