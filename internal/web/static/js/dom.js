// DOM helpers. Text is only ever set as text (append of a string, or
// textContent): no innerHTML anywhere, so a camera, zone or rule name
// like <img src=x onerror=…> shows as those characters.

export function el(tag, attrs = {}, ...kids) {
  return fill(document.createElement(tag), attrs, kids);
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...kids) {
  return fill(document.createElementNS(SVG, tag), attrs, kids);
}

function fill(e, attrs, kids) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.setAttribute('class', v);
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(typeof k === 'number' ? String(k) : k);
  }
  return e;
}

// labelled wraps a control in a label with the given text.
export function labelled(text, control, cls) {
  return el('label', { class: cls }, text, control);
}

export function select(options, value, attrs = {}) {
  const s = el('select', attrs);
  for (const o of options) {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    s.append(el('option', { value: v, selected: String(v) === String(value) }, t));
  }
  return s;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleString();
}

export function fmtDuration(ms) {
  if (!(ms >= 0)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

// toast shows a short message for a few seconds.
export function toast(message, kind = '') {
  const box = document.getElementById('toast');
  const m = el('div', { class: kind }, message);
  box.append(m);
  setTimeout(() => m.remove(), kind === 'error' ? 8000 : 4000);
}

// failed reports an API error to the user.
export function failed(err) {
  const details = err && err.details && err.details.length ? ': ' + err.details.join('; ') : '';
  toast((err && err.message ? err.message : String(err)) + details, 'error');
}

// debounce calls fn once, ms after the last of a burst of calls.
export function debounce(fn, ms) {
  let t = 0;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// typing reports whether a key event belongs to a text field, where
// keyboard shortcuts must not fire.
export function typing(ev) {
  const t = ev.target;
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}
