// What the queue handles, behind one interface: alertsSource (every
// stored event, GET /api/v1/alerts) and incidentsSource (the operator
// loop's incidents, GET /api/v1/incidents, POST …/{id}/transition with
// {to, unit_type, unit_id, note}; states new → acknowledged → dispatched →
// on_scene → resolved | false_alarm → closed). The queue uses `source`,
// the incidents.
import { api, query, enc } from './api.js';

const severities = ['critical', 'high', 'medium', 'low', 'info'];
export const severityRank = s => { const i = severities.indexOf(s); return i < 0 ? severities.length : i; };

// The alert lifecycle, as store.AllowedTransition has it.
const next = {
  new: ['acknowledged', 'confirmed', 'false_alarm', 'closed'],
  acknowledged: ['confirmed', 'false_alarm', 'closed'],
  confirmed: ['closed'],
  false_alarm: ['closed'],
  closed: [],
};

// Actions with their keyboard shortcut. "Dispatch" confirms an alert (the
// alert lifecycle has no dispatched state; an incident's does).
const actions = [
  { to: 'acknowledged', key: 'a', label: 'Acknowledge' },
  { to: 'confirmed', key: 'd', label: 'Dispatch (confirm)' },
  { to: 'false_alarm', key: 'f', label: 'False alarm' },
  { to: 'closed', key: 'x', label: 'Close' },
];

export const alertsSource = {
  kind: 'alert',
  noun: 'alert',
  states: Object.keys(next),
  stateLabel: s => s.replace('_', ' '),
  defaultState: 'new',
  unreviewedState: 'new',
  newEvent: 'alert',
  events: ['alert', 'alert_state'],
  severities,
  unitTypes: ['police', 'fire', 'medical', 'road_crew'],

  normalize(a) {
    const e = a.event || {};
    const what = e.rule === 'anomaly' ? 'anomaly: ' + e.name : e.rule;
    return {
      id: a.id, kind: 'alert', what, state: a.state, severity: e.severity || 'medium', camera: e.camera, rule: e.rule,
      name: e.name, title: `${e.rule === 'anomaly' ? 'anomaly: ' + e.name : e.rule} — ${e.camera}`,
      explanation: e.explanation || '', created: a.created, updated: a.updated, event: e,
      history: a.history || [], links: a.links || {},
    };
  },

  // list returns a page of items, most urgent first: by severity, then
  // newest.
  async list(f = {}, cursor = '') {
    const res = await api('/alerts' + query({ state: f.state, camera: f.camera, rule: f.rule, limit: f.limit || 100, cursor }));
    let items = res.alerts.map(a => this.normalize(a));
    if (f.severity) items = items.filter(it => it.severity === f.severity);
    items.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.id - a.id);
    return { items, next: res.next_cursor };
  },

  async get(id) { return this.normalize(await api(`/alerts/${enc(id)}`)); },

  // actions are those allowed from the item's state.
  actions(it) { return actions.filter(a => next[it.state] && next[it.state].includes(a.to)); },
  allActions: actions,

  // transition moves an item; a dispatch's unit goes into the note.
  async transition(it, to, { unit_type: unitType = '', unit_id: unitID = '', note = '' } = {}) {
    const unit = [unitType, unitID].filter(Boolean).join(' ');
    const text = unit ? `dispatched ${unit}${note ? ': ' + note : ''}` : note;
    return this.normalize(await api(`/alerts/${enc(it.id)}/transition`, { method: 'POST', body: { to, note: text } }));
  },

  async unreviewed() {
    const res = await api('/alerts' + query({ state: 'new', limit: 500 }));
    return res.next_cursor ? '500+' : res.alerts.length;
  },
};

// The incident lifecycle, as incident.Allowed has it.
const incidentNext = {
  new: ['acknowledged', 'dispatched', 'false_alarm', 'closed'],
  acknowledged: ['dispatched', 'resolved', 'false_alarm', 'closed'],
  dispatched: ['on_scene', 'resolved', 'false_alarm'],
  on_scene: ['resolved', 'false_alarm'],
  resolved: ['closed'],
  false_alarm: ['closed'],
  closed: [],
};

// Incident actions with their key. Dispatch needs a unit: it opens the
// dispatch form (form: true) rather than moving at once.
const incidentActions = [
  { to: 'acknowledged', key: 'a', label: 'Acknowledge' },
  { to: 'dispatched', key: 'd', label: 'Dispatch', form: true },
  { to: 'on_scene', key: 's', label: 'On scene' },
  { to: 'resolved', key: 'r', label: 'Resolve' },
  { to: 'false_alarm', key: 'f', label: 'False alarm' },
  { to: 'closed', key: 'x', label: 'Close' },
];

const priorities = ['critical', 'high', 'medium', 'low'];
const open = 'new,acknowledged,dispatched,on_scene';

export const incidentsSource = {
  kind: 'incident',
  noun: 'incident',
  // Filter states: the open ones together first (the working queue).
  states: [open, ...Object.keys(incidentNext)],
  stateLabel: s => (s === open ? 'open' : s.replace('_', ' ')),
  defaultState: open,
  unreviewedState: 'new',
  newEvent: 'incident',
  events: ['incident', 'incident_state'],
  severities: priorities,
  unitTypes: ['police', 'fire', 'medical', 'road_crew'],

  normalize(i) {
    const what = i.rule === 'anomaly' && i.name ? 'anomaly: ' + i.name : i.rule + (i.place ? ` at ${i.place}` : '');
    const links = i.links || {};
    const best = i.best_event ? `/api/v1/alerts/${i.best_event}` : '';
    return {
      id: i.id, kind: 'incident', what, state: i.state, severity: i.priority || 'medium', priority: i.priority,
      eventSeverity: i.severity, camera: i.camera, rule: i.rule, name: i.name, place: i.place, title: `${what} — ${i.camera}`,
      explanation: i.summary || '', created: i.opened, updated: i.updated, count: i.count || 0, protocol: i.protocol,
      unit: i.unit, unitType: i.unit_type, unitID: i.unit_id, best: i.best_event, raw: i,
      history: i.history || [], events: i.events || [],
      // Whether the best event has a snapshot is known from it only (the
      // incident view reads it); the list shows no thumbnail.
      links: { best: links.best_event || best },
    };
  },

  // list returns a page of incidents, highest priority first, then newest.
  async list(f = {}, cursor = '') {
    const res = await api('/incidents' + query({ state: f.state, camera: f.camera, rule: f.rule, priority: f.severity,
      limit: f.limit || 100, cursor }));
    const items = res.incidents.map(i => this.normalize(i));
    items.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.id - a.id);
    return { items, next: res.next_cursor };
  },

  async get(id) { return this.normalize(await api(`/incidents/${enc(id)}`)); },

  actions(it) { return incidentActions.filter(a => incidentNext[it.state] && incidentNext[it.state].includes(a.to)); },
  allActions: incidentActions,

  // transition moves an incident; unit_type and unit_id go with a dispatch.
  async transition(it, to, { unit_type: unitType = '', unit_id: unitID = '', note = '' } = {}) {
    const body = to === 'dispatched' ? { to, unit_type: unitType, unit_id: unitID, note } : { to, note };
    return this.normalize(await api(`/incidents/${enc(it.id)}/transition`, { method: 'POST', body }));
  },

  async unreviewed() {
    const res = await api('/incidents' + query({ state: 'new', limit: 500 }));
    return res.next_cursor ? '500+' : res.incidents.length;
  },
};

export const source = incidentsSource;
