// Vigil console: boot, session, navigation, the live event stream, the
// unreviewed count in the title and notifications for critical incidents.
// Pages are modules with show(root, args) returning an optional cleanup.
import { api, setCSRF, onAuthLost, cookie } from './api.js';
import { el, toast, failed, debounce } from './dom.js';
import { showLogin } from './login.js';
import { source } from './source.js';
import * as wall from './wall.js';
import * as queue from './queue.js';
import * as alertView from './alert.js';
import * as incidentView from './incident.js';
import * as scenes from './scene.js';
import * as dashboard from './dashboard.js';
import * as admin from './admin.js';
import * as searchPage from './search.js';
import * as clusterPage from './cluster.js';

const roles = ['public', 'viewer', 'operator', 'supervisor', 'admin'];
const pages = {
  wall: wall.show, queue: queue.show, alert: alertView.show, incident: incidentView.show, scenes: scenes.showList, scene: scenes.show,
  dashboard: dashboard.show, admin: admin.show, search: searchPage.show, cluster: clusterPage.show,
};

const state = { me: null, events: null, listeners: new Set(), cleanup: null, audio: null, notified: new Set() };

// me is the logged-in user, as /api/v1/me answers.
export function me() { return state.me; }

// can reports whether the user's role reaches need.
export function can(need) { return !!state.me && roles.indexOf(state.me.role) >= roles.indexOf(need); }

