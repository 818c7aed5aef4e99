// Toolmark review UI: a single page, routed by location.hash.
//   #/queue[?status=&case=&jurisdiction=&kind=&min_score=&page=]   (default)
//   #/hit/ID     #/case/CASE     #/clusters
// API contract: docs/review.md. No build step; Panzoom and cytoscape come
// from /vendor/ as globals (see index.html).

const EXAMINER_KEY = 'toolmark.examiner';
const PAGE_SIZE = 100;
const DECISIONS = ['identification', 'inconclusive', 'elimination'];
const DECISION_KEYS = { i: 'identification', n: 'inconclusive', e: 'elimination' };

const $ = (sel, root = document) => root.querySelector(sel);
const view = $('#view');

// ---------------------------------------------------------------- helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

// opts.noLogin: a 401 does not open the login dialog (the caller handles it).
async function api(path, opts = {}) {
  const { noLogin = false, ...init } = opts;
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', ...init });
  } catch (e) {
    throw new ApiError(`cannot reach the server (${e.message})`, 0);
  }
  let body = null;
  const text = await res.text();
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    if (res.status === 401 && !noLogin) requireLogin(msg);
    throw new ApiError(msg, res.status);
  }
  if (body === null) throw new ApiError(`${path}: the server's answer is not JSON`, res.status);
  return body;
}

function fmtScore(v) {
  if (v == null || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function fmtLR(log10) {
  if (log10 == null) return 'not calibrated';
  return `LR 10^${(Math.round(log10 * 10) / 10).toFixed(1)}`;
}

function fmtNum(v, digits = 2) {
  return v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(digits);
}

function fmtTime(at) {
  if (!at) return '–';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  // UTC, as recorded; the examiner's local time in the tooltip.
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function fmtComparator(comparator, version) {
  if (version == null || version === '') return comparator ?? '–';
  const v = String(version);
  if (comparator && v.startsWith(comparator)) return v;           // "cmc-0.2.0"
  return `${comparator ?? '?'} ${/^\d/.test(v) ? `v${v}` : v}`;
}

const caseHref = (c) => `#/case/${encodeURIComponent(c)}`;
const hitHref = (id) => `#/hit/${id}`;

function caseLink(c) {
  return h('a', { href: caseHref(c), class: 'case-link', onclick: (e) => e.stopPropagation() }, c);
}

function statusBadge(status, attrs = {}) {
  return h('span', { class: `badge status-${status}`, ...attrs }, status);
}

// Query and candidate of different jurisdictions.
const QUICK_NOTE = 'quick score (shared at features level; no scan here)';
const isQuick = (hit) => hit.score_kind === 'quick';
function crossBorderBadge(hit) {
  if (!hit.cross_border) return null;
  const q = hit.query || {}, c = hit.candidate || {};
  return h('span', { class: 'badge cross-border', 'data-testid': 'cross-border',
    title: `cross-border: query of ${q.jurisdiction ?? '?'}, candidate of ${c.jurisdiction ?? '?'}` }, 'cross-border');
}
// Either scan has quality warnings (weak data, an assumed orientation).
function weakBadge(hit) {
  if (!hit.weak) return null;
  const notes = [...(hit.query?.quality_warnings || []).map((w) => `query: ${w}`),
    ...(hit.candidate?.quality_warnings || []).map((w) => `candidate: ${w}`)];
  return h('span', { class: 'badge weak', 'data-testid': 'weak', title: notes.join('\n') || 'a scan has quality warnings' }, 'weak');
}
function quickBadge(hit) {
  return isQuick(hit) ? h('span', { class: 'badge quick', 'data-testid': 'quick-score', title: QUICK_NOTE }, 'quick') : null;
}

function showError(msg) {
  const el = $('#error');
  if (!msg) { el.hidden = true; el.textContent = ''; return; }
  el.textContent = msg;
  el.hidden = false;
}

let toastTimer = 0;
function toast(msg) {
  const el = $('#toast');
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

function isTyping(ev) {
  const t = ev.target;
  if (!(t instanceof Element)) return false;
  return t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"], dialog[open]') != null;
}

// ---------------------------------------------------------------- examiner

const examinerInput = $('#examiner');
function examiner() { return (localStorage.getItem(EXAMINER_KEY) || '').trim(); }
function setExaminer(name) {
  name = (name || '').trim();
  if (name) localStorage.setItem(EXAMINER_KEY, name); else localStorage.removeItem(EXAMINER_KEY);
  if (examinerInput.value.trim() !== name) examinerInput.value = name;
}
examinerInput.value = examiner();
examinerInput.addEventListener('input', () => {
  const name = examinerInput.value.trim();
  if (name) localStorage.setItem(EXAMINER_KEY, name); else localStorage.removeItem(EXAMINER_KEY);
});
examinerInput.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === 'Escape') examinerInput.blur(); });

// Ask for the name once (when it is first needed); resolves to it or ''.
function askExaminer() {
  const dlg = $('#examiner-dialog');
  const input = $('#examiner-dialog-input');
  input.value = examiner();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      if (dlg.returnValue === 'ok' && input.value.trim()) {
        setExaminer(input.value);
        resolve(examiner());
      } else resolve('');
    }, { once: true });
    dlg.returnValue = '';
    $('#examiner-cancel').onclick = () => dlg.close('cancel');
    dlg.showModal();
    input.focus();
  });
}

// ---------------------------------------------------------------- session
// GET /api/me: who is logged in. `open` (a `serve --open` server: no logins)
// keeps the examiner-name field; with logins the examiner is the user.

const DECIDING_ROLES = new Set(['examiner', 'admin']);
let me = null;   // { name, role, jurisdiction, open } once known

const isOpen = () => !!(me && me.open);
const canDecide = () => !!me && (me.open || DECIDING_ROLES.has(me.role));

