// The HTTP API client: JSON in and out, the session's CSRF token on every
// change, and one place that notices a lost login.

let csrf = '';
let onLost = () => {};

export function setCSRF(token) { csrf = token || ''; }

// onAuthLost registers what to do when the server says the login is gone.
export function onAuthLost(fn) { onLost = fn; }

// cookie reads a script-readable cookie (only vigil_csrf is one).
export function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

export class APIError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
    this.retryAfter = 0;
  }
}

// api calls /api/v1 + path. body, when an object, is sent as JSON; a
// string body is sent with the given content type.
export async function api(path, { method = 'GET', body, type } = {}) {
  const headers = {};
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf || cookie('vigil_csrf');
  let payload;
  if (typeof body === 'string') {
    payload = body;
    headers['Content-Type'] = type || 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const r = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' });
  if (r.status === 204) return null;
  const json = (r.headers.get('content-type') || '').includes('json');
  const data = json ? await r.json() : await r.text();
  if (!r.ok) {
    const e = data && data.error ? data.error : {};
    const err = new APIError(r.status, e.code || '', e.message || r.statusText, e.details);
    err.retryAfter = Number(r.headers.get('Retry-After')) || 0;
    if (r.status === 401 && path !== '/login') onLost();
    throw err;
  }
  return data;
}

// query builds a query string from the non-empty values of obj.
export function query(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

export const enc = encodeURIComponent;
