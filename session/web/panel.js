// panel.js: the web panel of `dspjit run --web` (session/WebPanel.h).
//
// One WebSocket to /ws?token=TOKEN (the token comes from the address's
// #token=...); the protocol is session/WebProtocol.h. The page builds a
// control per parameter from the "script" message and rebuilds them when a
// reload changes them; "tick" moves sliders (unless the user holds one),
// meters and the health display; "scope", "spectrum" and "response" are
// drawn on canvases; "event" fills the reload list and the error box.
'use strict';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get('token');
let ws = null;
let sessionState = 'connecting';
let params = new Map();   // name -> {spec, row, slider, number, editing}
let meters = new Map();   // name -> {fills[], value}
let outputMeters = null;  // {fills[], peaks[], value}
let lastResponse = null;

function setState(text, cls) {
  const s = $('state');
  s.textContent = text;
  s.className = cls || '';
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

// The units of `param` declarations as people write them.
const UNITS = { hz: 'Hz', db: 'dB', s: 's', ms: 'ms', '%': '%' };
const unitText = (u) => UNITS[u] || u || '';

function fmt(v, unit) {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  return v.toFixed(digits) + (unit ? ' ' + unit : '');
}

// ---- Controls ---------------------------------------------------------------

const STEPS = 1000;

function toPosition(p, v) {
  const s = p.spec;
  if (s.max === s.min) return 0;
  if (s.log) return Math.round(STEPS * Math.log(v / s.min) / Math.log(s.max / s.min));
  return Math.round(STEPS * (v - s.min) / (s.max - s.min));
}

function fromPosition(p, pos) {
  const s = p.spec, t = pos / STEPS;
  return s.log ? s.min * Math.pow(s.max / s.min, t) : s.min + t * (s.max - s.min);
}

function showValue(p, v) {
  p.value = v;
  if (p.spec.toggle) {
    p.check.checked = v >= 0.5;
    p.check.setAttribute('aria-checked', String(v >= 0.5));
    return;
  }
  p.slider.value = String(toPosition(p, v));
  p.slider.setAttribute('aria-valuetext', fmt(v, unitText(p.spec.unit)));
  if (document.activeElement !== p.number) p.number.value = String(Number(v.toPrecision(6)));
}

// A tick the server sent before it had a change made here still carries
// the old value: for a moment after each change, ticks leave it alone.
const HOLD_MS = 250;

function setParam(p, v) {
  p.value = v;
  p.heldUntil = performance.now() + HOLD_MS;
  send({ type: 'set', name: p.spec.name, value: v });
}

function buildControls(script) {
  const box = $('controls');
  box.textContent = '';
  params = new Map();
  if (!script.params.length) {
    box.textContent = 'This script has no parameters.';
  }
  for (const spec of script.params) {
    const p = { spec, editing: false, heldUntil: 0 };
    const row = document.createElement('div');
    row.className = 'param' + (spec.toggle ? ' toggle' : '');
    row.dataset.param = spec.name;
    const id = 'param-' + spec.name.replace(/[^A-Za-z0-9_-]/g, '_');
    const label = document.createElement('label');
    label.textContent = spec.name;
    label.htmlFor = id;
    label.title = `${spec.name}: ${spec.min} to ${spec.max}${spec.unit ? ' ' + unitText(spec.unit) : ''}, default ${spec.default}`;
    row.append(label);
    if (spec.toggle) {
      const check = document.createElement('input');
      check.type = 'checkbox';
      check.id = id;
      check.setAttribute('role', 'switch');
      check.setAttribute('aria-label', spec.name);
      check.addEventListener('change', () => setParam(p, check.checked ? 1 : 0));
      p.check = check;
      row.append(check, document.createElement('span'), document.createElement('span'));
    } else {
      const slider = document.createElement('input');
      slider.type = 'range';
      slider.id = id;
      slider.min = '0';
      slider.max = String(STEPS);
      slider.step = '1';
      slider.setAttribute('aria-label', spec.name);
      slider.dataset.scale = spec.log ? 'log' : 'linear';
      slider.addEventListener('input', () => {
        const v = fromPosition(p, Number(slider.value));
        slider.setAttribute('aria-valuetext', fmt(v, unitText(spec.unit)));
        number.value = String(Number(v.toPrecision(6)));
        setParam(p, v);
      });
      slider.addEventListener('pointerdown', () => { p.editing = true; });
      slider.addEventListener('pointerup', () => { p.editing = false; });
      slider.addEventListener('blur', () => { p.editing = false; });
      slider.addEventListener('dblclick', () => { setParam(p, spec.default); showValue(p, spec.default); });
      const number = document.createElement('input');
      number.type = 'number';
      number.step = 'any';
      number.min = String(spec.min);
      number.max = String(spec.max);
      number.setAttribute('aria-label', spec.name + ' value');
      number.addEventListener('change', () => {
        const v = Number(number.value);
        if (number.value.trim() === '' || !isFinite(v)) return showValue(p, p.value);
        setParam(p, v);
        showValue(p, Math.min(spec.max, Math.max(spec.min, v)));
      });
      number.addEventListener('keydown', (e) => { if (e.key === 'Enter') number.blur(); });
      const unit = document.createElement('span');
      unit.className = 'unit';
      unit.textContent = unitText(spec.unit);
      p.slider = slider;
      p.number = number;
      row.append(slider, number, unit);
    }
    if (script.midi) {
      // Map the next MIDI control moved to this parameter (the console's
      // `learn NAME`); the mapping comes back as an event line.
      const learn = document.createElement('button');
      learn.className = 'learn';
      learn.textContent = 'learn';
      learn.title = `MIDI learn: map the next control moved to ${spec.name}` +
        (spec.midi ? ` (the script maps ${spec.midi})` : '');
      learn.setAttribute('aria-label', `MIDI learn ${spec.name}`);
      learn.addEventListener('click', () => send({ type: 'learn', name: spec.name }));
      row.append(learn);
      row.classList.add('with-learn');
    } else if (spec.midi) {
      label.title += `; MIDI ${spec.midi}`;
    }
    p.row = row;
    box.append(row);
    params.set(spec.name, p);
    showValue(p, spec.value);
  }
  buildMeters(script);
  $('response-note').textContent = script.inputs ? '' : 'This script has no input: it has no response to show.';
}

function meterRow(name, lanes, withPeaks) {
  const row = document.createElement('div');
  row.className = 'meter';
  row.dataset.meter = name;
  const label = document.createElement('span');
  label.textContent = name;
  const bars = document.createElement('div');
  bars.className = 'bars';
  const fills = [], peaks = [];
  for (let i = 0; i < lanes; i++) {
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.setAttribute('role', 'meter');
    bar.setAttribute('aria-label', `${name} lane ${i + 1}`);
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '1');
    const fill = document.createElement('div');
    fill.className = 'fill';
    bar.append(fill);
    if (withPeaks) {
      const peak = document.createElement('div');
      peak.className = 'peak';
      bar.append(peak);
      peaks.push(peak);
    }
    bars.append(bar);
    fills.push(fill);
  }
  const value = document.createElement('span');
  value.className = 'value';
  row.append(label, bars, value);
  return { row, fills, peaks, value, bars: [...bars.children] };
}

