// The dashboard: incidents (the operator queue) and alerts (every event)
// per hour, per camera and per rule, incident response times (median and
// p90 per camera, rule and unit type), line counts by direction, per-rule
// precision from operators' verdicts, and what each camera learned to be
// normal, and the box's analysis capacity (what its cameras use, what is
// left before a new camera is refused). Charts are SVG drawn in the page.
import { api, query, enc } from './api.js';
import { el, svg, select, fmtDuration } from './dom.js';

export async function show(root) {
  const windowSel = select([['24', 'last 24 hours'], ['168', 'last 7 days']], '24', { name: 'window' });
  const body = el('div', { class: 'charts' });
  root.append(el('h2', {}, 'Dashboard'), el('div', { class: 'bar' }, el('label', {}, 'Period', windowSel)), body);
  const render = async () => {
    const hours = Number(windowSel.value);
    const until = new Date();
    const since = new Date(until - hours * 3600e3);
    const range = { since: since.toISOString(), until: until.toISOString() };
    const [stats, counts, verdicts, alerts, { cameras }, incidents, response, cap] = await Promise.all([
      api('/stats' + query(range)), api('/counts' + query(range)), api('/stats/verdicts' + query(range)),
      recentAlerts(range), api('/cameras'), recent('/incidents', 'incidents', range), api('/stats/response' + query(range)),
      api('/capacity').catch(() => null)]);
    const names = new Map(cameras.map(c => [c.id, c.name || c.id]));
    body.replaceChildren(
      panel('Analysis capacity', capacity(cap), 'wide capacity'),
      panel(`Incidents per hour (${incidents.length}${incidents.more ? '+' : ''})`, perHour(incidents.map(i => Date.parse(i.opened)), since, hours)),
      panel('Incidents per camera', bars(tally(incidents, i => names.get(i.camera) || i.camera))),
      panel('Incidents per rule', bars(tally(incidents, i => i.rule))),
      panel('Incident response times (median / p90)', incidentTimes(response.groups, names), 'wide'),
      panel(`Alerts per hour (${stats.total}${stats.truncated ? '+' : ''})`, perHour(alerts.map(a => Date.parse(a.created)), since, hours)),
      panel('Alerts per camera', bars(Object.entries(stats.by_camera))),
      panel('Alerts per rule', bars(Object.entries(stats.by_rule).map(([r, s]) => [r, Object.values(s).reduce((a, b) => a + b, 0)]))),
      panel('Line crossings by direction', lineCounts(counts.counts)),
      panel('Precision per rule (operators\' verdicts)', precision(verdicts.rules)),
      panel('Alert response times per rule (median)', responseTimes(alerts)),
      panel('Learned normal', heatmaps(cameras)));
  };
  windowSel.onchange = render;
  await render();
}

// capacity shows GET /capacity: analysed frames per second the box
// sustains, what its running cameras ask for, and the headroom; past it a
// new camera is refused (409 over_capacity) and running ones drop frames.
function capacity(c) {
  if (!c) return el('p', { class: 'dim' }, 'This server does not measure its capacity.');
  if (!c.measured) return el('p', { class: 'dim' }, `Not measured yet: the detector has not run. ${c.cameras} camera(s) ask for ${c.used_fps.toFixed(1)} analysed fps; every camera is admitted until it is measured.`);
  const f = v => v.toFixed(1);
  const pct = v => `${Math.round(v * 100)} %`;
  const over = c.headroom_fps < 0;
  return el('div', {},
    el('p', { class: over ? 'over' : '' }, over
      ? `Over capacity by ${f(-c.headroom_fps)} analysed fps: cameras drop frames, and a new camera is refused.`
      : `${f(c.headroom_fps)} analysed fps free: a camera asking for more is refused.`),
    el('table', { class: 'capacity' }, el('tbody', {},
      [['Sustained', `${f(c.capacity_fps)} fps (${pct(c.headroom)} kept back)`],
        ['In use', `${f(c.used_fps)} fps by ${c.cameras} camera(s)`],
        ['Inference', `${f(c.full_ms)} ms per whole frame, ${f(c.region_ms)} ms per crop, ${c.lanes} lane(s) in parallel`],
        ['Frames', `${pct(c.mix.full)} whole, ${pct(c.mix.regions)} in crops, ${pct(c.mix.carry)} carried (${c.mix_from})`]]
        .map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { 'data-capacity': k.toLowerCase() }, v))))));
}