function renderWhoami() {
  const who = $('#whoami');
  const logged = !!me && !me.open;
  who.hidden = !logged;
  who.textContent = logged ? [me.name, me.role, me.jurisdiction].filter(Boolean).join(' · ') : '';
  who.title = logged ? `logged in as ${me.name} (${me.role}, jurisdiction ${me.jurisdiction})` : '';
  if (logged) who.dataset.role = me.role; else delete who.dataset.role;
  $('#logout').hidden = !logged;
  $('#examiner-field').hidden = !isOpen();
}

const loginDialog = $('#login-dialog');
const loginInput = $('#login-token');
const loginError = $('#login-error');
const loginSubmit = $('#login-submit');

function loginMessage(msg) {
  loginError.textContent = msg || '';
  loginError.hidden = !msg;
}

// Open the login dialog (once); `reason` is shown only when it is not the
// plain "not logged in" of a first visit.
function requireLogin(reason = '') {
  me = null;
  renderWhoami();
  current.key = null;
  if (!loginDialog.open) {
    loginMessage(reason);
    loginInput.value = '';
    loginSubmit.disabled = false;
    loginDialog.showModal();
  }
  loginInput.focus();
}

// Not dismissable: without a login there is nothing to show.
loginDialog.addEventListener('cancel', (e) => e.preventDefault());

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = loginInput.value.trim();
  if (!token) { loginMessage('Enter your token.'); return; }
  loginSubmit.disabled = true;
  loginMessage('');
  try {
    const who = await api('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token }),
      noLogin: true,
    });
    me = { open: false, ...who };
    // The cookie is set: confirm it (and learn `open`) from /api/me.
    try { me = await api('/api/me', { noLogin: true }); } catch { /* keep the session answer */ }
    loginInput.value = '';
    loginDialog.close();
    renderWhoami();
    route();
  } catch (err) {
    loginMessage(err.status === 401 ? `Login failed: ${err.message}` : err.message);
    loginInput.select();
  } finally {
    loginSubmit.disabled = false;
  }
});

$('#logout').addEventListener('click', async () => {
  try { await api('/api/session', { method: 'DELETE', noLogin: true }); }
  catch (e) { if (e.status !== 401) { showError(`Log out failed: ${e.message}`); return; } }
  if (current.cleanup) { try { current.cleanup(); } catch { /* ignore */ } }
  current = { key: null, cleanup: null };
  ++renderToken;
  view.replaceChildren(h('p', { class: 'empty' }, 'Logged out.'));
  showError('');
  requireLogin();
});

// ---------------------------------------------------------------- routing

let current = { key: null, cleanup: null };
let renderToken = 0;
let lastQueueHash = '#/queue';
let lastOpenedHit = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/queue';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || 'queue', arg: parts.slice(1).join('/'), params: new URLSearchParams(query) };
}

async function route() {
  const r = parseHash();
  const token = ++renderToken;
  if (current.cleanup) { try { current.cleanup(); } catch { /* ignore */ } }
  current = { key: null, cleanup: null };
  showError('');
  $('#toast').hidden = true;
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === r.name || (r.name === 'hit' && a.dataset.nav === 'queue'));
  }
  const ctx = { token, alive: () => token === renderToken, onCleanup: (fn) => { current.cleanup = fn; } };
  try {
    if (r.name === 'queue') { lastQueueHash = location.hash || '#/queue'; await renderQueue(r.params, ctx); }
    else if (r.name === 'hit') await renderHit(r.arg, ctx);
    else if (r.name === 'case') await renderCase(decodeURIComponent(r.arg), ctx);
    else if (r.name === 'clusters') await renderClusters(ctx);
    else { view.replaceChildren(h('p', { class: 'empty' }, `Unknown view “${r.name}”.`)); }
  } catch (e) {
    if (!ctx.alive()) return;
    if (e.status === 401) {   // the login dialog is open: the view reloads after it
      view.replaceChildren(h('p', { class: 'empty' }, 'Log in to see this view.'));
      return;
    }
    console.warn(e);
    view.replaceChildren(h('p', { class: 'empty' }, 'Could not load this view.'));
    showError(e.message || String(e));
  }
}

window.addEventListener('hashchange', route);

document.addEventListener('keydown', (ev) => {
  if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'Escape' && isTyping(ev) && !ev.target.closest('dialog')) {
    ev.target.blur();
    return;
  }
  if (isTyping(ev)) return;
  // Enter / space on a focused link or button belong to it.
  if ((ev.key === 'Enter' || ev.key === ' ') && ev.target instanceof Element && ev.target.closest('a, button')) return;
  if (current.key) current.key(ev);
});

// ---------------------------------------------------------------- queue

// A pair's score: this direction's, and the other direction's when the
// candidate was searched as the query too (one pair, one review).
function pairScore(hit) {
  if (!hit.reverse) return fmtScore(hit.score);
  return h('span', { 'data-testid': 'pair-score', title: `query → candidate ${fmtScore(hit.score)} · candidate → query ${fmtScore(hit.reverse.score)} (hit #${hit.reverse.id})` },
    `${fmtScore(hit.score)} / ${fmtScore(hit.reverse.score)}`);
}

function hitRow(hit, { onOpen } = {}) {
  const q = hit.query || {}, c = hit.candidate || {};
  const tr = h('tr', { 'data-testid': 'queue-row', 'data-hit-id': hit.id, class: 'row' },
    h('td', { class: 'num' }, h('a', { href: hitHref(hit.id), onclick: (e) => e.stopPropagation() }, `#${hit.id}`)),
    h('td', { class: 'num strong' }, quickBadge(hit), quickBadge(hit) ? ' ' : null, weakBadge(hit), hit.weak ? ' ' : null, pairScore(hit)),
    h('td', { class: hit.log10_lr == null ? 'muted' : '' }, fmtLR(hit.log10_lr)),
    h('td', { title: q.file || '' }, q.label ?? q.id),
    h('td', {}, q.case != null ? caseLink(q.case) : '–'),
    h('td', {}, q.jurisdiction ?? '–'),
    h('td', { title: c.file || '' }, c.label ?? c.id),
    h('td', {}, c.case != null ? caseLink(c.case) : '–'),
    h('td', {}, c.jurisdiction ?? '–', hit.cross_border ? ' ' : null, crossBorderBadge(hit)),
    h('td', {}, (q.kind || '').replace('_', ' ')),
    h('td', {}, statusBadge(hit.status)),
    h('td', { class: 'num muted' }, hit.decisions ?? 0),
  );
  tr.addEventListener('click', () => (onOpen ? onOpen(hit) : (location.hash = hitHref(hit.id))));
  return tr;
}

