// The scene editor (supervisors): on a recent snapshot, draw zones,
// tripwires with their in-side and lanes with their direction; pick
// calibration points and give their ground coordinates, with the
// reprojection error and a metre grid; set the rules and their
// parameters; preview which alerts the edited scene would have raised;
// save (the service hot-reloads it). Every shape can also be typed as
// coordinates, so the editor works from the keyboard alone.
import { api, enc } from './api.js';
import { el, select, failed, toast, fmtTime } from './dom.js';
import { can } from './app.js';
import { fitHomography, rmsError, inverse, project } from './geometry.js';

const zoneTypes = ['carriageway', 'crosswalk', 'sidewalk', 'restricted', 'parking', 'custom'];
const severities = ['info', 'low', 'medium', 'high', 'critical'];
// Each rule type: what it watches and its own parameters (number or
// duration), as internal/scene/rules.go has them.
const ruleTypes = {
  wrong_way: { target: 'lane', params: { min_distance_m: 'number' } },
  jaywalking: { target: 'zone', params: { min_distance_m: 'number', min_dwell: 'duration' } },
  vehicle_in_pedestrian_zone: { target: 'zone', params: { min_dwell: 'duration' } },
  intrusion: { target: 'zone', params: { min_dwell: 'duration' } },
  loitering: { target: 'zone', params: { min_dwell: 'duration' } },
  stopped_vehicle: { target: 'zone', params: { min_dwell: 'duration' } },
  crowd: { target: 'zone', params: { max_count: 'number', max_density_per_m2: 'number', min_dwell: 'duration' } },
  dispersal: { target: 'zone', params: { min_tracks: 'number', min_speed_ms: 'number', window: 'duration' } },
  speeding: { target: 'zone', params: { speed_limit_kmh: 'number', smoothing: 'duration' } },
  line_crossing: { target: 'line', params: { bucket: 'duration' } },
};
const common = ['type', 'name', 'zone', 'line', 'lane', 'classes', 'schedule', 'severity', 'cooldown'];
// Six-digit colours: an alpha byte is appended for the fill.
const colours = { carriageway: '#888888', crosswalk: '#ffffff', sidewalk: '#55aadd', restricted: '#ff4444', parking: '#aa55ff', custom: '#ffcc33' };

// showList lists the cameras whose scenes can be edited.
export async function showList(root) {
  const { cameras } = await api('/cameras');
  root.append(el('h2', {}, 'Scenes'),
    el('ul', {}, cameras.map(c => el('li', {}, el('a', { href: `#/scene/${enc(c.id)}` }, c.name || c.id), ` (${c.id})`))));
}