function panel(title, content, cls = '') {
  return el('section', { class: `panel ${cls}`.trim() }, el('h3', {}, title), content);
}

// recentAlerts reads up to 2000 alerts of the range, with their history.
function recentAlerts(range) { return recent('/alerts', 'alerts', range); }

// recent reads up to 2000 items of a paged list in the range; more is set
// on the result when there were more.
async function recent(path, key, range) {
  const out = [];
  let cursor = '';
  for (let page = 0; page < 4; page++) {
    const res = await api(path + query({ ...range, limit: 500, cursor }));
    out.push(...res[key]);
    if (!(cursor = res.next_cursor)) break;
  }
  out.more = !!cursor;
  return out;
}

// tally counts items by key, largest first.
function tally(items, key) {
  const m = new Map();
  for (const it of items) m.set(key(it), (m.get(key(it)) || 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

// incidentTimes tabulates GET /stats/response: per camera, rule and unit
// type, each response stage's median and p90 with its sample count.
function incidentTimes(groups, names) {
  if (!groups.length) return el('p', { class: 'dim' }, 'No incidents in this period.');
  const stages = [['acknowledge', 'To acknowledge'], ['dispatch', 'To dispatch'], ['on_scene', 'Dispatch to on scene'], ['resolve', 'To resolve']];
  const cell = q => (q ? `${fmtDuration(q.median_s * 1000)} / ${fmtDuration(q.p90_s * 1000)} (${q.n})` : '–');
  return el('table', { class: 'response' }, el('thead', {}, el('tr', {}, ['Camera', 'Rule', 'Unit', ...stages.map(s => s[1])].map(h => el('th', {}, h)))),
    el('tbody', {}, groups.map(g => el('tr', {}, el('td', {}, names.get(g.camera) || g.camera), el('td', {}, g.rule),
      el('td', {}, (g.unit_type || '–').replace('_', ' ')), stages.map(([k]) => el('td', { 'data-stage': k }, cell(g.stages[k])))))));
}

function perHour(times, since, hours) {
  const n = hours <= 24 ? hours : hours / 6;
  const step = (hours * 3600e3) / n;
  const buckets = new Array(n).fill(0);
  for (const t of times) {
    const i = Math.floor((t - since) / step);
    if (i >= 0 && i < n) buckets[i]++;
  }
  return bars(buckets.map((v, i) => [new Date(+since + i * step).toLocaleTimeString([], hours <= 24 ? { hour: '2-digit' } : { weekday: 'short', hour: '2-digit' }), v]), true);
}

// bars draws a bar chart of [label, value] pairs (vertical when many).
function bars(rows, vertical = false) {
  if (!rows.length) return el('p', { class: 'dim' }, 'Nothing in this period.');
  const max = Math.max(1, ...rows.map(r => r[1]));
  if (vertical) {
    const w = 400, h = 140, bw = w / rows.length;
    return svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h + 20}`, role: 'img', 'aria-label': rows.map(r => `${r[0]}: ${r[1]}`).join(', ') },
      rows.map(([l, v], i) => [
        svg('rect', { class: 'bar', x: i * bw + 1, y: h - (v / max) * h, width: Math.max(1, bw - 2), height: (v / max) * h }, svg('title', {}, `${l}: ${v}`)),
        i % Math.ceil(rows.length / 8) === 0 ? svg('text', { x: i * bw, y: h + 14 }, l) : null,
      ]));
  }
  const rowH = 18, w = 400, lw = 150;
  return svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${rows.length * rowH + 4}`, role: 'img', 'aria-label': rows.map(r => `${r[0]}: ${r[1]}`).join(', ') },
    rows.map(([l, v], i) => [
      svg('text', { x: 2, y: i * rowH + 13 }, String(l).slice(0, 24)),
      svg('rect', { class: 'bar', x: lw, y: i * rowH + 3, width: Math.max(1, ((w - lw - 40) * v) / max), height: rowH - 6 }),
      svg('text', { x: lw + ((w - lw - 40) * v) / max + 4, y: i * rowH + 13 }, String(v)),
    ]));
}

function lineCounts(counts) {
  const sum = new Map();
  for (const c of counts) {
    const k = `${c.camera} / ${c.name} ${c.direction || ''}`.trim();
    sum.set(k, (sum.get(k) || 0) + c.n);
  }
  return bars([...sum.entries()].sort());
}

function precision(rules) {
  if (!rules.length) return el('p', { class: 'dim' }, 'No verdicts in this period.');
  return el('table', {}, el('thead', {}, el('tr', {}, ['Camera', 'Rule', 'Confirmed', 'False alarms', 'Precision'].map(h => el('th', {}, h)))),
    el('tbody', {}, rules.map(r => el('tr', {}, el('td', {}, r.camera), el('td', {}, r.name ? `${r.rule} (${r.name})` : r.rule),
      el('td', {}, r.confirmed), el('td', {}, r.false_alarm),
      el('td', {}, r.precision === null ? '–' : `${(r.precision * 100).toFixed(0)} %`,
        r.precision === null ? null : el('meter', { min: 0, max: 1, value: r.precision, 'aria-label': `precision of ${r.rule}` }))))));
}

function heatmaps(cameras) {
  if (!cameras.length) return el('p', { class: 'dim' }, 'No cameras.');
  const cam = select(cameras.map(c => [c.id, c.name || c.id]), cameras[0].id, { name: 'heatmap-camera' });
  const kind = select(['occupancy', 'direction', 'speed', 'dwell'], 'occupancy', { name: 'heatmap-kind' });
  const img = el('img', { alt: 'learned normal heatmap' });
  const note = el('p', { class: 'dim', hidden: true }, 'This camera has not learned a baseline yet.');
  const load = () => {
    note.hidden = true;
    img.hidden = false;
    img.src = `/api/v1/cameras/${enc(cam.value)}/baseline/heatmap.png?kind=${kind.value}&t=${Date.now()}`;
  };
  img.onerror = () => { img.hidden = true; note.hidden = false; };
  img.hidden = true;
  return el('div', { class: 'heat' }, el('div', { class: 'bar' }, el('label', {}, 'Camera', cam), el('label', {}, 'Kind', kind),
    el('button', { type: 'button', onclick: load }, 'Show heatmap')), img, note);
}

// responseTimes: per rule, the median time from an alert being raised to
// its first acknowledgement, to its verdict and to its closing.
function responseTimes(alerts) {
  const by = new Map();
  for (const a of alerts) {
    const r = a.event.rule;
    if (!by.has(r)) by.set(r, { n: 0, ack: [], verdict: [], close: [] });
    const s = by.get(r);
    s.n++;
    const t0 = Date.parse(a.created);
    const first = to => (a.history || []).find(h => to.includes(h.to));
    const add = (list, h) => { if (h) list.push(Date.parse(h.at) - t0); };
    add(s.ack, first(['acknowledged', 'confirmed', 'false_alarm', 'closed']));
    add(s.verdict, first(['confirmed', 'false_alarm']));
    add(s.close, first(['closed']));
  }
  if (!by.size) return el('p', { class: 'dim' }, 'Nothing in this period.');
  const median = xs => { if (!xs.length) return NaN; const v = [...xs].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  return el('table', {}, el('thead', {}, el('tr', {}, ['Rule', 'Alerts', 'To first action', 'To verdict', 'To close'].map(h => el('th', {}, h)))),
    el('tbody', {}, [...by.entries()].sort().map(([r, s]) => el('tr', {}, el('td', {}, r), el('td', {}, s.n),
      el('td', {}, `${fmtDuration(median(s.ack))} (${s.ack.length})`), el('td', {}, `${fmtDuration(median(s.verdict))} (${s.verdict.length})`),
      el('td', {}, `${fmtDuration(median(s.close))} (${s.close.length})`)))));
}
