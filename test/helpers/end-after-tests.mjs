// Loaded into every test file's process (scripts/test.mjs): a file whose tests are over but that something it started
// keeps alive (a server, a child process, a timer) would otherwise keep the whole run waiting forever. A minute after
// its last test (and its hooks, which its tests' own time limits bound) the process says what is still open, and ends.
// Not `--test-force-exit`: that ends a file before tests registered inside `describe` blocks have run.
import { after } from 'node:test';

const GRACE_MS = 60_000;

after(() => {
  setTimeout(() => {
    process.stderr.write(
      `# ${process.argv[1] ?? 'a test file'} was still running ${GRACE_MS / 1000} s after its tests, held by ${process.getActiveResourcesInfo().join(', ')}: ended\n`,
    );
    process.exit();
  }, GRACE_MS).unref();
});
