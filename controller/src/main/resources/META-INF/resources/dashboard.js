// dmp dashboard: reads /api/events (one overview a second), draws with uPlot, acts through /api.
// See docs/dashboard.md for the API. No build step: plain ES2020 for current browsers.
'use strict';

const MB = 1e6; // MB/s are decimal megabytes, as disks and networks quote them
const CHART_POINTS = 300; // the server keeps five minutes of one-second points
const COLORS = { read: '#2f6fdb', write: '#d9622b' };
const intFormat = new Intl.NumberFormat('en-US'); // one fixed locale: 1,234,567 everywhere
const fixed = (digits) => new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const oneDecimal = fixed(1);
const twoDecimals = fixed(2);

const $ = (sel) => document.querySelector(sel);
// host/volume: the scope of cards and charts; filter: the host whose volumes the table lists ('' = all).
const state = { host: '', volume: '', filter: '', overview: null, source: null, charts: [], points: [] };

// ---- numbers (64-bit counters arrive as strings in proto3 JSON) ----
const num = (v) => Number(v ?? 0);
const count = (v) => intFormat.format(num(v));
const perSecond = (v) => oneDecimal.format(v);
const megabytes = (bytesPerSecond) => twoDecimals.format(bytesPerSecond / MB);
const avgSize = (v) => `${intFormat.format(num(v))} B`;
function size(v) {
  let n = num(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${intFormat.format(n)} B` : `${twoDecimals.format(n)} ${units[i]}`;
}
function seconds(v) { // latency, given in seconds
  if (v < 1e-3) return `${intFormat.format(Math.round(v * 1e6))} µs`;
  if (v < 1) return `${twoDecimals.format(v * 1e3)} ms`;
  return `${twoDecimals.format(v)} s`;
}
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Errors, latency, block status and holes come from the detailed per-operation counters each stats
// row carries (ops[]); a row without them shows '—'. Errors and latency add up every operation
// (BLOCK_STATUS, FLUSH, TRIM... too), not only the reads and writes of the old view.
function errors(stats) {
  if (!Array.isArray(stats.ops)) return '—';
  return count(stats.ops.reduce((n, o) => n + num(o.errors), 0));
}
// The latency below which a fraction q of all requests completed, from the log2 histograms
// (element i counts latencies in [2^i, 2^(i+1)) ns): the bucket's upper bound, as the controller does.
function latency(stats, p) {
  if (!Array.isArray(stats.ops)) return '—';
  const buckets = [];
  for (const o of stats.ops) (o.latencyHistogram ?? []).forEach((c, i) => { buckets[i] = (buckets[i] ?? 0) + num(c); });
  const total = buckets.reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0) return '—';
  const rank = Math.max(1, Math.ceil({ p50: 0.5, p99: 0.99 }[p] * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] ?? 0;
    if (seen >= rank) return seconds(2 ** (i + 1) / 1e9);
  }
  return '—';
}

// One operation's counters, by its proto3 JSON enum name ('OP_READ', 'OP_BLOCK_STATUS'). ops[] lists
// only operations that counted something, so one that is absent counted zero; null without ops[].
function opCounters(stats, name) {
  if (!Array.isArray(stats.ops)) return null;
  return stats.ops.find((o) => o.op === name) ?? {};
}
// The share of read bytes that went out as holes (structured replies' OFFSET_HOLE), e.g. '50.0%';
// null when nothing was read.
function holeShare(read) {
  const bytes = num(read.bytes);
  return bytes === 0 ? null : `${oneDecimal.format((100 * num(read.holeBytes)) / bytes)}%`;
}
function holesCell(stats) {
  const read = opCounters(stats, 'OP_READ');
  return (read && holeShare(read)) ?? '—';
}
function blockStatusCell(stats) {
  const bs = opCounters(stats, 'OP_BLOCK_STATUS');
  return bs ? count(bs.requests) : '—';
}

// ---- API ----
// A controller with a token (dmp.auth.token) refuses changes without it (401) or with a wrong one
// (403): the page asks for it once and keeps it for this tab only (sessionStorage).
const TOKEN_KEY = 'dmp-token';
async function api(method, path, body, asked = false) {
  const headers = body ? { 'content-type': 'application/json' } : {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if ((res.status === 401 || res.status === 403) && !asked) {
    const given = window.prompt(res.status === 401
      ? 'This controller requires its token (dmp.auth.token) to change anything:'
      : 'The token was wrong. The controller\'s token (dmp.auth.token):');
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, given.trim());
      return api(method, path, body, true);
    }
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try { const e = await res.json(); message = e.message || e.code || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return res.status === 204 ? null : res.json();
}
const scopeQuery = () => new URLSearchParams({ host: state.host, volume: state.volume }).toString();

function toast(message, ok = false) {
  const t = $('#toast');
  t.textContent = message;
  t.classList.toggle('ok', ok);
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 8000);
}

function confirmAction(text, okLabel) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

// ---- scope: the fleet, one host, or one volume ----
function scopeLabel() {
  if (state.volume) return `volume ${state.host}/${state.volume}`;
  if (state.host) return `host ${state.host}`;
  return 'the fleet';
}
function select(host, volume) {
  state.host = host;
  state.volume = volume;
  if (!volume) state.filter = host; // a volume keeps the table as it was
  $('#scope-name').textContent = scopeLabel();
  $('#scope-clear').hidden = !host;
  loadHistory();
  connect();
  if (state.overview) render(state.overview);
}
function selected() {
  const o = state.overview;
  if (state.volume) return o.volumes.find((v) => v.volume.host === state.host && v.volume.name === state.volume);
  if (state.host) return o.hosts.find((h) => h.host.id === state.host);
  return o.fleet;
}

// ---- rendering ----
function setText(id, text) { const e = document.getElementById(id); if (e.textContent !== text) e.textContent = text; }

function renderTotals(row) {
  const s = row.stats;
  const r = row.rate;
  for (const op of ['read', 'write', 'total']) {
    setText(`tot-${op}-reqs`, count(s[op].requests));
    setText(`tot-${op}-avg`, avgSize(s[op].avgSize));
  }
  setText('tot-read-bytes', size(s.read.bytes));
  setText('tot-write-bytes', size(s.write.bytes));
  setText('rate-read-reqs', perSecond(r.readRequests));
  setText('rate-write-reqs', perSecond(r.writeRequests));
  setText('rate-total-reqs', perSecond(r.readRequests + r.writeRequests));
  setText('rate-read-mb', megabytes(r.readBytes));
  setText('rate-write-mb', megabytes(r.writeBytes));
  const bs = opCounters(s, 'OP_BLOCK_STATUS');
  setText('tot-bs-reqs', bs ? count(bs.requests) : '—');
  setText('tot-bs-bytes', bs ? size(bs.bytes) : '—');
  const read = opCounters(s, 'OP_READ');
  const share = read && holeShare(read);
  setText('tot-holes', read ? `${size(read.holeBytes)} of ${size(read.bytes)} read${share ? ` (${share})` : ''}` : '—');
}

function lastSeen(host) {
  if (host.lastSeen) {
    const ago = Math.max(0, Math.round((Date.now() - Date.parse(host.lastSeen)) / 1000));
    return `<span title="${esc(host.lastSeen)}">${intFormat.format(ago)} s ago</span>`;
  }
  return host.online ? 'now' : '—';
}

function renderHosts(hosts) {
  $('#hosts tbody').innerHTML = hosts.map(({ host, stats, rate }) => `
    <tr data-host="${esc(host.id)}" class="${host.id === state.filter ? 'selected' : ''}">
      <td>${esc(host.id)}</td>
      <td class="state-${host.online ? 'online' : 'offline'}">${host.online ? 'online' : 'offline'}</td>
      <td>${lastSeen(host)}</td>
      <td class="num">${count(host.volumeCount)}</td>
      <td class="num" data-col="total-reqs">${count(stats.total.requests)}</td>
      <td class="num">${perSecond(rate.readRequests + rate.writeRequests)}</td>
      <td class="num">${megabytes(rate.readBytes + rate.writeBytes)}</td>
    </tr>`).join('');
}

function backend(volume) {
  const b = volume.backend ?? {};
  if (b.file) return `file <span class="muted path" title="${esc(b.file.path)}">${esc(b.file.path)}</span>`;
  return esc(Object.keys(b)[0] ?? '—');
}

function renderVolumes(volumes) {
  const shown = volumes.filter((v) => !state.filter || v.volume.host === state.filter);
  $('#no-volumes').hidden = shown.length > 0;
  $('#volumes tbody').innerHTML = shown.map(({ volume: v, stats: s, rate: r }) => {
    const key = `${v.host}/${v.name}`;
    const sel = v.host === state.host && v.name === state.volume ? 'selected' : '';
    return `
    <tr data-volume="${esc(key)}" data-host="${esc(v.host)}" data-name="${esc(v.name)}" class="${sel}">
      <td>${esc(v.host)}</td><td><strong>${esc(v.name)}</strong></td><td>${backend(v)}</td>
      <td class="num" data-col="size">${size(v.sizeBytes)}</td><td>${v.device ? esc(v.device) : '—'}</td>
      <td class="num" data-col="read-reqs">${count(s.read.requests)}</td><td class="num" data-col="read-avg">${avgSize(s.read.avgSize)}</td>
      <td class="num" data-col="read-holes">${holesCell(s)}</td>
      <td class="num" data-col="write-reqs">${count(s.write.requests)}</td><td class="num" data-col="write-avg">${avgSize(s.write.avgSize)}</td>
      <td class="num" data-col="total-reqs">${count(s.total.requests)}</td><td class="num" data-col="total-avg">${avgSize(s.total.avgSize)}</td>
      <td class="num">${perSecond(r.readRequests + r.writeRequests)}</td><td class="num">${megabytes(r.readBytes + r.writeBytes)}</td>
      <td class="num" data-col="block-status">${blockStatusCell(s)}</td>
      <td class="num" data-col="errors">${errors(s)}</td>
      <td class="num" data-col="p50">${latency(s, 'p50')}</td><td class="num" data-col="p99">${latency(s, 'p99')}</td>
      <td class="actions"><button class="danger small" data-action="reset">Reset</button>
        <button class="danger small" data-action="delete">Delete</button></td>
    </tr>`;
  }).join('');
}

function renderHostChoices(hosts) {
  const select = $('#create select[name=host]');
  const ids = hosts.map((h) => h.host.id);
  if (select.dataset.ids === ids.join('\n')) return;
  const current = select.value;
  select.innerHTML = hosts.map(({ host }) => `<option value="${esc(host.id)}">${esc(host.id)}${host.online ? '' : ' (offline)'}</option>`).join('');
  if (ids.includes(current)) select.value = current;
  select.dataset.ids = ids.join('\n');
}

function render(o) {
  state.overview = o;
  // A volume or host that went away (deleted elsewhere) widens the scope instead of showing stale numbers.
  if (!selected()) { select(state.volume ? state.filter : '', ''); return; }
  renderTotals(selected());
  renderHosts(o.hosts);
  renderVolumes(o.volumes);
  renderHostChoices(o.hosts);
  $('#live').dataset.time = o.time;
}

// ---- charts ----
function makeChart(el, format) {
  const series = (label) => ({ label, stroke: COLORS[label], width: 2, value: (u, v) => (v == null ? '—' : format(v)) });
  return new uPlot({
    width: el.clientWidth || 300,
    height: 200,
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
    axes: [{}, { size: 60, values: (u, vals) => vals.map(format) }],
    series: [{}, series('read'), series('write')],
    legend: { live: false },
  }, [[], [], []], el);
}
function drawCharts() {
  const t = state.points.map((p) => p.time / 1000);
  state.charts[0].setData([t, state.points.map((p) => p.rate.readRequests), state.points.map((p) => p.rate.writeRequests)]);
  state.charts[1].setData([t, state.points.map((p) => p.rate.readBytes / MB), state.points.map((p) => p.rate.writeBytes / MB)]);
}
async function loadHistory() {
  const wanted = scopeQuery();
  try {
    const h = await api('GET', `/api/history?${wanted}`);
    if (wanted === scopeQuery()) { state.points = h.points; drawCharts(); }
  } catch (e) { toast(e.message); }
}
function addPoint(p) {
  const last = state.points[state.points.length - 1];
  if (last && p.time <= last.time) return;
  state.points.push(p);
  if (state.points.length > CHART_POINTS) state.points.shift();
  drawCharts();
}

// ---- live updates ----
function setLive(live) {
  const e = $('#live');
  e.dataset.state = live ? 'live' : 'down';
  e.textContent = live ? `live · ${new Date().toLocaleTimeString('en-GB')}` : 'reconnecting…';
}
function connect() {
  if (state.source) state.source.close();
  const source = new EventSource(`/api/events?${scopeQuery()}`);
  source.onmessage = (e) => {
    const o = JSON.parse(e.data);
    setLive(true);
    render(o);
    addPoint(o.chart);
  };
  source.onerror = () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED && state.source === source) setTimeout(() => select('', ''), 2000);
  };
  state.source = source;
}

// ---- actions ----
async function reset(request, what) {
  if (!(await confirmAction(`Reset the stats of ${what}? Its counters start again from zero.`, 'Reset'))) return;
  try {
    const r = await api('POST', '/api/reset', request);
    toast(`Reset ${intFormat.format(r.volumesReset)} volume${r.volumesReset === 1 ? '' : 's'}.`, true);
  } catch (e) { toast(e.message); }
}
function resetScope() {
  if (state.volume) return reset({ scope: 'VOLUME', host: state.host, volume: state.volume }, scopeLabel());
  if (state.host) return reset({ scope: 'HOST', host: state.host }, scopeLabel());
  return reset({ scope: 'FLEET' }, 'the whole fleet');
}
async function deleteVolume(host, name) {
  if (!(await confirmAction(`Delete volume ${host}/${name}? Its NBD export goes away; the backend's data stays.`, 'Delete'))) return;
  try {
    await api('DELETE', `/api/volumes/${encodeURIComponent(host)}/${encodeURIComponent(name)}`);
    toast(`Deleted ${host}/${name}.`, true);
    if (state.volume === name && state.host === host) select(state.filter, '');
  } catch (e) { toast(e.message); }
}
async function createVolume(event) {
  event.preventDefault();
  const f = event.target.elements;
  const message = $('#create-message');
  const request = { host: f.host.value, name: f.name.value.trim() };
  if (f.backend.value === 'file') request.file = { path: f.path.value.trim() };
  else request.zero = { sizeBytes: String(Math.round(num(f.size.value) * num(f.unit.value)) || 0) };
  message.className = 'message';
  message.textContent = 'Creating…';
  try {
    const v = await api('POST', '/api/volumes', request);
    message.className = 'message ok';
    message.textContent = `Created ${v.host}/${v.name} (${size(v.sizeBytes)}).`;
    f.name.value = '';
  } catch (e) {
    message.className = 'message error';
    message.textContent = e.message;
  }
}

// ---- wiring ----
$('#hosts tbody').addEventListener('click', (e) => {
  const row = e.target.closest('tr');
  if (!row) return;
  const host = row.dataset.host;
  select(state.filter === host && !state.volume ? '' : host, '');
});
$('#volumes tbody').addEventListener('click', (e) => {
  const row = e.target.closest('tr');
  if (!row) return;
  const { host, name } = row.dataset;
  const action = e.target.closest('button')?.dataset.action;
  if (action === 'reset') reset({ scope: 'VOLUME', host, volume: name }, `volume ${host}/${name}`);
  else if (action === 'delete') deleteVolume(host, name);
  else if (state.volume === name && state.host === host) select(state.filter, '');
  else select(host, name);
});
$('#scope-clear').addEventListener('click', () => select('', ''));
$('#reset-scope').addEventListener('click', resetScope);
$('#create').addEventListener('submit', createVolume);
$('#create select[name=backend]').addEventListener('change', (e) => {
  for (const l of document.querySelectorAll('#create label[data-for]')) l.hidden = l.dataset.for !== e.target.value;
});
state.charts = [makeChart($('#chart-reqs'), perSecond), makeChart($('#chart-mb'), (v) => twoDecimals.format(v))];
new ResizeObserver(() => state.charts.forEach((c) => c.setSize({ width: c.root.parentElement.clientWidth, height: 200 })))
  .observe($('.charts'));
select('', '');
