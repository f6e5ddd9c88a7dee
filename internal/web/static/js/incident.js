// One incident: the best event's snapshot with its track path and the
// scene's zones drawn over it, its clip, the explanation with measured
// values, the ground position where the camera is calibrated, every
// grouped event, the timeline of the response with who did what, the
// response times, the actions and the dispatch form (unit type, unit id,
// note). Everything user-written is set as text.
import { api, enc } from './api.js';
import { el, select, failed, fmtTime, fmtDuration, toast, typing } from './dom.js';
import { incidentsSource as source, alertsSource } from './source.js';
import { can, onEvent } from './app.js';
import { clip, drawSnapshot } from './alert.js';

export async function show(root, [id, action]) {
  let it = await source.get(id);
  const [best, camera] = await Promise.all([
    it.best ? alertsSource.get(it.best).catch(() => null) : null,
    api(`/cameras/${enc(it.camera)}`).catch(() => null)]);
  const cameraName = (camera && camera.name) || it.camera;
  const doc = best && best.links.snapshot
    ? await api(`/cameras/${enc(it.camera)}/scene?format=json`).then(v => v.document, () => null) : null;
  const canvas = el('canvas', { 'aria-label': `snapshot of ${it.what} on ${cameraName} with the track path and zones`, role: 'img', tabindex: 0 });
  const media = el('div', {}, canvas, best ? clip(best) : el('p', { class: 'dim' }, 'No clip was recorded.'));
  const side = el('div');
  const heading = el('h2');
  root.append(el('p', {}, el('a', { href: '#/queue' }, '‹ Back to the queue')), heading,
    el('div', { class: 'alert-view incident-view' }, media, side));
  if (best && best.links.snapshot) drawSnapshot(canvas, best, doc);
  else canvas.hidden = true;
  // The dispatch form is made once, so that a re-render (this
  // operator's move, or another's arriving over the stream) keeps what is
  // being typed into it.
  const form = dispatchForm(() => it, next => { it = next; render(); });
  // render redraws only what changed: the same incident seen twice (a
  // move's answer and its stream message) leaves the page, and the
  // focus, as they are.
  let shown = '';
  const render = () => {
    const key = [it.state, it.updated, it.history.length, it.events.length].join('|');
    if (key === shown) return;
    shown = key;
    heading.className = `sev-${it.severity}`;
    heading.textContent = `${it.what} — ${cameraName}`;
    side.replaceChildren(...details(it, best), ...actionsFor(it, form, next => { it = next; render(); }));
  };
  render();
  if (action === 'dispatched') form.querySelector('select').focus();
  const off = onEvent(async (type, d) => {
    // The stream carries the incident; fetch the full one (events,
    // history) only when it changed from what is shown.
    if (!source.events.includes(type) || String(d.id) !== String(it.id) || (d.state === it.state && d.updated === it.updated)) return;
    try { it = await source.get(id); render(); } catch (err) { failed(err); }
  });
  // The queue's keys work here too: d goes to the dispatch form.
  const keys = ev => {
    if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey || document.querySelector('dialog[open]') || !can('operator')) return;
    const a = source.actions(it).find(x => x.key === ev.key);
    if (!a) return;
    ev.preventDefault();
    if (a.form) form.querySelector('select').focus();
    else source.transition(it, a.to).then(next => { it = next; render(); }, failed);
  };
  document.addEventListener('keydown', keys);
  return () => { off(); document.removeEventListener('keydown', keys); };
}

function details(it, best) {
  const e = (best && best.event) || {};
  const values = Object.entries(e.values || {});
  const last = (e.path || []).filter(p => p.ground).pop();
  const meta = [`#${it.id}`, `priority ${it.priority}`, it.state.replace('_', ' '), `camera ${it.camera}`,
    it.place ? `place ${it.place}` : '', it.raw.class ? `class ${it.raw.class}` : '', `protocol ${it.protocol}`,
    `${it.count} event(s)`, it.unit ? `suggested unit ${it.unit.replace('_', ' ')}` : '',
    it.unitType ? `dispatched ${it.unitType.replace('_', ' ')} ${it.unitID || ''}`.trim() : '',
    it.raw.escalated ? `escalated ${fmtTime(it.raw.escalated)}` : ''].filter(Boolean);
  const out = [el('p', { class: 'explanation' }, it.explanation), el('p', { class: 'meta' }, meta.join(' · '))];
  if (values.length) {
    out.push(el('table', { 'aria-label': 'measured values' },
      el('tbody', {}, values.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, typeof v === 'number' ? v.toFixed(2) : String(v)))))));
  }
  if (last) out.push(el('p', { class: 'ground' }, `Ground position: ${last.ground[0].toFixed(1)} m, ${last.ground[1].toFixed(1)} m (calibrated plane)`));
  out.push(el('h3', {}, 'Response times'), responseTimes(it), el('h3', {}, 'Timeline'), timeline(it),
    el('h3', {}, `Events (${it.events.length})`), events(it));
  return out;
}