// drawScene draws a scene's shapes on a 2D context whose pixels are the
// scene's image scaled by sx, sy; highlight names shapes to stress.
export function drawScene(g, doc, { sx = 1, sy = 1, highlight = [], grid = false, pending = null } = {}) {
  const P = ([x, y]) => [x * sx, y * sy];
  g.save();
  g.lineWidth = 2;
  g.font = '14px system-ui, sans-serif';
  for (const z of doc.zones || []) {
    const pts = (z.polygon || []).map(P);
    if (pts.length < 2) continue;
    const c = colours[z.type] || colours.custom;
    g.strokeStyle = c;
    g.fillStyle = c + (highlight.includes(z.name) ? '66' : '26');
    g.beginPath();
    pts.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
    g.fill();
    g.stroke();
    label(g, z.name, pts[0], c);
  }
  for (const l of doc.lines || []) {
    if ((l.points || []).length !== 2) continue;
    const [a, b] = l.points.map(P);
    g.strokeStyle = highlight.includes(l.name) ? '#fff' : '#0f8';
    line(g, a, b);
    // The in side: an arrow from the middle, to the left or right of the
    // first→second direction as seen on screen.
    const m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    const s = l.in === 'left' ? -1 : 1;
    const n = [(-(b[1] - a[1]) / len) * s, ((b[0] - a[0]) / len) * s];
    arrow(g, m, [m[0] + n[0] * 30, m[1] + n[1] * 30]);
    label(g, `${l.name} (in: ${l.in || 'right'})`, a, '#0f8');
  }
  for (const l of doc.lanes || []) {
    if ((l.direction || []).length !== 2) continue;
    const [a, b] = l.direction.map(P);
    g.strokeStyle = '#3cf';
    arrow(g, a, b);
    label(g, l.name, a, '#3cf');
  }
  const pairs = (doc.calibration && doc.calibration.pairs) || [];
  pairs.forEach((p, i) => {
    const [x, y] = P(p.image);
    g.strokeStyle = '#ff0';
    line(g, [x - 6, y], [x + 6, y]);
    line(g, [x, y - 6], [x, y + 6]);
    label(g, `${i + 1}: ${p.ground[0]}, ${p.ground[1]} m`, [x + 6, y - 6], '#ff0');
  });
  if (grid) metreGrid(g, pairs, P);
  if (pending && pending.points.length) {
    g.strokeStyle = '#fff';
    g.setLineDash([6, 4]);
    const pts = pending.points.map(P);
    g.beginPath();
    pts.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
    g.setLineDash([]);
    for (const [x, y] of pts) g.strokeRect(x - 3, y - 3, 6, 6);
  }
  g.restore();
}

function line(g, a, b) {
  g.beginPath();
  g.moveTo(...a);
  g.lineTo(...b);
  g.stroke();
}

function arrow(g, a, b) {
  line(g, a, b);
  const ang = Math.atan2(b[1] - a[1], b[0] - a[0]);
  for (const d of [-0.5, 0.5]) line(g, b, [b[0] - 12 * Math.cos(ang + d), b[1] - 12 * Math.sin(ang + d)]);
}

// label writes canvas text: pixels, never markup.
function label(g, text, [x, y], colour) {
  g.fillStyle = '#000a';
  const w = g.measureText(text).width;
  g.fillRect(x, y - 16, w + 6, 18);
  g.fillStyle = colour;
  g.fillText(text, x + 3, y - 3);
}