// onEvent subscribes to the live stream; it returns the unsubscribe.
export function onEvent(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

async function boot() {
  onAuthLost(() => loggedOut('Your session has ended; log in again.'));
  // Only ask who we are when a session cookie pair exists: otherwise the
  // answer is a certain 401.
  if (!cookie('vigil_csrf')) return showLogin(started);
  try {
    started(await api('/me'));
  } catch {
    showLogin(started);
  }
}

// started runs once a login is known.
function started(who) {
  state.me = who;
  setCSRF(who.csrf_token);
  const top = document.getElementById('top');
  top.hidden = false;
  document.getElementById('who').textContent = `${who.user.display_name || who.user.name} (${who.role})`;
  for (const a of top.querySelectorAll('nav a[data-role]')) a.hidden = !can(a.dataset.role);
  // The cluster page only where there is a cluster to show.
  if (can('supervisor')) api('/cluster').catch(() => { top.querySelector('nav a[data-page="cluster"]').hidden = true; });
  document.getElementById('logout').onclick = logout;
  document.getElementById('password').onclick = changePassword;
  document.getElementById('password').hidden = who.via !== 'session';
  setupNotifications();
  listen();
  refreshCount();
  window.onhashchange = route;
  if (!location.hash || location.hash === '#') location.hash = '#/wall';
  else route();
}

async function route() {
  if (!state.me) return;
  const [, name = 'wall', ...args] = location.hash.split('/');
  const show = pages[name] || pages.wall;
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('current', a.dataset.page === name || (['alert', 'incident'].includes(name) && a.dataset.page === 'queue') ||
      (name === 'scene' && a.dataset.page === 'scenes'));
    if (a.classList.contains('current')) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  const main = document.getElementById('main');
  main.replaceChildren();
  try {
    state.cleanup = (await show(main, args.map(decodeURIComponent))) || null;
  } catch (err) {
    failed(err);
  }
}

function listen() {
  const conn = document.getElementById('conn');
  const es = new EventSource('/api/v1/events');
  state.events = es;
  es.onopen = () => { conn.textContent = 'live'; conn.className = 'state live'; };
  es.onerror = () => { conn.textContent = 'reconnecting…'; conn.className = 'state stalled'; };
  for (const type of ['alert', 'alert_state', 'camera_state', 'incident', 'incident_state']) {
    es.addEventListener(type, m => {
      let data;
      try { data = JSON.parse(m.data); } catch { return; }
      if (type === source.newEvent) notify(data);
      if (source.events.includes(type)) countSoon();
      for (const fn of state.listeners) fn(type, data);
    });
  }
}

const countSoon = debounce(refreshCount, 500);

// refreshCount puts the number of unreviewed incidents in the title and nav.
async function refreshCount() {
  try {
    const n = await source.unreviewed();
    document.title = (n ? `(${n}) ` : '') + 'Vigil';
    document.getElementById('unreviewed').textContent = n ? String(n) : '';
  } catch { /* the queue shows its own errors */ }
}

function setupNotifications() {
  const b = document.getElementById('notify');
  const supported = 'Notification' in window;
  b.hidden = !supported || Notification.permission === 'granted';
  b.onclick = async () => {
    // Sound needs an audio context made in a user gesture.
    state.audio = state.audio || new AudioContext();
    const p = await Notification.requestPermission();
    b.hidden = p === 'granted';
    toast(p === 'granted' ? 'Critical incidents will notify you.' : 'Notifications are blocked by the browser.');
  };
}

// notify announces, once each, an unreviewed critical or high incident
// (opened so, or escalated to it): a system notification and, for
// critical ones, a tone.
function notify(data) {
  const it = source.normalize(data);
  if (!['critical', 'high'].includes(it.severity) || it.state !== source.unreviewedState) return;
  const key = `${it.kind}-${it.id}-${it.severity}`;
  if (state.notified.has(key)) return;
  if (state.notified.size > 10000) state.notified.clear(); // a long shift stays bounded
  state.notified.add(key);
  if ('Notification' in window && Notification.permission === 'granted') {
    const n = new Notification(`Vigil: ${it.title}`, { body: it.explanation, tag: `${it.kind}-${it.id}` });
    n.onclick = () => { window.focus(); location.hash = `#/${it.kind}/${it.id}`; };
  }
  if (it.severity === 'critical' && state.audio) beep(state.audio);
}

function beep(ctx) {
  const o = ctx.createOscillator();
  const g = ctx.createGain();
  o.frequency.value = 880;
  g.gain.value = 0.15;
  o.connect(g).connect(ctx.destination);
  o.start();
  o.stop(ctx.currentTime + 0.25);
}

async function logout() {
  try { await api('/logout', { method: 'POST' }); } catch (err) { failed(err); }
  loggedOut('Logged out.');
}

function loggedOut(message) {
  if (!state.me) return;
  state.me = null;
  if (state.events) state.events.close();
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  document.getElementById('top').hidden = true;
  document.title = 'Vigil';
  setCSRF('');
  showLogin(started, message);
}

function changePassword() {
  const current = el('input', { type: 'password', name: 'current', autocomplete: 'current-password', required: true });
  const next = el('input', { type: 'password', name: 'new', autocomplete: 'new-password', minlength: 12, required: true });
  const again = el('input', { type: 'password', name: 'again', autocomplete: 'new-password', minlength: 12, required: true });
  const msg = el('p', { class: 'error-list', role: 'alert' });
  const d = el('dialog', { 'aria-label': 'Change password' },
    el('form', { method: 'dialog', class: 'fields' },
      el('h2', {}, 'Change password'),
      el('label', {}, 'Current password', current), el('label', {}, 'New password (12+ characters)', next),
      el('label', {}, 'New password again', again), msg,
      el('button', { type: 'submit', class: 'primary', value: 'ok' }, 'Change'),
      el('button', { type: 'button', onclick: () => d.close() }, 'Cancel')));
  d.querySelector('form').onsubmit = async ev => {
    ev.preventDefault();
    if (next.value !== again.value) { msg.textContent = 'The new passwords differ.'; return; }
    try {
      await api('/me/password', { method: 'POST', body: { current: current.value, new: next.value } });
      d.close();
      loggedOut('Password changed; log in with the new one.');
    } catch (err) {
      msg.textContent = err.message;
    }
  };
  d.onclose = () => d.remove();
  document.body.append(d);
  d.showModal();
}

boot();
