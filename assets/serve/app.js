// scratchnet serve: the single-page app over a folder of training runs.
// Plain ES2020, no build step. Routes: #/ · #/run/<id> · #/study/<id> · #/new · #/draw · #/inside/<id>
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

// ---------------------------------------------------------------- charts (SVG by hand)

const MARGIN = { l: 58, r: 16, t: 12, b: 42 };

function niceStep(span, count) {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}
function linearTicks(lo, hi, count = 6) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) { const v = m * 10 ** e; if (v >= lo * 0.999 && v <= hi * 1.001) out.push(+v.toPrecision(6)); }
  }
  return out.length > 10 ? out.filter((v) => Math.log10(v) % 1 === 0) : out;
}
function scale(lo, hi, a, b, log) {
  if (log) { const l0 = Math.log10(lo), l1 = Math.log10(hi); return (v) => a + ((Math.log10(v) - l0) / (l1 - l0 || 1)) * (b - a); }
  return (v) => a + ((v - lo) / (hi - lo || 1)) * (b - a);
}
function unscale(lo, hi, a, b, log) {
  if (log) { const l0 = Math.log10(lo), l1 = Math.log10(hi); return (p) => 10 ** (l0 + ((p - a) / (b - a)) * (l1 - l0)); }
  return (p) => lo + ((p - a) / (b - a)) * (hi - lo);
}

/** Axes, grid, ticks and labels for a plot box; returns the scales and the SVG text. */
function axes(W, H, x, y, opts) {
  const pw = W - MARGIN.l - MARGIN.r, ph = H - MARGIN.t - MARGIN.b;
  const sx = scale(x[0], x[1], MARGIN.l, MARGIN.l + pw, opts.logX);
  const sy = scale(y[0], y[1], MARGIN.t + ph, MARGIN.t, false);
  const xt = opts.logX ? logTicks(x[0], x[1]) : linearTicks(x[0], x[1], Math.max(2, Math.floor(pw / 80)));
  const yt = linearTicks(y[0], y[1], Math.max(2, Math.floor(ph / 45)));
  const p = ['<g class="grid">'];
  for (const v of yt) p.push(`<line x1="${MARGIN.l}" x2="${MARGIN.l + pw}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}"/>`);
  p.push('</g><g class="axis">');
  p.push(`<line x1="${MARGIN.l}" x2="${MARGIN.l + pw}" y1="${MARGIN.t + ph}" y2="${MARGIN.t + ph}"/>`);
  p.push(`<line x1="${MARGIN.l}" x2="${MARGIN.l}" y1="${MARGIN.t}" y2="${MARGIN.t + ph}"/>`);
  for (const v of xt) {
    const px = sx(v).toFixed(1);
    p.push(`<line x1="${px}" x2="${px}" y1="${MARGIN.t + ph}" y2="${MARGIN.t + ph + 5}"/>`);
    p.push(`<text x="${px}" y="${MARGIN.t + ph + 17}" text-anchor="middle">${esc(fmtNum(v))}</text>`);
  }
  for (const v of yt) {
    const py = sy(v).toFixed(1);
    p.push(`<line x1="${MARGIN.l - 5}" x2="${MARGIN.l}" y1="${py}" y2="${py}"/>`);
    p.push(`<text x="${MARGIN.l - 8}" y="${py}" dy="0.32em" text-anchor="end">${esc(fmtNum(v))}</text>`);
  }
  p.push('</g>');
  p.push(`<text x="${MARGIN.l + pw / 2}" y="${H - 6}" text-anchor="middle">${esc(opts.xLabel || '')}</text>`);
  p.push(`<text transform="translate(14,${MARGIN.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel || '')}</text>`);
  return { sx, sy, pw, ph, svg: p.join('') };
}

/** Keeps the lowest and highest point of each pixel column of a long curve, in x order. */
function decimate(points, sx) {
  if (points.length < 3000) return points;
  const out = [];
  let col = null, lo = null, hi = null;
  const flush = () => { if (lo) { if (lo === hi) out.push(lo); else if (lo[0] <= hi[0]) out.push(lo, hi); else out.push(hi, lo); } };
  for (const p of points) {
    if (!isNum(p[1])) continue;
    const c = Math.round(sx(p[0]));
    if (c !== col) { flush(); col = c; lo = hi = p; } else { if (p[1] < lo[1]) lo = p; if (p[1] > hi[1]) hi = p; }
  }
  flush();
  return out;
}