function buildMeters(script) {
  const box = $('meters');
  box.textContent = '';
  meters = new Map();
  outputMeters = null;
  if (script.outputs) {
    outputMeters = meterRow('output', script.outputs, true);
    outputMeters.row.title = 'output: RMS (bar) and peak (line) of each channel, dBFS';
    box.append(outputMeters.row);
  }
  for (const m of script.meters) {
    const r = meterRow(m.name, m.lanes, false);
    box.append(r.row);
    meters.set(m.name, r);
  }
}

// A value in dBFS as a bar's fill over 60 dB.
const dbFill = (db) => Math.max(0, Math.min(1, (db + 60) / 60));

function updateTick(t) {
  for (const [name, v] of Object.entries(t.params)) {
    const p = params.get(name);
    if (!p || v === null || p.editing || performance.now() < p.heldUntil) continue;
    if (p.value !== v) showValue(p, v);
  }
  if (outputMeters) {
    t.rmsDb.forEach((db, i) => {
      const f = outputMeters.fills[i];
      if (!f) return;
      const fill = dbFill(db);
      f.style.width = (100 * fill) + '%';
      f.className = 'fill' + (t.peakDb[i] >= 0 ? ' clip' : t.peakDb[i] > -6 ? ' hot' : '');
      outputMeters.peaks[i].style.left = (100 * dbFill(t.peakDb[i])) + '%';
      outputMeters.bars[i].setAttribute('aria-valuenow', fill.toFixed(3));
      outputMeters.bars[i].setAttribute('aria-valuetext', `RMS ${fmt(t.rmsDb[i], 'dB')}, peak ${fmt(t.peakDb[i], 'dB')}`);
    });
    outputMeters.value.textContent = t.peakDb.length ? fmt(Math.max(...t.peakDb), 'dB') : '';
  }
  for (const [name, lanes] of Object.entries(t.meters)) {
    const m = meters.get(name);
    if (!m) continue;
    lanes.forEach((v, i) => {
      if (!m.fills[i] || v === null) return;
      // A meter reads linearly over 0..1 (levels, gates), or as dB when
      // negative (at most 0 dB).
      const fill = v < 0 ? dbFill(v) : Math.max(0, Math.min(1, v));
      m.fills[i].style.width = (100 * fill) + '%';
      m.bars[i].setAttribute('aria-valuenow', String(v));
    });
    m.value.textContent = lanes.length && lanes[0] !== null ? Number(lanes[0]).toPrecision(3) : '–';
  }
  const h = t.health;
  const pct = (x) => (x === null ? '–' : (100 * x).toFixed(1) + '%');
  $('share').textContent = pct(h.share);
  $('share-mean').textContent = pct(h.meanShare);
  $('share-max').textContent = pct(h.maxShare);
  $('deadline').textContent = `${fmt(h.meanUs, 'µs')} mean of ${fmt(h.deadlineUs, 'µs')}; ${h.callbacks} callbacks, ${h.overDeadline} over the deadline`;
  $('cpu').textContent = pct(h.cpu);
  const kinds = Object.entries(h.xruns).filter(([, n]) => n > 0);
  $('xruns').textContent = kinds.length ? kinds.map(([k, n]) => `${n} ${k}`).join(', ') : 'none';
  $('nonfinite').textContent = String(h.nonfinite) + (h.nonfinite ? ' samples silenced (reset state?)' : '');
  $('seconds').textContent = fmt(t.seconds, 's');
  drawHistogram(h.buckets);
}