// responseTimes are the stages as the API's response statistics measure
// them: acknowledge, dispatch and resolve from the opening, on scene from
// the dispatch.
function responseTimes(it) {
  const r = it.raw;
  const t = iso => (iso ? Date.parse(iso) : NaN);
  const rows = [['To acknowledge', t(r.acknowledged_at) - t(r.opened)], ['To dispatch', t(r.dispatched_at) - t(r.opened)],
    ['Dispatch to on scene', t(r.on_scene_at) - t(r.dispatched_at)],
    [it.state === 'false_alarm' ? 'To false alarm' : 'To resolve', t(r.resolved_at) - t(r.opened)]];
  return el('dl', { class: 'times', 'aria-label': 'response times' },
    rows.flatMap(([k, ms]) => [el('dt', {}, k), el('dd', { 'data-stage': k }, fmtDuration(ms))]));
}

function timeline(it) {
  const rows = [el('li', {}, `${fmtTime(it.created)} — opened by protocol ${it.protocol}`)];
  for (const h of it.history) {
    const unit = h.unit_type ? ` (${[h.unit_type.replace('_', ' '), h.unit_id].filter(Boolean).join(' ')})` : '';
    rows.push(el('li', { 'data-to': h.to }, `${fmtTime(h.at)} — ${h.from.replace('_', ' ')} → ${h.to.replace('_', ' ')}${unit} by `,
      el('span', { class: 'by' }, h.by), h.note ? el('div', { class: 'dim' }, h.note) : null));
  }
  return el('ol', { class: 'timeline', 'aria-label': 'timeline' }, rows);
}

function events(it) {
  if (!it.events.length) return el('p', { class: 'dim' }, 'No events.');
  return el('ol', { class: 'timeline events', 'aria-label': 'grouped events' }, it.events.map(e =>
    el('li', { 'data-alert': e.alert }, `${fmtTime(e.at)} · ${e.severity} · ${e.rule}${e.name ? ' (' + e.name + ')' : ''}` +
      `${e.tracks && e.tracks.length ? ' · tracks ' + e.tracks.join(', ') : ''}`,
    el('a', { href: `#/alert/${e.alert}`, 'aria-label': `event ${e.alert}` }, `event #${e.alert}`),
    el('div', { class: 'explanation' }, e.explanation))));
}

function actionsFor(it, form, update) {
  const allowed = can('operator');
  const acts = source.actions(it);
  const buttons = acts.filter(a => !a.form).map(a => el('button', {
    type: 'button', disabled: !allowed, title: allowed ? `${a.label} (${a.key})` : 'needs the operator role',
    onclick: () => source.transition(it, a.to).then(update, failed),
  }, a.label));
  const out = [el('h3', {}, 'Actions'), buttons.length ? el('div', { class: 'actions' }, buttons) : el('p', { class: 'dim' }, 'Nothing left to do.')];
  if (acts.some(a => a.form)) out.push(el('h3', {}, 'Dispatch'), form);
  return out;
}

// dispatchForm asks for the unit type (the protocol's suggestion first),
// the unit id and a note, and dispatches the current incident.
function dispatchForm(current, update) {
  const allowed = can('operator');
  const it = current();
  const unitType = select(source.unitTypes.map(u => [u, u.replace('_', ' ')]), it.unit || source.unitTypes[0], { name: 'unit_type' });
  const unitID = el('input', { name: 'unit_id', maxlength: 100, placeholder: 'e.g. car 12' });
  const note = el('textarea', { name: 'note', maxlength: 2000, rows: 2 });
  const send = el('button', { type: 'submit', class: 'primary', disabled: !allowed }, 'Dispatch');
  const form = el('form', { class: 'fields', 'aria-label': 'dispatch' },
    el('label', {}, 'Unit type', unitType), el('label', {}, 'Unit id', unitID), el('label', {}, 'Note', note), send);
  form.onsubmit = ev => {
    ev.preventDefault();
    source.transition(current(), 'dispatched', { unit_type: unitType.value, unit_id: unitID.value.trim(), note: note.value.trim() })
      .then(next => { toast(`Dispatched ${unitType.value.replace('_', ' ')} ${unitID.value.trim()}`); update(next); }, failed);
  };
  return form;
}