function pathD(points, sx, sy) {
  let d = '', pen = false;
  for (const [x, y] of decimate(points, sx)) {
    if (!isNum(x) || !isNum(y)) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** x and y extents over every series (raw curves included); log x keeps only x > 0. */
function extents(series, logX) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) {
    for (const list of [s.points, s.raw || []]) {
      for (const [x, y] of list) {
        if (!isNum(x) || !isNum(y) || (logX && x <= 0)) continue;
        if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
    }
  }
  if (x0 > x1) return null;
  if (x0 === x1) { x0 = logX ? x0 / 2 : x0 - 1; x1 = logX ? x1 * 2 : x1 + 1; }
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05;
  return { x: [x0, x1], y: [y0 - pad, y1 + pad] };
}

/** Widens an x range a little so end markers are not cut in half. */
function padRange([a, b], log) {
  if (log) { const f = (b / a) ** 0.03; return [a / f, b * f]; }
  const d = (b - a) * 0.03;
  return [a - d, b + d];
}

/** One x range covering several charts' series (the run's loss and accuracy share their x axis). */
function sharedX(...lists) {
  const e = extents(lists.flat(), false);
  return e ? e.x : undefined;
}

/**
 * Draws line series into an <svg width height>: series = [{label, color, points:[[x,y,extra]…] sorted by x,
 * raw?, dashed?, dataId?}]. opts: xLabel, yLabel, logX, markers, legend (element), pointInfo(point, series).
 * Hover: a vertical line and each series' value (or, with pointInfo, the nearest point's values).
 */
function drawChart(svg, series, opts = {}) {
  const W = +svg.getAttribute('width'), H = +svg.getAttribute('height');
  if (opts.legend) opts.legend.innerHTML = legendHtml(series, opts.legendNote);
  const ext = extents(series, opts.logX);
  if (ext && opts.xRange) ext.x = opts.xRange;
  if (ext && opts.markers) ext.x = padRange(ext.x, opts.logX);
  if (!ext) {
    svg.innerHTML = `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${esc(opts.empty || 'no data yet')}</text>`;
    svg.onmousemove = null;
    svg.onmouseleave = null;
    return;
  }
  const ax = axes(W, H, ext.x, ext.y, opts);
  const keep = (list) => (opts.logX ? list.filter((p) => p[0] > 0) : list);
  const parts = [ax.svg, `<defs><clipPath id="clip-${svg.id}"><rect x="${MARGIN.l}" y="${MARGIN.t}" width="${ax.pw}" height="${ax.ph}"/></clipPath></defs>`];
  parts.push(`<g clip-path="url(#clip-${svg.id})">`);
  for (const s of series) if (s.raw) parts.push(`<path class="raw" stroke="${s.color}" d="${pathD(keep(s.raw), ax.sx, ax.sy)}"/>`);
  for (const s of series) {
    const cls = `series${s.dashed ? ' dashed' : ''}`;
    const idAttr = s.dataId !== undefined ? ` data-id="${esc(s.dataId)}"` : '';
    parts.push(`<path class="${cls}"${idAttr} stroke="${s.color}" d="${pathD(keep(s.points), ax.sx, ax.sy)}"/>`);
    const pts = keep(s.points);
    if (pts.length === 1 && isNum(pts[0][1]) && !opts.markers) parts.push(`<circle cx="${ax.sx(pts[0][0]).toFixed(1)}" cy="${ax.sy(pts[0][1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    if (opts.markers) for (const [x, y] of pts) if (isNum(y)) parts.push(`<circle cx="${ax.sx(x).toFixed(1)}" cy="${ax.sy(y).toFixed(1)}" r="3.2" fill="${s.color}"/>`);
  }
  parts.push('</g>');
  parts.push(`<line class="hover-line" x1="0" x2="0" y1="${MARGIN.t}" y2="${MARGIN.t + ax.ph}" visibility="hidden"/>`);
  parts.push('<circle class="hover-dot" r="5" fill="none" stroke="#24292f" visibility="hidden"/>');
  svg.innerHTML = parts.join('');
  const invX = unscale(ext.x[0], ext.x[1], MARGIN.l, MARGIN.l + ax.pw, opts.logX);
  svg.onmousemove = (ev) => chartHover(ev, svg, series.map((s) => ({ ...s, points: keep(s.points) })), ax, invX, opts);
  svg.onmouseleave = () => {
    hideTooltip();
    svg.querySelectorAll('.hover-line, .hover-dot').forEach((el) => el.setAttribute('visibility', 'hidden'));
  };
}

function legendHtml(series, note) {
  const items = series.filter((s) => !s.noLegend).map((s) =>
    `<span class="item"><span class="sw${s.dashed ? ' dashed' : ''}" style="border-color:${s.color}"></span>${esc(s.label)}</span>`);
  return items.join('') + (note ? `<span class="muted">${esc(note)}</span>` : '');
}

/** Index of the point whose x is nearest to x (points sorted by x). */
function nearestIndex(points, x) {
  let lo = 0, hi = points.length - 1;
  if (hi < 0) return -1;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (points[mid][0] < x) lo = mid; else hi = mid; }
  return Math.abs(points[lo][0] - x) <= Math.abs(points[hi][0] - x) ? lo : hi;
}

function chartHover(ev, svg, series, ax, invX, opts) {
  const box = svg.getBoundingClientRect();
  const px = ((ev.clientX - box.left) * +svg.getAttribute('width')) / box.width;
  const py = ((ev.clientY - box.top) * +svg.getAttribute('height')) / box.height;
  const line = svg.querySelector('.hover-line'), dot = svg.querySelector('.hover-dot');
  if (px < MARGIN.l || px > MARGIN.l + ax.pw) { svg.onmouseleave(); return; }
  if (opts.pointInfo) {            // nearest point in pixels, its values in the tooltip
    let best = null, bestD = 900;
    for (const s of series) for (const p of s.points) {
      if (!isNum(p[1])) continue;
      const d = (ax.sx(p[0]) - px) ** 2 + (ax.sy(p[1]) - py) ** 2;
      if (d < bestD) { bestD = d; best = [p, s]; }
    }
    if (!best) { hideTooltip(); dot.setAttribute('visibility', 'hidden'); return; }
    dot.setAttribute('cx', ax.sx(best[0][0])); dot.setAttribute('cy', ax.sy(best[0][1])); dot.setAttribute('visibility', 'visible');
    showTooltip(ev, opts.pointInfo(best[0], best[1]));
    return;
  }
  const x = invX(px);
  line.setAttribute('x1', px); line.setAttribute('x2', px); line.setAttribute('visibility', 'visible');
  const rows = [];
  for (const s of series) {
    const i = nearestIndex(s.points, x);
    if (i < 0) continue;
    const [sxv, syv] = s.points[i];
    const first = ax.sx(s.points[0][0]), last = ax.sx(s.points[s.points.length - 1][0]);
    if (px < first - 12 || px > last + 12) continue;      // the series does not reach this x
    rows.push(`<tr><td><span class="sw" style="background:${s.color}"></span>${esc(s.label)}</td><td class="num">${esc(fmtNum(syv))}</td><td class="muted">@ ${esc(fmtNum(sxv))}</td></tr>`);
  }
  if (!rows.length) { hideTooltip(); return; }
  showTooltip(ev, `<div class="muted">${esc(opts.xLabel || 'x')} ${esc(fmtNum(x))}</div><table>${rows.join('')}</table>`);
}

function showTooltip(ev, html) {
  const tip = document.getElementById('tooltip');
  tip.innerHTML = html;
  tip.hidden = false;
  const w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = `${Math.min(ev.clientX + 14, innerWidth - w - 8)}px`;
  tip.style.top = `${ev.clientY + 14 + h > innerHeight ? ev.clientY - h - 10 : ev.clientY + 14}px`;
}
function hideTooltip() { const tip = document.getElementById('tooltip'); if (tip) tip.hidden = true; }

/** The HTML of an empty chart: a title, an <svg>, a legend. */
function chartBox(id, title, W, H) {
  return `<div class="chart"><div class="title">${esc(title)}</div>
    <svg id="${id}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"></svg>
    <div class="legend" id="${id}-legend"></div></div>`;
}

// ---------------------------------------------------------------- training curves → series

/** TensorBoard's smoothing: exponential moving average, debiased at the start. */
function smooth(values, weight) {
  if (!(weight > 0)) return values;
  let last = 0, debias = 0;
  return values.map((v) => {
    if (!isNum(v)) return v;
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    return last / debias;
  });
}

const X_LABELS = { iteration: 'iteration', epoch: 'epoch', time: 'wall time (s)' };

/** Loss and accuracy series of one run's curves for the chosen x axis and smoothing. */
function curveSeries(curves, id, label, color, view) {
  const out = { loss: [], acc: [] };
  if (!curves) return out;
  const ipe = curves.iter_per_epoch || 1;
  const xOf = (it, t) => (view.x === 'epoch' ? it / ipe : view.x === 'time' ? t : it);
  const its = curves.iteration || [], ts = curves.t || [], loss = curves.loss || [];
  const lossX = its.map((it, k) => xOf(it, ts[k]));
  const pairs = (xs, ys) => xs.map((x, k) => [x, ys[k]]);
  out.loss.push({ label, color, dataId: id, points: pairs(lossX, smooth(loss, view.smoothing)), raw: view.smoothing > 0 ? pairs(lossX, loss) : null });
  const eps = curves.epochs || [];
  const accX = eps.map((e) => xOf(e.iteration, isNum(e.train_s) ? e.train_s : e.elapsed_s));
  const test = eps.map((e) => e.test_acc), train = eps.map((e) => e.train_acc);
  // Accuracy is measured once an epoch: too few points for a moving average, drawn as measured.
  out.acc.push({ label: `${label} test`, color, dataId: id, points: pairs(accX, test) });
  out.acc.push({ label: `${label} train`, color, dataId: id, dashed: true, noLegend: view.compact, points: pairs(accX, train) });
  return out;
}

/** The loss smoothing slider and the x-axis select (bound by bindCurveControls to a view and a redraw). */
function curveControlsHtml(prefix, view) {
  return `<label title="TensorBoard's exponential moving average of the loss (accuracy is drawn as measured)">loss smoothing <input type="range" id="${prefix}smoothing" min="0" max="0.99" step="0.01" value="${view.smoothing}">
      <span id="${prefix}smoothing-value" class="mono">${view.smoothing.toFixed(2)}</span></label>
    <label>x axis <select id="${prefix}xaxis">
      ${Object.entries(X_LABELS).map(([k, v]) => `<option value="${k}"${k === view.x ? ' selected' : ''}>${v}</option>`).join('')}
    </select></label>`;
}
function bindCurveControls(prefix, view, redraw) {
  const onChange = () => { hideTooltip(); redraw(); };
  const slider = document.getElementById(`${prefix}smoothing`);
  slider.oninput = () => {
    view.smoothing = +slider.value;
    document.getElementById(`${prefix}smoothing-value`).textContent = view.smoothing.toFixed(2);
    onChange();
  };
  document.getElementById(`${prefix}xaxis`).onchange = (e) => { view.x = e.target.value; onChange(); };
}

const curveView = { smoothing: 0.6, x: 'iteration' };   // shared by the overlay and the run page

// ---------------------------------------------------------------- page: runs

const runsState = { runs: [], picked: [], details: new Map() };

async function pageRuns(_, seq) {
  setTitle('Runs');
  app().innerHTML = '<h1>Runs</h1><p class="muted">Loading runs…</p>';
  let data;
  try { data = await api('/api/runs'); } catch (e) { if (!stale(seq)) failPage('Runs', e); return; }
  if (stale(seq)) return;
  runsState.runs = data.runs || [];
  const known = new Set(runsState.runs.map((r) => r.id));
  runsState.picked = runsState.picked.filter((id) => known.has(id));
  const options = (key) => [...new Set(runsState.runs.map((r) => r[key]).filter((v) => v != null))].sort()
    .map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('');
  app().innerHTML = `<h1>Runs <span class="muted" id="runs-count"></span></h1>
    <div class="filters">
      <label>dataset <select id="f-dataset"><option value="">all</option>${options('dataset')}</select></label>
      <label>network <select id="f-network"><option value="">all</option>${options('network')}</select></label>
      <label>optimizer <select id="f-optimizer"><option value="">all</option>${options('optimizer')}</select></label>
      <input type="search" id="f-search" placeholder="search id…" size="28">
      <span class="muted">tick runs to compare their curves</span>
    </div>
    <div class="table-scroll"><table id="runs" class="data"><thead><tr>
      <th></th><th>state</th><th>id</th><th>dataset</th><th>network</th><th>optimizer</th><th class="num">lr</th>
      <th class="num">batch</th><th class="num">updates</th><th class="num">test acc</th><th class="num">train time</th>
    </tr></thead><tbody></tbody></table></div>
    <section id="dock" class="dock" hidden></section>`;
  for (const id of ['f-dataset', 'f-network', 'f-optimizer']) document.getElementById(id).onchange = renderRunRows;
  document.getElementById('f-search').oninput = renderRunRows;
  $('#runs tbody').addEventListener('change', onPick);
  onLeave(() => document.body.classList.remove('with-dock'));
  renderRunRows();
  renderDock();
  const timer = setInterval(() => refreshRuns(seq), 3000);
  onLeave(() => clearInterval(timer));
}

/** While a run is training, the list follows it (every 3 s; the filters and ticks stay). */
async function refreshRuns(seq) {
  if (!runsState.runs.some((r) => r.state === 'running' || r.state === 'queued')) return;
  let data;
  try { data = await api('/api/runs'); } catch { return; }
  if (stale(seq)) return;
  runsState.runs = data.runs || [];
  renderRunRows();
  const training = new Set(runsState.runs.filter((r) => r.state === 'running').map((r) => r.id));
  const follow = runsState.picked.filter((id) => training.has(id) && runsState.details.get(id));
  for (const id of follow) {                                 // compared runs in training: fetched again
    api(`/api/runs/${encId(id)}`).then((d) => { if (!stale(seq)) { runsState.details.set(id, d); drawOverlay(); } }).catch(() => {});
  }
}

/** The rows passing the filters, drawn as one HTML string. */
function renderRunRows() {
  const f = (id) => document.getElementById(id).value;
  const ds = f('f-dataset'), net = f('f-network'), opt = f('f-optimizer'), q = f('f-search').trim().toLowerCase();
  const rows = runsState.runs.filter((r) => (!ds || r.dataset === ds) && (!net || r.network === net)
    && (!opt || r.optimizer === opt) && (!q || r.id.toLowerCase().includes(q)));
  $('#runs tbody').innerHTML = rows.map(runRowHtml).join('') || '<tr><td colspan="11" class="muted">No runs match.</td></tr>';
  document.getElementById('runs-count').textContent = `${rows.length} of ${runsState.runs.length}`;
}

function runRowHtml(r) {
  const picked = runsState.picked.includes(r.id);
  const canPick = r.kind !== 'study' && r.state !== 'broken';
  const pick = `<td><input type="checkbox" class="pick" data-id="${esc(r.id)}"${picked ? ' checked' : ''}${canPick ? '' : ' disabled'} aria-label="compare"></td>`;
  const head = `<tr data-id="${esc(r.id)}">${pick}<td>${badge(r.state)}</td><td class="id">${runLink(r.id, r.kind)}</td>`;
  if (r.state === 'broken' || (r.state === 'failed' && r.error)) return `${head}<td colspan="8" class="err">${esc(r.error || 'broken')}</td></tr>`;
  const net = r.kind === 'study' && r.study ? `study ${esc(r.study.kind)} · ${esc(r.study.runs)} runs`
    : networkHtml(r);
  const acc = isNum(r.final_test_acc) ? fmtAcc(r.final_test_acc)
    : isNum(r.last_test_acc) ? `<span class="muted" title="last measured">${fmtAcc(r.last_test_acc)}</span>` : '—';
  const updates = r.iters_num != null ? `${fmtInt(r.iterations)} / ${fmtInt(r.iters_num)}` : fmtInt(r.iterations);
  return `${head}<td>${esc(r.dataset ?? '—')}</td><td>${net}</td><td>${esc(r.optimizer ?? '—')}</td>
    <td class="num">${fmtLr(r.learning_rate)}</td><td class="num">${fmtInt(r.batch_size)}</td>
    <td class="num">${updates}</td><td class="num">${acc}</td><td class="num">${fmtSec(r.train_s)}</td></tr>`;
}

/** The network and its shape; `describe` may already start with the network's name. */
function networkHtml(r) {
  const net = r.network ?? '', desc = r.describe ?? '';
  if (net && desc.startsWith(net)) return `${esc(net)} <span class="muted">${esc(desc.slice(net.length).trim())}</span>`;
  return `${esc(net || '—')} <span class="muted">${esc(desc)}</span>`;
}

function onPick(ev) {
  if (!ev.target.classList.contains('pick')) return;
  const id = ev.target.dataset.id;
  runsState.picked = runsState.picked.filter((x) => x !== id);
  if (ev.target.checked) runsState.picked.push(id);
  renderDock();
}

/** The overlay dock: loss and accuracy of every ticked run, fetched once each. */
function renderDock() {
  const dock = document.getElementById('dock');
  if (!dock) return;
  const picked = runsState.picked;
  dock.hidden = picked.length === 0;
  document.body.classList.toggle('with-dock', picked.length > 0);
  if (!picked.length) { dock.innerHTML = ''; return; }
  const W = Math.max(360, Math.floor((innerWidth - 90) / 2)), H = Math.max(220, Math.floor(innerHeight * 0.46) - 110);
  if (!document.getElementById('overlay-loss')) {
    dock.innerHTML = `<div class="filters"><strong>Compare <span id="dock-count"></span></strong>
        ${curveControlsHtml('', curveView)}
        <button type="button" id="dock-clear">Clear selection</button></div>
      <div class="charts">${chartBox('overlay-loss', 'loss', W, H)}${chartBox('overlay-acc', 'accuracy (solid test, dashed train)', W, H)}</div>`;
    bindCurveControls('', curveView, drawOverlay);
    document.getElementById('dock-clear').onclick = () => {
      runsState.picked = [];
      document.querySelectorAll('#runs .pick:checked').forEach((c) => { c.checked = false; });
      renderDock();
    };
  }
  document.getElementById('dock-count').textContent = `${picked.length} run${picked.length > 1 ? 's' : ''}`;
  drawOverlay();
  for (const id of picked) {
    if (runsState.details.has(id)) continue;
    runsState.details.set(id, null);
    api(`/api/runs/${encId(id)}`)
      .then((d) => { runsState.details.set(id, d); drawOverlay(); })
      .catch(() => runsState.details.delete(id));
  }
}

function drawOverlay() {
  const lossSvg = document.getElementById('overlay-loss');
  if (!lossSvg) return;
  const view = { ...curveView, compact: true };
  const loss = [], acc = [];
  runsState.picked.forEach((id, k) => {
    const d = runsState.details.get(id);
    const s = curveSeries(d && d.curves, id, id, PALETTE[k % PALETTE.length], view);
    loss.push(...s.loss);
    acc.push(...s.acc.map((x) => ({ ...x, label: x.dashed ? x.label : id })));
  });
  const xLabel = X_LABELS[curveView.x], xRange = sharedX(loss, acc);
  drawChart(lossSvg, loss, { xLabel, xRange, yLabel: 'loss', legend: document.getElementById('overlay-loss-legend') });
  drawChart(document.getElementById('overlay-acc'), acc, { xLabel, xRange, yLabel: 'accuracy', legend: document.getElementById('overlay-acc-legend') });
}

// ---------------------------------------------------------------- page: one run

async function pageRun(id, seq) {
  setTitle(id);
  app().innerHTML = `<h1>${esc(id)}</h1><p class="muted">Loading…</p>`;
  let d;
  try { d = await api(`/api/runs/${encId(id)}`); } catch (e) { if (!stale(seq)) failPage(id, e); return; }
  if (stale(seq)) return;
  const r = d.row;
  if (r.kind === 'study') { location.replace(`#/study/${encId(id)}`); return; }
  setTitle(`${r.state === 'running' ? '▶ ' : ''}${id}`);
  if (r.state === 'broken') {
    app().innerHTML = `<p><a href="#/">← all runs</a></p><h1>${esc(id)} ${badge(r.state)}</h1>
      <p class="message">${esc(r.error || 'broken run')}</p><h2>Settings</h2>${kvTable(d.config)}`;
    awaitStart(id, r.state, seq);     // a run folder just made can look broken for a moment
    return;
  }
  app().innerHTML = `<p><a href="#/">← all runs</a></p>
    <h1>${esc(id)} ${badge(r.state)}</h1>
    <div class="actions">
      ${r.state === 'running' ? '<button type="button" id="stop" class="danger">Stop</button>' : ''}
      ${r.state === 'interrupted' ? '<button type="button" id="resume" class="primary">Resume</button>' : ''}
      <span id="progress-box"></span><span id="links"></span>
    </div>
    ${r.error ? `<p class="message">${esc(r.error)}</p>` : ''}
    <p class="muted">${esc(r.dataset ?? '')} · ${networkHtml(r)} · ${esc(r.optimizer ?? '')}
      lr ${fmtLr(r.learning_rate)} · batch ${fmtInt(r.batch_size)} · final test acc ${fmtAcc(r.final_test_acc)}
      · train ${fmtSec(r.train_s)} · modified ${esc(fmtTime(r.modified))}</p>
    <h2>Training curves</h2>
    <div class="filters">${curveControlsHtml('run-', curveView)}</div>
    <div class="charts">${chartBox('run-loss', 'loss', 600, 320)}${chartBox('run-acc', 'accuracy', 600, 320)}</div>
    <div id="evaluation"></div>
    <div id="figures"></div>
    <h2>Settings</h2>${kvTable(d.config)}
    ${d.final ? `<h2>Final</h2>${kvTable(d.final)}` : ''}`;
  const live = { d, iters: r.iters_num };
  const redraw = () => drawRunCharts(live);
  bindCurveControls('run-', curveView, redraw);
  redraw();
  const stop = document.getElementById('stop'), resume = document.getElementById('resume');
  if (stop) stop.onclick = () => stopRun(id, stop);
  if (resume) resume.onclick = () => resumeRun(id, resume);
  if (d.live && d.live.running) followLive(id, live, seq);
  if (r.state === 'queued' || r.state === 'started') awaitStart(id, r.state, seq);
  renderFigures(d, id);
  if (r.has_model) renderEvaluation(id, seq);
}

function kvTable(obj) {
  if (!obj || typeof obj !== 'object') return '<p class="muted">none</p>';
  const rows = Object.entries(obj).map(([k, v]) =>
    `<tr><td>${esc(k)}</td><td class="mono">${esc(v !== null && typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`);
  return `<table class="kv">${rows.join('')}</table>`;
}

function drawRunCharts(live) {
  const c = live.d.curves;
  const lossSvg = document.getElementById('run-loss');
  if (!lossSvg) return;
  const s = curveSeries(c, live.d.row.id, 'loss', PALETTE[0], curveView);
  const acc = s.acc.map((x, k) => ({ ...x, label: k ? 'train' : 'test', color: PALETTE[k] }));
  for (const [k, point] of finalPoints(live.d).entries()) {       // the curve goes on to the final weights
    const last = acc[k].points[acc[k].points.length - 1];
    if (point && (!last || point[0] > last[0])) {
      acc[k].points = [...acc[k].points, point];
      acc.push({ label: `final ${acc[k].label}`, color: acc[k].color, points: [point], noLegend: true });
    }
  }
  const xLabel = X_LABELS[curveView.x], xRange = sharedX(s.loss, acc);
  drawChart(lossSvg, s.loss, { xLabel, xRange, yLabel: 'loss', legend: document.getElementById('run-loss-legend') });
  drawChart(document.getElementById('run-acc'), acc, { xLabel, xRange, yLabel: 'accuracy', legend: document.getElementById('run-acc-legend') });
  const done = c && c.iteration && c.iteration.length ? c.iteration[c.iteration.length - 1] : live.d.row.iterations;
  const box = document.getElementById('progress-box');
  if (box && live.d.row.state === 'running' && isNum(live.iters) && live.iters > 0) {
    const pct = Math.min(100, (100 * (done || 0)) / live.iters);
    box.innerHTML = `<span class="progress"><div style="width:${pct.toFixed(1)}%"></div></span>${fmtInt(done || 0)} / ${fmtInt(live.iters)} updates`;
  }
}

/** The final weights' [test, train] accuracies (final.json) as points at the run's last update (or null). */
function finalPoints(d) {
  const f = d.final, r = d.row, ipe = (d.curves && d.curves.iter_per_epoch) || 1;
  if (!f || !isNum(r.iterations)) return [];
  const x = curveView.x === 'epoch' ? r.iterations / ipe : curveView.x === 'time' ? r.train_s : r.iterations;
  return ['final_test_acc', 'final_train_acc'].map((key) => (isNum(f[key]) && isNum(x) ? [x, f[key]] : null));
}

/** Server-sent events: appends updates and epochs to the curves, redraws ≤ 5×/s, reloads at the end. */
function followLive(id, live, seq) {
  const c = live.d.curves || (live.d.curves = { iter_per_epoch: 1, iteration: [], loss: [], t: [], epochs: [] });
  for (const k of ['iteration', 'loss', 't', 'epochs']) c[k] = c[k] || [];
  const es = new EventSource(`/api/runs/${encId(id)}/events?from=${encodeURIComponent(live.d.live.offset ?? 0)}`);
  let timer = null;
  const schedule = () => { if (!timer) timer = setTimeout(() => { timer = null; drawRunCharts(live); }, 200); };
  const reload = (delay) => setTimeout(() => { if (!stale(seq)) route(); }, delay);
  onLeave(() => { es.close(); clearTimeout(timer); });
  es.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch { return; }
    if ('i' in m) { c.iteration.push(m.i); c.loss.push(m.loss); c.t.push(m.t); schedule(); }
    if (m.epoch) { c.epochs.push(m.epoch); schedule(); }
    if (m.begin) {
      if (isNum(m.begin.iters_num)) live.iters = m.begin.iters_num;
      if (isNum(m.begin.iter_per_epoch)) c.iter_per_epoch = m.begin.iter_per_epoch;
    }
    if ('end' in m) { es.close(); showMessage(`Training ${m.end}.`, 'info'); reload(300); }
  };
  es.onerror = () => { es.close(); reload(2000); };   // reconnect with a fresh offset
}

/** A queued, starting or broken run: asks every 2 s until its state changes, then draws the page again. */
function awaitStart(id, state, seq) {
  const box = document.getElementById('progress-box');
  if (box) {
    box.innerHTML = `<span class="muted">${state === 'queued'
      ? 'queued: waiting for a free job slot…' : 'starting (loading the data), or stopped before its first checkpoint…'}</span>`;
  }
  const timer = setInterval(async () => {
    let d;
    try { d = await api(`/api/runs/${encId(id)}`); } catch { return; }
    if (!stale(seq) && d.row.state !== state) route();
  }, 2000);
  onLeave(() => clearInterval(timer));
}

async function stopRun(id, button) {
  button.disabled = true;
  try {
    await api(`/api/runs/${encId(id)}/stop`, { method: 'POST' });
    showMessage('Stopping: the run saves a checkpoint and can be resumed.', 'info');
  } catch { button.disabled = false; }
}

async function resumeRun(id, button) {
  button.disabled = true;
  try {
    const { job } = await api(`/api/runs/${encId(id)}/resume`, { method: 'POST' });
    showMessage(`Resuming (job ${job.id}).`, 'info');
    setTimeout(route, 800);
  } catch { button.disabled = false; }
}

function renderFigures(d, id) {
  const figs = (d.figures || []).map((u) => `<a href="${esc(u)}" target="_blank"><img src="${esc(u)}" alt="${esc(u.split('/').pop())}" loading="lazy"></a>`);
  const links = [];
  if (d.report) links.push(`<a href="${esc(d.report)}" target="_blank">full report</a>`);
  if (d.row.has_model) links.push(`<a href="#/inside/${esc(encId(id))}">Inside the network</a>`);
  document.getElementById('links').innerHTML = links.join(' · ');
  document.getElementById('figures').innerHTML = (figs.length ? `<h2>Figures</h2><div class="figures">${figs.join('')}</div>` : '');
}

/** Confusion matrix and misclassified digits of a run with saved weights. */
async function renderEvaluation(id, seq) {
  const box = document.getElementById('evaluation');
  box.innerHTML = '<h2>Evaluation</h2><p class="muted">Evaluating the saved weights on the test set…</p>';
  let ev;
  try { ev = await api(`/api/runs/${encId(id)}/evaluation`); } catch (e) {
    if (!stale(seq)) box.innerHTML = `<h2>Evaluation</h2><p class="message">Could not evaluate: ${esc(e.message)}</p>`;
    return;
  }
  if (stale(seq)) return;
  box.innerHTML = `<h2>Evaluation <span class="muted">test accuracy ${fmtAcc(ev.accuracy)}</span></h2>
    <div class="charts"><div>${confusionHtml(ev)}</div>
    <div><h3>Misclassified</h3><div class="digits" id="misclassified"></div></div></div>`;
  const wrap = document.getElementById('misclassified');
  for (const m of ev.misclassified || []) {
    const fig = document.createElement('figure');
    const canvas = greyCanvas(m.pixels, 28, 28, 3, 0, 255);
    fig.append(canvas);
    fig.insertAdjacentHTML('beforeend', `<figcaption>true ${esc(ev.classes[m.label])} → ${esc(ev.classes[m.predicted])}</figcaption>`);
    fig.title = `test image #${m.index}`;
    wrap.append(fig);
  }
  if (!(ev.misclassified || []).length) wrap.innerHTML = '<p class="muted">none</p>';
}

function confusionHtml(ev) {
  const cm = ev.confusion, names = ev.classes;
  const max = Math.max(1, ...cm.flat());
  const head = names.map((n) => `<th>${esc(n)}</th>`).join('');
  const body = cm.map((row, i) => `<tr><th>${esc(names[i])}</th>${row.map((c, j) => {
    const a = Math.log1p(c) / Math.log1p(max);
    const bg = i === j ? `rgba(9,105,218,${a.toFixed(3)})` : `rgba(207,34,46,${a.toFixed(3)})`;
    return `<td style="background:${bg};${a > 0.55 ? 'color:#fff' : ''}" title="true ${esc(names[i])}, predicted ${esc(names[j])}: ${c}">${c}</td>`;
  }).join('')}</tr>`).join('');
  return `<h3>Confusion matrix</h3><table class="confusion"><tr><th class="corner">true ↓ / predicted →</th>${head}</tr>${body}</table>`;
}

// ---------------------------------------------------------------- pixels

/** A canvas of w×h grey values (lo → black, hi → white), each pixel drawn as a scale×scale block. */
function greyCanvas(values, w, h, scl, lo, hi) {
  return pixelCanvas(w, h, scl, (k) => {
    const g = Math.round(255 * Math.max(0, Math.min(1, (values[k] - lo) / (hi - lo || 1))));
    return [g, g, g];
  });
}

/** Diverging blue–white–red, centred on 0, scaled by maxAbs. */
function divergingCanvas(values, w, h, scl, maxAbs) {
  return pixelCanvas(w, h, scl, (k) => {
    const t = Math.max(-1, Math.min(1, values[k] / (maxAbs || 1)));
    const [r, g, b] = t < 0 ? [33, 102, 172] : [178, 24, 43];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  });
}

function pixelCanvas(w, h, scl, colourOf) {
  const small = document.createElement('canvas');
  small.width = w; small.height = h;
  const sctx = small.getContext('2d');
  const img = sctx.createImageData(w, h);
  for (let k = 0; k < w * h; k++) {
    const [r, g, b] = colourOf(k);
    img.data.set([r, g, b, 255], k * 4);
  }
  sctx.putImageData(img, 0, 0);
  const big = document.createElement('canvas');
  big.width = w * scl; big.height = h * scl;
  big.className = 'px';
  const ctx = big.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, w * scl, h * scl);
  return big;
}

function minMax(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : [0, 1];
}

// ---------------------------------------------------------------- page: new run

const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'];

function pageNew(_, seq) {
  setTitle('New run');
  const opt = (values, blank) => (blank ? `<option value="">${blank}</option>` : '') + values.map((v) => `<option value="${v}">${v}</option>`).join('');
  app().innerHTML = `<h1>New run</h1>
    <form id="new-run" class="grid" autocomplete="off">
      <label for="n-dataset">dataset</label><select id="n-dataset" name="dataset">${opt(['mnist', 'fashion-mnist'])}</select>
      <label for="n-kind">network</label>
      <select id="n-kind"><option value="two">TwoLayerNet (chapter 4–5)</option><option value="multi">MultiLayerNet (chapter 6)</option><option value="conv">convolutional net (chapters 7–8)</option></select>
      <fieldset data-kind="two"><label for="n-hidden-size">hidden size</label><input type="number" id="n-hidden-size" min="1" placeholder="50"></fieldset>
      <fieldset data-kind="multi" hidden>
        <label for="n-hidden">hidden sizes</label><input type="text" id="n-hidden" placeholder="100,100" pattern="\\s*\\d+(\\s*,\\s*\\d+)*\\s*">
        <label for="n-batchnorm">batch normalisation</label><input type="checkbox" id="n-batchnorm">
        <label for="n-dropout">dropout ratio</label><input type="number" id="n-dropout" min="0" max="0.95" step="0.05" placeholder="none">
      </fieldset>
      <fieldset data-kind="two multi"><label for="n-activation">activation</label><select id="n-activation">${opt(['sigmoid', 'relu'], 'default (sigmoid)')}</select></fieldset>
      <fieldset data-kind="conv" hidden>
        <label for="n-net">design</label><select id="n-net">${opt(['simple-convnet', 'deep-convnet'])}<option value="custom">my own…</option></select>
        <label for="n-spec">layers</label><input type="text" id="n-spec" placeholder="conv:30x5,pool:2,fc:100" disabled>
      </fieldset>
      <label for="n-optimizer">optimizer</label><select id="n-optimizer">${opt(OPTIMIZERS, 'default')}</select>
      <label for="n-lr">learning rate</label><input type="number" id="n-lr" step="any" min="0" placeholder="default for the optimizer">
      <label for="n-batch">batch size</label><input type="number" id="n-batch" min="1" placeholder="100">
      <label for="n-length">length</label>
      <span><input type="number" id="n-length" min="1" placeholder="default" style="width:130px">
        <select id="n-unit"><option value="iters">updates (--iters)</option><option value="epochs">epochs (--epochs)</option></select></span>
      <label for="n-seed">seed</label><input type="number" id="n-seed" min="0" placeholder="0">
      <label for="n-eval">eval samples</label><input type="number" id="n-eval" min="1" placeholder="whole sets each epoch">
      <span></span><span><button type="submit" id="start" class="primary">Start training</button></span>
    </form>
    <div class="cmdline mono" id="cmdline"></div>
    <h2>Jobs</h2><div id="jobs"><p class="muted">Loading jobs…</p></div>`;
  const form = document.getElementById('new-run');
  form.oninput = updateNewForm;
  form.onchange = updateNewForm;
  form.onsubmit = (ev) => { ev.preventDefault(); startJob(); };
  updateNewForm();
  loadJobs(seq);
  const timer = setInterval(() => loadJobs(seq), 3000);
  onLeave(() => clearInterval(timer));
}

function updateNewForm() {
  const kind = document.getElementById('n-kind').value;
  document.querySelectorAll('#new-run fieldset').forEach((f) => { f.hidden = !f.dataset.kind.split(' ').includes(kind); });
  document.getElementById('n-spec').disabled = document.getElementById('n-net').value !== 'custom';
  document.getElementById('cmdline').textContent = `scratchnet train ${trainArgs().map(shellQuote).join(' ')}`;
}

/** The `scratchnet train` arguments of the filled fields. */
function trainArgs() {
  const v = (id) => document.getElementById(id).value.trim();
  const args = [];
  const add = (flag, value) => { if (value !== '') args.push(flag, value); };
  add('--dataset', v('n-dataset'));
  const kind = v('n-kind');
  if (kind === 'two') add('--hidden-size', v('n-hidden-size'));
  if (kind === 'multi') {
    add('--hidden', v('n-hidden').replace(/\s+/g, ''));
    if (document.getElementById('n-batchnorm').checked) args.push('--batchnorm');
    add('--dropout', v('n-dropout'));
  }
  if (kind !== 'conv') add('--activation', v('n-activation'));
  if (kind === 'conv') add('--net', v('n-net') === 'custom' ? v('n-spec') : v('n-net'));
  add('--optimizer', v('n-optimizer'));
  add('--lr', v('n-lr'));
  add('--batch-size', v('n-batch'));
  add(v('n-unit') === 'epochs' ? '--epochs' : '--iters', v('n-length'));
  add('--seed', v('n-seed'));
  add('--eval-samples', v('n-eval'));
  return args;
}

function shellQuote(s) { return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`; }

async function startJob() {
  const button = document.getElementById('start');
  button.disabled = true;
  hideMessage();
  try {
    const { job } = await api('/api/jobs', { method: 'POST', json: { args: trainArgs() } });
    location.hash = `#/run/${encId(job.run)}`;
  } catch { /* shown in #message by api() */ } finally { button.disabled = false; }
}

