// End-to-end test of the review UI against a running `toolmark serve`.
//
//   TOOLMARK_URL=http://127.0.0.1:PORT/ node tests/e2e/review.test.mjs
//
// Env: TOOLMARK_URL (required), TOOLMARK_ARTIFACTS (default ./artifacts),
// CHROMIUM (default /usr/bin/chromium). Drives headless Chromium through
// playwright-core (tools/serve/ui/node_modules). Only the loopback server is reachable:
// every other request is aborted. Exit status 0 on success, 1 on failure.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tools', 'serve', 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const STEP_MS = 30_000;
const rawUrl = process.env.TOOLMARK_URL;
if (!rawUrl) { console.error('review.test: set TOOLMARK_URL (e.g. http://127.0.0.1:8765/)'); process.exit(2); }
const BASE = rawUrl.replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const ARTIFACTS = path.resolve(process.env.TOOLMARK_ARTIFACTS || './artifacts');
const EXAMINER = 'E2E Examiner';
const NOTE = `e2e identification ${new Date().toISOString()}`;

class TestFailure extends Error {}
function fail(msg) { throw new TestFailure(msg); }
function check(cond, msg) { if (!cond) fail(msg); }

let stepName = '';
async function step(name, fn) {
  stepName = name;
  const t0 = Date.now();
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new TestFailure(`timed out after ${STEP_MS / 1000} s`)), STEP_MS); }),
    ]);
  } finally { clearTimeout(timer); }
  console.log(`  ok  ${name} (${Date.now() - t0} ms)`);
}

async function getJson(p) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), STEP_MS);
  try {
    let res;
    try {
      res = await fetch(`${BASE}${p}`, { signal: ctl.signal, headers: { accept: 'application/json' } });
    } catch (e) {
      fail(`GET ${p}: cannot reach ${BASE}: ${e.cause?.code || e.cause?.message || e.message}`);
    }
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { fail(`GET ${p}: answer is not JSON: ${text.slice(0, 200)}`); }
    if (!res.ok) fail(`GET ${p}: HTTP ${res.status}: ${body && body.error}`);
    return body;
  } finally { clearTimeout(timer); }
}

