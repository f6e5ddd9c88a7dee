// Administration: the audit log, alert protocols and dead letters
// (supervisors and admins), users, API tokens and camera groups (admins).
import { api, query, enc } from './api.js';
import { el, select, failed, toast, fmtTime } from './dom.js';
import { can } from './app.js';
import * as protocols from './protocols.js';
import * as deliveries from './deliveries.js';

const roles = ['viewer', 'operator', 'supervisor', 'admin'];

export async function show(root, [tab]) {
  const tabs = [['audit', 'Audit log', 'supervisor'], ['protocols', 'Alert protocols', 'supervisor'],
    ['deliveries', 'Dead letters', 'supervisor'], ['users', 'Users', 'admin'], ['tokens', 'API tokens', 'admin'], ['groups', 'Camera groups', 'admin']]
    .filter(t => can(t[2]));
  const current = tabs.find(t => t[0] === tab) ? tab : 'audit';
  const body = el('div');
  root.append(el('h2', {}, 'Administration'),
    el('nav', { class: 'bar', 'aria-label': 'Administration' }, tabs.map(([id, label]) =>
      el('a', { href: `#/admin/${id}`, 'aria-current': id === current ? 'page' : undefined }, label))), body);
  await ({ audit, users, tokens, groups, protocols: protocols.show, deliveries: deliveries.show }[current])(body);
}

async function audit(root) {
  const actor = el('input', { name: 'actor', size: 12 });
  const action = el('input', { name: 'action', size: 14, placeholder: 'e.g. alert.*' });
  const object = el('input', { name: 'object', size: 14, placeholder: 'e.g. camera/*' });
  const rows = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Older entries');
  let cursor = '';
  const load = async (append = false) => {
    if (!append) cursor = '';
    const res = await api('/audit' + query({ actor: actor.value.trim(), action: action.value.trim(), object: object.value.trim(), cursor, limit: 100 }));
    const trs = res.entries.map(e => el('tr', { 'data-action': e.action },
      el('td', {}, fmtTime(e.at)), el('td', { class: 'actor' }, e.actor), el('td', {}, e.via), el('td', { class: 'action' }, e.action),
      el('td', { class: 'object' }, e.object), el('td', {}, change(e.before, e.after)), el('td', {}, e.addr), el('td', {}, e.detail || '')));
    if (append) rows.append(...trs); else rows.replaceChildren(...trs);
    cursor = res.next_cursor;
    more.hidden = !cursor;
  };
  const form = el('form', { class: 'inline', role: 'search' }, el('label', {}, 'Who', actor), el('label', {}, 'Action', action),
    el('label', {}, 'Object', object), el('button', { type: 'submit' }, 'Filter'));
  form.onsubmit = ev => { ev.preventDefault(); load().catch(failed); };
  more.onclick = () => load(true).catch(failed);
  root.append(form, el('table', { class: 'audit' }, el('thead', {}, el('tr', {},
    ['When', 'Who', 'Via', 'Action', 'Object', 'Before → after', 'From', 'Detail'].map(h => el('th', {}, h)))), rows), more);
  await load();
}

// change shows before → after as JSON text.
function change(before, after) {
  const s = v => (v === null || v === undefined ? '—' : JSON.stringify(v));
  if (before === null && after === null) return '';
  return el('code', {}, `${s(before)} → ${s(after)}`);
}

