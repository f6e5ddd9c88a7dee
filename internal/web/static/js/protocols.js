// The alert protocols editor (supervisors): the protocol file in force,
// as YAML, with a list of its protocols to jump to; saving sends it to
// PUT /api/v1/protocols, which validates the whole file and answers every
// problem as protocols.yaml:line:column: field: message. Nothing changes
// unless the file is valid.
import { api } from './api.js';
import { el, toast } from './dom.js';
import { can } from './app.js';

export async function show(root) {
  const yaml = await api('/protocols');
  const text = el('textarea', { name: 'protocols', spellcheck: 'false', 'aria-describedby': 'protocols-help', readonly: !can('supervisor') });
  text.value = typeof yaml === 'string' ? yaml : '';
  const names = el('ol', { class: 'protocol-names', 'aria-label': 'protocols in the file' });
  const problems = el('ul', { class: 'error-list', role: 'alert', 'aria-label': 'problems' });
  const version = el('span', { class: 'dim', role: 'status' });
  const listNames = () => names.replaceChildren(...protocolNames(text.value).map(({ name, line }) =>
    el('li', {}, el('button', { type: 'button', class: 'link', onclick: () => jump(text, line) }, `${name} (line ${line})`))));
  const save = el('button', { type: 'submit', class: 'primary', disabled: !can('supervisor') }, 'Save protocols');
  const form = el('form', { class: 'protocols', 'aria-label': 'alert protocols' },
    el('label', {}, 'Protocol file (YAML)', text), problems, el('div', { class: 'bar' }, save, version));
  form.onsubmit = async ev => {
    ev.preventDefault();
    problems.replaceChildren();
    try {
      const res = await api('/protocols', { method: 'PUT', body: text.value, type: 'application/yaml' });
      version.textContent = `Saved as version ${res.version}.`;
      toast(`Protocols saved as version ${res.version}.`);
    } catch (err) {
      problems.replaceChildren(el('li', {}, err.message), ...err.details.map(d => el('li', {}, locate(text, d))));
    }
  };
  text.addEventListener('input', listNames);
  listNames();
  root.append(el('p', { id: 'protocols-help', class: 'dim' },
    'Protocols are tried in file order; the first that matches an event decides whether it becomes an incident, ' +
    'its priority, who is notified, the suggested unit, escalation and auto-close. configs/protocols.yaml documents every field.'),
  el('div', { class: 'alert-view' }, form, el('div', {}, el('h3', {}, 'Protocols'), names)));
}

// protocolNames finds the "- name: x" entries of the protocols list with
// their line numbers (a reading aid only; the server parses the file).
function protocolNames(src) {
  const out = [];
  src.split('\n').forEach((l, i) => {
    const m = /^\s*-\s+name:\s*["']?([^"'#]+?)["']?\s*(#.*)?$/.exec(l);
    if (m) out.push({ name: m[1], line: i + 1 });
  });
  return out;
}

// jump selects a line of the textarea.
function jump(text, line) {
  const lines = text.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  text.focus();
  text.setSelectionRange(start, start + (lines[line - 1] || '').length);
}

// locate turns "protocols.yaml:12:5: …" into a button that selects line 12.
function locate(text, detail) {
  const m = /:(\d+):(\d+):/.exec(detail);
  if (!m) return detail;
  return el('button', { type: 'button', class: 'link', onclick: () => jump(text, Number(m[1])) }, detail);
}
