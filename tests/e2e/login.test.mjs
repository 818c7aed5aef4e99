// End-to-end test of logins in the review UI against a running
// `toolmark serve` started WITHOUT --open.
//
//   TOOLMARK_URL=http://127.0.0.1:PORT/ TOOLMARK_TOKEN_EXAMINER=tm_... \
//   TOOLMARK_TOKEN_INVESTIGATOR=tm_... node tests/e2e/login.test.mjs
//
// Env: TOOLMARK_URL, TOOLMARK_TOKEN_EXAMINER, TOOLMARK_TOKEN_INVESTIGATOR
// (required: tokens of an examiner and an investigator of the items'
// jurisdiction, from `toolmark users add`), TOOLMARK_ARTIFACTS (default
// ./artifacts), CHROMIUM (default /usr/bin/chromium). Drives headless
// Chromium through playwright-core (tools/serve/ui/node_modules). Only the loopback
// server is reachable. Exit status 0 on success, 1 on failure.
//
// Steps: the login dialog appears; a wrong token shows the server's error;
// the examiner logs in (whoami, queue), records a decision (under the login
// name) and logs out; the investigator logs in,
// opens a hit and finds the decision buttons disabled; a cross-border quick
// hit (the server's answer rewritten in the browser) shows its badges and
// the quick-score note and requests no image; a lost session (cookie
// cleared) brings the login dialog back.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tools', 'serve', 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const STEP_MS = 30_000;
const rawUrl = process.env.TOOLMARK_URL;
const TOKEN_EXAMINER = process.env.TOOLMARK_TOKEN_EXAMINER;
const TOKEN_INVESTIGATOR = process.env.TOOLMARK_TOKEN_INVESTIGATOR;
if (!rawUrl || !TOKEN_EXAMINER || !TOKEN_INVESTIGATOR) {
  console.error('login.test: set TOOLMARK_URL, TOOLMARK_TOKEN_EXAMINER and TOOLMARK_TOKEN_INVESTIGATOR');
  process.exit(2);
}
const BASE = rawUrl.replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const ARTIFACTS = path.resolve(process.env.TOOLMARK_ARTIFACTS || './artifacts');

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

// GET with an optional bearer token; returns { status, body }.
async function request(p, token = null) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), STEP_MS);
  try {
    let res;
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      res = await fetch(`${BASE}${p}`, { signal: ctl.signal, headers });
    } catch (e) {
      fail(`GET ${p}: cannot reach ${BASE}: ${e.cause?.code || e.cause?.message || e.message}`);
    }
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { fail(`GET ${p}: answer is not JSON: ${text.slice(0, 200)}`); }
    return { status: res.status, body };
  } finally { clearTimeout(timer); }
}
async function getJson(p, token) {
  const { status, body } = await request(p, token);
  if (status !== 200) fail(`GET ${p}: HTTP ${status}: ${body && body.error}`);
  return body;
}

const pageErrors = [];
const consoleErrors = [];
const blocked = [];
const requests = [];

async function errorShown(page) {
  if (!(await page.locator('[data-testid=error]').isVisible().catch(() => false))) return '';
  return ((await page.locator('[data-testid=error]').textContent().catch(() => '')) || '').trim();
}

async function waitLoginDialog(page, what) {
  await page.locator('[data-testid=login]').waitFor({ state: 'visible' })
    .catch(async () => fail(`${what}: the login dialog [data-testid=login] did not appear${(await errorShown(page)) ? ` (error shown: ${await errorShown(page)})` : ''}`));
  await page.locator('[data-testid=token]').waitFor({ state: 'visible' });
}

