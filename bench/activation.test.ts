/**
 * How the activation benchmark turns the probe's lines into rounds (bench/activation.ts); the real run needs
 * code-server and is `npm run bench -- activation`.
 * Run: node scripts/test.mjs bench/activation
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEPUTY_ID, EMPTY_ID, FLOOR_ID, activationRounds, type ProbeLine } from './activation.js';

const line = (pid: number, deputy: [number, number], empty: [number, number], marks = true): ProbeLine => ({
  pid,
  figures: { [DEPUTY_ID]: { loadMs: deputy[0], activateMs: deputy[1] }, [EMPTY_ID]: { loadMs: empty[0], activateMs: empty[1] } },
  hostMarks: { [DEPUTY_ID]: marks ? { loadMs: Math.round(deputy[0]), activateMs: Math.round(deputy[1]) } : null, [EMPTY_ID]: null },
});

test('each extension host is one round: load + activate of Deputy over the empty extension, warm-up dropped', () => {
  const r = activationRounds([line(10, [50, 10], [1, 0.5]), line(11, [20, 4], [0.8, 0.2]), line(12, [18, 3], [1.2, 0.3], false), line(13, [30, 6], [1, 1])], 1);
  assert.deepEqual(r.deputyMs, [24, 21, 36]);
  assert.deepEqual(r.emptyMs, [1, 1.5, 2]);
  assert.deepEqual(r.comparison.ratios, [24, 14, 18]);
  assert.equal(r.comparison.ratio, 18);
  assert.equal(r.comparison.ratioMin, 14);
  assert.equal(r.comparison.ratioMax, 24);
  assert.deepEqual(r.deputyLoadMs, [20, 18, 30]);
  assert.deepEqual(r.deputyActivateMs, [4, 3, 6]);
  assert.deepEqual(r.hostLoadMs, [20, 30], 'a host without marks is left out of the cross-check only');
  assert.deepEqual(r.startup, { deputyMs: 60, emptyMs: 1.5 }, 'the start-up figure is the first host, warm-up or not');
});

test('the order of each host and the main-thread CPU figures are carried into the rounds', () => {
  const withCpu = (pid: number, first: string, deputyCpu: [number, number], emptyCpu: [number, number]): ProbeLine => ({
    pid,
    order: first === DEPUTY_ID ? [DEPUTY_ID, EMPTY_ID] : [EMPTY_ID, DEPUTY_ID],
    figures: {
      [DEPUTY_ID]: { loadMs: 5, activateMs: 5, loadCpuMs: deputyCpu[0], activateCpuMs: deputyCpu[1] },
      [EMPTY_ID]: { loadMs: 2, activateMs: 0, loadCpuMs: emptyCpu[0], activateCpuMs: emptyCpu[1] },
    },
    hostMarks: {},
  });
  const r = activationRounds([withCpu(1, DEPUTY_ID, [9, 9], [9, 0]), withCpu(2, DEPUTY_ID, [3, 1], [2, 0]), withCpu(3, EMPTY_ID, [4, 2], [1, 1]), withCpu(4, EMPTY_ID, [1, 0], [0, 0])], 1);
  assert.equal(r.deputyFirst, 1);
  assert.deepEqual(r.deputyCpuMs, [4, 6, 1]);
  assert.deepEqual(r.emptyCpuMs, [2, 2, 0]);
  assert.deepEqual(r.cpuRatios, [2, 3], 'a round whose reference read 0 ms of CPU has no ratio');
  assert.deepEqual(r.comparison.ratios, [5, 5, 5], 'the headline stays wall time');
  const old = activationRounds([line(10, [50, 10], [1, 0.5]), line(11, [20, 4], [0.8, 0.2])], 0);
  assert.deepEqual(old.cpuRatios, [], 'lines without CPU figures give none');
  assert.equal(old.deputyFirst, 0);
});

test('a host where an extension did not activate, or a host counted twice, is refused', () => {
  const missing: ProbeLine = { pid: 1, figures: { [DEPUTY_ID]: { loadMs: 3 } }, hostMarks: {} };
  assert.throws(() => activationRounds([missing], 0), /deputy-dev\.deputy did not activate/);
  const noEmpty: ProbeLine = { pid: 1, figures: { [DEPUTY_ID]: { loadMs: 3, activateMs: 1 } }, hostMarks: {} };
  assert.throws(() => activationRounds([noEmpty], 0), /deputy-bench\.empty did not activate/);
  assert.throws(() => activationRounds([line(5, [1, 1], [1, 1]), line(5, [1, 1], [1, 1])], 0), /one extension host \(5\)/);
  assert.throws(() => activationRounds([], 0), /no line/);
  assert.throws(() => activationRounds([line(5, [1, 1], [1, 1])], 1), /no timed rounds/);
});

test("each extension's own require('vscode') is carried apart, and lines of an older probe give none", () => {
  const withApi = (pid: number, deputyApi: number, emptyApi: number): ProbeLine => ({
    pid,
    figures: { [DEPUTY_ID]: { loadMs: 4, activateMs: 1, apiMs: deputyApi }, [EMPTY_ID]: { loadMs: 2, activateMs: 0, apiMs: emptyApi } },
    hostMarks: {},
  });
  const r = activationRounds([withApi(1, 9, 9), withApi(2, 1.5, 1.25), withApi(3, 2, 1)], 1);
  assert.deepEqual(r.deputyApiMs, [1.5, 2]);
  assert.deepEqual(r.emptyApiMs, [1.25, 1]);
  assert.deepEqual(activationRounds([line(10, [50, 10], [1, 0.5]), line(11, [20, 4], [0.8, 0.2])], 0).deputyApiMs, []);
});

test('the registration floor is a third side: its ratio over the empty extension and Deputy over it, per round', () => {
  const three = (pid: number, deputy: number, empty: number, floor?: number): ProbeLine => ({
    pid,
    order: floor === undefined ? [DEPUTY_ID, EMPTY_ID, FLOOR_ID] : [FLOOR_ID, DEPUTY_ID, EMPTY_ID],
    figures: {
      [DEPUTY_ID]: { loadMs: deputy, activateMs: 0 },
      [EMPTY_ID]: { loadMs: empty, activateMs: 0 },
      ...(floor === undefined ? {} : { [FLOOR_ID]: { loadMs: floor / 2, activateMs: floor / 2 } }),
    },
    hostMarks: {},
  });
  const r = activationRounds([three(1, 9, 1, 9), three(2, 6, 2, 4), three(3, 8, 1, 2)], 1);
  assert.deepEqual(r.floorMs, [4, 2]);
  assert.deepEqual(r.floorLoadMs, [2, 1]);
  assert.deepEqual(r.floorActivateMs, [2, 1]);
  assert.deepEqual(r.floorRatios, [2, 2]);
  assert.deepEqual(r.overFloorRatios, [1.5, 4]);
  assert.throws(() => activationRounds([three(1, 9, 1, 9), three(2, 6, 2)], 0), /deputy-bench\.floor did not activate in extension host 2/, 'a probe that watched the floor needs it in every round');
  assert.deepEqual(activationRounds([line(10, [50, 10], [1, 0.5])], 0).floorMs, [], 'lines of an older probe have no floor');
});
