// Drives the dashboard as a person would, in Debian's chromium, and checks it against the API.
// Run by tests/test-dashboard.sh, which starts controller and agents, creates volumes and does the
// first I/O; env: BASE (controller URL), ARTIFACTS (screenshots), IO_CMD (a shell command doing
// paced I/O on node-b/dmp3 for a few seconds), AGENT_B_PID (stopped near the end to see node-b offline),
// TOKEN (the controller's dmp.auth.token: the page must ask for it once, at the first change).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const { BASE, ARTIFACTS, IO_CMD, AGENT_B_PID, TOKEN } = process.env;
const step = (m) => console.log(`[drive] ${m}`);
const digits = (text) => Number(text.replace(/[^0-9]/g, '')); // "8,192 B" -> 8192

// Changes carry the token, as the page's do once it has been given.
async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}), authorization: `Bearer ${TOKEN}` };
  const res = await fetch(BASE + path, { ...init, headers });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const overview = async () => (await api('/api/overview')).body;
const volumeOf = (o, host, name) => o.volumes.find((v) => v.volume.host === host && v.volume.name === name);

/** Polls check() until it passes (returns without throwing) or `seconds` pass; then throws its last error. */
async function eventually(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try { return await check(); } catch (e) {
      if (Date.now() > deadline) { e.message = `${what}: ${e.message}`; throw e; }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const profile = mkdtempSync(join(tmpdir(), 'dmp-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
  viewport: { width: 1280, height: 900 },
});
const page = browser.pages()[0] ?? await browser.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// The 4xx answers this test provokes are logged by chromium as "Failed to load resource"; others count.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
});
// The page's token prompt: answered with the token; it must come once, at the first change.
const prompts = [];
page.on('dialog', async (d) => { prompts.push(`${d.type()}: ${d.message()}`); await d.accept(TOKEN); });
page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) problems.push(`external request: ${r.url()}`); });

