// The queue: what needs an operator, most urgent first, live over the
// event stream, with filters and keyboard shortcuts.
import { api } from './api.js';
import { el, select, failed, debounce, typing, fmtTime } from './dom.js';
import { source } from './source.js';
import { onEvent, can } from './app.js';

const filters = { state: 'new', camera: '', severity: '', rule: '' };

export async function show(root) {
  const { cameras } = await api('/cameras');
  const names = new Map(cameras.map(c => [c.id, c.name || c.id]));
  const stateSel = select([['', 'all'], ...source.states.map(s => [s, s.replace('_', ' ')])], filters.state, { name: 'state' });
  const camSel = select([['', 'all'], ...cameras.map(c => [c.id, c.name || c.id])], filters.camera, { name: 'camera' });
  const sevSel = select([['', 'all'], ...source.severities], filters.severity, { name: 'severity' });
  const rule = el('input', { name: 'rule', value: filters.rule, placeholder: 'e.g. intrusion', size: 14 });
  const count = el('span', { class: 'dim', 'aria-live': 'polite' });
  const list = el('ol', { class: 'queue', 'aria-label': `${source.noun}s` });
  const help = el('p', { class: 'shortcuts', id: 'shortcuts' }, 'Keys: ', el('kbd', {}, 'j'), '/', el('kbd', {}, 'k'),
    ' next/previous, ', el('kbd', {}, 'Enter'), ' open, ',
    ...source.allActions.flatMap(a => [el('kbd', {}, a.key), ` ${a.label.toLowerCase()}, `]), el('kbd', {}, '?'), ' this help');
  help.hidden = true;
  root.append(el('h2', {}, 'Queue ', count),
    el('div', { class: 'bar', role: 'search' }, el('label', {}, 'State', stateSel), el('label', {}, 'Camera', camSel),
      el('label', {}, 'Severity', sevSel), el('label', {}, 'Rule', rule),
      el('button', { type: 'button', 'aria-controls': 'shortcuts', onclick: () => { help.hidden = !help.hidden; } }, 'Keyboard shortcuts')),
    help, list);

  let items = [];
  let selected = 0;
  const load = async () => {
    try {
      ({ items } = await source.list(filters));
    } catch (err) {
      failed(err);
      return;
    }
    const keep = list.querySelector('li.selected')?.dataset.id;
    list.replaceChildren(...items.map((it, i) => row(it, i, names, load)));
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
    else if (ev.key === 'Enter' && it) location.hash = `#/${source.kind}/${it.id}`;
    else if (ev.key === '?') help.hidden = !help.hidden;
    else {
      const act = it && can('operator') && source.actions(it).find(a => a.key === ev.key);
      if (!act) return;
      source.transition(it, act.to).then(load, failed);
    }
    ev.preventDefault();
  };
  document.addEventListener('keydown', keys);
  const off = onEvent(type => { if (source.events.includes(type)) reload(); });
  await load();
  return () => { document.removeEventListener('keydown', keys); off(); };
}

function row(it, i, names, reload) {
  const camera = names.get(it.camera) || it.camera;
  const title = `${it.rule === 'anomaly' ? 'anomaly: ' + it.name : it.rule} — ${camera}`;
  const img = el('img', { alt: '', src: it.links.crop || it.links.snapshot || undefined });
  if (!img.src) img.hidden = true;
  img.onerror = () => { img.hidden = true; };
  const actions = el('div', { class: 'actions' });
  const allowed = can('operator');
  for (const a of source.actions(it)) {
    const b = el('button', { type: 'button', disabled: !allowed, title: allowed ? `${a.label} (${a.key})` : 'needs the operator role' }, a.label);
    b.onclick = ev => { ev.stopPropagation(); source.transition(it, a.to).then(reload, failed); };
    actions.append(b);
  }
  const open = el('a', { href: `#/${source.kind}/${it.id}` }, 'Open');
  return el('li', { tabindex: 0, 'data-id': it.id, [`data-${source.kind}`]: it.id,
    'aria-label': `${title}, ${it.severity}, ${it.state.replace('_', ' ')}` }, el('div', { class: 'thumb' }, img),
    el('div', {},
      el('div', { class: `title sev-${it.severity}` }, title),
      el('div', { class: 'explanation' }, it.explanation),
      el('div', { class: 'meta' }, `#${it.id} · ${it.severity} · ${it.state.replace('_', ' ')} · ${fmtTime(it.created)}`),
      el('div', { class: 'actions' }, actions, open)));
}
