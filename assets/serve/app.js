// scratchnet serve: the single-page app over a folder of training runs — utilities, the API,
// the router and the start. Routes: #/ · #/run/<id> · #/study/<id> · #/new · #/draw · #/inside/<id>
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html; this one last.
'use strict';

// ---------------------------------------------------------------- utilities

const $ = (sel, root = document) => root.querySelector(sel);
const app = () => document.getElementById('app');

/** Escapes a value for HTML text and attributes (ids come from folder names). */
function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** A run id as a URL path: each `/`-separated segment encoded. */
function encId(id) { return String(id).split('/').map(encodeURIComponent).join('/'); }
function decId(path) { return path.split('/').map(decodeURIComponent).join('/'); }

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const fmtAcc = (v) => (isNum(v) ? v.toFixed(4) : '—');
const fmtSec = (v) => (isNum(v) ? `${v.toFixed(1)} s` : '—');
const fmtInt = (v) => (isNum(v) ? Math.round(v).toLocaleString('en-US') : '—');
const fmtLr = (v) => (isNum(v) ? String(+v.toPrecision(6)) : '—');
/** Short text for a number on an axis or in a tooltip. */
function fmtNum(v) {
  if (!isNum(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(4)}k`;
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  return String(+v.toPrecision(4));
}
function fmtTime(unix) {
  if (!isNum(unix)) return '—';
  const d = new Date(unix * 1000), p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function badge(state) { return `<span class="badge ${esc(state)}">${esc(state)}</span>`; }
function runLink(id, kind = 'run', label = id) { return `<a href="#/${kind === 'study' ? 'study' : 'run'}/${esc(encId(id))}">${esc(label)}</a>`; }
function setTitle(text) { document.title = `${text} · scratchnet`; }

// ---------------------------------------------------------------- token, API and the message area

initToken();
const token = () => sessionStorage.getItem('scratchnet-token') || '';

/** Reads `?token=` once, keeps it in sessionStorage and removes it from the address bar. */
function initToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem('scratchnet-token', fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', location.pathname + (query ? `?${query}` : '') + location.hash);
  }
}

/** fetch + JSON: adds X-Token to POSTs; a non-2xx `{error}` becomes a thrown Error, shown in #message. */
async function api(path, opts = {}) {
  const init = { ...opts, headers: { ...(opts.headers || {}) } };
  if (init.method && init.method !== 'GET') init.headers['X-Token'] = token();
  if ('json' in init) {
    init.body = JSON.stringify(init.json);
    init.headers['Content-Type'] = 'application/json';
    delete init.json;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw report(new Error(`cannot reach the server for ${path}: ${e.message}`));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    let msg = data && data.error ? data.error : `${res.status} ${res.statusText} from ${path}`;
    if (res.status === 401) msg += ' — open the address scratchnet serve printed (the one with ?token=…)';
    const err = new Error(msg);
    err.status = res.status;
    throw report(err);
  }
  return data;
}

function report(err) { showMessage(err.message); return err; }

function showMessage(text, kind = 'error') {
  const box = document.getElementById('message');
  box.className = `message ${kind}`;
  box.innerHTML = `<button type="button" class="dismiss" aria-label="dismiss" onclick="this.parentNode.hidden=true"></button>${esc(text)}`;
  box.hidden = false;
}
function hideMessage() { document.getElementById('message').hidden = true; }

/** A page that could not load says so in place (never a blank page). */
function failPage(what, err) {
  app().innerHTML = `<h1>${esc(what)}</h1><p class="message">Could not load: ${esc(err.message)}</p>
    <p><a href="#/">← all runs</a></p>`;
}

// ---------------------------------------------------------------- router

let navSeq = 0;            // bumps on every route change; async work checks it before drawing
let cleanups = [];         // closers of the current page (EventSource, timers)
const onLeave = (fn) => cleanups.push(fn);
const stale = (seq) => seq !== navSeq;

const ROUTES = [
  [/^\/?$/, pageRuns, 'runs'],
  [/^\/run\/(.+)$/, pageRun, 'runs'],
  [/^\/study\/(.+)$/, pageStudy, 'runs'],
  [/^\/inside\/(.+)$/, pageInside, 'runs'],
  [/^\/new\/?$/, pageNew, 'new'],
  [/^\/draw\/?$/, pageDraw, 'draw'],
];

function route() {
  cleanups.forEach((fn) => { try { fn(); } catch { /* already closed */ } });
  cleanups = [];
  navSeq += 1;
  hideMessage();
  hideTooltip();
  const path = location.hash.replace(/^#/, '') || '/';
  for (const [re, page, nav] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === nav));
    let arg;
    try { arg = m[1] === undefined ? undefined : decId(m[1]); } catch { break; }
    Promise.resolve(page(arg, navSeq)).catch((e) => failPage('Error', e));
    return;
  }
  setTitle('Not found');
  app().innerHTML = `<h1>Not found</h1><p>No page at <code>${esc(path)}</code>. <a href="#/">All runs</a></p>`;
}

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => { if (document.getElementById('overlay-loss')) { document.getElementById('dock').innerHTML = ''; renderDock(); } });
route();
