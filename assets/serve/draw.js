// scratchnet serve: draw a digit, and inside a network.
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html (app.js last).
'use strict';

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