try {
  await page.goto(`${BASE}/`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 15000 });
  step('page is live');

  // 1. Exact numbers: the volume rows and the fleet cards equal the API's, and the I/O that was sent.
  const cell = (host, name, col) => page.locator(`#volumes tr[data-volume="${host}/${name}"] [data-col="${col}"]`);
  async function rowEqualsApi(host, name) {
    const v = volumeOf(await overview(), host, name);
    for (const op of ['read', 'write', 'total']) {
      assert.equal(digits(await cell(host, name, `${op}-reqs`).textContent()), Number(v.stats[op].requests), `${host}/${name} ${op} reqs`);
      assert.equal(digits(await cell(host, name, `${op}-avg`).textContent()), Number(v.stats[op].avgSize), `${host}/${name} ${op} avg`);
    }
    return v;
  }
  async function cardsEqualApi() {
    const f = (await overview()).fleet.stats;
    for (const op of ['read', 'write', 'total']) {
      assert.equal(digits(await page.locator(`#tot-${op}-reqs`).textContent()), Number(f[op].requests), `fleet ${op} reqs`);
      assert.equal(digits(await page.locator(`#tot-${op}-avg`).textContent()), Number(f[op].avgSize), `fleet ${op} avg`);
    }
    return f;
  }
  const dmp1 = await eventually('dmp1 row equals the API and the I/O sent', 15, async () => {
    const v = await rowEqualsApi('node-a', 'dmp1');
    assert.deepEqual([v.stats.read.requests, v.stats.write.requests, v.stats.total.avgSize], ['2', '3', '5734']);
    return v;
  });
  assert.equal(await cell('node-a', 'dmp1', 'read-avg').textContent(), '8,192 B');
  assert.equal(await cell('node-a', 'dmp1', 'total-avg').textContent(), '5,734 B');
  step(`dmp1 on the page = API: read ${dmp1.stats.read.requests} avg 8,192 B, write ${dmp1.stats.write.requests} avg 4,096 B, total 5 avg 5,734 B`);
  await eventually('dmp2 row equals the API', 10, async () => {
    const v = await rowEqualsApi('node-a', 'dmp2');
    assert.deepEqual([v.stats.write.requests, v.stats.write.avgSize], ['1', '1048576']);
  });
  assert.equal(await cell('node-a', 'dmp2', 'write-avg').textContent(), '1,048,576 B');
  const fleet = await eventually('fleet cards equal the API', 10, cardsEqualApi);
  assert.equal(fleet.total.requests, '7'); // dmp1's 5, dmp2's write, dmp4's read
  assert.equal(await page.locator('#tot-total-avg').textContent(), `${new Intl.NumberFormat('en-US').format(Number(fleet.total.avgSize))} B`);
  step(`fleet cards = API: total ${fleet.total.requests} requests, avg ${fleet.total.avgSize} B`);
  // Errors and latency percentiles come from the row's per-operation counters (ops[]).
  const ops = volumeOf(await overview(), 'node-a', 'dmp1').stats.ops;
  const apiErrors = ops.reduce((n, o) => n + Number(o.errors), 0);
  assert.equal(await cell('node-a', 'dmp1', 'errors').textContent(), String(apiErrors), 'errors = sum of ops[].errors');
  for (const col of ['p50', 'p99']) {
    const shown = await cell('node-a', 'dmp1', col).textContent();
    assert.match(shown, /^[0-9.,]+ (µs|ms|s)$/, `${col} shows a latency from the histograms`);
  }
  step(`dmp1 errors ${apiErrors}, latency p50 ${await cell('node-a', 'dmp1', 'p50').textContent()}, p99 ${await cell('node-a', 'dmp1', 'p99').textContent()}`);

  // BLOCK_STATUS and holes, from ops[]: dmp4 (the sparse file) had one 2 MiB read, 1 MiB of it sent as
  // a hole, and one block status query of its 8 MiB; dmp1's 8 KiB reads are too short to ask for holes
  // (0.0%); dmp2 read nothing (—). The API first, then the row.
  const opOf = (v, name) => v.stats.ops.find((o) => o.op === name) ?? {};
  await eventually('dmp4 ops in the API and its row', 10, async () => {
    const v = volumeOf(await overview(), 'node-a', 'dmp4');
    const read = opOf(v, 'OP_READ');
    const bs = opOf(v, 'OP_BLOCK_STATUS');
    assert.deepEqual([read.requests, read.bytes, read.holeBytes], ['1', '2097152', '1048576'], 'dmp4 READ in the API');
    assert.deepEqual([bs.requests, bs.bytes, bs.errors], ['1', '8388608', '0'], 'dmp4 BLOCK_STATUS in the API');
    assert.equal(await cell('node-a', 'dmp4', 'read-reqs').textContent(), '1');
    assert.equal(await cell('node-a', 'dmp4', 'read-avg').textContent(), '2,097,152 B');
    assert.equal(await cell('node-a', 'dmp4', 'read-holes').textContent(), '50.0%');
    assert.equal(await cell('node-a', 'dmp4', 'block-status').textContent(), '1');
  });
  for (const [name, holes, bs] of [['dmp1', '0.0%', '0'], ['dmp2', '—', '0']]) {
    assert.equal(await cell('node-a', name, 'read-holes').textContent(), holes, `${name} holes`);
    assert.equal(await cell('node-a', name, 'block-status').textContent(), bs, `${name} block status`);
  }
  // The fleet: 1 block status request of 8 MiB; 1 MiB of holes in 2 MiB + 16 KiB read (2,113,536 B): 49.6%.
  assert.equal(await page.locator('#tot-bs-reqs').textContent(), '1');
  assert.equal(await page.locator('#tot-bs-bytes').textContent(), '8.00 MiB');
  assert.equal(await page.locator('#tot-holes').textContent(), '1.00 MiB of 2.02 MiB read (49.6%)');
  step('block status and holes: dmp4 row 1 request, holes 50.0%; dmp1 0.0%, dmp2 —; fleet card 1 request, 8.00 MiB queried, 1.00 MiB of 2.02 MiB read (49.6%)');

  // 2. Live: while paced I/O runs on node-b/dmp3, the page's counts and rates move without a reload.
  const before = digits(await page.locator('#tot-total-reqs').textContent());
  const io = spawn('bash', ['-c', IO_CMD], { stdio: 'inherit' });
  const ioDone = new Promise((resolve, reject) => io.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`I/O exited ${c}`)))));
  const rate = await eventually('the fleet rate rises during I/O', 15, async () => {
    const r = Number((await page.locator('#rate-total-reqs').textContent()).replace(/,/g, ''));
    assert.ok(r > 0, `rate ${r}`);
    return r;
  });
  const during = await eventually('the request count rises during I/O', 10, async () => {
    const n = digits(await page.locator('#tot-total-reqs').textContent());
    assert.ok(n > before, `${n} > ${before}`);
    return n;
  });
  const later = await eventually('and keeps rising', 10, async () => {
    const n = digits(await page.locator('#tot-total-reqs').textContent());
    assert.ok(n > during, `${n} > ${during}`);
    return n;
  });
  step(`live: fleet requests ${before} -> ${during} -> ${later}, ${rate} req/s, no reload`);
  await ioDone;
  const settled = await eventually('fleet cards equal the API after the I/O', 15, async () => {
    const f = await cardsEqualApi();
    const dmp3 = volumeOf(await overview(), 'node-b', 'dmp3');
    assert.equal(Number(f.total.requests), 7 + Number(dmp3.stats.total.requests));
    await rowEqualsApi('node-b', 'dmp3');
    await new Promise((r) => setTimeout(r, 1500)); // and stays equal for a second more
    return cardsEqualApi();
  });
  step(`after I/O: page = API, fleet total ${settled.total.requests} requests`);
  // dmp3 is a zero volume: each of its 64 KiB reads went out as one hole.
  assert.equal(await cell('node-b', 'dmp3', 'read-holes').textContent(), '100.0%');
  step('dmp3 (zero backend): holes 100.0% of its 64 KiB reads');
  const points = await page.evaluate(() => state.points.filter((p) => p.rate.writeRequests > 0).length);
  assert.ok(points >= 2, `the chart has ${points} points with writes`);
  const scrollTablesLeft = () => page.evaluate(() => document.querySelectorAll('.scroll').forEach((e) => { e.scrollLeft = 0; }));
  await scrollTablesLeft();
  // A 1280px laptop screen shows every column, the row's buttons included, without scrolling.
  const clipped = await page.evaluate(() => [...document.querySelectorAll('.scroll')]
    .map((e) => {
      const t = e.querySelector('table');
      t.style.width = 'max-content'; // its natural width, not the 100% of its box
      const need = t.offsetWidth;
      t.style.width = '';
      return { id: t.id, need, have: e.clientWidth };
    }));
  assert.deepEqual(clipped.filter((t) => t.need > t.have), [], 'tables wider than their box at 1280px');
  const slack = Math.min(...clipped.map((t) => t.have - t.need));
  await page.screenshot({ path: `${ARTIFACTS}/desktop.png`, fullPage: true });
  step(`desktop screenshot (1280px: every table fits, ${slack}px to spare); chart has ${points} points with writes`);

  // 3. A click on a host filters the volumes to it; a second click shows them all again.
  await page.locator('#hosts tr[data-host="node-b"]').click();
  await eventually('volumes filtered to node-b', 5, async () => {
    assert.deepEqual(await page.locator('#volumes tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.volume)), ['node-b/dmp3']);
    assert.equal(await page.locator('#scope-name').textContent(), 'host node-b');
  });
  await page.locator('#hosts tr[data-host="node-b"]').click();
  await eventually('all volumes again', 5, async () => assert.equal(await page.locator('#volumes tbody tr').count(), 4));
  step('host filter: node-b shows only node-b/dmp3; a second click shows all 4');

  // A click on a volume scopes the cards and the charts (history loaded for it) to that volume.
  await page.locator('#volumes tr[data-volume="node-a/dmp1"] td:nth-child(2)').click();
  await eventually('cards and chart of node-a/dmp1', 5, async () => {
    assert.equal(await page.locator('#scope-name').textContent(), 'volume node-a/dmp1');
    assert.equal(await page.locator('#tot-total-reqs').textContent(), '5');
    assert.equal(await page.locator('#tot-total-avg').textContent(), '5,734 B');
    // dmp1's 2 reads fall in one or two seconds of its chart; the fleet's chart has reads in the ~8 s of live I/O too.
    const withReads = await page.evaluate(() => state.points.filter((p) => p.rate.readRequests > 0).length);
    assert.ok(withReads >= 1 && withReads <= 2, `dmp1 chart has ${withReads} points with reads`);
  });
  // dmp4's card: its own block status query and read, nothing of the fleet's.
  await page.locator('#volumes tr[data-volume="node-a/dmp4"] td:nth-child(2)').click();
  await eventually('Block status card of node-a/dmp4', 5, async () => {
    assert.equal(await page.locator('#scope-name').textContent(), 'volume node-a/dmp4');
    assert.equal(await page.locator('#tot-bs-reqs').textContent(), '1');
    assert.equal(await page.locator('#tot-bs-bytes').textContent(), '8.00 MiB');
    assert.equal(await page.locator('#tot-holes').textContent(), '1.00 MiB of 2.00 MiB read (50.0%)');
  });
  await page.locator('#volumes tr[data-volume="node-b/dmp3"] td:nth-child(2)').click();
  await eventually('cards and chart of node-b/dmp3', 5, async () => {
    const v = volumeOf(await overview(), 'node-b', 'dmp3');
    assert.equal(await page.locator('#scope-name').textContent(), 'volume node-b/dmp3');
    assert.equal(digits(await page.locator('#tot-total-reqs').textContent()), Number(v.stats.total.requests));
    assert.ok(await page.evaluate(() => state.points.filter((p) => p.rate.readRequests > 0).length) >= 2, 'dmp3 chart has reads');
  });
  await page.locator('#scope-clear').click();
  await eventually('back to the fleet', 5, async () => assert.equal(await page.locator('#scope-name').textContent(), 'the fleet'));
  step('volume scope: dmp1 cards show 5 requests avg 5,734 B and its own chart; dmp4 card 1 block status request, '
    + '8.00 MiB queried, 1.00 MiB of 2.00 MiB read (50.0%); dmp3 cards = API with its reads charted');

  // 4. Reset one volume from the page, after a confirmation; the others keep their counts.
  await page.locator('#volumes tr[data-volume="node-a/dmp1"] button[data-action="reset"]').click();
  await page.locator('#confirm[open]').waitFor();
  await page.locator('#confirm-ok').click();
  await eventually('dmp1 reset on the page and in the API', 10, async () => {
    const v = await rowEqualsApi('node-a', 'dmp1');
    assert.equal(v.stats.total.requests, '0');
    assert.equal(await cell('node-a', 'dmp1', 'total-reqs').textContent(), '0');
  });
  assert.equal(await page.locator('#toast.ok').textContent(), 'Reset 1 volume.');
  assert.equal(volumeOf(await overview(), 'node-a', 'dmp2').stats.write.requests, '1');
  assert.deepEqual(prompts, ['prompt: This controller requires its token (dmp.auth.token) to change anything:']);
  step('reset dmp1 from the page: 0 requests there and in the API; dmp2 still 1 write');
  step(`the page asked for the token at this first change: "${prompts[0]}"`);

  // 5. Create from the page: the API's validation message, then a volume that appears everywhere.
  const form = page.locator('#create');
  await form.locator('select[name=host]').selectOption('node-a');
  await form.locator('input[name=name]').fill('Bad!');
  await form.locator('button[type=submit]').click();
  const expected = (await api('/api/volumes', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ host: 'node-a', name: 'Bad!', zero: { sizeBytes: '1073741824' } }) }));
  assert.equal(expected.status, 400);
  await eventually('the API message under the form', 5, async () =>
    assert.equal(await page.locator('#create-message.error').textContent(), expected.body.message));
  step(`create with a bad name shows the API's message: "${expected.body.message}"`);
  await form.locator('input[name=name]').fill('web1');
  await form.locator('input[name=size]').fill('2');
  await form.locator('select[name=unit]').selectOption({ label: 'MiB' });
  await form.locator('button[type=submit]').click();
  await eventually('created message', 10, async () =>
    assert.equal(await page.locator('#create-message.ok').textContent(), 'Created node-a/web1 (2.00 MiB).'));
  const web1 = volumeOf(await overview(), 'node-a', 'web1');
  assert.equal(web1.volume.sizeBytes, '2097152');
  await eventually('web1 row on the page', 5, async () =>
    assert.equal(await cell('node-a', 'web1', 'size').textContent(), '2.00 MiB'));
  // A new volume has counted nothing: ops[] is empty, so 0 block status requests and no share of holes.
  assert.equal(await cell('node-a', 'web1', 'block-status').textContent(), '0');
  assert.equal(await cell('node-a', 'web1', 'read-holes').textContent(), '—');
  step('created node-a/web1 (2 MiB) from the page: in the API and in the table');

  // 6. Phone width: no sideways scrolling of the page (tables scroll in their own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300); // let the charts' ResizeObserver resize them
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `page is ${overflow}px wide at a 390px viewport`);
  await scrollTablesLeft();
  await page.screenshot({ path: `${ARTIFACTS}/phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  step(`phone screenshot (390px wide, page ${overflow}px)`);

  // 7. Delete from the page, after a confirmation.
  await page.locator('#volumes tr[data-volume="node-a/web1"] button[data-action="delete"]').click();
  await page.locator('#confirm[open]').waitFor();
  await page.locator('#confirm-ok').click();
  await eventually('web1 gone from page and API', 10, async () => {
    assert.equal(volumeOf(await overview(), 'node-a', 'web1'), undefined);
    assert.equal(await page.locator('#volumes tr[data-volume="node-a/web1"]').count(), 0);
  });
  step('deleted node-a/web1 from the page');
  assert.equal(prompts.length, 1, `the page asked for the token again: ${prompts}`);

  // 7b. Reset one host from the page: its volumes start again from zero, the other host's keep theirs.
  await page.locator('#hosts tr[data-host="node-b"]').click();
  await eventually('scope is host node-b', 5, async () => assert.equal(await page.locator('#scope-name').textContent(), 'host node-b'));
  await page.locator('#reset-scope').click();
  await page.locator('#confirm[open]').waitFor();
  assert.match(await page.locator('#confirm-text').textContent(), /host node-b/);
  await page.locator('#confirm-ok').click();
  await eventually('node-b reset in the toast, the API and the table', 10, async () => {
    assert.equal(await page.locator('#toast.ok').textContent(), 'Reset 1 volume.');
    assert.equal(volumeOf(await overview(), 'node-b', 'dmp3').stats.total.requests, '0');
    assert.equal(await cell('node-b', 'dmp3', 'total-reqs').textContent(), '0');
  });
  assert.equal(volumeOf(await overview(), 'node-a', 'dmp2').stats.write.requests, '1');
  await page.locator('#hosts tr[data-host="node-b"]').click();
  await eventually('back to the fleet', 5, async () => assert.equal(await page.locator('#scope-name').textContent(), 'the fleet'));
  step('reset host node-b from the page: dmp3 at 0 requests there and in the API; node-a/dmp2 still 1 write');

  // 8. A host goes offline: the page says so, and a fleet reset shows the API's refusal.
  process.kill(Number(AGENT_B_PID));
  await eventually('node-b offline', 15, async () =>
    assert.equal(await page.locator('#hosts tr[data-host="node-b"] td:nth-child(2)').textContent(), 'offline'));
  await page.locator('#reset-scope').click();
  await page.locator('#confirm-ok').click();
  const refusal = await api('/api/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scope":"FLEET"}' });
  assert.equal(refusal.status, 412);
  await eventually('the refusal in the toast', 5, async () =>
    assert.equal(await page.locator('#toast').textContent(), refusal.body.message));
  step(`node-b offline; fleet reset refused on the page with: "${refusal.body.message}"`);

  assert.deepEqual(problems, [], 'no page errors and no requests outside the controller');
  step('no page errors, no external requests');
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