// metreGrid draws ground lines every metre (every 5 m on a wide area)
// around the calibration points, through the inverse homography.
function metreGrid(g, pairs, P) {
  const H = fitHomography(pairs);
  const Hi = H && inverse(H);
  if (!Hi) return;
  const xs = pairs.map(p => p.ground[0]);
  const ys = pairs.map(p => p.ground[1]);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const step = span > 60 ? 5 : 1;
  const x0 = Math.floor(Math.min(...xs) / step) * step - 5 * step;
  const x1 = Math.ceil(Math.max(...xs) / step) * step + 5 * step;
  const y0 = Math.floor(Math.min(...ys) / step) * step - 5 * step;
  const y1 = Math.ceil(Math.max(...ys) / step) * step + 5 * step;
  g.strokeStyle = '#ffffff40';
  g.lineWidth = 1;
  const seg = (a, b) => {
    // Sample along the ground line: a homography keeps lines straight,
    // but a line crossing the horizon must be cut where w changes sign.
    let prev = null;
    for (let i = 0; i <= 20; i++) {
      const t = i / 20;
      const q = project(Hi, [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
      const cur = q && q[2] > 0 ? P([q[0], q[1]]) : null;
      if (prev && cur) line(g, prev, cur);
      prev = cur;
    }
  };
  for (let x = x0; x <= x1; x += step) seg([x, y0], [x, y1]);
  for (let y = y0; y <= y1; y += step) seg([x0, y], [x1, y]);
}

// show is the editor for one camera's scene.
export async function show(root, [camera]) {
  const cam = await api(`/cameras/${enc(camera)}`);
  let version = 0;
  let doc;
  try {
    const v = await api(`/cameras/${enc(camera)}/scene?format=json`);
    doc = v.document;
    version = v.version;
  } catch (err) {
    if (err.status !== 404) throw err;
    doc = null;
  }
  const ed = new Editor(root, cam, doc, version);
  await ed.start();
  return () => ed.stop();
}

class Editor {
  constructor(root, cam, doc, version) {
    this.root = root;
    this.cam = cam;
    this.doc = doc;
    this.version = version;
    this.tool = 'select';
    this.pending = null;
    this.drag = null;
    this.grid = false;
    this.bg = new Image();
  }

  async start() {
    const editable = can('supervisor');
    this.canvas = el('canvas', { tabindex: 0, role: 'img', 'aria-label': 'scene drawing over the latest snapshot; click to add points with the chosen tool' });
    this.status = el('p', { class: 'dim', role: 'status', 'aria-live': 'polite' });
    this.errors = el('ul', { class: 'error-list', 'aria-live': 'polite' });
    this.side = el('div', { class: 'side' });
    this.previewOut = el('div', { 'aria-live': 'polite' });
    const tools = el('fieldset', { class: 'bar' }, el('legend', {}, 'Tool'),
      ...[['select', 'Move points'], ['zone', 'Zone'], ['line', 'Tripwire'], ['lane', 'Lane'], ['calib', 'Calibration point']]
        .map(([v, t]) => el('label', { class: 'check' }, el('input', {
          type: 'radio', name: 'tool', value: v, checked: v === 'select',
          onchange: () => { this.tool = v; this.pending = null; this.draw(); this.say(this.hint()); },
        }), t)));
    const gridBox = el('input', { type: 'checkbox', name: 'grid', onchange: () => { this.grid = gridBox.checked; this.draw(); } });
    this.saveButton = el('button', { type: 'button', class: 'primary', disabled: !editable, onclick: () => this.save() }, 'Save');
    const bar = el('div', { class: 'bar' },
      el('button', { type: 'button', onclick: () => this.finish() }, 'Finish shape'),
      el('button', { type: 'button', onclick: () => { this.pending = null; this.draw(); } }, 'Cancel shape'),
      el('label', { class: 'check' }, gridBox, 'Metre grid'),
      el('button', { type: 'button', disabled: !editable, onclick: () => this.preview() }, 'Preview (last hour)'),
      this.saveButton,
      el('button', { type: 'button', onclick: () => location.reload() }, 'Reload'));
    this.root.append(el('h2', {}, `Scene of ${this.cam.name || this.cam.id}`),
      el('p', { class: 'meta' }, this.version ? `Saved version ${this.version}` : 'No scene saved yet'),
      tools, bar, this.status, this.errors,
      el('div', { class: 'editor' }, el('div', {}, this.canvas, this.previewOut), this.side));
    await this.loadBackground();
    if (!this.doc) {
      this.doc = { version: 1, camera: this.cam.id, image: { width: this.bg.naturalWidth || 1280, height: this.bg.naturalHeight || 720 } };
    }
    for (const k of ['zones', 'lines', 'lanes', 'rules']) this.doc[k] = this.doc[k] || [];
    this.canvas.width = this.doc.image.width;
    this.canvas.height = this.doc.image.height;
    this.canvas.addEventListener('mousedown', ev => this.down(ev));
    this.canvas.addEventListener('mousemove', ev => this.move(ev));
    this.canvas.addEventListener('mouseup', () => this.up());
    this.canvas.addEventListener('dblclick', ev => { ev.preventDefault(); this.finish(); });
    this.canvas.addEventListener('keydown', ev => {
      if (ev.key === 'Enter') { this.finish(); ev.preventDefault(); }
      if (ev.key === 'Escape') { this.pending = null; this.draw(); }
    });
    this.say(this.hint());
    this.changed();
  }

  stop() { this.bg.onload = null; }

  loadBackground() {
    return new Promise(resolve => {
      this.bg.onload = () => resolve();
      this.bg.onerror = () => { this.say('No recent snapshot of this camera: drawing on a blank frame.'); resolve(); };
      this.bg.src = `/api/v1/cameras/${enc(this.cam.id)}/snapshot.jpg?w=1920&t=${Date.now()}`;
    });
  }

  hint() {
    return {
      select: 'Drag a point to move it.',
      zone: 'Click the corners of the zone, then Finish shape (or Enter, or double-click).',
      line: 'Click the two ends of the tripwire. Its in side is chosen in the list.',
      lane: 'Click the start and then the end of the lane direction, inside its carriageway zone.',
      calib: 'Click a point whose ground position you know, then type its ground coordinates in metres.',
    }[this.tool];
  }

  say(text) { this.status.textContent = text; }

  point(ev) {
    const r = this.canvas.getBoundingClientRect();
    const x = ((ev.clientX - r.left) * this.canvas.width) / r.width;
    const y = ((ev.clientY - r.top) * this.canvas.height) / r.height;
    return [Math.round(x), Math.round(y)];
  }

  down(ev) {
    const p = this.point(ev);
    if (this.tool === 'select') {
      this.drag = this.nearest(p);
      return;
    }
    if (this.tool === 'calib') {
      this.doc.calibration = this.doc.calibration || {};
      this.doc.calibration.pairs = this.doc.calibration.pairs || [];
      this.doc.calibration.pairs.push({ image: p, ground: [0, 0] });
      this.changed();
      const inputs = this.side.querySelectorAll('input[name="ground"]');
      if (inputs.length) inputs[inputs.length - 1].focus();
      return;
    }
    this.pending = this.pending || { kind: this.tool, points: [] };
    this.pending.points.push(p);
    if ((this.tool === 'line' || this.tool === 'lane') && this.pending.points.length === 2) this.finish();
    else this.draw();
  }

  move(ev) {
    if (!this.drag) return;
    this.drag.set(this.point(ev));
    this.draw();
  }

  up() {
    if (!this.drag) return;
    this.drag = null;
    this.changed();
  }

  // nearest finds the shape vertex within 12 screen pixels of p.
  nearest(p) {
    const r = this.canvas.getBoundingClientRect();
    const tol = (12 * this.canvas.width) / (r.width || 1);
    const cands = [];
    for (const z of this.doc.zones) (z.polygon || []).forEach((_, i) => cands.push([z.polygon, i]));
    for (const l of this.doc.lines) (l.points || []).forEach((_, i) => cands.push([l.points, i]));
    for (const l of this.doc.lanes) (l.direction || []).forEach((_, i) => cands.push([l.direction, i]));
    for (const c of (this.doc.calibration && this.doc.calibration.pairs) || []) cands.push([c, 'image']);
    let best = null;
    let bestD = tol;
    for (const [arr, i] of cands) {
      const q = arr[i];
      const d = Math.hypot(q[0] - p[0], q[1] - p[1]);
      if (d <= bestD) { best = { set: v => { arr[i] = v; } }; bestD = d; }
    }
    return best;
  }

  // finish turns the pending points into a shape.
  finish() {
    const pd = this.pending;
    if (!pd) return;
    const uniq = (prefix, list) => {
      let i = list.length + 1;
      while (list.some(x => x.name === `${prefix}${i}`)) i++;
      return `${prefix}${i}`;
    };
    if (pd.kind === 'zone') {
      if (pd.points.length < 3) { this.say('A zone needs at least 3 corners.'); return; }
      this.doc.zones.push({ name: uniq('zone', this.doc.zones), type: 'restricted', polygon: pd.points });
    } else if (pd.kind === 'line') {
      this.doc.lines.push({ name: uniq('line', this.doc.lines), points: pd.points, in: 'right' });
    } else if (pd.kind === 'lane') {
      const road = this.doc.zones.find(z => z.type === 'carriageway');
      if (!road) { this.say('A lane lies on a carriageway zone: draw one first.'); this.pending = null; this.draw(); return; }
      this.doc.lanes.push({ name: uniq('lane', this.doc.lanes), zone: road.name, direction: pd.points });
    }
    this.pending = null;
    this.changed();
    const names = this.side.querySelectorAll(`input[name="${pd.kind}-name"]`);
    if (names.length) names[names.length - 1].focus();
  }

  draw() {
    const g = this.canvas.getContext('2d');
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.bg.naturalWidth) g.drawImage(this.bg, 0, 0, this.canvas.width, this.canvas.height);
    drawScene(g, this.doc, { grid: this.grid, pending: this.pending });
  }

  // changed redraws and rebuilds the lists after any edit.
  changed() {
    this.draw();
    this.side.replaceChildren(this.zonesSection(), this.linesSection(), this.lanesSection(), this.calibrationSection(), this.rulesSection());
  }

  zonesSection() {
    return section('Zones', this.doc.zones.map((z, i) => el('div', { class: 'item', 'data-zone': z.name },
      el('div', { class: 'fields' },
        el('label', {}, 'Name', this.nameInput('zone-name', z, 'zones')),
        el('label', {}, 'Type', bind(select(zoneTypes, z.type, { name: 'zone-type' }), v => { z.type = v; this.changed(); })),
        this.remove(`zone ${z.name}`, () => this.doc.zones.splice(i, 1))),
      el('label', {}, 'Corners (x,y pixels)', this.pointsInput(z, 'polygon', 3)))));
  }

  linesSection() {
    return section('Tripwires', this.doc.lines.map((l, i) => el('div', { class: 'item' },
      el('div', { class: 'fields' },
        el('label', {}, 'Name', this.nameInput('line-name', l, 'lines')),
        el('label', {}, 'In side', bind(select([['right', 'right of first→second'], ['left', 'left of first→second']], l.in || 'right', { name: 'line-in' }),
          v => { l.in = v; this.changed(); })),
        this.remove(`tripwire ${l.name}`, () => this.doc.lines.splice(i, 1))),
      el('label', {}, 'Ends (x,y pixels)', this.pointsInput(l, 'points', 2, 2)))));
  }

  lanesSection() {
    const roads = this.doc.zones.filter(z => z.type === 'carriageway').map(z => z.name);
    return section('Lanes', this.doc.lanes.map((l, i) => el('div', { class: 'item' },
      el('div', { class: 'fields' },
        el('label', {}, 'Name', this.nameInput('lane-name', l, 'lanes')),
        el('label', {}, 'Carriageway zone', bind(select(roads, l.zone, { name: 'lane-zone' }), v => { l.zone = v; this.changed(); })),
        this.remove(`lane ${l.name}`, () => this.doc.lanes.splice(i, 1))),
      el('label', {}, 'Direction from → to (x,y pixels)', this.pointsInput(l, 'direction', 2, 2)))));
  }

  calibrationSection() {
    const cal = this.doc.calibration || {};
    const pairs = cal.pairs || [];
    const H = fitHomography(pairs);
    const err = H ? rmsError(H, pairs) : null;
    const quality = cal.rectangle ? 'This scene is calibrated by a rectangle (edit it in the YAML file).'
      : pairs.length < 4 ? `${pairs.length} of at least 4 points: not calibrated yet.`
        : err === null || !isFinite(err) ? 'These points do not define a ground plane (three in a line?).'
          : `Reprojection error ${err.toFixed(3)} m RMS over ${pairs.length} points${pairs.length === 4 ? ' (4 points always fit exactly; add more to check)' : ''}.`;
    const maxErr = el('input', { type: 'number', step: 'any', min: 0, name: 'max_error_m', value: cal.max_error_m ?? '' });
    bind(maxErr, v => { this.ensureCal(); if (v === '') delete this.doc.calibration.max_error_m; else this.doc.calibration.max_error_m = Number(v); });
    return section('Calibration', [
      el('p', { class: 'meta', 'data-calibration': err === null ? '' : err.toFixed(4) }, quality),
      ...pairs.map((p, i) => el('div', { class: 'fields item' },
        el('label', {}, `Point ${i + 1} image x,y`, this.coordInput(p.image, v => { p.image = v; }, 'image')),
        el('label', {}, 'ground x,y (m)', this.coordInput(p.ground, v => { p.ground = v; }, 'ground')),
        this.remove(`calibration point ${i + 1}`, () => pairs.splice(i, 1)))),
      el('label', {}, 'Largest error allowed on save (m, optional)', maxErr),
    ]);
  }

  ensureCal() { this.doc.calibration = this.doc.calibration || { pairs: [] }; }

  rulesSection() {
    const schedules = (this.doc.schedules || []).map(s => s.name);
    const add = el('button', { type: 'button', onclick: () => {
      const z = this.doc.zones[0];
      this.doc.rules.push(z ? { type: 'intrusion', zone: z.name } : this.doc.lines[0] ? { type: 'line_crossing', line: this.doc.lines[0].name } : { type: 'intrusion', zone: '' });
      this.changed();
    } }, 'Add rule');
    return section('Rules', [...this.doc.rules.map((r, i) => this.ruleItem(r, i, schedules)), add]);
  }

  ruleItem(r, i, schedules) {
    const spec = ruleTypes[r.type] || { target: 'zone', params: {} };
    const targets = { zone: this.doc.zones, line: this.doc.lines, lane: this.doc.lanes }[spec.target].map(x => x.name);
    const type = bind(select(Object.keys(ruleTypes), r.type, { name: 'rule-type' }), v => {
      const old = ruleTypes[r.type];
      for (const k of Object.keys(r)) if (!common.includes(k) || k === old?.target) delete r[k];
      r.type = v;
      const t = ruleTypes[v].target;
      r[t] = ({ zone: this.doc.zones, line: this.doc.lines, lane: this.doc.lanes }[t][0] || {}).name || '';
      this.changed();
    });
    const target = bind(select(targets, r[spec.target], { name: 'rule-target' }), v => { r[spec.target] = v; this.draw(); });
    const text = (key, attrs = {}) => bind(el('input', { name: `rule-${key}`, value: Array.isArray(r[key]) ? r[key].join(',') : r[key] ?? '', ...attrs }),
      v => { if (v === '') delete r[key]; else r[key] = key === 'classes' ? v.split(',').map(s => s.trim()).filter(Boolean) : v; });
    const params = Object.entries(spec.params).map(([k, kind]) => el('label', {}, k.replace(/_/g, ' '),
      bind(el('input', kind === 'number' ? { type: 'number', step: 'any', name: `rule-${k}`, value: r[k] ?? '' }
        : { name: `rule-${k}`, value: r[k] ?? '', placeholder: 'e.g. 10s', size: 6 }),
      v => { if (v === '') delete r[k]; else r[k] = kind === 'number' ? Number(v) : v; })));
    return el('div', { class: 'item', 'data-rule': i },
      el('div', { class: 'fields' }, el('label', {}, 'Type', type), el('label', {}, spec.target, target),
        el('label', {}, 'Name (optional)', text('name', { size: 12 })),
        el('label', {}, 'Severity', bind(select([['', 'default'], ...severities], r.severity || '', { name: 'rule-severity' }),
          v => { if (v) r.severity = v; else delete r.severity; })),
        this.remove(`rule ${r.name || r.type}`, () => this.doc.rules.splice(i, 1))),
      el('div', { class: 'fields' },
        el('label', {}, 'Classes (comma list)', text('classes', { size: 14, placeholder: 'default' })),
        el('label', {}, 'Schedule', bind(select([['', 'always'], ...schedules], r.schedule || '', { name: 'rule-schedule' }),
          v => { if (v) r.schedule = v; else delete r.schedule; })),
        el('label', {}, 'Cooldown', text('cooldown', { size: 6, placeholder: '30s' })), ...params));
  }

  nameInput(name, obj, list) {
    return bind(el('input', { name, value: obj.name, size: 12, required: true }), v => {
      const old = obj.name;
      obj.name = v;
      // Keep what refers to the old name pointing at the new one.
      const kind = { zones: 'zone', lines: 'line', lanes: 'lane' }[list];
      for (const r of this.doc.rules) if (r[kind] === old) r[kind] = v;
      if (kind === 'zone') for (const l of this.doc.lanes) if (l.zone === old) l.zone = v;
      this.changed();
    });
  }

  pointsInput(obj, key, min, max = Infinity) {
    const input = el('input', { name: `${key}`, class: 'points', value: (obj[key] || []).map(p => p.join(',')).join(' ') });
    input.onchange = () => {
      const pts = input.value.trim().split(/\s+/).map(s => s.split(',').map(Number));
      if (pts.length < min || pts.length > max || pts.some(p => p.length !== 2 || p.some(n => !isFinite(n)))) {
        input.setCustomValidity(`Give ${min === max ? min : `at least ${min}`} points as x,y separated by spaces`);
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      obj[key] = pts;
      this.changed();
    };
    return input;
  }

  coordInput(pt, set, name) {
    const input = el('input', { name, value: pt.join(','), size: 12 });
    input.onchange = () => {
      const v = input.value.split(',').map(s => Number(s.trim()));
      if (v.length !== 2 || v.some(n => !isFinite(n))) {
        input.setCustomValidity('Give x,y');
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      set(v);
      this.changed();
    };
    return input;
  }

  remove(what, fn) {
    return el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${what}`, onclick: () => { fn(); this.changed(); } }, 'Delete');
  }

  body() { return JSON.stringify(this.doc, null, 2); }

  showErrors(err) {
    this.errors.replaceChildren(...(err.details && err.details.length ? err.details : [err.message]).map(d => el('li', {}, d)));
  }

  async preview() {
    this.errors.replaceChildren();
    this.previewOut.replaceChildren(el('p', { class: 'dim' }, 'Replaying the last hour of stored tracks…'));
    try {
      const res = await api(`/cameras/${enc(this.cam.id)}/scene/preview`, { method: 'POST', body: { scene: this.body() } });
      this.previewOut.replaceChildren(el('h3', {}, `Preview: ${res.count} alert(s) from ${fmtTime(res.since)} to ${fmtTime(res.until)}`),
        el('ul', { class: 'preview' }, res.alerts.slice(0, 200).map(a => el('li', {},
          `${a.rule}${a.name ? ' (' + a.name + ')' : ''} — ${a.zone || a.line || a.lane || ''} — ${a.explanation || ''}`))));
    } catch (err) {
      this.previewOut.replaceChildren();
      this.showErrors(err);
    }
  }

  async save() {
    this.errors.replaceChildren();
    this.saveButton.disabled = true;
    try {
      const res = await api(`/cameras/${enc(this.cam.id)}/scene`, { method: 'PUT', body: this.body(), type: 'application/json' });
      this.version = res.version;
      toast(`Scene saved as version ${res.version}${res.applied ? ' and applied' : ''}.`);
      this.say(`Saved as version ${res.version}.`);
    } catch (err) {
      this.showErrors(err);
      failed(err);
    } finally {
      this.saveButton.disabled = false;
    }
  }
}

function section(title, items) {
  return el('fieldset', {}, el('legend', {}, title), items.length ? items : el('p', { class: 'dim' }, 'None.'));
}

// bind calls set with the control's value when it changes.
function bind(control, set) {
  control.addEventListener('change', () => set(control.value));
  return control;
}

