// One alert: the snapshot with the track's path and the scene's zones
// drawn over it, the clip, the explanation with its measured values, the
// ground position where the camera is calibrated, the timeline with
// response times, the actions and the dispatch form.
import { api, enc } from './api.js';
import { el, select, failed, fmtTime, fmtDuration, toast } from './dom.js';
import { alertsSource as source } from './source.js';
import { can, onEvent } from './app.js';
import { drawScene } from './scene.js';

export async function show(root, [id]) {
  let it = await source.get(id);
  // The scene is drawn over the snapshot; without one it is not needed.
  const doc = it.links.snapshot ? await api(`/cameras/${enc(it.camera)}/scene?format=json`).then(v => v.document, () => null) : null;
  const canvas = el('canvas', { 'aria-label': `snapshot of ${it.title} with the track path and zones`, role: 'img', tabindex: 0 });
  const side = el('div');
  const body = el('div', { class: 'alert-view' }, el('div', {}, canvas, clip(it)), side);
  root.append(el('p', {}, el('a', { href: '#/queue' }, '‹ Back to the queue')), el('h2', { class: `sev-${it.severity}` }, it.title), body);
  if (it.links.snapshot) drawSnapshot(canvas, it, doc);
  else canvas.hidden = true;
  const render = () => side.replaceChildren(...details(it), ...actionsFor(it, next => { it = next; render(); }));
  render();
  const off = onEvent(async (type, d) => {
    if (source.events.includes(type) && String(d.id) === String(it.id) && type !== source.newEvent) {
      try { it = await source.get(id); render(); } catch (err) { failed(err); }
    }
  });
  return off;
}

export function clip(it) {
  if (!it.links.clip) return el('p', { class: 'dim' }, 'No clip was recorded.');
  return playable(it.links.clip, 'alert clip', 'The clip is not available (still recording, or removed by retention).');
}

// playable is a video player that gives way to the note missing when the
// file cannot be played (not written yet, or gone with retention).
export function playable(src, label, missing) {
  const v = el('video', { controls: true, preload: 'metadata', src, 'aria-label': label });
  const note = el('p', { class: 'dim', hidden: true }, missing);
  v.onerror = () => { v.hidden = true; note.hidden = false; };
  return el('div', {}, v, note);
}

export function drawSnapshot(canvas, it, doc) {
  const img = new Image();
  img.onload = () => {
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    // Scene and path coordinates are in the camera's native frame.
    const sx = doc && doc.image ? img.naturalWidth / doc.image.width : 1;
    const sy = doc && doc.image ? img.naturalHeight / doc.image.height : 1;
    if (doc) drawScene(g, doc, { sx, sy, highlight: [it.event.zone, it.event.line, it.event.lane].filter(Boolean) });
    const path = (it.event.path || []).map(p => [p.image[0] * sx, p.image[1] * sy]);
    if (path.length) {
      g.lineWidth = 3;
      g.strokeStyle = '#ff3b3b';
      g.beginPath();
      path.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.stroke();
      const [x, y] = path[path.length - 1];
      g.fillStyle = '#ff3b3b';
      g.beginPath();
      g.arc(x, y, 6, 0, 2 * Math.PI);
      g.fill();
    }
  };
  img.onerror = () => { canvas.hidden = true; };
  img.src = it.links.snapshot;
}

function details(it) {
  const e = it.event;
  const values = Object.entries(e.values || {});
  const last = (e.path || []).filter(p => p.ground).pop();
  const out = [
    el('p', { class: 'explanation' }, it.explanation),
    el('p', { class: 'meta' }, `#${it.id} · ${it.severity} · ${it.state.replace('_', ' ')} · camera ${it.camera}` +
      `${e.zone ? ' · zone ' + e.zone : ''}${e.line ? ' · line ' + e.line : ''}${e.lane ? ' · lane ' + e.lane : ''}` +
      ` · class ${e.class || '?'} · tracks ${(e.tracks || []).join(', ')}`),
  ];
  if (values.length) {
    out.push(el('table', { 'aria-label': 'measured values' },
      el('tbody', {}, values.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, typeof v === 'number' ? v.toFixed(2) : String(v)))))));
  }
  if (last) out.push(el('p', {}, `Ground position: ${last.ground[0].toFixed(1)} m, ${last.ground[1].toFixed(1)} m (calibrated plane)`));
  out.push(el('h3', {}, 'Timeline'), timeline(it));
  return out;
}

function timeline(it) {
  const created = Date.parse(it.created);
  const rows = [el('li', {}, `${fmtTime(it.created)} — raised`)];
  const first = {};
  for (const h of it.history) {
    first[h.to] = first[h.to] || Date.parse(h.at);
    rows.push(el('li', {}, `${fmtTime(h.at)} — ${h.from} → ${h.to} by ${h.by}`, h.note ? el('div', { class: 'dim' }, h.note) : null));
  }
  const times = [['acknowledge', first.acknowledged], ['dispatch', first.confirmed || first.dispatched], ['close', first.closed]]
    .filter(([, t]) => t).map(([what, t]) => `time to ${what} ${fmtDuration(t - created)}`);
  return el('div', {}, el('ol', { class: 'timeline' }, rows), times.length ? el('p', { class: 'meta' }, times.join(' · ')) : null);
}

function actionsFor(it, update) {
  const allowed = can('operator');
  const buttons = source.actions(it).filter(a => a.key !== 'd').map(a => el('button', {
    type: 'button', disabled: !allowed, title: allowed ? '' : 'needs the operator role',
    onclick: () => source.transition(it, a.to).then(update, failed),
  }, a.label));
  const out = [el('h3', {}, 'Actions'), el('div', { class: 'actions' }, buttons)];
  const dispatch = source.actions(it).find(a => a.key === 'd');
  if (!dispatch) return out;
  const unitType = select(source.unitTypes.map(u => [u, u.replace('_', ' ')]), source.unitTypes[0], { name: 'unit_type' });
  const unitID = el('input', { name: 'unit_id', maxlength: 64, placeholder: 'e.g. car 12' });
  const note = el('textarea', { name: 'note', maxlength: 1000, rows: 2 });
  const send = el('button', { type: 'submit', class: 'primary', disabled: !allowed }, 'Dispatch');
  const form = el('form', { class: 'fields', 'aria-label': 'dispatch' },
    el('label', {}, 'Unit type', unitType), el('label', {}, 'Unit id', unitID), el('label', {}, 'Note', note), send);
  form.onsubmit = ev => {
    ev.preventDefault();
    source.transition(it, dispatch.to, { unit_type: unitType.value, unit_id: unitID.value.trim(), note: note.value.trim() })
      .then(next => { toast(`Dispatched ${unitType.value} ${unitID.value}`); update(next); }, failed);
  };
  out.push(el('h3', {}, 'Dispatch'), form);
  return out;
}
