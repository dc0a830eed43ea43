// scratchnet serve: the runs page and the overlay of ticked runs.
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html (app.js last).
'use strict';

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
