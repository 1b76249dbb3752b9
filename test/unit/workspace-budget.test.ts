/**
 * Every workspace walk keeps to a budget the model cannot choose: entries visited, bytes read and time, and it stops
 * at once when the task is cancelled. Each stop is reported to the agent in the result, with what to narrow.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '../../src/core/workspace.js';

const DIRS = 30;
const FILES_PER_DIR = 30;
const TOTAL_ENTRIES = DIRS * (FILES_PER_DIR + 1);
let root: string;
let ws: Workspace;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'deputy-budget-'));
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, `d${String(d).padStart(2, '0')}`);
    await mkdir(dir);
    for (let f = 0; f < FILES_PER_DIR; f++) await writeFile(join(dir, `f${f}.txt`), `line one\nneedle ${d}/${f}\n`);
  }
  ws = await Workspace.open(root);
});

after(() => rm(root, { recursive: true, force: true }));

test('control: within its budget a walk covers everything and reports no stop', async () => {
  const listed = await ws.list({ depth: 2 });
  assert.equal(listed.entries.length, TOTAL_ENTRIES);
  assert.equal(listed.stopped, undefined);
  const found = await ws.search({ query: 'needle', max_results: 1000 });
  assert.equal(found.matches.length, DIRS * FILES_PER_DIR);
  assert.equal(found.stopped, undefined);
  assert.equal(found.truncated, false);
});

test('a cancel during a search ends the walk at once and says so', async () => {
  const cancel = new AbortController();
  let looked = 0;
  const result = await ws.search(
    { query: 'needle', max_results: 1000 },
    () => {
      // The task is stopped while the walk is under way.
      if (++looked === 25) cancel.abort();
      return true;
    },
    { signal: cancel.signal },
  );
  assert.equal(result.stopped?.reason, 'cancelled');
  assert.match(result.stopped!.message, /Cancelled after \d+ entries/);
  assert.ok(result.stopped!.visited < 40, `visited ${result.stopped!.visited} of ${TOTAL_ENTRIES}`);
  assert.equal(looked, 25, 'no file was looked at after the cancel');
  assert.equal(result.truncated, true);
});

test('a cancel during a listing ends the walk at once and says so', async () => {
  const cancel = new AbortController();
  let seen = 0;
  const result = await ws.list(
    { depth: 2 },
    () => {
      if (++seen === 10) cancel.abort();
      return true;
    },
    { signal: cancel.signal },
  );
  assert.equal(result.stopped?.reason, 'cancelled');
  assert.ok(result.entries.length <= 10, `${result.entries.length} entries`);
  assert.ok(result.stopped!.visited < 20);
});

test('a walk over its entry budget stops and tells the agent to narrow it', async () => {
  const result = await ws.search({ query: 'needle', max_results: 1000 }, () => true, { limits: { maxEntries: 100 } });
  assert.equal(result.stopped?.reason, 'entries');
  assert.equal(result.stopped!.visited, 100);
  assert.match(result.stopped!.message, /Stopped after 100 entries.*narrow the path or the glob/);
  assert.ok(result.matches.length < 100);
  const listed = await ws.list({ depth: 2 }, () => true, { limits: { maxEntries: 50 } });
  assert.equal(listed.stopped?.reason, 'entries');
  assert.equal(listed.entries.length, 50);
});

test('a search over its byte budget stops before reading more', async () => {
  const perFile = Buffer.byteLength('line one\nneedle 00/00\n');
  const result = await ws.search({ query: 'needle', max_results: 1000 }, () => true, { limits: { maxBytes: perFile * 10 } });
  assert.equal(result.stopped?.reason, 'bytes');
  assert.equal(result.matches.length, 10);
  assert.match(result.stopped!.message, /Stopped after reading .* narrow the glob/);
});

test('a walk over its time budget stops and says how long it ran', async () => {
  let clock = 0;
  // Each reading of the clock is a millisecond later: a slow disk, without waiting for one.
  const result = await ws.search({ query: 'needle', max_results: 1000 }, () => true, {
    limits: { maxMillis: 200 },
    now: () => clock++,
  });
  assert.equal(result.stopped?.reason, 'time');
  assert.ok(result.stopped!.visited < TOTAL_ENTRIES);
  assert.match(result.stopped!.message, /Stopped after 0.2 s and \d+ entries/);
});
