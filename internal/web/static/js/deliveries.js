// Dead letters (supervisors and admins): messages the delivery worker
// gave up on, newest first, with the outbox backlog, filters and a retry
// action (supervisor) that makes a message pending again.
import { api, query, enc } from './api.js';
import { el, failed, toast, fmtTime } from './dom.js';
import { can } from './app.js';

export async function show(root) {
  const destination = el('input', { name: 'destination', size: 14 });
  const camera = el('input', { name: 'camera', size: 12 });
  const backlog = el('p', { class: 'meta', role: 'status' });
  const rows = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Older dead letters');
  let cursor = '';
  const load = async (append = false) => {
    if (!append) cursor = '';
    const res = await api('/deliveries/dead' + query({ destination: destination.value.trim(), camera: camera.value.trim(), cursor, limit: 100 }));
    const b = res.backlog || {};
    backlog.textContent = `Outbox: ${b.pending || 0} pending, ${b.dead || 0} dead` + (b.oldest ? `; oldest pending since ${fmtTime(b.oldest)}` : '');
    const trs = res.dead_letters.map(m => row(m, () => load()));
    if (append) rows.append(...trs); else rows.replaceChildren(...trs);
    if (!append && !trs.length) rows.append(el('tr', {}, el('td', { colspan: 9, class: 'dim' }, 'No dead letters.')));
    cursor = res.next_cursor;
    more.hidden = !cursor;
  };
  const form = el('form', { class: 'inline', role: 'search' }, el('label', {}, 'Destination', destination),
    el('label', {}, 'Camera', camera), el('button', { type: 'submit' }, 'Filter'));
  form.onsubmit = ev => { ev.preventDefault(); load().catch(failed); };
  more.onclick = () => load(true).catch(failed);
  root.append(backlog, form, el('table', { class: 'dead' }, el('thead', {}, el('tr', {},
    ['Seq', 'Message id', 'Destination', 'Camera', 'Kind', 'Attempts', 'Created', 'Gave up', 'Last error', ''].map(h => el('th', {}, h)))), rows), more);
  await load();
}

function row(m, reload) {
  const allowed = can('supervisor');
  const retry = el('button', { type: 'button', disabled: !allowed, title: allowed ? '' : 'needs the supervisor role',
    'aria-label': `retry dead letter ${m.seq}` }, 'Retry');
  retry.onclick = () => api(`/deliveries/dead/${enc(m.seq)}/retry`, { method: 'POST' })
    .then(() => { toast(`Message ${m.id} to ${m.destination} will be sent again.`); reload(); }, failed);
  return el('tr', { 'data-seq': m.seq }, el('td', {}, m.seq), el('td', {}, el('code', {}, m.id)), el('td', {}, m.destination),
    el('td', {}, m.camera), el('td', {}, `${m.kind}${m.subject ? ' / ' + m.subject : ''}`), el('td', {}, m.attempts),
    el('td', {}, fmtTime(m.created)), el('td', {}, fmtTime(m.done)), el('td', { class: 'error' }, m.last_error || ''), el('td', {}, retry));
}