async function loadJobs(seq) {
  let data;
  try { data = await api('/api/jobs'); } catch (e) {
    if (!stale(seq)) document.getElementById('jobs').innerHTML = `<p class="message">Could not load jobs: ${esc(e.message)}</p>`;
    return;
  }
  if (stale(seq)) return;
  const jobs = data.jobs || [];
  document.getElementById('jobs').innerHTML = jobs.length ? `<table class="data"><tr><th class="num">job</th><th>state</th><th>run</th><th>arguments</th><th>message</th></tr>
    ${jobs.map((j) => `<tr><td class="num">${esc(j.id)}</td><td>${badge(j.state)}</td><td>${j.run ? runLink(j.run) : '—'}</td>
      <td class="mono">${esc((j.args || []).join(' '))}</td><td><pre class="mono">${esc(j.message || '')}</pre></td></tr>`).join('')}</table>`
    : '<p class="muted">No jobs started from this server yet.</p>';
}

// ---------------------------------------------------------------- page: study

async function pageStudy(id, seq) {
  setTitle(`Study ${id}`);
  app().innerHTML = `<h1>${esc(id)}</h1><p class="muted">Loading…</p>`;
  let s;
  try { s = await api(`/api/studies/${encId(id)}`); } catch (e) { if (!stale(seq)) failPage(id, e); return; }
  if (stale(seq)) return;
  const cols = s.columns || [];
  const rows = (s.rows || []).map((r) => r.map((v) => (typeof v === 'string' && v.trim() !== '' && isFinite(v) ? +v : v)));
  const numeric = cols.filter((_, k) => rows.some((r) => isNum(r[k])));
  const pickCol = (...names) => names.find((n) => cols.includes(n));
  const st = {
    x: pickCol('batch_size', 'depth', 'width', 'params') || numeric[0] || '',
    y: pickCol('final_test_acc', 'test_acc', 'best_test_acc') || numeric[numeric.length - 1] || '',
    group: cols.includes('dataset') ? 'dataset' : '',
    dataset: '',
    logX: false,
  };
  const xs = rows.map((r) => r[cols.indexOf(st.x)]).filter((v) => isNum(v) && v > 0);
  st.logX = xs.length > 0 && Math.max(...xs) / Math.min(...xs) >= 100;
  const options = (list, sel) => list.map((c) => `<option value="${esc(c)}"${c === sel ? ' selected' : ''}>${esc(c)}</option>`).join('');
  const dsIdx = cols.indexOf('dataset');
  const datasets = dsIdx < 0 ? [] : [...new Set(rows.map((r) => r[dsIdx]))];
  const runOf = matchStudyRuns(rows, s.runs || []);
  const linked = runOf.some((r) => r);
  const unlinked = (s.runs || []).filter((r) => !runOf.includes(r));
  app().innerHTML = `<p><a href="#/">← all runs</a></p>
    <h1>${esc(id)} ${badge(s.row ? s.row.state : 'study')} <span class="muted">${esc((s.plan && s.plan.kind) || (s.row && s.row.study && s.row.study.kind) || 'study')}</span></h1>
    <div class="filters">
      <label>x <select id="s-x">${options(numeric, st.x)}</select></label>
      <label>y <select id="s-y">${options(numeric, st.y)}</select></label>
      <label>group by <select id="s-group"><option value="">(none)</option>${options(cols, st.group)}</select></label>
      ${datasets.length ? `<label>dataset <select id="s-dataset"><option value="">all</option>${options(datasets, '')}</select></label>` : ''}
      <label><input type="checkbox" id="s-logx"${st.logX ? ' checked' : ''}> log-scale x</label>
    </div>
    ${chartBox('study-chart', '', 900, 420)}
    <h2>Rows <span class="muted">${rows.length}</span></h2>
    <div class="table-scroll"><table class="data" id="study-rows"><tr>${linked ? '<th>run</th>' : ''}${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>
      ${rows.map((r, k) => `<tr>${linked ? `<td class="id">${runOf[k] ? runLink(runOf[k], 'run', runOf[k].split('/').pop()) : '—'}</td>` : ''}${r.map((v) => `<td class="${isNum(v) ? 'num' : ''}">${esc(isNum(v) ? +v.toPrecision(6) : v)}</td>`).join('')}</tr>`).join('')}
    </table></div>
    ${unlinked.length ? `<h2>${linked ? 'Other runs' : 'Runs'}</h2><p>${unlinked.map((r) => runLink(r)).join(' · ')}</p>` : ''}
    <h2>Report</h2>
    ${s.report ? `<p><a href="${esc(s.report)}" target="_blank">open the report in its own tab</a></p><iframe class="report" src="${esc(s.report)}" title="study report"></iframe>` : '<p class="muted">No report yet.</p>'}`;
  const draw = () => drawStudy(cols, rows, st);
  document.getElementById('s-x').onchange = (e) => { st.x = e.target.value; draw(); };
  document.getElementById('s-y').onchange = (e) => { st.y = e.target.value; draw(); };
  document.getElementById('s-group').onchange = (e) => { st.group = e.target.value; draw(); };
  document.getElementById('s-logx').onchange = (e) => { st.logX = e.target.checked; draw(); };
  const dsSel = document.getElementById('s-dataset');
  if (dsSel) dsSel.onchange = (e) => { st.dataset = e.target.value; draw(); };
  draw();
}

