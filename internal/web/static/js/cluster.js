// The cluster page (supervisors and admins): every node's state and
// health in one place, as GET /api/v1/cluster (and `vigil cluster
// status`) report it: the coordinator, each live node's roles, measured
// capacity, cameras running and assigned, its last heartbeat; where each
// camera runs (unassigned ones first); the api consumer's lag per stream;
// the dead letters. Refreshed every 5 s while shown.
import { api } from './api.js';
import { el, fmtDuration } from './dom.js';

const refreshMS = 5000;

export async function show(root) {
  const body = el('div', { class: 'cluster' });
  root.append(el('h2', {}, 'Cluster'), body);
  const render = async () => {
    let st;
    try {
      st = await api('/cluster');
    } catch (err) {
      body.replaceChildren(el('p', { class: 'dim', role: 'status' }, err.message));
      return;
    }
    body.replaceChildren(summary(st), nodes(st), cameras(st), consumers(st));
  };
  await render();
  const timer = setInterval(render, refreshMS);
  return () => clearInterval(timer);
}

function summary(st) {
  const unassigned = Object.values(st.cameras).filter(n => !n).length;
  const lag = Object.values(st.consumers).reduce((s, c) => s + (c.pending || 0) + (c.ack_pending || 0), 0);
  return el('p', { role: 'status', class: unassigned || st.dead_letters ? 'over' : '' },
    `Coordinator: ${st.coordinator || 'none (election under way)'}. ${st.nodes.length} node(s), ${Object.keys(st.cameras).length} camera(s)`,
    unassigned ? `, ${unassigned} not running anywhere` : '', `; ${lag} record(s) waiting for the store`,
    st.dead_letters ? `; ${st.dead_letters} dead letter(s)` : '', '.');
}

function nodes(st) {
  const now = Date.now();
  return el('table', { class: 'nodes' },
    el('thead', {}, el('tr', {}, ['Node', 'Roles', 'Capacity', 'Running', 'Assigned', 'Demand', 'Last heartbeat', 'Up'].map(h => el('th', {}, h)))),
    el('tbody', {}, st.nodes.map(n => el('tr', { 'data-node': n.node },
      el('td', {}, n.node, n.node === st.coordinator ? ' (coordinator)' : ''), el('td', {}, (n.roles || []).join(', ')),
      el('td', {}, (n.roles || []).includes('worker') ? `${(n.capacity_fps || 0).toFixed(1)} fps` : '–'), el('td', {}, n.cameras), el('td', {}, n.assigned),
      el('td', {}, `${(n.assigned_fps || 0).toFixed(1)} fps`), el('td', {}, fmtDuration(now - Date.parse(n.beat)) + ' ago'),
      el('td', {}, fmtDuration(now - Date.parse(n.started)))))));
}

// cameras lists each node's cameras; cameras on no node come first.
function cameras(st) {
  const by = new Map();
  for (const [cam, node] of Object.entries(st.cameras).sort()) {
    if (!by.has(node)) by.set(node, []);
    by.get(node).push(cam);
  }
  const order = [...by.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  return el('section', {}, el('h3', {}, 'Cameras by node'), el('dl', { class: 'placement' }, order.map(node => [
    el('dt', { class: node ? '' : 'over' }, node || 'not running anywhere'), el('dd', { 'data-node': node }, by.get(node).join(', '))])));
}

function consumers(st) {
  const rows = Object.values(st.consumers).sort((a, b) => a.stream.localeCompare(b.stream));
  return el('section', {}, el('h3', {}, 'Store writer lag'), el('table', { class: 'consumers' },
    el('thead', {}, el('tr', {}, ['Stream', 'Kept', 'Not delivered', 'Being written', 'Redelivered', ''].map(h => el('th', {}, h)))),
    el('tbody', {}, rows.map(c => el('tr', { 'data-stream': c.stream }, el('td', {}, c.stream), el('td', {}, c.messages),
      el('td', {}, c.pending), el('td', {}, c.ack_pending), el('td', {}, c.redelivered),
      el('td', { class: 'dim' }, c.missing ? 'no api node has consumed yet' : c.error || ''))))));
}