const pageErrors = [];
const consoleErrors = [];
const blocked = [];
const failedRequests = [];

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`review.test: ${BASE} (artifacts: ${ARTIFACTS})`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: STEP_MS,
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    // Only the server under test: abort anything else (fonts, CDNs, ...).
    await context.route('**/*', (route) => {
      const u = route.request().url();
      let ok = false;
      try { ok = new URL(u).origin === ORIGIN || u.startsWith('data:') || u.startsWith('blob:'); } catch { ok = false; }
      if (ok) return route.continue();
      blocked.push(u);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => { pageErrors.push(err); console.error(`  page error: ${err.message}`); });
    page.on('console', (msg) => {
      if (msg.type() === 'error') { consoleErrors.push(msg.text()); console.error(`  console error: ${msg.text()}`); }
    });
    page.on('response', (res) => {
      if (res.status() >= 400) failedRequests.push(`${res.status()} ${res.request().method()} ${res.url()}`);
    });
    page.on('requestfailed', (req) => {
      if (!blocked.includes(req.url())) failedRequests.push(`failed ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
    });

    let hitId, hit;

    await step('health', async () => {
      const health = await getJson('/api/health');
      check(health.ok === true, `GET /api/health: ok is not true: ${JSON.stringify(health)}`);
    });

    await step('queue lists pending hits', async () => {
      await page.goto(`${BASE}/#/queue`, { waitUntil: 'domcontentloaded' });
      try {
        await page.locator('[data-testid=queue-row]').first().waitFor({ state: 'visible' });
      } catch {
        const err = await page.locator('[data-testid=error]').textContent().catch(() => '');
        fail(`queue: no [data-testid=queue-row] appeared${err ? ` (error shown: ${err.trim()})` : ''}`);
      }
      const n = await page.locator('[data-testid=queue-row]').count();
      check(n >= 1, `queue: expected at least one row, got ${n}`);
      await page.locator('[data-testid=queue-table]').waitFor();
      console.log(`      ${n} queue row(s)`);
    });

    await step('keyboard: j/k move, Enter opens the first row', async () => {
      const rows = page.locator('[data-testid=queue-row]');
      const firstId = await rows.first().getAttribute('data-hit-id');
      check(firstId && /^\d+$/.test(firstId), `queue: first row has no numeric data-hit-id (${firstId})`);
      const n = await rows.count();
      if (n > 1) {
        await page.keyboard.press('j');
        const sel = await page.locator('[data-testid=queue-row].selected').getAttribute('data-hit-id');
        check(sel === await rows.nth(1).getAttribute('data-hit-id'), `queue: 'j' did not highlight the second row (selected: ${sel})`);
        await page.keyboard.press('k');
      }
      const sel = await page.locator('[data-testid=queue-row].selected').getAttribute('data-hit-id');
      check(sel === firstId, `queue: first row is not highlighted (selected: ${sel}, first: ${firstId})`);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.hash === `#/hit/${firstId}`);
      await page.locator(`[data-testid=hit-page][data-hit-id="${firstId}"]`).waitFor();
      hitId = Number(firstId);
      hit = await getJson(`/api/hits/${hitId}`);
      check(hit.query && hit.candidate, `GET /api/hits/${hitId}: no query / candidate`);
      console.log(`      hit #${hitId}: item ${hit.query.id} (${hit.query.label}) vs item ${hit.candidate.id} (${hit.candidate.label}), score ${hit.score}`);
    });

    await step('hit page: both images load, cells drawn', async () => {
      try {
        await page.waitForFunction(() => {
          const ok = (id) => { const i = document.querySelector(`[data-testid=${id}]`); return i && i.complete && i.naturalWidth > 0; };
          return ok('img-query') && ok('img-candidate');
        }, null, { timeout: STEP_MS - 2000 });
      } catch {
        const state = await page.evaluate(() => ['img-query', 'img-candidate'].map((id) => {
          const i = document.querySelector(`[data-testid=${id}]`);
          return i ? `${id}: src=${i.getAttribute('src')} complete=${i.complete} naturalWidth=${i.naturalWidth}` : `${id}: missing`;
        }).join('; '));
        fail(`hit page: images did not load (${state}); failed requests: ${failedRequests.join(', ') || 'none'}`);
      }
      const sizes = await page.evaluate(() => ['img-query', 'img-candidate'].map((id) => {
        const i = document.querySelector(`[data-testid=${id}]`); return [i.naturalWidth, i.naturalHeight];
      }));
      console.log(`      images ${sizes.map((s) => s.join('x')).join(' and ')}`);
      const kind = (hit.query && hit.query.kind) || '';
      if (kind === 'bullet') {
        console.log('      bullet hit: no cells (plot shown instead)');
      } else {
        try {
          await page.locator('[data-testid=cells-overlay] rect').first().waitFor({ state: 'attached', timeout: STEP_MS - 2000 });
        } catch {
          const err = await page.locator('[data-testid=error]').textContent().catch(() => '');
          fail(`hit page: the cells overlay has no rect${err ? ` (error shown: ${err.trim()})` : ''}`);
        }
        const rects = await page.locator('[data-testid=cells-overlay][data-side=query] rect').count();
        const congruent = await page.locator('[data-testid=cells-overlay][data-side=query] rect.congruent').count();
        console.log(`      ${rects} cells drawn, ${congruent} congruent`);
        // The numbers behind the score: k of n as the explain API gives it, and the surface correlation.
        const features = page.locator('[data-testid=features]');
        await features.waitFor({ state: 'visible', timeout: STEP_MS - 2000 });
        const text = (await features.textContent()) || '';
        const kOfN = text.match(/(\d+) of (\d+) cells/);
        check(kOfN !== null, `hit page: 'Behind the score' has no "k of n cells" (${text.slice(0, 80)})`);
        check(/Surface correlation-?\d\.\d{3}/.test(text), `hit page: 'Behind the score' has no surface correlation (${text.slice(0, 120)})`);
        console.log(`      behind the score: CMC ${kOfN ? kOfN[0] : '?'}`);
      }
      const status = (await page.locator('[data-testid=status]').textContent()).trim();
      check(status === hit.status, `hit page: status shows '${status}', the API says '${hit.status}'`);
      // One pair, one review: a pair found from both sides shows the other direction's score.
      if (hit.reverse) {
        const other = ((await page.locator('[data-testid=reverse]').textContent()) || '').trim();
        check(other.includes(`#${hit.reverse.id}`), `hit page: 'Other direction' does not name hit #${hit.reverse.id} (${other})`);
        console.log(`      other direction: ${other}`);
      }
    });

    await step('queue: a pair found from both sides is one row with both scores', async () => {
      const all = await getJson('/api/hits?status=all&limit=500');
      const ids = new Set();
      for (const x of all.hits || []) {
        for (const id of [x.id, x.reverse && x.reverse.id]) if (id != null) {
          check(!ids.has(id), `GET /api/hits: hit #${id} is listed twice`);
          ids.add(id);
        }
      }
      const both = (all.hits || []).find((x) => x.reverse && x.status === 'pending');
      check(both, 'GET /api/hits: no pending pair was correlated from both sides (the e2e database correlates every item)');
      await page.goto(`${BASE}/#/queue`, { waitUntil: 'domcontentloaded' });
      const cell = page.locator(`[data-testid=queue-row][data-hit-id="${both.id}"] [data-testid=pair-score]`);
      await cell.waitFor({ state: 'visible', timeout: STEP_MS - 2000 });
      const text = ((await cell.textContent()) || '').trim();
      check(text.split(' / ').length === 2, `queue: pair #${both.id} shows '${text}', not both directions' scores`);
      check(await page.locator(`[data-testid=queue-row][data-hit-id="${both.reverse.id}"]`).count() === 0,
        `queue: the other direction (hit #${both.reverse.id}) has a row of its own`);
      console.log(`      pair #${both.id} (and #${both.reverse.id}): ${text}; ${all.total} pairs for ${ids.size} hits`);
      await page.goto(`${BASE}/#/hit/${hitId}`, { waitUntil: 'domcontentloaded' });
      await page.locator(`[data-testid=hit-page][data-hit-id="${hitId}"]`).waitFor();
    });

    const historyBefore = (hit.history || []).length;

    await step('record an identification with the keyboard', async () => {
      await page.locator('[data-testid=examiner]').fill(EXAMINER);
      await page.locator('[data-testid=examiner]').press('Enter');
      const stored = await page.evaluate(() => localStorage.getItem('toolmark.examiner'));
      check(stored === EXAMINER, `examiner: localStorage 'toolmark.examiner' is ${JSON.stringify(stored)}`);
      const note = page.locator('[data-testid=note]');
      await note.click();
      await note.fill(NOTE);
      await note.evaluate((el) => el.blur());
      await page.keyboard.press('i');
      try {
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid=history-row]').length > n, historyBefore, { timeout: STEP_MS - 5000 });
      } catch {
        const err = await page.locator('[data-testid=error]').textContent().catch(() => '');
        fail(`decision: the history did not gain a row${err ? ` (error shown: ${err.trim()})` : ''}`);
      }
      const rows = page.locator('[data-testid=history-row]');
      check(await rows.count() === historyBefore + 1, `decision: expected ${historyBefore + 1} history rows, got ${await rows.count()}`);
      const newest = page.locator('[data-testid=history-row][data-decision=identification]', { hasText: NOTE });
      check(await newest.count() === 1, `decision: no history row with decision identification and the note '${NOTE}'`);
      const rowText = await newest.textContent();
      check(rowText.includes(EXAMINER), `decision: the history row does not name the examiner: ${rowText}`);
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent.trim() === 'identification', null, { timeout: 10_000 })
        .catch(() => fail('decision: status does not show identification'));
      const api = await getJson(`/api/hits/${hitId}`);
      check(api.status === 'identification', `GET /api/hits/${hitId}: status is '${api.status}' after the decision`);
      const last = api.history[api.history.length - 1];
      check(last && last.decision === 'identification' && last.examiner === EXAMINER && last.note === NOTE,
        `GET /api/hits/${hitId}: last decision is ${JSON.stringify(last)}`);
      const errShown = await page.locator('[data-testid=error]').isVisible();
      check(!errShown, `decision: an error is shown: ${await page.locator('[data-testid=error]').textContent()}`);
    });

    await step('screenshot of the hit page', async () => {
      // Let the images settle after the re-render.
      await page.waitForFunction(() => ['img-query', 'img-candidate'].every((id) => {
        const i = document.querySelector(`[data-testid=${id}]`); return i && i.complete && i.naturalWidth > 0;
      }));
      const file = path.join(ARTIFACTS, 'hit-page.png');
      await page.screenshot({ path: file, fullPage: true });
      console.log(`      ${file}`);
    });

    await step('clusters: the two items are linked', async () => {
      const q = hit.query.id, c = hit.candidate.id;
      const links = await getJson('/api/links');
      check(Array.isArray(links.clusters), `GET /api/links: no clusters array: ${JSON.stringify(links).slice(0, 200)}`);
      const holding = (id) => links.clusters.find((k) => (k.items || []).some((it) => it.id === id));
      const kq = holding(q), kc = holding(c);
      check(kq, `GET /api/links: item ${q} (query of hit ${hitId}) is in no cluster`);
      check(kc && kc.id === kq.id, `GET /api/links: items ${q} and ${c} are not in one cluster (${kq.id} vs ${kc && kc.id})`);
      check((kq.edges || []).some((e) => e.hit === hitId), `GET /api/links: cluster ${kq.id} has no edge for hit ${hitId}`);

      await page.goto(`${BASE}/#/clusters`, { waitUntil: 'domcontentloaded' });
      await page.locator('[data-testid=clusters-graph]').waitFor();
      await page.locator(`[data-testid=cluster-item][data-item-id="${q}"]`).waitFor()
        .catch(() => fail(`clusters view: item ${q} is not listed`));
      const cq = await page.locator(`[data-testid=cluster-item][data-item-id="${q}"]`).getAttribute('data-cluster-id');
      const cc = await page.locator(`[data-testid=cluster-item][data-item-id="${c}"]`).getAttribute('data-cluster-id')
        .catch(() => null);
      check(cc != null, `clusters view: item ${c} is not listed`);
      check(cq === cc, `clusters view: items ${q} and ${c} are in different clusters (${cq} vs ${cc})`);
      // The graph drew the items (cytoscape renders to canvas).
      const nodes = await page.evaluate(() => (window.__toolmarkGraph ? window.__toolmarkGraph.nodes('[item]').length : -1));
      check(nodes >= 2, `clusters view: the graph has ${nodes} item nodes`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'clusters.png'), fullPage: true });
    });

    await step('weak comparisons are visibly weak (queue badge, hit page warnings)', async () => {
      const all = await getJson('/api/hits?limit=500');
      for (const x of all.hits || [])
        check(x.weak === ((x.query.quality_warnings || []).length + (x.candidate.quality_warnings || []).length > 0),
          `hit ${x.id}: weak is ${x.weak} but its scans' warnings say otherwise`);
      const weak = (all.hits || []).find((x) => x.weak === true && x.query.kind === 'bullet');
      check(weak, `GET /api/hits: no bullet hit is marked weak (the e2e database has lands stored on their side)`);
      await page.goto(`${BASE}/#/queue`, { waitUntil: 'domcontentloaded' });
      await page.locator(`[data-testid=queue-row][data-hit-id="${weak.id}"] [data-testid=weak]`).waitFor({ state: 'visible' })
        .catch(() => fail(`queue: hit ${weak.id} has no visible 'weak' badge`));
      await page.goto(`${BASE}/#/hit/${weak.id}`, { waitUntil: 'domcontentloaded' });
      await page.locator(`[data-testid=hit-page][data-hit-id="${weak.id}"] [data-testid=weak]`).waitFor({ state: 'visible' })
        .catch(() => fail(`hit page ${weak.id}: no visible 'weak' badge`));
      const warnings = await page.locator('[data-testid=quality-warnings]').allTextContents();
      check(warnings.some((t) => /transpose/.test(t)), `hit page ${weak.id}: the orientation warning is not shown (${warnings.join(' | ')})`);
      const quality = await page.locator('[data-testid=scan-quality]').allTextContents();
      check(quality.some((t) => /turned upright from transposed \(assumed\)/.test(t)),
        `hit page ${weak.id}: the turned scan is not marked (${quality.join(' | ')})`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'weak-hit.png'), fullPage: true });
    });

    if (pageErrors.length) fail(`uncaught page errors: ${pageErrors.map((e) => e.message).join(' | ')}`);
    if (blocked.length) console.log(`  note: blocked ${blocked.length} non-loopback request(s): ${blocked.slice(0, 5).join(', ')}`);
    if (consoleErrors.length) console.log(`  note: ${consoleErrors.length} console error(s) logged above`);
  } finally {
    await browser.close().catch(() => {});
  }
}

const overall = setTimeout(() => { console.error('review.test: FAIL: the whole run took over 5 minutes'); process.exit(1); }, 300_000);
main().then(() => {
  clearTimeout(overall);
  console.log('review.test: PASS');
  process.exit(0);
}, (err) => {
  clearTimeout(overall);
  console.error(`review.test: FAIL in step '${stepName}': ${err instanceof TestFailure ? err.message : err.stack || err}`);
  if (failedRequests.length) console.error(`  HTTP failures: ${failedRequests.join('; ')}`);
  process.exit(1);
});