/**
 * The study run of each row of study.csv, found by its folder name, which the study builds from
 * the row's values (`batch-100-seed-0`, `mnist-d3-w100-relu-seed0`). Each cell, in column order,
 * claims one matching part of a run's name (earlier columns weigh more: they are the settings);
 * the best run wins unless another scores the same. Returns a run id or null per row.
 */
function matchStudyRuns(rows, runs) {
  const tokensOf = runs.map((id) => id.split('/').pop().toLowerCase().split('-'));
  const bare = (t) => t.replace(/^[a-z]+(?=\d)/, '');           // seed0 → 0, d3 → 3
  const score = (row, tokens) => {
    const free = tokens.slice();
    let total = 0, hits = 0;
    row.forEach((v, i) => {
      if (v === null || v === '') return;
      const parts = String(v).toLowerCase().split('-');
      const at = parts.map((p) => free.findIndex((t) => t !== null && (t === p || bare(t) === p)));
      if (at.some((k) => k < 0)) return;
      at.forEach((k) => { free[k] = null; });
      hits += 1;
      total += 2 - i / row.length;
    });
    return hits < 2 ? -Infinity : total - free.filter((t) => t !== null).length;
  };
  return rows.map((row) => {
    let best = null, bestScore = -Infinity, tie = false;
    tokensOf.forEach((tokens, k) => {
      const sc = score(row, tokens);
      if (sc > bestScore) { best = runs[k]; bestScore = sc; tie = false; } else if (sc === bestScore && sc > -Infinity) tie = true;
    });
    return tie ? null : best;
  });
}

