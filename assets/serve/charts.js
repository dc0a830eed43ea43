// scratchnet serve: charts drawn as SVG by hand, training curves as series, pixels on canvases.
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html (app.js last).
'use strict';

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
