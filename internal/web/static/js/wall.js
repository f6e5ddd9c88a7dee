// The camera wall: a paged grid of low-rate snapshot tiles (one small
// JPEG per tile every few seconds, only for the page on screen and only
// while the tab is visible), each with its health and the reason; the
// live MJPEG stream only for the one enlarged camera.
import { api, enc } from './api.js';
import { el, select, failed } from './dom.js';
import { onEvent } from './app.js';

const refreshMs = 5000;
const tileWidth = 320;
const sizes = { 9: 3, 16: 4, 25: 5, 36: 6 };
const prefs = { group: '', size: 16, page: 0 };

export async function show(root) {
  const [{ cameras }, { groups }] = await Promise.all([api('/cameras'), api('/groups')]);
  const grid = el('div', { class: 'wall', role: 'list', 'aria-label': 'Cameras' });
  const pageInfo = el('span', { class: 'dim', 'aria-live': 'polite' });
  const groupSel = select([['', 'All cameras'], ...groups.map(g => [g.name, g.name])], prefs.group, { name: 'group' });
  const sizeSel = select(Object.keys(sizes).map(n => [n, `${n} per page`]), prefs.size, { name: 'size' });
  const prev = el('button', { type: 'button' }, '‹ Previous page');
  const nextB = el('button', { type: 'button' }, 'Next page ›');
  root.append(el('h2', {}, 'Cameras'),
    el('div', { class: 'bar' }, el('label', {}, 'Group', groupSel), el('label', {}, 'Tiles', sizeSel), prev, nextB, pageInfo),
    grid);

  let tiles = [];
  let timer = 0;
  const visible = () => {
    if (!prefs.group) return cameras;
    const g = groups.find(x => x.name === prefs.group);
    return g ? cameras.filter(c => g.cameras.includes(c.id)) : [];
  };
  const render = () => {
    const list = visible();
    const pages = Math.max(1, Math.ceil(list.length / prefs.size));
    prefs.page = Math.min(prefs.page, pages - 1);
    const shown = list.slice(prefs.page * prefs.size, (prefs.page + 1) * prefs.size);
    grid.className = `wall cols-${sizes[prefs.size]}`;
    tiles = shown.map(c => tile(c));
    grid.replaceChildren(...tiles.map(t => t.node));
    pageInfo.textContent = `page ${prefs.page + 1} of ${pages} · ${list.length} camera(s)`;
    prev.disabled = prefs.page === 0;
    nextB.disabled = prefs.page >= pages - 1;
    for (const t of tiles) t.status();
    refresh(true);
  };
  // refresh reloads the page's snapshots, spread over the interval so
  // that the server sees a steady trickle rather than bursts.
  const refresh = (now = false) => {
    clearTimeout(timer);
    if (document.visibilityState === 'visible') {
      tiles.forEach((t, i) => setTimeout(() => t.snapshot(), now ? 0 : (i * refreshMs) / Math.max(1, tiles.length)));
    }
    timer = setTimeout(refresh, refreshMs);
  };
  groupSel.onchange = () => { prefs.group = groupSel.value; prefs.page = 0; render(); };
  sizeSel.onchange = () => { prefs.size = Number(sizeSel.value); prefs.page = 0; render(); };
  prev.onclick = () => { prefs.page--; render(); };
  nextB.onclick = () => { prefs.page++; render(); };
  const off = onEvent((type, d) => {
    if (type !== 'camera_state') return;
    const t = tiles.find(x => x.id === d.camera);
    if (t) t.setState(d.state, d.reason);
  });
  const onVisible = () => refresh(true);
  document.addEventListener('visibilitychange', onVisible);
  render();
  return () => { clearTimeout(timer); off(); document.removeEventListener('visibilitychange', onVisible); };
}

function tile(c) {
  const base = `/api/v1/cameras/${enc(c.id)}`;
  const name = c.name || c.id;
  const img = el('img', { alt: `latest frame of ${name}`, width: tileWidth, height: tileWidth * 3 / 4 });
  const badge = el('span', { class: 'state ' + (c.state || ''), 'data-state': c.id }, c.state || '…');
  const view = el('button', { type: 'button', class: 'view', 'aria-label': `Enlarge ${name}` }, img);
  view.onclick = () => enlarge(c);
  const node = el('figure', { class: 'tile', role: 'listitem', 'data-camera': c.id }, view,
    el('figcaption', {}, el('span', { class: 'name', title: name }, name), badge));
  let loading = false;
  return {
    id: c.id, node,
    snapshot() {
      if (loading) return; // a slow server gets fewer requests, not a queue
      loading = true;
      const done = () => { loading = false; };
      img.onload = done;
      img.onerror = () => { done(); img.removeAttribute('src'); };
      img.src = `${base}/snapshot.jpg?w=${tileWidth}&t=${Date.now()}`;
    },
    async status() {
      try {
        const s = await api(`/cameras/${enc(c.id)}/status`);
        this.setState(s.state, s.reason);
      } catch { /* shown as unknown */ }
    },
    setState(state, reason) {
      badge.textContent = state;
      badge.className = 'state ' + state;
      badge.title = reason || '';
      badge.setAttribute('aria-label', `${state}${reason ? ': ' + reason : ''}`);
    },
  };
}

// enlarge shows one camera live, with its learned-normal heatmaps.
function enlarge(c) {
  const base = `/api/v1/cameras/${enc(c.id)}`;
  const name = c.name || c.id;
  const live = el('img', { class: 'live', alt: `live view of ${name}`, src: base + '/live.mjpeg' });
  const kind = select([['', 'live view'], ...['occupancy', 'direction', 'speed', 'dwell'].map(k => [k, `learned ${k}`])], '', { name: 'view' });
  kind.onchange = () => {
    live.src = kind.value ? `${base}/baseline/heatmap.png?kind=${kind.value}&t=${Date.now()}` : base + '/live.mjpeg';
  };
  live.onerror = () => {
    if (kind.value) { kind.value = ''; live.src = base + '/live.mjpeg'; failed(new Error(`${name} has no learned baseline yet`)); }
  };
  const close = el('button', { type: 'button' }, 'Close');
  const d = el('dialog', { 'aria-label': `Camera ${name}` },
    el('div', { class: 'bar' }, el('h2', {}, name), el('label', {}, 'Show', kind), close), live);
  close.onclick = () => d.close();
  // Closing ends the stream: the server stops encoding for this viewer.
  d.onclose = () => { live.removeAttribute('src'); d.remove(); };
  document.body.append(d);
  d.showModal();
}