/** One series per group value, points sorted by x; hover shows the whole row. */
function drawStudy(cols, rows, st) {
  const xi = cols.indexOf(st.x), yi = cols.indexOf(st.y), gi = cols.indexOf(st.group), di = cols.indexOf('dataset');
  const groups = new Map();
  for (const r of rows) {
    if (st.dataset && r[di] !== st.dataset) continue;
    const key = gi >= 0 ? String(r[gi]) : 'all rows';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push([r[xi], r[yi], r]);
  }
  const series = [...groups].map(([key, pts], k) => ({
    label: gi >= 0 ? `${st.group} = ${key}` : key, color: PALETTE[k % PALETTE.length], dataId: key,
    points: pts.filter((p) => isNum(p[0])).sort((a, b) => a[0] - b[0]),
  }));
  const info = (p, s) => `<div><strong>${esc(s.label)}</strong></div><table>${cols.map((c, k) =>
    `<tr><td class="muted">${esc(c)}</td><td>${esc(isNum(p[2][k]) ? fmtNum(p[2][k]) : p[2][k])}</td></tr>`).join('')}</table>`;
  document.querySelector('#study-chart').previousElementSibling.textContent = `${st.y} against ${st.x}${gi >= 0 ? `, by ${st.group}` : ''}`;
  drawChart(document.getElementById('study-chart'), series, {
    xLabel: st.x, yLabel: st.y, logX: st.logX, markers: true, pointInfo: info,
    legend: document.getElementById('study-chart-legend'),
  });
}

