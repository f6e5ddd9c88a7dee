// What the queue handles, behind one interface so that the incidents of
// the operator loop (GET /api/v1/incidents, POST …/{id}/transition with
// {to, unit_type, unit_id, note}; states new → acknowledged → dispatched →
// on_scene → resolved | false_alarm → closed) can replace alerts by
// swapping `source` below for an incidents source with the same methods.
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
  unreviewedState: 'new',
  newEvent: 'alert',
  events: ['alert', 'alert_state'],
  severities,
  unitTypes: ['police', 'fire', 'medical', 'road_crew'],

  normalize(a) {
    const e = a.event || {};
    return {
      id: a.id, kind: 'alert', state: a.state, severity: e.severity || 'medium', camera: e.camera, rule: e.rule,
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

export const source = alertsSource;