async function logIn(page, token, role) {
  await page.locator('[data-testid=token]').fill(token);
  await page.locator('[data-testid=login-submit]').click();
  await page.locator('[data-testid=login]').waitFor({ state: 'hidden' }).catch(async () => {
    const msg = await page.locator('[data-testid=login-error]').textContent().catch(() => '');
    fail(`login as ${role}: the dialog stayed open${msg ? ` (${msg.trim()})` : ''}`);
  });
  await page.waitForFunction((r) => {
    const w = document.querySelector('[data-testid=whoami]');
    return w && !w.hidden && w.textContent.includes(r);
  }, role, { timeout: 10_000 }).catch(async () => {
    const t = await page.locator('[data-testid=whoami]').textContent().catch(() => null);
    fail(`login as ${role}: [data-testid=whoami] does not show the role (${JSON.stringify(t)})`);
  });
  check(await page.locator('[data-testid=logout]').isVisible(), `login as ${role}: no visible Log out button`);
  check(!(await page.locator('[data-testid=examiner]').isVisible()), `login as ${role}: the examiner-name field is shown with logins`);
  return (await page.locator('[data-testid=whoami]').textContent()).trim();
}

async function waitQueueRows(page, what) {
  try {
    await page.locator('[data-testid=queue-row]').first().waitFor({ state: 'visible' });
  } catch {
    const err = await errorShown(page);
    fail(`${what}: no [data-testid=queue-row] appeared${err ? ` (error shown: ${err})` : ''}`);
  }
  return page.locator('[data-testid=queue-row]').count();
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`login.test: ${BASE} (artifacts: ${ARTIFACTS})`);

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
    await context.route('**/*', (route) => {
      const u = route.request().url();
      let ok = false;
      try { ok = new URL(u).origin === ORIGIN || u.startsWith('data:') || u.startsWith('blob:'); } catch { ok = false; }
      if (ok) return route.fallback();
      blocked.push(u);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => { pageErrors.push(err); console.error(`  page error: ${err.message}`); });
    page.on('console', (msg) => {
      // 401 answers are expected here (that is how the UI learns to log in).
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) { consoleErrors.push(msg.text()); console.error(`  console error: ${msg.text()}`); }
    });
    page.on('request', (req) => requests.push(`${req.method()} ${req.url()}`));

    await step('health answers without a login; the API does not', async () => {
      const health = await getJson('/api/health');
      check(health.ok === true, `GET /api/health: ok is not true: ${JSON.stringify(health)}`);
      const me = await request('/api/me');
      check(me.status === 401, `GET /api/me without a token: HTTP ${me.status} (expected 401): is the server started without --open?`);
      const ex = await getJson('/api/me', TOKEN_EXAMINER);
      check(ex.role === 'examiner' && ex.open === false, `GET /api/me (examiner token): ${JSON.stringify(ex)}`);
      const inv = await getJson('/api/me', TOKEN_INVESTIGATOR);
      check(inv.role === 'investigator', `GET /api/me (investigator token): ${JSON.stringify(inv)}`);
    });

    await step('the UI opens on the login dialog', async () => {
      await page.goto(`${BASE}/#/queue`, { waitUntil: 'domcontentloaded' });
      await waitLoginDialog(page, 'start');
      check(!(await page.locator('[data-testid=whoami]').isVisible()), 'start: whoami is shown before a login');
      check(!(await page.locator('[data-testid=logout]').isVisible()), 'start: Log out is shown before a login');
      check(await page.locator('[data-testid=queue-row]').count() === 0, 'start: queue rows are shown before a login');
      const file = path.join(ARTIFACTS, 'login.png');
      await page.screenshot({ path: file });
      console.log(`      ${file}`);
    });

    await step('a wrong token shows the server\'s error', async () => {
      await page.locator('[data-testid=token]').fill('tm_0000000000000000000000000000000000000000000000000000000000000000');
      await page.locator('[data-testid=login-submit]').click();
      await page.locator('[data-testid=login-error]').waitFor({ state: 'visible' })
        .catch(() => fail('wrong token: no [data-testid=login-error] appeared'));
      const msg = (await page.locator('[data-testid=login-error]').textContent()).trim();
      check(msg.length > 0, 'wrong token: the error is empty');
      check(await page.locator('[data-testid=login]').isVisible(), 'wrong token: the login dialog closed');
      console.log(`      error: ${msg}`);
    });

    let whoExaminer = '';
    await step('the examiner logs in: whoami shows the role, the queue lists rows', async () => {
      whoExaminer = await logIn(page, TOKEN_EXAMINER, 'examiner');
      const n = await waitQueueRows(page, 'examiner queue');
      check(n >= 1, `examiner queue: expected at least one row, got ${n}`);
      console.log(`      whoami "${whoExaminer}", ${n} queue row(s)`);
    });

    await step('the examiner records a decision under the login name', async () => {
      const name = (await getJson('/api/me', TOKEN_EXAMINER)).name;
      const first = page.locator('[data-testid=queue-row]').first();
      const id = Number(await first.getAttribute('data-hit-id'));
      await first.locator('td').first().locator('a').click();
      await page.locator(`[data-testid=hit-page][data-hit-id="${id}"]`).waitFor();
      check(await page.locator('[data-testid=role-note]').count() === 0, `hit #${id}: a role note is shown to an examiner`);
      const before = await page.locator('[data-testid=history-row]').count();
      await page.locator('[data-testid=decision-inconclusive]').click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=history-row]').length > n, before, { timeout: 10_000 })
        .catch(async () => fail(`hit #${id}: the history did not gain a row (error shown: ${await errorShown(page)})`));
      const last = (await getJson(`/api/hits/${id}`, TOKEN_EXAMINER)).history.at(-1);
      check(last && last.decision === 'inconclusive' && last.examiner === name,
        `GET /api/hits/${id}: last decision is ${JSON.stringify(last)} (expected inconclusive by ${name})`);
      await page.goto(`${BASE}/#/queue`, { waitUntil: 'domcontentloaded' });
      await waitQueueRows(page, 'examiner queue after the decision');
      console.log(`      hit #${id}: inconclusive by ${name}`);
    });

    await step('log out brings the login dialog back', async () => {
      await page.locator('[data-testid=logout]').click();
      await waitLoginDialog(page, 'log out');
      check(!(await page.locator('[data-testid=whoami]').isVisible()), 'log out: whoami is still shown');
      const cookies = await context.cookies(BASE);
      check(!cookies.some((c) => c.name === 'toolmark_session' && c.value), `log out: the session cookie is still set`);
    });

    let hitId;
    await step('the investigator logs in and opens a hit: decisions are disabled', async () => {
      const who = await logIn(page, TOKEN_INVESTIGATOR, 'investigator');
      await waitQueueRows(page, 'investigator queue');
      const first = page.locator('[data-testid=queue-row]').first();
      hitId = Number(await first.getAttribute('data-hit-id'));
      check(hitId > 0, `investigator queue: first row has no hit id`);
      await first.locator('td').first().locator('a').click();
      await page.locator(`[data-testid=hit-page][data-hit-id="${hitId}"]`).waitFor()
        .catch(async () => fail(`hit #${hitId}: the hit page did not open (error shown: ${await errorShown(page)})`));
      for (const d of ['identification', 'inconclusive', 'elimination']) {
        check(await page.locator(`[data-testid=decision-${d}]`).isDisabled(), `hit #${hitId}: the ${d} button is enabled for an investigator`);
      }
      const note = (await page.locator('[data-testid=role-note]').textContent().catch(() => '')) || '';
      check(note.includes('your role (investigator) cannot record decisions'), `hit #${hitId}: no role note (${JSON.stringify(note)})`);
      // The decision keys do nothing either.
      const before = (await getJson(`/api/hits/${hitId}`, TOKEN_INVESTIGATOR)).history.length;
      await page.locator('[data-testid=hit-page] h1').click();
      await page.keyboard.press('i');
      await page.waitForTimeout(500);
      const after = (await getJson(`/api/hits/${hitId}`, TOKEN_INVESTIGATOR)).history.length;
      check(after === before, `hit #${hitId}: key 'i' recorded a decision for an investigator (${before} -> ${after})`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'investigator-hit.png'), fullPage: true });
      console.log(`      whoami "${who}", hit #${hitId}`);
    });

    await step('a cross-border quick hit: badges and the quick-score note, no images', async () => {
      // This database has one jurisdiction: mark the hit cross-border and
      // quick in the browser, as a features-level share would.
      const fake = (h) => ({ ...h, cross_border: true, score_kind: 'quick',
        candidate: { ...(h.candidate || {}), jurisdiction: 'PARTNER' } });
      await page.route(/\/api\/hits(\/\d+)?(\?.*)?$/, async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        if (Array.isArray(body.hits)) body.hits = body.hits.map((h) => (h.id === hitId ? fake(h) : h));
        else if (body.id === hitId) Object.assign(body, fake(body));
        await route.fulfill({ response: res, json: body });
      });
      await page.goto(`${BASE}/#/queue?status=all`, { waitUntil: 'domcontentloaded' });
      await waitQueueRows(page, 'queue (cross-border)');
      const row = page.locator(`[data-testid=queue-row][data-hit-id="${hitId}"]`);
      await row.locator('[data-testid=cross-border]').waitFor()
        .catch(() => fail(`queue: row of hit #${hitId} has no cross-border badge`));
      check(await row.locator('[data-testid=quick-score]').count() === 1, `queue: row of hit #${hitId} has no quick-score mark`);
      const others = await page.locator(`[data-testid=queue-row]:not([data-hit-id="${hitId}"]) [data-testid=cross-border]`).count();
      check(others === 0, `queue: ${others} other row(s) show a cross-border badge`);

      const mark = requests.length;
      await page.goto(`${BASE}/#/hit/${hitId}`, { waitUntil: 'domcontentloaded' });
      await page.locator(`[data-testid=hit-page][data-hit-id="${hitId}"]`).waitFor();
      check(await page.locator('[data-testid=hit-page] [data-testid=cross-border]').isVisible(), `hit #${hitId}: no cross-border badge`);
      const note = (await page.locator('[data-testid=quick-note]').textContent().catch(() => '')) || '';
      check(note.includes('quick score (shared at features level; no scan here)'), `hit #${hitId}: no quick-score note (${JSON.stringify(note)})`);
      check(await page.locator('[data-testid=img-query], [data-testid=img-candidate], [data-testid=cells-overlay]').count() === 0,
        `hit #${hitId}: images / cells are shown for a quick hit`);
      await page.waitForTimeout(300);
      const asked = requests.slice(mark).filter((r) => /\/(image|explain|plot)/.test(r));
      check(asked.length === 0, `hit #${hitId}: a quick hit requested ${asked.join(', ')}`);
      const err = await errorShown(page);
      check(!err, `hit #${hitId}: an error is shown: ${err}`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'quick-hit.png'), fullPage: true });
      await page.unroute(/\/api\/hits(\/\d+)?(\?.*)?$/);
    });

    await step('a lost session (401) brings the login dialog back', async () => {
      await context.clearCookies();
      await page.locator('a[data-nav=clusters]').click();
      await waitLoginDialog(page, 'after the cookie is cleared');
      await logIn(page, TOKEN_EXAMINER, 'examiner');
      await page.locator('[data-testid=clusters-graph]').waitFor()
        .catch(async () => fail(`clusters view did not reload after the login (error shown: ${await errorShown(page)})`));
    });

    if (pageErrors.length) fail(`uncaught page errors: ${pageErrors.map((e) => e.message).join(' | ')}`);
    if (blocked.length) console.log(`  note: blocked ${blocked.length} non-loopback request(s): ${blocked.slice(0, 5).join(', ')}`);
    if (consoleErrors.length) console.log(`  note: ${consoleErrors.length} console error(s) logged above`);
  } finally {
    await browser.close().catch(() => {});
  }
}

const overall = setTimeout(() => { console.error('login.test: FAIL: the whole run took over 5 minutes'); process.exit(1); }, 300_000);
main().then(() => {
  clearTimeout(overall);
  console.log('login.test: PASS');
  process.exit(0);
}, (err) => {
  clearTimeout(overall);
  console.error(`login.test: FAIL in step '${stepName}': ${err instanceof TestFailure ? err.message : err.stack || err}`);
  process.exit(1);
});
