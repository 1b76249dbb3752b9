// The governance report's HTML in headless Chromium: it renders every section, asks the network for nothing (even
// where agent text names URLs and carries markup), runs no script, and prints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { reportHtml } from '../../src/report/html.js';
import { buildReport } from '../../src/report/model.js';
import { readTrail, trailFile } from '../../src/report/read.js';
import { writeReportTrails } from '../fixtures/report-trails.js';
import { launch } from './fixtures/panel-page.js';

const RESULTS = join(__dirname, '..', '..', 'test-results', 'report');
let tmp: string;
let browser: Browser;
let beacon: Server;
let beaconUrl: string;
const beaconHits: string[] = [];

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  tmp = await fs.mkdtemp(join(os.tmpdir(), 'deputy-report-html-'));
  beacon = createServer((req, res) => {
    beaconHits.push(req.url ?? '');
    res.writeHead(200).end();
  });
  await new Promise<void>((done) => beacon.listen(0, '127.0.0.1', done));
  beaconUrl = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await new Promise<void>((done) => beacon.close(() => done()));
  await fs.rm(tmp, { recursive: true, force: true });
});

test('the report renders offline, shows agent markup as text, and prints', async () => {
  const { shop, infra } = await writeReportTrails(tmp, beaconUrl);
  const report = buildReport([await readTrail(await trailFile(shop)), await readTrail(await trailFile(infra))]);
  const file = join(tmp, 'report.html');
  await fs.writeFile(file, reportHtml(report));

  const page = await browser.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  const url = pathToFileURL(file).href;
  await page.goto(url);
  await page.waitForLoadState('networkidle');

  // Nothing but the file itself was fetched, and no script ran.
  assert.deepEqual(requests, [url]);
  assert.deepEqual(beaconHits, []);
  assert.equal(await page.evaluate('typeof window.pwned'), 'undefined');
  assert.equal(await page.locator('script, img, link[rel=stylesheet]').count(), 0);
  assert.deepEqual(problems, []);

  // Every section a security reviewer reads, with the facts in it.
  for (const heading of ['Audit trails', 'Across sessions', 'Sessions']) await page.getByRole('heading', { name: heading, exact: true }).waitFor();
  const text = await page.locator('body').innerText();
  assert.match(text, /arn:aws:sts::111122223333:assumed-role\/Dev\/alice/);
  assert.match(text, /\.git is never exposed\s+2/);
  assert.match(text, /src\/greet\.js\s+applied\s+arn:aws:sts::111122223333:assumed-role\/Dev\/alice/);
  assert.match(text, /run_command: run npm test \(waiting for a person\)/);
  assert.match(text, /How to stop it/);
  assert.match(text, /The model server answered 503/);
  // The agent's markup is visible as the text it is, with its bidi override escaped.
  assert.ok(text.includes('<script>window.pwned = 1</script>'), 'script tag shown as text');
  assert.ok(text.includes('<U+202E>gnp.exe'), 'bidi override made visible');
  assert.equal(await page.locator('svg[role=img]').count(), 3);

  await page.screenshot({ path: join(RESULTS, 'report.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ path: join(RESULTS, 'report.pdf'), format: 'A4' });
  assert.ok(pdf.length > 10_000, 'the report prints');
  assert.deepEqual(beaconHits, []);
  await page.close();
});