// ---- Drawing ----------------------------------------------------------------

function canvas2d(id) {
  const c = $(id);
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || c.width, h = c.clientHeight || c.height;
  if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '10px system-ui, sans-serif';
  return { g, w, h };
}

const COLORS = ['#4fb3ff', '#ffb14f'];

function grid(g, w, h, xs, ys) {
  g.strokeStyle = '#2a2e35';
  g.fillStyle = '#7d838c';
  g.lineWidth = 1;
  for (const [x, label] of xs) {
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke();
    g.fillText(label, x + 2, h - 3);
  }
  for (const [y, label] of ys) {
    g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
    g.fillText(label, 2, y - 2);
  }
}

function drawScope(msg) {
  const { g, w, h } = canvas2d('scope');
  const ms = msg.lanes.length ? msg.lanes[0].length / msg.rate * 1000 : 0;
  const xs = [];
  for (let t = 5; t < ms; t += 5) xs.push([w * t / ms, t + ' ms']);
  grid(g, w, h, xs, [[h / 2, '0'], [h * 0.05, '+1'], [h * 0.95, '−1']]);
  const scale = msg.scale || 1;
  msg.lanes.forEach((lane, l) => {
    g.strokeStyle = COLORS[l % 2];
    g.beginPath();
    lane.forEach((v, i) => {
      const x = w * i / (lane.length - 1), y = h / 2 - (h * 0.45) * Math.max(-1.1, Math.min(1.1, (v || 0) * scale));
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  });
}

function logX(hz, lo, hi, w) { return w * Math.log(hz / lo) / Math.log(hi / lo); }

function freqTicks(lo, hi, w) {
  const xs = [];
  for (const f of [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000])
    if (f > lo && f < hi && logX(f, lo, hi, w) < w - 24) xs.push([logX(f, lo, hi, w), f >= 1000 ? f / 1000 + 'k' : String(f)]);
  return xs;
}

function drawSpectrum(msg) {
  const { g, w, h } = canvas2d('spectrum');
  const lo = msg.hz[0], hi = msg.hz[msg.hz.length - 1];
  const top = 0, bottom = -120;
  const y = (db) => h * (top - db) / (top - bottom);
  const ys = [];
  for (let d = -20; d > bottom; d -= 20) ys.push([y(d), d + ' dB']);
  grid(g, w, h, freqTicks(lo, hi, w), ys);
  msg.db.forEach((lane, l) => {
    g.strokeStyle = COLORS[l % 2];
    g.beginPath();
    lane.forEach((d, i) => {
      const px = logX(msg.hz[i], lo, hi, w), py = y(d === null ? bottom : d);
      i ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
  });
}

function drawResponse(msg) {
  lastResponse = msg;
  const { g, w, h } = canvas2d('response');
  if (!msg || !msg.hz.length) return;
  const lo = msg.hz[0], hi = msg.hz[msg.hz.length - 1];
  const finite = msg.maxDb.filter((d) => d !== null && d > -250);
  const top = finite.length ? Math.max(6, Math.ceil(Math.max(...finite) / 6) * 6 + 6) : 6;
  const bottom = top - 72;
  const y = (db) => h * (top - Math.max(bottom, Math.min(top, db === null ? bottom : db))) / (top - bottom);
  const ys = [];
  for (let d = top - 12; d > bottom; d -= 12) ys.push([y(d), d + ' dB']);
  grid(g, w, h, freqTicks(lo, hi, w), ys);
  // Where the magnitude moves faster than the points (an echo's comb), the
  // band it fills between them says more than a line through the points.
  let fast = 0;
  msg.hz.forEach((f, i) => { if (msg.maxDb[i] - msg.minDb[i] > 3) fast++; });
  g.fillStyle = 'rgba(79, 179, 255, 0.35)';
  g.beginPath();
  msg.hz.forEach((f, i) => { const px = logX(f, lo, hi, w); i ? g.lineTo(px, y(msg.maxDb[i])) : g.moveTo(px, y(msg.maxDb[i])); });
  for (let i = msg.hz.length - 1; i >= 0; i--) g.lineTo(logX(msg.hz[i], lo, hi, w), y(msg.minDb[i]));
  g.closePath();
  g.fill();
  if (fast < msg.hz.length / 4) {
    g.strokeStyle = '#6b7280';
    g.lineWidth = 1;
    g.beginPath();
    msg.phase.forEach((p, i) => {
      const px = logX(msg.hz[i], lo, hi, w), py = h / 2 - (h * 0.45) * (p === null ? 0 : ((p + 180) % 360 + 360) % 360 - 180) / 180;
      i ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
    g.strokeStyle = COLORS[0];
    g.lineWidth = 2;
    g.beginPath();
    msg.db.forEach((d, i) => {
      const px = logX(msg.hz[i], lo, hi, w), py = y(d);
      i ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
  }
  g.fillStyle = '#9aa0a6';
  const legend = fast < msg.hz.length / 4 ? 'magnitude (dB, blue); phase (±180°, grey)' : 'magnitude: the band its comb teeth fill (dB)';
  g.fillText(legend, w - g.measureText(legend).width - 6, 12);
}

function drawHistogram(buckets) {
  const { g, w, h } = canvas2d('histogram');
  const total = buckets.reduce((a, b) => a + b, 0) || 1;
  const bw = w / buckets.length;
  const xs = [];
  for (let i = 0; i < 20; i += 4) xs.push([i * bw, i * 5 + '%']);
  xs.push([w - 34, '>100%']);
  grid(g, w, h, xs, []);
  buckets.forEach((n, i) => {
    if (!n) return;
    const frac = Math.max(0.02, Math.log10(1 + 1000 * n / total) / 3);
    g.fillStyle = i >= 20 ? '#ff5c5c' : i >= 15 ? '#ffb14f' : '#5cd68a';
    g.fillRect(i * bw + 1, h - 14 - (h - 20) * frac, bw - 2, (h - 20) * frac);
  });
}

// ---- Events -----------------------------------------------------------------

function addLine(text, cls) {
  const li = document.createElement('li');
  li.textContent = text;
  if (cls) li.className = cls;
  const list = $('reloads');
  list.prepend(li);
  while (list.children.length > 40) list.lastChild.remove();
}

function onEvent(e) {
  if (e.kind === 'xrun' || e.kind === 'nonfinite') return; // in Health
  if (e.kind === 'reload_failed') {
    $('problem').hidden = false;
    $('problem-line').textContent = e.text;
    $('diagnostics').textContent = e.diagnostics || '';
  } else if (e.kind === 'reloaded' || e.kind === 'unchanged') {
    $('problem').hidden = true;
    $('diagnostics').textContent = '';
  }
  // The terminal's line points "above" at the diagnostics; here they
  // follow it.
  let text = e.text.replace(' (see above)', '');
  if ((e.kind === 'reloaded' || e.kind === 'reload_failed') && e.diagnostics) text += '\n' + e.diagnostics;
  addLine(text, e.error ? 'error' : e.severity === 'warning' ? 'warning' : '');
}

function onHello(m) {
  $('script').textContent = m.script;
  document.title = 'dspjit: ' + m.script;
  sessionState = m.state;
  const main = document.querySelector('main');
  if (m.state === 'waiting') {
    setState('waiting for the stream to start…', 'waiting');
    main.classList.add('disabled');
  } else if (m.state === 'running') {
    setState(`running at ${m.rate} Hz`, 'running');
    main.classList.remove('disabled');
  } else {
    setState('the session has ended: these controls no longer do anything', 'stopped');
    main.classList.add('disabled');
  }
}

function onReply(m) {
  const r = $('reply');
  r.textContent = m.text;
  r.className = m.ok ? '' : 'error';
  clearTimeout(onReply.timer);
  onReply.timer = setTimeout(() => { r.textContent = ''; }, 6000);
}

function connect() {
  if (!token) {
    setState('this page needs the address that dspjit run printed, with its #token=…', 'stopped');
    return;
  }
  ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
  let opened = false;
  ws.onopen = () => { opened = true; };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    switch (m.type) {
      case 'hello': return onHello(m);
      case 'script': return buildControls(m);
      case 'tick': return updateTick(m);
      case 'scope': return drawScope(m);
      case 'spectrum': return drawSpectrum(m);
      case 'response': return drawResponse(m);
      case 'event': return onEvent(m);
      case 'reply': return onReply(m);
    }
  };
  ws.onclose = () => {
    ws = null;
    if (sessionState === 'stopped') {
      setState('the session has ended', 'stopped');
      return;
    }
    document.querySelector('main').classList.add('disabled');
    if (opened) return retry();
    // Never opened: the server is gone, or it refused this page (browsers
    // do not say which). A server that answers a plain request refused it;
    // asking again would only print a refusal a second in its terminal.
    fetch('/', { method: 'HEAD', cache: 'no-store' }).then(() => setState(
      'refused: this address\'s #token is not this session\'s (or too many pages are open); ' +
      'open the address that dspjit run printed', 'stopped'), retry);
  };
}

function retry() {
  setState('disconnected: is dspjit run still running? retrying…', 'disconnected');
  setTimeout(connect, 1000);
}

$('reset-params').addEventListener('click', () => send({ type: 'reset', what: 'params' }));
window.addEventListener('resize', () => { if (lastResponse) drawResponse(lastResponse); });
connect();