// ---------------------------------------------------------------- page: draw a digit

async function pageDraw(_, seq) {
  setTitle('Draw a digit');
  app().innerHTML = `<h1>Draw a digit</h1>
    <div class="filters"><label>model <select id="model"><option value="">loading…</option></select></label></div>
    <div class="draw">
      <div><canvas id="pad" width="280" height="280"></canvas>
        <div class="actions"><button type="button" id="clear">Clear</button><button type="button" id="predict" class="primary">Predict</button>
          <span class="muted">round trip <span id="rtt">—</span></span></div></div>
      <div><h3>What the network sees (28×28)</h3><canvas id="input28" class="px" width="168" height="168"></canvas>
        <h3>Prediction</h3><div class="bigpred" id="predicted">?</div></div>
      <div><h3>Probabilities</h3><div id="bars"><p class="muted">Draw a digit, then Predict.</p></div></div>
    </div>
    <h2>Layers</h2><div id="layers" class="muted">Each layer's output appears here after a prediction.</div>`;
  const pad = document.getElementById('pad');
  clearPad(pad);
  bindPad(pad);
  document.getElementById('clear').onclick = () => { clearPad(pad); resetPrediction(); };
  document.getElementById('predict').onclick = predict;
  let data;
  try { data = await api('/api/models'); } catch (e) {
    if (!stale(seq)) document.getElementById('model').innerHTML = '<option value="">cannot load models</option>';
    return;
  }
  if (stale(seq)) return;
  fillModels(data.models || []);
}

