// Vigil console: cameras with live MJPEG views, and the alert queue with
// the operator's verdicts. Everything goes through /api/v1.
const api = (p, opt) => fetch('/api/v1' + p, opt).then(async r => {
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error(body?.error?.message || r.statusText);
  return body;
});
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? e.className = v : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};

async function loadCameras() {
  const cams = await api('/cameras');
  const box = document.getElementById('cameras');
  box.replaceChildren();
  for (const c of cams.cameras || cams) {
    const state = el('span', { class: 'state', id: 'state-' + c.id }, '…');
    const base = `/api/v1/cameras/${encodeURIComponent(c.id)}`;
    const view = el('img', { src: base + '/live.mjpeg', alt: 'live view of ' + c.id });
    // What the camera learned to be normal, drawn over its view; the live
    // view comes back on the next click.
    const learned = el('select', { class: 'learned', title: 'learned normal (anomaly baseline)' },
      el('option', { value: '' }, 'live'), ...['occupancy', 'direction', 'speed', 'dwell'].map(k => el('option', { value: k }, k)));
    learned.onchange = () => {
      view.src = learned.value ? `${base}/baseline/heatmap.png?kind=${learned.value}&t=${Date.now()}` : base + '/live.mjpeg';
    };
    view.onerror = () => { if (learned.value) { learned.value = ''; view.src = base + '/live.mjpeg'; } };
    box.append(el('div', { class: 'camera', 'data-camera': c.id },
      el('h3', {}, c.name || c.id, state, learned), view));
    api(`/cameras/${encodeURIComponent(c.id)}/status`).then(s => setState(c.id, s.state)).catch(() => setState(c.id, 'stopped'));
  }
}

function setState(id, state) {
  const s = document.getElementById('state-' + id);
  if (s) { s.textContent = state; s.className = 'state ' + state; }
}

function alertItem(a) {
  const e = a.event;
  const li = el('li', { 'data-alert': a.id });
  const img = el('img', { src: `/api/v1/alerts/${a.id}/crop`, alt: '' });
  img.onerror = () => img.remove();
  const actions = el('div');
  for (const to of ['acknowledged', 'confirmed', 'false_alarm', 'closed']) {
    const b = el('button', {}, to.replace('_', ' '));
    b.onclick = () => api(`/alerts/${a.id}/transition`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to, by: 'console' }) }).then(loadAlerts).catch(err => alert(err.message));
    actions.append(b);
  }
  li.append(img, el('div', {},
    el('div', { class: 'sev-' + e.severity }, `${e.rule === 'anomaly' ? 'anomaly: ' + e.name : e.rule} — ${e.camera}`),
    el('div', {}, e.explanation),
    el('div', { class: 'meta' }, `#${a.id} · ${a.state} · ${new Date(a.created).toLocaleTimeString()}`),
    actions));
  return li;
}

async function loadAlerts() {
  const state = document.getElementById('state').value;
  const res = await api('/alerts?limit=50' + (state ? '&state=' + state : ''));
  const list = document.getElementById('alerts');
  list.replaceChildren(...res.alerts.map(alertItem));
  document.getElementById('count').textContent = `(${res.alerts.length})`;
}

function listen() {
  const conn = document.getElementById('conn');
  const es = new EventSource('/api/v1/events');
  es.onopen = () => { conn.textContent = 'live'; conn.className = 'state streaming'; };
  es.onerror = () => { conn.textContent = 'reconnecting…'; conn.className = 'state stalled'; };
  es.addEventListener('alert', () => loadAlerts());
  es.addEventListener('alert_state', () => loadAlerts());
  es.addEventListener('camera_state', m => { const d = JSON.parse(m.data); setState(d.camera, d.state); });
}

document.getElementById('state').onchange = loadAlerts;
loadCameras().catch(err => console.error(err));
loadAlerts().catch(err => console.error(err));
listen();
