// Suspect search: an attribute form (or a typed phrase), a camera set and
// a time range give ranked thumbnails, each showing which attributes
// matched; a result opens its path on the camera's frame and its other
// sightings ("more like this").
import { api, query, enc } from './api.js';
import { el, svg, select, fmtTime, failed } from './dom.js';
import { playable } from './alert.js';

const colours = ['black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown'];
const carried = ['backpack', 'handbag', 'suitcase', 'umbrella'];
const headings = ['north', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west', 'north-west'];
const classes = [['', 'any'], ['person', 'person'], ['vehicle', 'vehicle'], ['car', 'car'], ['bus', 'bus'], ['truck', 'truck'],
  ['motorcycle', 'motorcycle'], ['bicycle', 'bicycle']];

// last keeps the form between visits of the page.
const last = { body: null };

export async function show(root, args) {
  if (args[0] === 'track' && args[1]) return showTrack(root, args[1]);
  const { cameras } = await api('/cameras');
  const f = form(cameras);
  const results = el('div', { class: 'search-results', 'aria-live': 'polite' });
  root.append(el('h2', {}, 'Search'), f.node, results);
  const run = async body => {
    last.body = body;
    results.replaceChildren(el('p', {}, 'Searching…'));
    try {
      render(results, await api('/search', { method: 'POST', body }));
    } catch (err) {
      results.replaceChildren();
      failed(err);
    }
  };
  f.node.addEventListener('submit', ev => { ev.preventDefault(); run(f.body()); });
  if (args[0] === 'like' && args[1]) run({ like_id: Number(args[1]), limit: 50 });
  else if (last.body) run(last.body);
}

// form builds the attribute form; body() reads it as a search request.
function form(cameras) {
  const text = el('input', { type: 'search', name: 'text', maxlength: 512, size: 48,
    placeholder: 'red top black trousers backpack heading north' });
  const pick = (name, vocab) => select([['', 'any'], ...vocab.map(v => [v, v])], '', { name });
  const upper = pick('upper', colours), lower = pick('lower', colours), colour = pick('colour', colours);
  const bag = pick('carried', carried), heading = pick('heading', headings);
  const cls = select(classes, '', { name: 'class' });
  const cams = el('select', { name: 'cameras', multiple: true, size: Math.min(4, Math.max(2, cameras.length)) },
    cameras.map(c => el('option', { value: c.id }, c.name || c.id)));
  const since = el('input', { type: 'datetime-local', name: 'since' });
  const until = el('input', { type: 'datetime-local', name: 'until' });
  const partial = el('input', { type: 'checkbox', name: 'partial' });
  const node = el('form', { class: 'search-form' },
    el('label', {}, 'Describe ', text),
    el('fieldset', {}, el('legend', {}, 'Attributes'),
      el('label', {}, 'Class ', cls), el('label', {}, 'Top ', upper), el('label', {}, 'Bottom ', lower),
      el('label', {}, 'Vehicle colour ', colour), el('label', {}, 'Carrying ', bag), el('label', {}, 'Heading ', heading),
      el('label', {}, partial, ' allow partial matches')),
    el('fieldset', {}, el('legend', {}, 'Where and when'),
      el('label', {}, 'Cameras (none: all) ', cams), el('label', {}, 'From ', since), el('label', {}, 'To ', until)),
    el('button', { type: 'submit' }, 'Search'));
  const one = s => (s.value ? [s.value] : undefined);
  const time = i => (i.value ? new Date(i.value).toISOString() : undefined);
  const body = () => ({
    text: text.value.trim() || undefined, classes: one(cls), upper: one(upper), lower: one(lower), colours: one(colour),
    carried: one(bag), heading: heading.value || undefined, since: time(since), until: time(until),
    cameras: [...cams.selectedOptions].map(o => o.value), min_match: partial.checked ? 0.5 : undefined, limit: 60,
  });
  return { node, body };
}

// render lists the hits as thumbnails with what matched.
function render(root, res) {
  const kids = [el('p', { class: 'search-summary' }, `${res.hits.length} of ${res.filtered} matching tracks`)];
  if (res.unknown && res.unknown.length) kids.push(el('p', { class: 'search-unknown' }, 'Not understood: ' + res.unknown.join(', ')));
  kids.push(el('ol', { class: 'search-hits' }, res.hits.map(hitCard)));
  root.replaceChildren(...kids);
}

function hitCard(h) {
  const a = h.appearance || {};
  const matched = new Set(h.matched || []);
  const chips = [
    ...(a.upper || []).map(c => chip('upper:' + c, 'top ' + c, matched)),
    ...(a.lower || []).map(c => chip('lower:' + c, 'bottom ' + c, matched)),
    ...(a.colours || []).map(c => chip('colour:' + c, c, matched)),
    ...(a.carried || []).map(c => chip('carried:' + c, c, matched)),
    a.heading ? chip('heading:' + a.heading, '→ ' + a.heading, matched) : null,
    a.height_m ? el('span', { class: 'chip' }, a.height_m.toFixed(2) + ' m') : null,
  ];
  return el('li', { 'data-track': h.id },
    el('a', { href: `#/search/track/${h.id}` },
      el('img', { src: `/api/v1/tracks/${h.id}/thumb.jpg`, alt: `${h.class} on ${h.camera}`, height: 128, loading: 'lazy' }),
      el('span', { class: 'meta' }, `${h.camera} · ${h.class} · ${fmtTime(h.start)}`),
      h.similarity ? el('span', { class: 'sim' }, `likeness ${(h.similarity * 100).toFixed(0)} %`) : null,
      el('span', { class: 'chips' }, chips)));
}

function chip(key, text, matched) {
  return el('span', { class: matched.has(key) ? 'chip matched' : 'chip', title: matched.has(key) ? 'matched' : '' }, text);
}

// showTrack is one track: its path on the camera's frame, its best crop,
// its appearance and its other sightings.
async function showTrack(root, id) {
  const { track: t, thumb, similar, alerts, video } = await api('/tracks/' + enc(id));
  const back = el('a', { href: '#/search' }, '← back to the results');
  const more = el('a', { href: `#/search/like/${t.id}` }, 'More like this');
  root.append(el('h2', {}, `${t.class} on ${t.camera}`), el('p', {}, back, ' · ', more),
    el('div', { class: 'search-track' },
      pathView(t),
      el('div', {},
        el('img', { src: thumb, alt: 'best crop', height: 192 }),
        el('p', {}, `${fmtTime(t.start)} – ${fmtTime(t.end)}`),
        el('p', {}, describe(t.appearance)))),
    el('h3', {}, 'Video'),
    trackVideo(video, alerts || []),
    el('h3', {}, 'Alerts it raised'),
    raisedAlerts(alerts || []),
    el('h3', {}, 'Other sightings'),
    el('ol', { class: 'search-hits' }, similar.map(hitCard)));
}

// trackVideo is the track cut from its camera's recording (RTSP and ONVIF
// cameras, within the retention); without one, the clip of an alert it
// raised, which is kept as long as the alert's media.
function trackVideo(src, alerts) {
  const withClip = alerts.find(a => a.clip);
  if (!src && !withClip) {
    return el('p', { class: 'dim' }, 'No video of this track: its camera is not recorded (files and image folders are not), or the recording no longer reaches back to it, and it raised no alert with a clip.');
  }
  const missing = 'The video is not available (removed by retention).';
  if (src) return playable(src, 'video of the track', missing);
  return el('div', {}, playable(withClip.clip, `clip of alert ${withClip.id}`, missing),
    el('p', { class: 'dim' }, 'The recording does not reach back to this track; this is the clip of an alert it raised.'));
}

// raisedAlerts lists the alerts the track took part in.
function raisedAlerts(list) {
  if (!list.length) return el('p', { class: 'dim' }, 'None.');
  return el('ul', {}, list.map(a => el('li', {},
    el('a', { href: `#/alert/${enc(a.id)}` }, `${a.rule} #${a.id}`), ` at ${fmtTime(a.at)}`,
    a.clip ? '' : ' (no clip on disk)')));
}

// pathView draws the track's foot path over the camera's latest frame.
function pathView(t) {
  const w = 480, h = 360;
  const img = el('img', { src: `/api/v1/cameras/${enc(t.camera)}/snapshot.jpg` + query({ w }), alt: `frame of ${t.camera}`, width: w });
  const box = el('div', { class: 'search-path' }, img);
  img.onload = () => {
    const sx = w / (img.naturalWidth || w), pts = (t.path || []).map(p => `${p.image[0] * sx},${p.image[1] * sx}`).join(' ');
    box.append(svg('svg', { viewBox: `0 0 ${w} ${img.height || h}`, width: w, height: img.height || h },
      svg('polyline', { points: pts, fill: 'none', stroke: '#ff0', 'stroke-width': 3 })));
  };
  img.onerror = () => box.replaceChildren(el('p', {}, 'No frame of this camera right now.'));
  return box;
}

function describe(a) {
  if (!a) return '';
  const parts = [];
  if (a.upper) parts.push('top ' + a.upper.join(' and '));
  if (a.lower) parts.push('bottom ' + a.lower.join(' and '));
  if (a.colours) parts.push(a.colours.join(' and '));
  if (a.carried) parts.push('carrying ' + a.carried.join(', '));
  if (a.heading) parts.push('heading ' + a.heading);
  if (a.height_m) parts.push(a.height_m.toFixed(2) + ' m tall');
  return parts.join(' · ');
}