function hitTable(hits, opts = {}) {
  return h('table', { class: 'grid hits', 'data-testid': opts.testid || null },
    h('thead', {}, h('tr', {},
      h('th', { class: 'num' }, 'Hit'), h('th', { class: 'num' }, 'Score'), h('th', {}, 'LR'),
      h('th', {}, 'Query item'), h('th', {}, 'Case'), h('th', {}, 'Jurisdiction'),
      h('th', {}, 'Candidate item'), h('th', {}, 'Case'), h('th', {}, 'Jurisdiction'),
      h('th', {}, 'Kind'), h('th', {}, 'Status'), h('th', { class: 'num', title: 'decisions recorded' }, 'Dec.'))),
    h('tbody', {}, hits.map((x) => hitRow(x, opts))));
}

async function renderQueue(params, ctx) {
  const f = {
    status: params.get('status') || 'pending',
    case: params.get('case') || '',
    jurisdiction: params.get('jurisdiction') || '',
    kind: params.get('kind') || '',
    min_score: params.get('min_score') || '',
  };
  const page = Math.max(0, parseInt(params.get('page') || '0', 10) || 0);

  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== '') q.set(k, v);
  q.set('limit', PAGE_SIZE);
  q.set('offset', page * PAGE_SIZE);

  const apply = (changes) => {
    const next = { ...f, ...changes };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== '' && !(k === 'status' && v === 'pending')) p.set(k, v);
    if (changes.page) p.set('page', changes.page);
    const str = p.toString();
    location.hash = `#/queue${str ? `?${str}` : ''}`;
  };

  const textFilter = (name, label, placeholder) => h('label', {}, label,
    h('input', { type: name === 'min_score' ? 'number' : 'text', name, value: f[name], placeholder, step: name === 'min_score' ? 'any' : null,
      onchange: (e) => apply({ [name]: e.target.value.trim() }),
      onkeydown: (e) => { if (e.key === 'Enter') e.target.blur(); } }));

  const filters = h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
    h('label', {}, 'Status', h('select', { name: 'status', onchange: (e) => apply({ status: e.target.value }) },
      ['pending', ...DECISIONS, 'conflict', 'all'].map((v) => h('option', { value: v, selected: v === f.status }, v)))),
    textFilter('case', 'Case', 'any'),
    textFilter('jurisdiction', 'Jurisdiction', 'any'),
    h('label', {}, 'Kind', h('select', { name: 'kind', onchange: (e) => apply({ kind: e.target.value }) },
      [['', 'any'], ['cartridge_case', 'cartridge case'], ['bullet', 'bullet']].map(([v, t]) => h('option', { value: v, selected: v === f.kind }, t)))),
    textFilter('min_score', 'Min score', 'none'),
    h('button', { type: 'button', onclick: () => { location.hash = '#/queue'; } }, 'Reset'),
    h('span', { class: 'spacer' }),
    h('span', { class: 'muted keys' }, h('kbd', {}, 'j'), '/', h('kbd', {}, 'k'), ' move · ', h('kbd', {}, 'Enter'), ' open'),
  );
  view.replaceChildren(h('section', { class: 'queue' }, h('div', { class: 'view-head' }, h('h1', {}, 'Review queue')), filters, h('p', { class: 'muted' }, 'Loading…')));

  const data = await api(`/api/hits?${q}`);
  if (!ctx.alive()) return;
  const hits = data.hits || [];
  const total = data.total ?? hits.length;

  const table = hitTable(hits, { testid: 'queue-table' });
  const rows = [...table.querySelectorAll('tbody tr')];
  let sel = Math.max(0, rows.findIndex((r) => String(r.dataset.hitId) === String(lastOpenedHit)));
  const highlight = (i, scroll = true) => {
    if (!rows.length) return;
    sel = Math.min(rows.length - 1, Math.max(0, i));
    rows.forEach((r, j) => { r.classList.toggle('selected', j === sel); r.setAttribute('aria-selected', j === sel ? 'true' : 'false'); });
    if (scroll) rows[sel].scrollIntoView({ block: 'nearest' });
  };
  rows.forEach((r, j) => r.addEventListener('mouseenter', () => highlight(j, false)));

  const pages = Math.ceil(total / PAGE_SIZE);
  const pager = pages > 1 ? h('div', { class: 'pager' },
    h('button', { disabled: page === 0, onclick: () => apply({ page: String(page - 1) }) }, '‹ Previous'),
    h('span', {}, ` page ${page + 1} of ${pages} `),
    h('button', { disabled: page + 1 >= pages, onclick: () => apply({ page: String(page + 1) }) }, 'Next ›')) : null;

  view.replaceChildren(h('section', { class: 'queue' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Review queue'),
      h('span', { class: 'muted' }, `${total} hit${total === 1 ? '' : 's'} · ${f.status}`)),
    filters,
    hits.length ? table : h('p', { class: 'empty' }, f.status === 'pending' ? 'No pending hits: the queue is empty.' : 'No hits match these filters.'),
    pager));
  highlight(sel, true);

  current.key = (ev) => {
    if (ev.key === 'j' || ev.key === 'ArrowDown') { highlight(sel + 1); ev.preventDefault(); }
    else if (ev.key === 'k' || ev.key === 'ArrowUp') { highlight(sel - 1); ev.preventDefault(); }
    else if (ev.key === 'Home') { highlight(0); ev.preventDefault(); }
    else if (ev.key === 'End') { highlight(rows.length - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' && rows[sel]) { ev.preventDefault(); location.hash = hitHref(rows[sel].dataset.hitId); }
  };
}

// ---------------------------------------------------------------- hit page

let imageStyle = sessionStorage.getItem('toolmark.style') === 'colour' ? 'colour' : 'relief';

function kv(label, value, attrs = {}) {
  return [h('dt', {}, label), h('dd', attrs, value)];
}

function itemBlock(title, ref) {
  if (!ref) return h('div', { class: 'item' }, h('h3', {}, title), '–');
  const o = ref.orientation;
  const turned = o && o.stored_as && o.stored_as !== 'upright'
    ? `turned upright from ${o.stored_as}${o.settled ? '' : ' (assumed)'}` : null;
  const warnings = ref.quality_warnings || [];
  return h('div', { class: 'item' },
    h('h3', {}, title),
    h('div', { class: 'item-label', title: ref.file || '' }, ref.label ?? `item ${ref.id}`),
    h('div', { class: 'muted' }, 'case ', caseLink(ref.case), ' · ', ref.jurisdiction, ' · ', ref.role || '', ' · item ', String(ref.id)),
    h('div', { class: 'muted small', 'data-testid': 'scan-quality' },
      'scan quality: ', h('span', { class: `quality quality-${ref.quality || 'none'}` }, ref.quality || 'not assessed'),
      turned ? ` · ${turned}` : null),
    warnings.length ? h('ul', { class: 'quality-warnings', 'data-testid': 'quality-warnings' },
      ...warnings.map((w) => h('li', {}, w))) : null);
}

function drawCells(svg, ex, side) {
  svg.replaceChildren();
  const w = ex.width, ht = ex.height, sp = ex.spacing_um;
  if (!(w > 0 && ht > 0 && sp > 0)) return;
  svg.setAttribute('viewBox', `0 0 ${w} ${ht}`);
  for (const c of ex.cells || []) {
    const sidePx = c.side_px != null ? c.side_px : c.side_um / sp;
    // Cell centres are in µm from the top-left pixel's centre; SVG pixel i spans [i, i+1].
    // Image pixels from the image's top-left corner (the server's x_px/y_px
    // account for its scaling); x_um/spacing_um as a fallback.
    let cx = c.x_px != null ? c.x_px : c.x_um / sp + 0.5, cy = c.y_px != null ? c.y_px : c.y_um / sp + 0.5;
    if (side === 'candidate') {
      cx += c.dx_px != null ? c.dx_px : (c.dx_um || 0) / sp;
      cy += c.dy_px != null ? c.dy_px : (c.dy_um || 0) / sp;
    }
    const r = s('rect', {
      x: cx - sidePx / 2, y: cy - sidePx / 2, width: sidePx, height: sidePx,
      class: c.congruent ? 'cell congruent' : 'cell', 'vector-effect': 'non-scaling-stroke',
    });
    const t = s('title');
    t.textContent = `${c.congruent ? 'congruent' : 'not congruent'} · CCF ${fmtNum(c.ccf, 3)} · shift ${fmtNum(c.dx_um, 1)}, ${fmtNum(c.dy_um, 1)} µm`;
    r.append(t);
    svg.append(r);
  }
}

function landMatrix(ex) {
  const matched = new Set((ex.matched || []).map(([r, c]) => `${r},${c}`));
  const la = ex.lands_a || [], lb = ex.lands_b || [];
  return h('table', { class: 'grid matrix' },
    h('thead', {}, h('tr', {}, h('th', {}, 'A \\ B'), lb.map((l) => h('th', { class: 'num' }, l)))),
    h('tbody', {}, (ex.matrix || []).map((row, i) => h('tr', {}, h('th', {}, la[i] ?? i),
      row.map((v, j) => h('td', { class: `num${matched.has(`${i},${j}`) ? ' matched' : ''}` }, fmtNum(v, 2)))))));
}

function historyTable(history) {
  const named = new Set(history.map((d) => d.supersedes).filter((x) => x != null));
  if (!history.length) return h('p', { class: 'muted', 'data-testid': 'history-empty' }, 'No decisions yet.');
  return h('div', { class: 'history-wrap' }, h('table', { class: 'grid history', 'data-testid': 'history' },
    h('thead', {}, h('tr', {}, h('th', {}, 'At (UTC) · examiner · note'), h('th', {}, 'Decision'), h('th', {}, 'Made on'))),
    h('tbody', {}, history.slice().reverse().map((d, i) => {
      const isCurrent = i === 0 && !named.has(d.id);
      return h('tr', { 'data-testid': 'history-row', 'data-decision': d.decision, 'data-decision-id': d.id, class: isCurrent ? 'current' : 'superseded',
        title: `decision #${d.id}${d.supersedes != null ? ` supersedes #${d.supersedes}` : ''} · ${fmtComparator(d.comparator, d.version)} · Toolmark ${d.toolmark_version}${d.calibration ? ` · calibration ${d.calibration}` : ''}` },
      h('td', { class: 'note-cell' },
        h('div', { class: 'nowrap', title: new Date(d.at).toString() }, fmtTime(d.at)),
        h('div', { class: 'strong' }, d.examiner),
        d.note ? h('div', { class: 'note' }, d.note) : null),
      h('td', {}, statusBadge(d.decision), h('div', { class: 'muted small' }, isCurrent ? 'current' : 'superseded')),
      h('td', { class: 'nowrap' }, h('div', {}, `score ${fmtScore(d.score)}`), h('div', { class: 'muted small' }, fmtLR(d.log10_lr))));
    }))));
}

async function renderHit(idStr, ctx, keepNote = '', navFallback = null) {
  const id = parseInt(idStr, 10);
  if (!(id > 0) || String(id) !== idStr) throw new Error(`“${idStr}” is not a hit id`);
  if (!view.querySelector(`[data-testid=hit-page][data-hit-id="${id}"]`)) {
    view.replaceChildren(h('p', { class: 'muted' }, `Loading hit #${id}…`));
  }
  const hit = await api(`/api/hits/${id}`);
  if (!ctx.alive()) return;
  lastOpenedHit = id;
  // Once decided, a hit leaves the pending queue and the server may give no
  // neighbours: keep the ones it had before the decision.
  if (navFallback) {
    if (hit.next == null && navFallback.next !== id) hit.next = navFallback.next ?? null;
    if (hit.previous == null && navFallback.previous !== id) hit.previous = navFallback.previous ?? null;
  }
  // A quick score has no scan on one side: its images / explain / plot
  // routes answer 400, so none is requested.
  const quick = isQuick(hit);
  let explain = null, explainError = null;
  if (hit.explain && !quick) {
    try { explain = await api(hit.explain); } catch (e) { explainError = e.message; }
    if (!ctx.alive()) return;
  }
  const isBullet = explain ? explain.kind === 'bullet' : (hit.query && hit.query.kind === 'bullet');
  const images = hit.images || {};

  // --- the two surfaces
  const panes = {};
  const makePane = (side, title, ref) => {
    const img = h('img', { 'data-testid': side === 'query' ? 'img-query' : 'img-candidate', alt: `${side} surface`, draggable: 'false' });
    const svg = s('svg', { 'data-testid': 'cells-overlay', 'data-side': side, class: 'overlay', preserveAspectRatio: 'none' });
    const stage = h('div', { class: 'stage' }, img, svg);
    const frame = h('div', { class: 'frame' }, stage);
    const msg = h('div', { class: 'img-msg', hidden: true });
    img.addEventListener('error', () => { msg.hidden = false; msg.textContent = `${side} image failed to load`; });
    img.addEventListener('load', () => {
      msg.hidden = true;
      if (img.naturalWidth > 0 && !(explain && explain.kind === 'cartridge_case' && explain.width > 0)) {
        frame.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
      }
      if (!explain || explain.kind !== 'cartridge_case') svg.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    });
    const src = images[side] && (images[side][imageStyle] || images[side].relief);
    if (src) img.src = src; else { msg.hidden = false; msg.textContent = 'no image'; }
    if (explain && explain.kind === 'cartridge_case') {
      drawCells(svg, explain, side);
      if (explain.width > 0 && explain.height > 0) frame.style.aspectRatio = `${explain.width} / ${explain.height}`;
    }
    panes[side] = { img, svg, stage, frame };
    return h('div', { class: 'pane' },
      h('div', { class: 'pane-head' }, h('strong', {}, title), ' ', ref ? h('span', { class: 'muted' }, `${ref.label ?? ref.id} · ${ref.case} · ${ref.jurisdiction}`) : null),
      frame, msg);
  };

  const styleBtn = h('button', { type: 'button', title: 'relief / false colour (r)', onclick: () => toggleStyle() },
    imageStyle === 'relief' ? 'False colour' : 'Relief', ' ', h('kbd', {}, 'r'));
  const cellsToggle = h('input', { type: 'checkbox', checked: true, onchange: (e) => {
    for (const p of Object.values(panes)) p.svg.style.display = e.target.checked ? '' : 'none';
  } });
  const congruentCount = explain && explain.cells ? explain.cells.filter((c) => c.congruent).length : null;
  const viewerBar = h('div', { class: 'viewer-bar' },
    styleBtn,
    h('button', { type: 'button', title: 'zoom in (+)', onclick: () => pz.query && pz.query.zoomIn() }, '+'),
    h('button', { type: 'button', title: 'zoom out (-)', onclick: () => pz.query && pz.query.zoomOut() }, '−'),
    h('button', { type: 'button', title: 'reset view (0)', onclick: () => pz.query && pz.query.reset() }, 'Reset'),
    !isBullet ? h('label', { class: 'check' }, cellsToggle, ' cells') : null,
    congruentCount != null ? h('span', { class: 'muted' }, h('span', { class: 'swatch congruent' }), ` ${congruentCount} congruent of ${explain.cells.length} cells`) : null,
    explainError ? h('span', { class: 'warn' }, `explain: ${explainError}`) : null,
    explain && explain.reproduced === false ? h('span', { class: 'warn', title: 'the comparator re-run on the stored scans' },
      `recomputed score ${fmtScore(explain.score)} ≠ recorded ${fmtScore(explain.recorded_score ?? hit.score)}`) : null,
    h('span', { class: 'spacer' }),
    h('span', { class: 'muted' }, 'wheel: zoom · drag: pan (both sides)'));

  const viewer = quick
    ? h('div', { class: 'quick-note', 'data-testid': 'quick-note' },
      h('strong', {}, QUICK_NOTE),
      h('p', { class: 'muted' }, `The candidate was shared by ${hit.candidate?.jurisdiction ?? 'another jurisdiction'} as features only: `
        + 'the score is a screening score, not a full comparison, and there are no surfaces or cells to show. '
        + 'Ask that jurisdiction for the scan (an evidence package) for a full comparison.'))
    : h('div', { class: 'viewer' }, makePane('query', 'Query', hit.query), makePane('candidate', 'Candidate', hit.candidate));

  const plot = hit.plot && !quick ? h('figure', { class: `plot${isBullet ? ' bullet' : ''}` },
    h('figcaption', {}, isBullet ? 'Land score matrix and aligned signatures' : 'Comparison plot', ' · ', h('a', { href: hit.plot, target: '_blank', rel: 'noopener' }, 'open PNG')),
    h('img', { src: hit.plot, alt: 'comparison plot', 'data-testid': 'plot', loading: isBullet ? 'eager' : 'lazy' })) : null;

  const bulletBox = isBullet && explain && explain.kind === 'bullet' ? h('div', { class: 'bullet-box' },
    h('h3', {}, `Land scores · phase ${explain.phase ?? '–'} · bullet score ${fmtScore(explain.score)}`), landMatrix(explain)) : null;

  // --- side panel
  const tr = hit.translation_um || [];
  const meta = h('dl', { class: 'meta' },
    kv('Score', [h('strong', {}, fmtScore(hit.score)), quick ? h('span', { class: 'muted' }, ` · ${QUICK_NOTE}`) : null]),
    kv('Likelihood ratio', fmtLR(hit.log10_lr), { class: hit.log10_lr == null ? 'muted' : 'strong', title: hit.log10_lr == null ? '' : `log10 LR = ${hit.log10_lr}` }),
    kv('Calibration', hit.calibration || 'none', { class: hit.calibration ? '' : 'muted' }),
    hit.reverse ? kv('Other direction', `score ${fmtScore(hit.reverse.score)} · ${fmtLR(hit.reverse.log10_lr)} · rank ${hit.reverse.rank ?? '–'} (hit #${hit.reverse.id}, candidate as the query)`,
      { 'data-testid': 'reverse', title: 'both items were correlated: the pair is one review, its decisions are shared' }) : [],
    kv('Rank', hit.rank ?? '–'),
    kv('Similarity', fmtNum(hit.similarity, 3)),
    !isBullet ? kv('Registration', `rotation ${fmtNum(hit.rotation_deg, 2)}° · shift ${fmtNum(tr[0], 1)}, ${fmtNum(tr[1], 1)} µm`) : [],
    kv('Comparator', fmtComparator(hit.comparator, hit.version)),
    kv('Recorded', fmtTime(hit.created_at)),
  );

  // The numbers behind a cartridge-case score (explain.features: docs/cmc.md).
  const f = explain && explain.features ? explain.features : null;
  const features = f ? h('dl', { class: 'meta features', 'data-testid': 'features' },
    kv('CMC k of n', `${f.cmc_count} of ${f.cells_compared} cells`),
    kv('Surface correlation', fmtNum(f.surface_ccf, 3), { title: 'the cells correlated at the congruent cells\' common registration' }),
    kv('Cell correlation (median)', fmtNum(f.cell_ccf_median, 3)),
    kv('Congruent cells (mean ccf)', fmtNum(f.congruent_ccf_mean, 3)),
    kv('Registration spread', `${fmtNum(f.fit_rms_um, 1)} µm · directions ${fmtNum(f.rotation_disagreement_deg, 1)}° apart`),
    kv('Firing pin', f.firing_pin_sectors == null ? 'not compared' : `${f.firing_pin_sectors} sectors · ccf ${fmtNum(f.firing_pin_ccf, 2)}`)) : null;

  const mayDecide = canDecide();
  const note = h('textarea', { 'data-testid': 'note', id: 'note', rows: 3, placeholder: 'Note (recorded with the decision)…' });
  note.value = keepNote;
  const btns = {};
  const decisionRow = h('div', { class: 'decisions' }, DECISIONS.map((d) => {
    btns[d] = h('button', { type: 'button', class: `decide ${d}`, 'data-testid': `decision-${d}`, title: `${d} (key ${d === 'inconclusive' ? 'n' : d[0]})`,
      disabled: !mayDecide, onclick: () => decide(d) },
      d[0].toUpperCase() + d.slice(1));
    return btns[d];
  }));
  const roleNote = mayDecide ? null
    : h('p', { class: 'role-note', 'data-testid': 'role-note' }, `your role (${me ? me.role : 'unknown'}) cannot record decisions`);
  if (!mayDecide) note.disabled = true;

  const status = statusBadge(hit.status, { 'data-testid': 'status', 'data-status': hit.status });
  const nav = h('div', { class: 'hit-nav' },
    h('a', { href: lastQueueHash, class: 'button', title: 'back to the queue (Esc)' }, '← Queue'),
    h('button', { type: 'button', disabled: hit.previous == null, title: 'previous pending hit ([)', onclick: () => { if (hit.previous != null) location.hash = hitHref(hit.previous); } }, '‹ Prev ', h('kbd', {}, '[')),
    h('button', { type: 'button', disabled: hit.next == null, title: 'next pending hit (])', onclick: () => { if (hit.next != null) location.hash = hitHref(hit.next); } }, 'Next › ', h('kbd', {}, ']')));

  const page = h('section', { class: 'hit', 'data-testid': 'hit-page', 'data-hit-id': hit.id },
    h('div', { class: 'view-head' },
      h('h1', {}, `Hit #${hit.id}`), status, crossBorderBadge(hit), quickBadge(hit), weakBadge(hit),
      h('span', { class: 'muted' }, `${(hit.query?.kind || '').replace('_', ' ')} · ${hit.decisions ?? (hit.history || []).length} decision${(hit.decisions ?? 0) === 1 ? '' : 's'}`),
      h('span', { class: 'spacer' }), nav),
    h('div', { class: 'hit-layout' },
      quick ? h('div', { class: 'hit-main' }, viewer)
        : isBullet ? h('div', { class: 'hit-main' }, bulletBox, plot, viewerBar, viewer)
        : h('div', { class: 'hit-main' }, viewerBar, viewer, plot),
      h('aside', { class: 'hit-side' },
        h('div', { class: 'items' }, itemBlock('Query', hit.query), itemBlock('Candidate', hit.candidate)),
        meta,
        features ? h('h2', {}, 'Behind the score') : null,
        features,
        h('div', { class: 'decide-box' },
          h('h2', {}, 'Decision'),
          note,
          decisionRow,
          roleNote,
          h('p', { class: 'muted small' }, 'Keys: ', h('kbd', {}, 'i'), ' identification · ', h('kbd', {}, 'n'), ' inconclusive · ', h('kbd', {}, 'e'), ' elimination · ', h('kbd', {}, 'Esc'), ' queue')),
        h('h2', {}, 'History'),
        historyTable(hit.history || []))));
  view.replaceChildren(page);

  // --- synchronised zoom / pan
  const pz = {};
  const cleanups = [];
  if (quick) {
    // nothing to zoom
  } else if (typeof window.Panzoom === 'function') {
    for (const side of ['query', 'candidate']) {
      const p = panes[side];
      pz[side] = window.Panzoom(p.stage, { maxScale: 24, minScale: 1, contain: 'outside', step: 0.25 });
      const wheel = (e) => pz[side].zoomWithWheel(e);
      p.frame.addEventListener('wheel', wheel, { passive: false });
      cleanups.push(() => { p.frame.removeEventListener('wheel', wheel); pz[side].destroy(); });
    }
    const link = (from, to) => panes[from].stage.addEventListener('panzoomchange', (e) => {
      const { x, y, scale } = e.detail;
      pz[to].zoom(scale, { silent: true, animate: false, force: true });
      pz[to].pan(x, y, { silent: true, animate: false, force: true });
    });
    link('query', 'candidate');
    link('candidate', 'query');
  } else {
    showError('zoom unavailable: /vendor/@panzoom/panzoom did not load');
  }

  function toggleStyle() {
    imageStyle = imageStyle === 'relief' ? 'colour' : 'relief';
    sessionStorage.setItem('toolmark.style', imageStyle);
    for (const side of ['query', 'candidate']) {
      const src = images[side] && images[side][imageStyle];
      if (src && panes[side]) panes[side].img.src = src;
    }
    styleBtn.firstChild.textContent = imageStyle === 'relief' ? 'False colour' : 'Relief';
  }

  let busy = false;
  async function decide(decision) {
    if (busy) return;
    if (!canDecide()) {
      showError(`your role (${me ? me.role : 'unknown'}) cannot record decisions`);
      return;
    }
    // With logins the server records the logged-in user; the name field is
    // only for an open (loopback workstation) server.
    let who = me && !me.open ? me.name : examiner();
    if (!who) {
      who = await askExaminer();
      if (!who) { showError('A decision needs the examiner’s name.'); return; }
    }
    busy = true;
    for (const b of Object.values(btns)) b.disabled = true;
    showError('');
    try {
      const d = await api(`/api/hits/${hit.id}/decisions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ decision, examiner: who, note: note.value }),
      });
      if (!ctx.alive()) return;
      toast(`Recorded ${d.decision || decision} on hit #${hit.id}`);
      const scroll = window.scrollY;
      if (current.cleanup) { try { current.cleanup(); } catch { /* ignore */ } current.cleanup = null; }
      await renderHit(String(hit.id), ctx, '', { next: hit.next, previous: hit.previous });
      window.scrollTo(0, scroll);
    } catch (e) {
      if (!ctx.alive()) return;
      showError(`Decision not recorded: ${e.message}`);
      busy = false;
      for (const b of Object.values(btns)) b.disabled = !canDecide();
    }
  }

  current.key = (ev) => {
    const k = ev.key;
    if (DECISION_KEYS[k]) {
      ev.preventDefault();
      if (canDecide()) decide(DECISION_KEYS[k]);
      else toast(`your role (${me ? me.role : 'unknown'}) cannot record decisions`);
    }
    else if (k === ']' && hit.next != null) { ev.preventDefault(); location.hash = hitHref(hit.next); }
    else if (k === '[' && hit.previous != null) { ev.preventDefault(); location.hash = hitHref(hit.previous); }
    else if (k === 'r') { ev.preventDefault(); toggleStyle(); }
    else if (k === 'Escape') { ev.preventDefault(); location.hash = lastQueueHash; }
    else if ((k === '+' || k === '=') && pz.query) { ev.preventDefault(); pz.query.zoomIn(); }
    else if (k === '-' && pz.query) { ev.preventDefault(); pz.query.zoomOut(); }
    else if (k === '0' && pz.query) { ev.preventDefault(); pz.query.reset(); }
  };
  ctx.onCleanup(() => cleanups.forEach((fn) => fn()));
}

// ---------------------------------------------------------------- case view

function clusterLabel(ref) {
  return `${ref.case} / ${ref.label ?? ref.id} (${ref.jurisdiction})`;
}

async function renderCase(caseId, ctx) {
  view.replaceChildren(h('p', { class: 'muted' }, `Loading case ${caseId}…`));
  const [data, links] = await Promise.all([
    api(`/api/cases/${encodeURIComponent(caseId)}`),
    api('/api/links').catch(() => ({ clusters: [] })),
  ]);
  if (!ctx.alive()) return;
  const ids = new Set(data.clusters || []);
  const clusters = (links.clusters || []).filter((c) => ids.has(c.id));
  const items = data.items || [];
  const hits = data.hits || [];
  view.replaceChildren(h('section', { class: 'case', 'data-testid': 'case-page', 'data-case': data.case },
    h('div', { class: 'view-head' }, h('h1', {}, `Case ${data.case}`),
      h('span', { class: 'muted' }, `${items.length} item${items.length === 1 ? '' : 's'} · ${hits.length} hit${hits.length === 1 ? '' : 's'} · ${ids.size} cluster${ids.size === 1 ? '' : 's'}`),
      h('span', { class: 'spacer' }), h('a', { href: `#/queue?status=all&case=${encodeURIComponent(data.case)}`, class: 'button' }, 'Queue for this case')),
    h('h2', {}, 'Items'),
    h('table', { class: 'grid', 'data-testid': 'case-items' },
      h('thead', {}, h('tr', {}, ['Id', 'Label', 'Jurisdiction', 'Kind', 'Role', 'File'].map((t) => h('th', {}, t)))),
      h('tbody', {}, items.map((it) => h('tr', { 'data-item-id': it.id },
        h('td', { class: 'num' }, it.id), h('td', {}, it.label), h('td', {}, it.jurisdiction),
        h('td', {}, (it.kind || '').replace('_', ' ')), h('td', {}, it.role), h('td', { class: 'muted' }, it.file))))),
    h('h2', {}, 'Hits'),
    hits.length ? hitTable(hits, { testid: 'case-hits' }) : h('p', { class: 'empty' }, 'No hits involve this case.'),
    h('h2', {}, 'Clusters'),
    ids.size ? clusterList(clusters.length ? clusters : [...ids].map((id) => ({ id, items: [], cases: [], jurisdictions: [], edges: [] })))
      : h('p', { class: 'empty' }, 'No item of this case is linked by an identification.')));
  // Hit rows inside the case view are not the queue: drop the queue's row hook.
  for (const r of view.querySelectorAll('[data-testid=case-hits] [data-testid=queue-row]')) r.setAttribute('data-testid', 'case-hit-row');
}

// ---------------------------------------------------------------- clusters

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
const clusterColour = (id) => PALETTE[(id - 1) % PALETTE.length];

function clusterList(clusters) {
  return h('ol', { class: 'cluster-list', id: 'cluster-list', 'data-testid': 'cluster-list' }, clusters.map((c) => h('li', { class: 'cluster', 'data-cluster-id': c.id },
    h('div', { class: 'cluster-head' },
      h('span', { class: 'swatch', style: `background:${clusterColour(c.id)}` }),
      h('strong', {}, `Cluster ${c.id}`),
      h('span', { class: 'muted' }, ` · ${c.items.length} items · cases `), ...(c.cases || []).flatMap((x, i) => [i ? ', ' : '', caseLink(x)]),
      h('span', { class: 'muted' }, ` · jurisdictions ${(c.jurisdictions || []).join(', ')}`)),
    h('ul', { class: 'cluster-items' }, c.items.map((it) => h('li', { 'data-testid': 'cluster-item', 'data-item-id': it.id, 'data-cluster-id': c.id },
      clusterLabel(it)))),
    c.edges && c.edges.length ? h('div', { class: 'muted small' }, 'identifications: ',
      ...c.edges.flatMap((e, i) => [i ? ', ' : '', h('a', { href: hitHref(e.hit) }, `hit #${e.hit}`), ` (${e.a}–${e.b})`])) : null)));
}

async function renderClusters(ctx) {
  view.replaceChildren(h('p', { class: 'muted' }, 'Loading links…'));
  const data = await api('/api/links');
  if (!ctx.alive()) return;
  const clusters = data.clusters || [];
  const graph = h('div', { id: 'clusters-graph', class: 'graph', 'data-testid': 'clusters-graph' });
  view.replaceChildren(h('section', { class: 'clusters' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Linked items'),
      h('span', { class: 'muted' }, `${clusters.length} cluster${clusters.length === 1 ? '' : 's'} · boxes group items by case · edges are identifications (click to open the hit)`)),
    h('div', { class: 'clusters-layout' },
      graph,
      h('div', { class: 'cluster-side' }, clusters.length ? clusterList(clusters)
        : h('p', { class: 'empty' }, 'No links yet: an identification links its query item and its candidate.')))));
  if (!clusters.length) { graph.append(h('p', { class: 'empty' }, 'No linked items.')); return; }
  if (typeof window.cytoscape !== 'function') { showError('graph unavailable: /vendor/cytoscape did not load'); return; }

  const elements = [];
  const cases = new Set();
  for (const c of clusters) {
    for (const it of c.items) {
      const parent = `case:${it.case}`;
      if (!cases.has(it.case)) { cases.add(it.case); elements.push({ data: { id: parent, label: `case ${it.case}`, isCase: 1 } }); }
      elements.push({ data: { id: `item:${it.id}`, parent, label: clusterLabel(it), colour: clusterColour(c.id), cluster: c.id, item: it.id } });
    }
    for (const e of c.edges || []) {
      elements.push({ data: { id: `hit:${e.hit}`, source: `item:${e.a}`, target: `item:${e.b}`, label: `hit ${e.hit}`, colour: clusterColour(c.id), hit: e.hit } });
    }
  }
  const cy = window.cytoscape({
    container: graph,
    elements,
    wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: { 'background-color': 'data(colour)', label: 'data(label)', 'font-size': 10, color: '#222', 'text-valign': 'bottom', 'text-margin-y': 4, width: 16, height: 16, 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-background-padding': 1 } },
      { selector: 'node[isCase]', style: { 'background-color': '#f3f5f8', 'background-opacity': 1, 'border-color': '#b8c0cc', 'border-width': 1, shape: 'round-rectangle', label: 'data(label)', 'text-valign': 'top', 'text-halign': 'center', 'font-size': 11, 'font-weight': 'bold', color: '#445', padding: 14 } },
      { selector: 'edge', style: { 'line-color': 'data(colour)', width: 2.5, label: 'data(label)', 'font-size': 9, color: '#333', 'curve-style': 'bezier', 'text-background-color': '#fff', 'text-background-opacity': 0.85, 'text-background-padding': 1 } },
      { selector: ':selected', style: { 'border-width': 3, 'border-color': '#111' } },
    ],
    layout: { name: 'cose', animate: false, padding: 40, nodeRepulsion: 12000, idealEdgeLength: 160, randomize: false },
  });
  // A small graph should not be blown up to fill the panel.
  if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
  cy.on('tap', 'edge', (e) => { location.hash = hitHref(e.target.data('hit')); });
  cy.on('tap', 'node', (e) => {
    const d = e.target.data();
    const c = d.isCase ? d.id.slice(5) : null;
    if (c) location.hash = caseHref(c);
  });
  window.__toolmarkGraph = cy; // for tests and debugging
  ctx.onCleanup(() => { cy.destroy(); if (window.__toolmarkGraph === cy) delete window.__toolmarkGraph; });
}

// ---------------------------------------------------------------- start

api('/api/health').then((x) => { $('#version').textContent = x.version ? `v${x.version}` : ''; }).catch(() => {});

(async () => {
  try {
    me = await api('/api/me', { noLogin: true });
  } catch (e) {
    if (e.status === 401) { requireLogin(); return; }
    // A server without /api/me (before logins) acts as an open one.
    if (e.status === 404) me = { name: '', role: 'admin', jurisdiction: '', open: true };
    else { showError(`who am I: ${e.message}`); me = null; }
  }
  renderWhoami();
  route();
})();