async function users(root) {
  const [{ users: list }, { groups: gs }] = await Promise.all([api('/users'), api('/groups')]);
  const rows = list.map(u => {
    const role = select(roles, u.role, { name: 'role', 'aria-label': `role of ${u.name}` });
    const groups = el('input', { name: 'groups', value: u.groups.join(','), size: 14, 'aria-label': `camera groups of ${u.name}`, placeholder: 'all cameras' });
    const disabled = el('input', { type: 'checkbox', name: 'disabled', checked: u.disabled, 'aria-label': `${u.name} disabled` });
    const saveB = el('button', { type: 'button' }, 'Save');
    saveB.onclick = () => api(`/users/${enc(u.name)}`, { method: 'PATCH', body: {
      role: role.value, groups: groups.value.split(',').map(s => s.trim()).filter(Boolean), disabled: disabled.checked,
    } }).then(() => toast(`Saved ${u.name}.`), failed);
    const pw = el('input', { type: 'password', name: 'new-password', autocomplete: 'new-password', size: 12, 'aria-label': `new password for ${u.name}` });
    const pwB = el('button', { type: 'button' }, 'Set password');
    pwB.onclick = () => api(`/users/${enc(u.name)}/password`, { method: 'POST', body: { password: pw.value } })
      .then(() => { pw.value = ''; toast(`Password of ${u.name} set; their sessions ended.`); }, failed);
    return el('tr', { 'data-user': u.name }, el('td', {}, u.name), el('td', {}, u.display_name || ''), el('td', {}, role),
      el('td', {}, groups), el('td', {}, disabled), el('td', {}, saveB), el('td', {}, pw, pwB));
  });
  const name = el('input', { name: 'name', required: true, size: 12 });
  const display = el('input', { name: 'display_name', size: 14 });
  const role = select(roles, 'operator', { name: 'role' });
  const groups = el('input', { name: 'groups', size: 12, placeholder: 'all cameras' });
  const password = el('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 12, required: true });
  const form = el('form', { class: 'inline', 'aria-label': 'new user' }, el('label', {}, 'User name', name), el('label', {}, 'Display name', display),
    el('label', {}, 'Role', role), el('label', {}, 'Camera groups (comma list)', groups), el('label', {}, 'Password (12+)', password),
    el('button', { type: 'submit', class: 'primary' }, 'Add user'));
  form.onsubmit = ev => {
    ev.preventDefault();
    api('/users', { method: 'POST', body: { name: name.value, display_name: display.value, role: role.value,
      groups: groups.value.split(',').map(s => s.trim()).filter(Boolean), password: password.value } })
      .then(() => { toast(`User ${name.value} added.`); root.replaceChildren(); users(root); }, failed);
  };
  root.append(el('table', {}, el('thead', {}, el('tr', {}, ['Name', 'Display name', 'Role', 'Groups', 'Disabled', '', 'Password'].map(h => el('th', {}, h)))),
    el('tbody', {}, rows)), el('h3', {}, 'Add a user'), form,
  el('p', { class: 'dim' }, `Groups: ${gs.map(g => g.name).join(', ') || 'none yet'}.`));
}

async function tokens(root) {
  const [{ tokens: list }, { users: us }] = await Promise.all([api('/tokens'), api('/users')]);
  const rows = list.map(t => el('tr', { 'data-token': t.id }, el('td', {}, el('code', {}, t.id)), el('td', {}, t.user), el('td', {}, t.name),
    el('td', {}, t.role), el('td', {}, fmtTime(t.created)), el('td', {}, t.expires ? fmtTime(t.expires) : 'never'),
    el('td', {}, t.last_used ? fmtTime(t.last_used) : '—'),
    el('td', {}, t.revoked ? `revoked ${fmtTime(t.revoked)}` : el('button', { type: 'button', class: 'danger',
      onclick: () => api(`/tokens/${enc(t.id)}`, { method: 'DELETE' }).then(() => { root.replaceChildren(); tokens(root); }, failed) }, 'Revoke'))));
  const user = select(us.map(u => u.name), us[0] && us[0].name, { name: 'user' });
  const name = el('input', { name: 'name', required: true, size: 12, placeholder: 'e.g. nvr-export' });
  const role = select(roles, 'viewer', { name: 'role' });
  const expires = el('input', { name: 'expires_in', size: 8, placeholder: '720h' });
  const shown = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'inline', 'aria-label': 'new token' }, el('label', {}, 'For user', user), el('label', {}, 'Name', name),
    el('label', {}, 'Role', role), el('label', {}, 'Expires in (empty: never)', expires), el('button', { type: 'submit', class: 'primary' }, 'Create token'));
  form.onsubmit = ev => {
    ev.preventDefault();
    api('/tokens', { method: 'POST', body: { user: user.value, name: name.value, role: role.value, expires_in: expires.value.trim() } })
      .then(t => shown.replaceChildren(el('p', {}, 'Copy this token now; it is not shown again. Send it as "Authorization: Bearer <token>".'),
        el('input', { readonly: true, value: t.token, size: 70, 'aria-label': 'new token', name: 'new-token' })), failed);
  };
  root.append(el('table', {}, el('thead', {}, el('tr', {}, ['Id', 'User', 'Name', 'Role', 'Created', 'Expires', 'Last used', ''].map(h => el('th', {}, h)))),
    el('tbody', {}, rows)), el('h3', {}, 'Create a token'), form, shown);
}

async function groups(root) {
  const [{ groups: list }, { cameras }] = await Promise.all([api('/groups'), api('/cameras')]);
  const editor = g => {
    const name = el('input', { name: 'group-name', value: g.name, required: true, size: 12, readonly: !!g.name });
    const desc = el('input', { name: 'description', value: g.description || '', size: 20 });
    const boxes = cameras.map(c => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'camera', value: c.id, checked: g.cameras.includes(c.id) }), c.name || c.id));
    const form = el('form', { class: 'panel', 'aria-label': g.name ? `group ${g.name}` : 'new group' },
      el('div', { class: 'fields' }, el('label', {}, 'Group name', name), el('label', {}, 'Description', desc)),
      el('fieldset', {}, el('legend', {}, 'Cameras'), boxes),
      el('button', { type: 'submit', class: 'primary' }, g.name ? 'Save group' : 'Add group'),
      g.name ? el('button', { type: 'button', class: 'danger', onclick: () => api(`/groups/${enc(g.name)}`, { method: 'DELETE' })
        .then(() => { root.replaceChildren(); groups(root); }, failed) }, 'Delete group') : null);
    form.onsubmit = ev => {
      ev.preventDefault();
      const cams = boxes.map(b => b.querySelector('input')).filter(i => i.checked).map(i => i.value);
      api(`/groups/${enc(name.value.trim())}`, { method: 'PUT', body: { description: desc.value, cameras: cams } })
        .then(() => { toast('Group saved.'); root.replaceChildren(); groups(root); }, failed);
    };
    return form;
  };
  root.append(...list.map(editor), el('h3', {}, 'New group'), editor({ name: '', cameras: [] }));
}
