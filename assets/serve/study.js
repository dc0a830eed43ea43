// scratchnet serve: a study's page: its table as a chart you steer.
// Plain ES2020 scripts sharing one global scope, loaded in order by index.html (app.js last).
'use strict';

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