function fillModels(models) {
  const sel = document.getElementById('model');
  if (!models.length) {
    sel.innerHTML = '<option value="">no trained model yet</option>';
    document.getElementById('predict').disabled = true;
    showMessage('No run has saved weights yet: train one (New run), then come back.', 'info');
    return;
  }
  let best = 0;
  models.forEach((m, k) => { if ((m.final_test_acc ?? -1) > (models[best].final_test_acc ?? -1)) best = k; });
  sel.innerHTML = models.map((m, k) => {
    const q = `model=${encodeURIComponent(m.id)}${m.file && m.file !== 'model' ? `&file=${encodeURIComponent(m.file)}` : ''}`;
    const text = `${m.id}${m.file && m.file !== 'model' ? ` (${m.file})` : ''} — ${m.dataset ?? ''} ${m.describe ?? m.network ?? ''} · acc ${fmtAcc(m.final_test_acc)}`;
    return `<option value="${esc(q)}"${k === best ? ' selected' : ''}>${esc(text)}</option>`;
  }).join('');
  sel.onchange = () => { if (padUsed) predict(); };
}

let padUsed = false;
function clearPad(pad) {
  const ctx = pad.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, pad.width, pad.height);
  padUsed = false;
}

/** Pointer events (mouse, touch, pen): black round strokes; predicts 150 ms after a stroke ends. */
function bindPad(pad) {
  const ctx = pad.getContext('2d');
  let drawing = false, last = null, timer = null;
  const at = (ev) => { const r = pad.getBoundingClientRect(); return [(ev.clientX - r.left) * (pad.width / r.width), (ev.clientY - r.top) * (pad.height / r.height)]; };
  pad.onpointerdown = (ev) => {
    ev.preventDefault();
    pad.setPointerCapture(ev.pointerId);
    drawing = true; padUsed = true; last = at(ev);
    clearTimeout(timer);
    stroke(ctx, last, last);
  };
  pad.onpointermove = (ev) => { if (!drawing) return; const p = at(ev); stroke(ctx, last, p); last = p; };
  const end = () => { if (!drawing) return; drawing = false; clearTimeout(timer); timer = setTimeout(predict, 150); };
  pad.onpointerup = end;
  pad.onpointercancel = end;
  onLeave(() => clearTimeout(timer));
}

