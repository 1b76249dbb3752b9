/**
 * Ending a stopped language server's process (src/extension/server-process.ts), with real child processes: one that
 * exits by itself is left to do so, one that lingers gets SIGTERM, one that ignores SIGTERM gets SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { endServerProcess } from '../../src/extension/server-process.js';

/** A Node child running `code`, once it says it is ready (its signal handlers are installed by then). */
async function child(code: string) {
  const c = spawn(process.execPath, ['-e', `${code}; process.stdout.write('ready')`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await once(c.stdout, 'data');
  return c;
}

test('a server that exits within the grace period is not signalled', async () => {
  const c = await child('setTimeout(() => process.exit(0), 200)');
  await endServerProcess(c, 5_000);
  assert.equal(c.exitCode, 0);
  assert.equal(c.signalCode, null);
});

test('a server still running after the grace period is terminated', async () => {
  const c = await child('setInterval(() => {}, 1000)');
  await endServerProcess(c, 100);
  assert.equal(c.signalCode, 'SIGTERM');
});

test('a server that ignores SIGTERM is killed', async () => {
  const c = await child("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)");
  await endServerProcess(c, 100);
  assert.equal(c.signalCode, 'SIGKILL');
});

test('an exited or missing process is nothing to do', async () => {
  await endServerProcess(undefined, 100);
  const c = await child('setTimeout(() => process.exit(3), 0)');
  await once(c, 'exit');
  await endServerProcess(c, 100);
  assert.equal(c.exitCode, 3);
});
