// The queue: the incidents that need an operator, highest priority and
// newest first, live over the event stream, with filters and keyboard
// shortcuts (j/k or arrows move, n jumps to the next unreviewed one, Enter
// opens, a/d/s/r/f/x act).
import { api } from './api.js';
import { el, select, failed, debounce, typing, fmtTime } from './dom.js';
import { source } from './source.js';
import { onEvent, can } from './app.js';

const filters = { state: source.defaultState, camera: '', severity: '', rule: '' };

export async function show(root) {
  const { cameras } = await api('/cameras');
  const names = new Map(cameras.map(c => [c.id, c.name || c.id]));
  const stateSel = select([['', 'all'], ...source.states.map(s => [s, source.stateLabel(s)])], filters.state, { name: 'state' });
  const camSel = select([['', 'all'], ...cameras.map(c => [c.id, c.name || c.id])], filters.camera, { name: 'camera' });
  const sevSel = select([['', 'all'], ...source.severities], filters.severity, { name: 'priority' });
  const rule = el('input', { name: 'rule', value: filters.rule, placeholder: 'e.g. intrusion', size: 14 });
  const count = el('span', { class: 'dim', 'aria-live': 'polite' });
  const list = el('ol', { class: 'queue', 'aria-label': `${source.noun}s` });
  const help = el('p', { class: 'shortcuts', id: 'shortcuts' }, 'Keys: ', el('kbd', {}, 'j'), '/', el('kbd', {}, 'k'),
    ' next/previous, ', el('kbd', {}, 'n'), ' next unreviewed, ', el('kbd', {}, 'Enter'), ' open, ',
    ...source.allActions.flatMap(a => [el('kbd', {}, a.key), ` ${a.label.toLowerCase()}, `]), el('kbd', {}, '?'), ' this help');
  help.hidden = true;
  root.append(el('h2', {}, 'Queue ', count),
    el('div', { class: 'bar', role: 'search' }, el('label', {}, 'State', stateSel), el('label', {}, 'Camera', camSel),
      el('label', {}, 'Priority', sevSel), el('label', {}, 'Rule', rule),
      el('button', { type: 'button', 'aria-controls': 'shortcuts', onclick: () => { help.hidden = !help.hidden; } }, 'Keyboard shortcuts')),
    help, list);

  let items = [];
  let selected = 0;
  let shown = null;
  const act = (it, a) => {
    if (a.form) location.hash = `#/${source.kind}/${it.id}/${a.to}`;
    else source.transition(it, a.to).then(load, failed);
  };
  const load = async () => {
    try {
      ({ items } = await source.list(filters));
    } catch (err) {
      failed(err);
      return;
    }
    // Redraw only on a change, so that a stream message that changes
    // nothing leaves the rows, and the focus, alone.
    const sig = items.map(it => `${it.id}:${it.state}:${it.updated}:${it.count}:${it.severity}`).join(',');
    if (sig === shown) return;
    shown = sig;
    const keep = list.querySelector('li.selected')?.dataset.id;
    list.replaceChildren(...items.map(it => row(it, names, act)));
    count.textContent = `(${items.length})`;
    const i = items.findIndex(it => String(it.id) === keep);
    choose(i >= 0 ? i : Math.min(selected, items.length - 1), false);
  };
  const choose = (i, focus = true) => {
    const rows = list.children;
    if (!rows.length) return;
    selected = Math.max(0, Math.min(i, rows.length - 1));
    for (const r of rows) r.classList.remove('selected');
    rows[selected].classList.add('selected');
    if (focus) rows[selected].focus();
  };
  // nextUnreviewed selects the next item still in the unreviewed state,
  // wrapping around.
  const nextUnreviewed = () => {
    for (let k = 1; k <= items.length; k++) {
      const i = (selected + k) % items.length;
      if (items[i].state === source.unreviewedState) return choose(i);
    }
  };
  const reload = debounce(load, 300);
  const onFilter = () => {
    Object.assign(filters, { state: stateSel.value, camera: camSel.value, severity: sevSel.value, rule: rule.value.trim() });
    load();
  };
  for (const s of [stateSel, camSel, sevSel]) s.onchange = onFilter;
  rule.onchange = onFilter;
  list.addEventListener('focusin', ev => {
    const li = ev.target.closest('li');
    if (li) choose([...list.children].indexOf(li), false);
  });
  const keys = ev => {
    if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey || document.querySelector('dialog[open]')) return;
    const it = items[selected];
    if (ev.key === 'j' || ev.key === 'ArrowDown') choose(selected + 1);
    else if (ev.key === 'k' || ev.key === 'ArrowUp') choose(selected - 1);
    else if (ev.key === 'n') nextUnreviewed();
    else if (ev.key === 'Enter' && it) location.hash = `#/${source.kind}/${it.id}`;
    else if (ev.key === '?') help.hidden = !help.hidden;
    else {
      const a = it && can('operator') && source.actions(it).find(x => x.key === ev.key);
      if (!a) return;
      act(it, a);
    }
    ev.preventDefault();
  };
  document.addEventListener('keydown', keys);
  const off = onEvent(type => { if (source.events.includes(type)) reload(); });
  await load();
  return () => { document.removeEventListener('keydown', keys); off(); };
}

function row(it, names, act) {
  const camera = names.get(it.camera) || it.camera;
  const title = `${it.what} — ${camera}`;
  const src = it.links.crop || it.links.snapshot;
  const img = src ? el('img', { alt: '', src }) : null;
  if (img) img.onerror = () => { img.hidden = true; };
  const actions = el('div', { class: 'actions' });
  const allowed = can('operator');
  for (const a of source.actions(it)) {
    const b = el('button', { type: 'button', disabled: !allowed, title: allowed ? `${a.label} (${a.key})` : 'needs the operator role' }, a.label);
    b.onclick = ev => { ev.stopPropagation(); act(it, a); };
    actions.append(b);
  }
  const open = el('a', { href: `#/${source.kind}/${it.id}` }, 'Open');
  const state = it.state.replace('_', ' ');
  const extra = [it.count > 1 ? `${it.count} events` : '', it.unitType ? `unit ${it.unitType} ${it.unitID || ''}`.trim() :
    it.unit ? `suggests ${it.unit.replace('_', ' ')}` : ''].filter(Boolean);
  return el('li', { tabindex: 0, 'data-id': it.id, [`data-${source.kind}`]: it.id, 'data-state': it.state, class: img ? null : 'nothumb',
    'aria-label': `${title}, ${it.severity}, ${state}` }, img ? el('div', { class: 'thumb' }, img) : null,
    el('div', {},
      el('div', { class: `title sev-${it.severity}` }, title),
      el('div', { class: 'explanation' }, it.explanation),
      el('div', { class: 'meta' }, [`#${it.id}`, it.severity, state, ...extra, fmtTime(it.created)].join(' · ')),
      el('div', { class: 'actions' }, actions, open)));
}
