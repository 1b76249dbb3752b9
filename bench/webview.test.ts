// A tiny run of the webview benchmark: both sides show every event (the floor all of them as text nodes, the panel
// a window of rows), and the trace yields a longest task. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webviewStream } from './webview.js';

test('webview: both sides take the whole stream and the report carries longest task, heap and bundle size', { timeout: 180_000 }, async () => {
  process.env.BENCH_WEBVIEW_EVENTS = '300';
  try {
    const r = await webviewStream.run({ warmup: 0, rounds: 1, events: 1, files: 1, linesPerFile: 10, auditAppends: 1, auditRecords: 1 }, () => undefined);
    assert.equal(r.comparison.ours.units, 300);
    assert.equal(r.comparison.reference.units, 300);
    assert.match(r.verified, /exactly 300 text nodes/);
    assert.match(r.meaning, /Longest main-thread task:.*ours \d+\.\d ms; floor \d+\.\d ms/);
    assert.match(r.meaning, /JS heap at the end.*median \d+\.\d MB/);
    assert.match(r.input, /bundle `dist\/webview.js` \d+ KB \(\d+ KB gzipped\)/);
  } finally {
    delete process.env.BENCH_WEBVIEW_EVENTS;
  }
});
