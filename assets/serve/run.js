// scratchnet serve: one run's page, and the form that starts a run.
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html (app.js last).
'use strict';

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
  if (resume) resume.onclick = () => resumeRun(id, resume, seq);
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
  // The page is drawn again; a note survives it (route() clears the message area first).
  const reload = (delay, note) => setTimeout(() => {
    if (stale(seq)) return;
    route();
    if (note) showMessage(note, 'info');
  }, delay);
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
    if ('end' in m) { es.close(); reload(300, `Training ${m.end}.`); }
  };
  es.onerror = () => { es.close(); reload(2000); };   // reconnect with a fresh offset
}

/** A queued, starting or broken run: asks every 2 s until its state changes, then draws the page again. */
function awaitStart(id, state, seq) {
  const box = document.getElementById('progress-box');
  if (box) {
    const waiting = {
      queued: 'queued: waiting for a free job slot…',
      interrupted: 'resuming (loading the data and the checkpoint)…',
    }[state] ?? 'starting (loading the data), or stopped before its first checkpoint…';
    box.innerHTML = `<span class="muted">${waiting}</span>`;
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

async function resumeRun(id, button, seq) {
  button.disabled = true;
  try {
    const { job } = await api(`/api/runs/${encId(id)}/resume`, { method: 'POST' });
    showMessage(`Resuming (job ${job.id}).`, 'info');
    // Redrawn once the run has started again (loading the data can take seconds).
    awaitStart(id, 'interrupted', seq);
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