function stroke(ctx, a, b) {
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 18;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(b[0], b[1]);
  ctx.stroke();
}

function resetPrediction() {
  document.getElementById('predicted').textContent = '?';
  document.getElementById('rtt').textContent = '—';
  document.getElementById('bars').innerHTML = '<p class="muted">Draw a digit, then Predict.</p>';
  document.getElementById('layers').innerHTML = '';
  const c = document.getElementById('input28');
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

let predictSeq = 0;
function predict() {
  const pad = document.getElementById('pad'), model = document.getElementById('model');
  if (!pad || !model || !model.value) return;
  const mine = ++predictSeq, seq = navSeq;
  pad.toBlob(async (blob) => {
    const t0 = performance.now();
    let res;
    try {
      res = await api(`/api/predict?${model.value}`, { method: 'POST', body: blob, headers: { 'Content-Type': 'image/png' } });
    } catch { return; }
    if (mine !== predictSeq || stale(seq)) return;   // a newer prediction or another page
    window.lastPrediction = res;
    showPrediction(res, performance.now() - t0);
  }, 'image/png');
}

function showPrediction(res, ms) {
  document.getElementById('rtt').textContent = `${Math.round(ms)} ms`;
  const names = res.classes || res.probs.map((_, k) => String(k));
  document.getElementById('predicted').textContent = names[res.predicted];
  const input = greyCanvas(res.input, 28, 28, 6, 0, 1);
  const target = document.getElementById('input28');
  const ctx = target.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(input, 0, 0, target.width, target.height);
  document.getElementById('bars').innerHTML = res.probs.map((p, k) => `<div class="bar${k === res.predicted ? ' top' : ''}" data-class="${k}">
      <span>${esc(names[k])}</span><span class="track"><span class="fill" style="display:block;width:${(100 * p).toFixed(1)}%"></span></span>
      <span class="num">${(100 * p).toFixed(1)}%</span></div>`).join('');
  const box = document.getElementById('layers');
  box.classList.remove('muted');
  box.innerHTML = '';
  for (const layer of res.layers || []) box.append(layerView(layer));
}

/** A 1-D layer as a strip of grey cells; a [C,H,W] layer as C small grey images (normalised per layer). */
function layerView(layer) {
  const div = document.createElement('div');
  div.className = 'layer';
  const shape = layer.shape || [layer.values.length];
  const [lo, hi] = minMax(layer.values);
  div.innerHTML = `<h3>${esc(layer.name)} <span class="muted">[${shape.map(esc).join('×')}] · ${fmtNum(lo)} … ${fmtNum(hi)}</span></h3>`;
  if (shape.length === 3) {
    const [C, H, W] = shape, maps = document.createElement('div');
    maps.className = 'maps';
    const scl = Math.max(1, Math.min(4, Math.floor(64 / Math.max(H, W))));
    for (let c = 0; c < C; c++) maps.append(greyCanvas(layer.values.slice(c * H * W, (c + 1) * H * W), W, H, scl, lo, hi));
    div.append(maps);
  } else {
    const grey = (v) => Math.round(255 * ((v - lo) / (hi - lo || 1)));
    div.insertAdjacentHTML('beforeend', `<div class="cells">${layer.values.map((v) => {
      const g = grey(v);
      return `<span style="background:rgb(${g},${g},${g})" title="${esc(fmtNum(v))}"></span>`;
    }).join('')}</div>`);
  }
  return div;
}

// ---------------------------------------------------------------- page: inside the network

async function pageInside(id, seq) {
  setTitle(`Inside ${id}`);
  app().innerHTML = `<h1>Inside ${esc(id)}</h1><p class="muted">Loading the weights and the activations…</p>`;
  let d;
  try { d = await api(`/api/runs/${encId(id)}/inside`); } catch (e) { if (!stale(seq)) failPage(`Inside ${id}`, e); return; }
  if (stale(seq)) return;
  const fl = d.first_layer;
  app().innerHTML = `<p><a href="#/run/${esc(encId(id))}">← ${esc(id)}</a></p><h1>Inside ${esc(id)}</h1>
    ${fl ? firstLayerHeading(fl) : '<p class="muted">This network has no first weight matrix to draw.</p>'}
    <div class="weights" id="weights"></div>
    <h2>Activation distributions <span class="muted">(chapter 6) over ${fmtInt(d.images)} test images</span></h2>
    <div class="hists" id="hists"></div>`;
  if (fl) drawWeights(fl, document.getElementById('weights'));
  drawHistograms(d);
}

function firstLayerHeading(fl) {
  return `<h2>${fl.kind === 'conv' ? `The first layer's ${fl.filters} filters` : 'What each hidden neuron looks for'}</h2>
    <p class="muted">${fl.kind === 'conv' ? `${fl.channels}×${fl.height}×${fl.width} each, enlarged` : `the weights from the ${fl.height}×${fl.width} pixels into each of the first layer's units (${fl.weights.length} of ${fl.units} shown)`};
      blue negative, white 0, red positive, each scaled to its own largest |w|.</p>`;
}

/** One histogram per hidden layer: bars over the bin edges. */
function drawHistograms(d) {
  const hists = document.getElementById('hists');
  (d.histograms || []).forEach((h, k) => {
    const fig = document.createElement('figure');
    fig.className = 'chart';
    fig.innerHTML = `<svg id="hist-${k}" width="360" height="240" viewBox="0 0 360 240"></svg>
      <figcaption>${esc(h.layer)} — ${fmtInt(d.images)} test images</figcaption>`;
    hists.append(fig);
    drawHistogram(fig.querySelector('svg'), h.edges, h.counts);
  });
  if (!(d.histograms || []).length) hists.innerHTML = '<p class="muted">No hidden layer histograms.</p>';
}

function drawWeights(fl, box) {
  for (const [u, w] of fl.weights.entries()) {
    const maxAbs = Math.max(1e-12, ...w.map(Math.abs));
    const fig = document.createElement('figure');
    if (fl.kind === 'conv') {
      const per = fl.height * fl.width, scl = Math.max(4, Math.floor(60 / fl.width));
      for (let c = 0; c < fl.channels; c++) fig.append(divergingCanvas(w.slice(c * per, (c + 1) * per), fl.width, fl.height, scl, maxAbs));
    } else {
      fig.append(divergingCanvas(w, fl.width, fl.height, 2, maxAbs));
    }
    fig.insertAdjacentHTML('beforeend', `<figcaption>${u + 1}</figcaption>`);
    fig.title = `${fl.kind === 'conv' ? 'filter' : 'unit'} ${u + 1}: max |w| ${fmtNum(maxAbs)}`;
    box.append(fig);
  }
}

/** Bars over bin edges, with a counts axis. */
function drawHistogram(svg, edges, counts) {
  const W = +svg.getAttribute('width'), H = +svg.getAttribute('height');
  const ax = axes(W, H, [edges[0], edges[edges.length - 1]], [0, Math.max(1, ...counts) * 1.05], { xLabel: 'activation', yLabel: 'count' });
  const bars = counts.map((c, k) => {
    const x0 = ax.sx(edges[k]), x1 = ax.sx(edges[k + 1]), y = ax.sy(c);
    return `<rect x="${x0.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 1).toFixed(1)}" height="${(ax.sy(0) - y).toFixed(1)}" fill="${PALETTE[0]}"><title>${fmtNum(edges[k])} … ${fmtNum(edges[k + 1])}: ${c}</title></rect>`;
  });
  svg.innerHTML = ax.svg + bars.join('');
}

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => { if (document.getElementById('overlay-loss')) { document.getElementById('dock').innerHTML = ''; renderDock(); } });
route();
