/**
 * The `kestrel eval` report: one self-contained HTML file that works offline. uPlot (kept
 * library, its min.js and css embedded) draws the time series and histograms; the alert
 * timeline, plans strip, map and camera frames are SVG drawn here or by the page's own
 * script from the embedded JSON. Every number shown is rounded for reading (`fmtNum`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportFrame } from './frames.js';
import type { StagePoint } from './series.js';
import type { StageSnapshot } from '../../runtime/diagnostics.js';

export interface Interval {
  name: string;
  startS: number;
  endS: number;
}

export interface ReportStage extends Omit<StageSnapshot, 'lastError'> {
  samples: number[];
  /** The bound this stage is judged against, if its node has one. */
  deadline?: { param: string; ms: number };
}

export interface ReportExpectation {
  event: string;
  kind: 'alert' | 'reaction';
  what: string;
  /** In scenario time; null: an onset-relative window whose event never started. */
  window_s: readonly [number, number] | number[] | null;
  truth_onset_s: number | null;
  first_s: number | null;
  ok: boolean;
}

export interface ReportInput {
  title: string;
  summary: Record<string, string | number>;
  /** Loud problems (0 plans, a stage missing most deadlines): a banner at the top. */
  warnings: string[];
  stages: ReportStage[];
  truth: Interval[];
  alerts: Interval[];
  expected: ReportExpectation[];
  durationS: number;
  notes: string[];
  commands: { t: number; action: string; source: string; e2eMs: number }[];
  e2eDeadlineMs?: number;
  series: Record<string, StagePoint[]>;
  plans: { t: number; action: string; reason: string; tokens: number; ttftMs: number }[];
  map: {
    regions: { name: string; polygon: [number, number][] }[];
    geofence?: string;
    vehicle: { t: number; x: number; y: number; z: number }[];
    tracks: { t: number; id: number; cls: string; x: number; y: number }[];
  };
  energy: { stage: string; calls: number; mean_ms: number; mj: number }[];
  frames: ReportFrame[];
}

/** Rounds for reading: 3 significant digits, at most 3 decimals, integers kept. */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return n.toFixed(d).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** Rounds a value kept in the embedded data (smaller file, no float noise in tooltips). */
const r3 = (n: number): number => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n);

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
    uplotAssets = { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
  }
  return uplotAssets;
}

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

function compact(r: ReportInput) {
  return {
    durationS: r.durationS,
    truth: r.truth,
    alerts: r.alerts,
    expected: r.expected,
    commands: r.commands.map((c) => [r3(c.t), c.source, c.action, Number.isFinite(c.e2eMs) ? r3(c.e2eMs) : null]),
    e2eDeadlineMs: r.e2eDeadlineMs ?? null,
    stages: r.stages.map((s) => ({
      name: s.name,
      count: s.count,
      deadline: s.deadline ?? null,
      samples: s.samples.map(r3),
      series: (r.series[s.name] ?? []).map((p) => [p.t, p.n, p.p50 === null ? null : r3(p.p50), p.max === null ? null : r3(p.max), p.misses, p.drops]),
    })),
    plans: r.plans.map((p) => ({ ...p, t: r3(p.t), ttftMs: r3(p.ttftMs) })),
    map: {
      regions: r.map.regions,
      geofence: r.map.geofence ?? null,
      vehicle: r.map.vehicle.map((v) => [r3(v.t), r3(v.x), r3(v.y), r3(v.z)]),
      tracks: r.map.tracks.map((k) => [r3(k.t), k.id, k.cls, r3(k.x), r3(k.y)]),
    },
    energy: r.energy,
    frames: r.frames.map((f) => ({ ...f, boxes: f.boxes.map((b) => ({ ...b, score: r3(b.score), x: r3(b.x), y: r3(b.y), w: r3(b.w), h: r3(b.h) })) })),
  };
}

export function renderReport(r: ReportInput): string {
  const { js, css } = uplot();
  const val = (v: string | number): string => esc(typeof v === 'number' ? fmtNum(v) : v);
  const summary = Object.entries(r.summary)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${val(v)}</td></tr>`)
    .join('');
  const stageRows = r.stages
    .map((s) => {
      const bad = s.count > 0 && s.misses / s.count > 0.5;
      return `<tr${bad ? ' class="bad"' : ''}><td>${esc(s.name)}</td><td>${s.count}</td><td>${fmtNum(s.p50)}</td><td>${fmtNum(s.p99)}</td><td>${fmtNum(s.max)}</td><td>${s.deadline ? `${fmtNum(s.deadline.ms)} <small>${esc(s.deadline.param)}</small>` : '–'}</td><td>${s.misses}</td><td>${s.drops}</td><td>${s.errors}</td></tr>`;
    })
    .join('');
  const plansRows = r.plans.length
    ? r.plans.map((p) => `<tr><td>${fmtNum(p.t)}</td><td>${esc(p.action)}</td><td>${esc(p.reason)}</td><td>${p.tokens}</td><td>${fmtNum(p.ttftMs)}</td></tr>`).join('')
    : '<tr><td colspan="5" class="bad">the planner published no plan in this run</td></tr>';
  const energyRows = r.energy.map((e) => `<tr><td>${esc(e.stage)}</td><td>${e.calls}</td><td>${fmtNum(e.mean_ms)}</td><td>${fmtNum(e.mj)}</td><td>${fmtNum((e.mj * e.calls) / 1000)}</td></tr>`).join('');
  const warnings = r.warnings.length ? `<div class="warn"><b>Warnings</b><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>` : '';
  const notes = r.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>${css}</style>
<style>
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px;font-weight:600}header .sub{opacity:.75;font-size:12px;margin-top:2px}
main{padding:16px 24px;max-width:1280px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin:0 0 16px}
section h2{font-size:15px;margin:0 0 8px;font-weight:600}
.cap{color:#5b6472;font-size:12px;margin:2px 0 8px}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #e6e9ee;padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#3b4350}td:not(:first-child){font-variant-numeric:tabular-nums}
tr.bad td,td.bad{color:#b3261e;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:12px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.warn{background:#fdecea;border:1px solid #e8a29b;color:#7d1a12;border-radius:6px;padding:8px 16px;margin:0 0 16px}.warn ul{margin:4px 0}
.plot{min-height:40px}.frames{display:flex;flex-wrap:wrap;gap:12px}.frames figure{margin:0}.frames figcaption{font-size:12px;color:#5b6472}
.stage h3{font-size:13px;margin:6px 0 0;font-weight:600}.stage h3 small{font-weight:400;color:#5b6472}
.legend-inline span{display:inline-block;margin-right:14px}.legend-inline i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
</style>
<script>${js}</script>
</head><body>
<header><h1>${esc(r.title)}</h1><div class="sub">${esc(String(r.summary['source'] ?? ''))}</div></header>
<main>
${warnings}
<div class="grid2">
<section><h2>Summary</h2><table>${summary}</table></section>
<section><h2>Map (top-down, local ENU metres)</h2><div class="cap">Regions, geofence (red dashed), vehicle trajectory (black, ● start, ▲ end) and confirmed tracks by class.</div><div id="map" class="plot"></div></section>
</div>
<section><h2>Alerts vs ground truth</h2><div class="cap">Grey: ground truth episodes; green band: the window an expected alert/reaction must start in; red: alert episodes; ◆ and the label: time to alert from the truth onset.</div><div id="timeline" class="plot"></div></section>
<section><h2>Commands over time by source</h2><div class="cap">Every /cmd of the arbiter by the input that decided it; shaded: fallback periods.</div><div id="commands" class="plot"></div></section>
<section><h2>End-to-end age of decisions</h2><div class="cap">Age of the oldest sensor data behind each command (ms), with the arbiter's max_age_ms.</div><div id="e2e" class="plot"></div></section>
<section><h2>Plans</h2><div class="cap">Planner outputs over time (action and reason).</div><div id="plans" class="plot"></div>
<table><tr><th>t (s)</th><th>action</th><th>reason</th><th>tokens</th><th>TTFT (ms)</th></tr>${plansRows}</table></section>
<section><h2>Stages</h2><table><tr><th>stage</th><th>count</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>deadline ms</th><th>misses</th><th>drops</th><th>errors</th></tr>${stageRows}</table></section>
<section><h2>Per-stage latency over time and distribution</h2><div class="cap">Left: p50 and max of each second's samples, deadline dashed red. Right: histogram of the last ${'≤'}1024 samples (ms, count).</div><div id="stages"></div></section>
<section><h2>Frame drops</h2><div class="cap">Frames dropped per second by each stage that drops (perception drops a frame while one is in flight), and frames processed.</div><div id="drops" class="plot"></div></section>
<section><h2>Energy per stage (ESTIMATE)</h2><div class="cap">Device-profile power × compute time: an estimate, not a measurement.</div><div class="grid2"><div id="energy" class="plot"></div>
<table><tr><th>stage</th><th>calls</th><th>mean ms</th><th>mJ per call</th><th>J total</th></tr>${energyRows}</table></div></section>
<section><h2>Camera frames with detections</h2><div id="frames" class="frames"></div></section>
<section><h2>Notes</h2><ul>${notes}</ul></section>
</main>
<script type="application/json" id="kestrel-data">${scriptJson(compact(r))}</script>
<script>${CLIENT}</script>
</body></html>
`;
}

/** The page's script: plain ES2020, no template literals (it sits inside one here). */
const CLIENT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('kestrel-data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00', '#b82e2e', '#316395'];
  var SRC_COLORS = { mission: '#3366cc', plan: '#109618', fallback: '#dc3912', alert: '#ff9900', envelope: '#990099' };
  var CLS_COLORS = { person: '#3366cc', bag: '#ff9900', vehicle: '#109618' };
  function fmt(n) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    if (Number.isInteger(n)) return String(n);
    var a = Math.abs(n), d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    return n.toFixed(d).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  }
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, attrs) {
    var t = el('text', Object.assign({ x: x, y: y, 'font-size': 11, fill: '#1d2330' }, attrs || {}), parent);
    t.textContent = s;
    return t;
  }
  function width(id) { return Math.max(320, document.getElementById(id).clientWidth || 1000); }
  function ticks(max, step) { var out = []; for (var v = 0; v <= max + 1e-9; v += step) out.push(v); return out; }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function timeAxis(svg, left, right, top, scale, dur) {
    var step = niceStep(dur, 10);
    ticks(dur, step).forEach(function (v) {
      var x = left + v * scale;
      el('line', { x1: x, x2: x, y1: 0, y2: top, stroke: '#eceff3' }, svg);
      text(svg, x, top + 14, fmt(v), { 'text-anchor': 'middle', fill: '#5b6472' });
    });
    text(svg, right, top + 28, 'mission time (s)', { 'text-anchor': 'end', fill: '#5b6472' });
  }
  // uPlot keeps state on its axis objects: every plot gets its own.
  function xTime() { return { scale: 'x', label: 'mission time (s)', values: function (u, vs) { return vs.map(fmt); } }; }
  function yAxis(label) { return { label: label, values: function (u, vs) { return vs.map(fmt); }, size: 60 }; }
  function mk(id, opts, data, into) {
    var host = into || document.getElementById(id);
    opts.width = opts.width || width(id);
    opts.height = opts.height || 220;
    return new uPlot(opts, data, host);
  }
  function hline(value, color, label) {
    return function (u) {
      if (value === null || value === undefined) return;
      var y = u.valToPos(value, 'y', true);
      if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
      var c = u.ctx; c.save(); c.strokeStyle = color; c.setLineDash([6, 4]); c.lineWidth = 1.5 * devicePixelRatio;
      c.beginPath(); c.moveTo(u.bbox.left, y); c.lineTo(u.bbox.left + u.bbox.width, y); c.stroke();
      c.setLineDash([]); c.fillStyle = color; c.font = (11 * devicePixelRatio) + 'px system-ui'; c.textAlign = 'right';
      c.fillText(label, u.bbox.left + u.bbox.width - 4, y - 4 * devicePixelRatio); c.restore();
    };
  }

  // Alerts vs ground truth: one row per truth event, expectation and alert rule.
  (function timeline() {
    var rows = [];
    function row(key, label) { var i = rows.findIndex(function (r) { return r.key === key; }); if (i < 0) { rows.push({ key: key, label: label }); i = rows.length - 1; } return i; }
    D.truth.forEach(function (t) { row('truth:' + t.name, 'truth: ' + t.name); });
    D.expected.forEach(function (e) { row('exp:' + e.event + ':' + e.what, (e.kind === 'alert' ? 'expected alert: ' : 'expected ' + e.what + ': ') + e.event); });
    D.alerts.forEach(function (a) { row('alert:' + a.name, 'alert: ' + a.name); });
    if (rows.length === 0) row('none', 'no truth, no alerts');
    var W = width('timeline'), left = 300, right = W - 16, rowH = 24, top = rows.length * rowH + 6, H = top + 34;
    var scale = (right - left) / Math.max(D.durationS, 1e-9);
    var svg = el('svg', { width: W, height: H, role: 'img' }, document.getElementById('timeline'));
    timeAxis(svg, left, right, top, scale, D.durationS);
    rows.forEach(function (r, i) {
      text(svg, 0, i * rowH + 17, r.label.length > 46 ? r.label.slice(0, 45) + '…' : r.label);
      el('line', { x1: left, x2: right, y1: i * rowH + rowH, y2: i * rowH + rowH, stroke: '#f0f2f5' }, svg);
    });
    function bar(iv, i, color, title) {
      var r = el('rect', { x: left + iv.startS * scale, y: i * rowH + 5, width: Math.max(2, (iv.endS - iv.startS) * scale), height: rowH - 10, fill: color, rx: 2 }, svg);
      var t = el('title', {}, r); t.textContent = title;
    }
    D.truth.forEach(function (t) { bar(t, row('truth:' + t.name), '#9aa3ae', t.name + ': ' + fmt(t.startS) + '–' + fmt(t.endS) + ' s'); });
    D.alerts.forEach(function (a) { bar(a, row('alert:' + a.name), '#d93025', a.name + ': ' + fmt(a.startS) + '–' + fmt(a.endS) + ' s'); });
    D.expected.forEach(function (e) {
      var i = row('exp:' + e.event + ':' + e.what);
      // An onset-relative window has no place when its event never started (window_s null).
      var w = e.window_s ? { startS: e.window_s[0], endS: Math.min(e.window_s[1], D.durationS) } : { startS: 0, endS: 0 };
      if (e.window_s) {
        var rr = el('rect', { x: left + w.startS * scale, y: i * rowH + 4, width: Math.max(2, (w.endS - w.startS) * scale), height: rowH - 8, fill: e.ok ? '#d5f0dc' : '#fbe3e1', stroke: e.ok ? '#34a853' : '#d93025', rx: 2 }, svg);
        el('title', {}, rr).textContent = 'window ' + fmt(e.window_s[0]) + '–' + fmt(e.window_s[1]) + ' s';
      }
      text(svg, left + w.startS * scale + 4, i * rowH + 16, e.ok ? 'met' : e.window_s ? 'NOT met' : 'NOT met (the event never started)', { fill: e.ok ? '#1e7d34' : '#b3261e', 'font-size': 10 });
      if (e.first_s !== null) {
        var x = left + e.first_s * scale, y = i * rowH + rowH / 2;
        el('path', { d: 'M' + x + ' ' + (y - 6) + ' l6 6 l-6 6 l-6 -6 z', fill: '#1d2330' }, svg);
        if (e.truth_onset_s !== null) {
          var x0 = left + e.truth_onset_s * scale;
          el('line', { x1: x0, x2: x, y1: y, y2: y, stroke: '#1d2330', 'stroke-width': 1.5 }, svg);
          el('line', { x1: x0, x2: x0, y1: y - 5, y2: y + 5, stroke: '#1d2330', 'stroke-width': 1.5 }, svg);
          text(svg, x + 9, y + 4, 'TTA ' + fmt(e.first_s - e.truth_onset_s) + ' s', { 'font-weight': 600 });
        } else text(svg, x + 9, y + 4, 'first at ' + fmt(e.first_s) + ' s', { 'font-weight': 600 });
      }
    });
  })();

  // Commands by source, fallback periods shaded.
  (function commands() {
    var sources = [];
    D.commands.forEach(function (c) { if (sources.indexOf(c[1]) < 0) sources.push(c[1]); });
    var order = ['mission', 'plan', 'alert', 'envelope', 'fallback'];
    sources.sort(function (a, b) { return (order.indexOf(a) + 99 * (order.indexOf(a) < 0)) - (order.indexOf(b) + 99 * (order.indexOf(b) < 0)); });
    var xs = D.commands.map(function (c) { return c[0]; });
    var data = [xs].concat(sources.map(function (s, i) { return D.commands.map(function (c) { return c[1] === s ? i : null; }); }));
    var bands = [], open = null;
    D.commands.forEach(function (c) {
      if (c[1] === 'fallback' && open === null) open = c[0];
      if (c[1] !== 'fallback' && open !== null) { bands.push([open, c[0]]); open = null; }
    });
    if (open !== null) bands.push([open, xs[xs.length - 1]]);
    var actions = D.commands.map(function (c) { return c[2]; });
    mk('commands', {
      height: 60 + 34 * Math.max(1, sources.length),
      scales: { x: { time: false, range: [0, D.durationS] }, y: { range: [-0.6, Math.max(0, sources.length - 1) + 0.6] } },
      axes: [xTime(), { values: function (u, vs) { return vs.map(function (v) { return Number.isInteger(v) ? (sources[v] || '') : ''; }); }, splits: function () { return sources.map(function (s, i) { return i; }); }, size: 80 }],
      series: [{ label: 't (s)', value: function (u, v) { return fmt(v); } }].concat(sources.map(function (s) {
        return { label: s, stroke: SRC_COLORS[s] || '#555', width: 0, points: { show: true, size: 5, fill: SRC_COLORS[s] || '#555' }, paths: function () { return null; },
          value: function (u, v, si, i) { return v === null ? '–' : (actions[i] || ''); } };
      })),
      hooks: { drawClear: [function (u) {
        var c = u.ctx; c.save(); c.fillStyle = 'rgba(220,57,18,0.13)';
        bands.forEach(function (b) { var x0 = u.valToPos(b[0], 'x', true), x1 = u.valToPos(b[1], 'x', true); c.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height); });
        c.restore();
      }] },
    }, data);
  })();

  // e2e decision age.
  (function e2e() {
    var pts = D.commands.filter(function (c) { return c[3] !== null; });
    var ys = pts.map(function (c) { return c[3]; });
    var top = Math.max.apply(null, ys.concat([D.e2eDeadlineMs || 0, 1])) * 1.1;
    mk('e2e', {
      scales: { x: { time: false, range: [0, D.durationS] }, y: { range: [0, top] } },
      axes: [xTime(), yAxis('age (ms)')],
      series: [{ label: 't (s)', value: function (u, v) { return fmt(v); } }, { label: 'e2e age (ms)', stroke: '#3366cc', width: 1.5, value: function (u, v) { return fmt(v); } }],
      hooks: { draw: [hline(D.e2eDeadlineMs, '#d93025', 'max_age_ms ' + fmt(D.e2eDeadlineMs))] },
    }, [pts.map(function (c) { return c[0]; }), ys]);
  })();

  // Plans strip.
  (function plans() {
    var W = width('plans'), left = 20, right = W - 16, H = 70, top = 36;
    var scale = (right - left) / Math.max(D.durationS, 1e-9);
    var svg = el('svg', { width: W, height: H, role: 'img' }, document.getElementById('plans'));
    el('rect', { x: left, y: 8, width: right - left, height: top - 12, fill: '#f7f8fa', stroke: '#e6e9ee' }, svg);
    timeAxis(svg, left, right, top, scale, D.durationS);
    var acts = [];
    D.plans.forEach(function (p) {
      if (acts.indexOf(p.action) < 0) acts.push(p.action);
      var x = left + p.t * scale, col = COLORS[acts.indexOf(p.action) % COLORS.length];
      var m = el('rect', { x: x - 2, y: 10, width: 4, height: top - 16, fill: col }, svg);
      el('title', {}, m).textContent = fmt(p.t) + ' s: ' + p.action + ' (' + p.reason + ')';
    });
    if (D.plans.length === 0) text(svg, left + 8, 26, 'no plans in this run', { fill: '#b3261e', 'font-weight': 600 });
    acts.forEach(function (a, i) { text(svg, left + 8 + i * 110, 24, '■ ' + a, { fill: COLORS[i % COLORS.length], 'font-weight': 600 }); });
  })();

  // Per-stage latency over time and histogram, side by side.
  (function stages() {
    var host = document.getElementById('stages');
    D.stages.filter(function (s) { return s.count > 0; }).forEach(function (s, k) {
      var wrap = document.createElement('div'); wrap.className = 'stage'; host.appendChild(wrap);
      var h = document.createElement('h3'); h.textContent = s.name + ' '; var sm = document.createElement('small');
      sm.textContent = s.count + ' calls' + (s.deadline ? ', deadline ' + fmt(s.deadline.ms) + ' ms (' + s.deadline.param + ')' : ''); h.appendChild(sm); wrap.appendChild(h);
      var grid = document.createElement('div'); grid.className = 'grid2'; wrap.appendChild(grid);
      var a = document.createElement('div'); a.className = 'plot'; grid.appendChild(a);
      var b = document.createElement('div'); b.className = 'plot'; grid.appendChild(b);
      var W = Math.max(320, (host.clientWidth || 1200) / 2 - 12);
      var pts = s.series.filter(function (p) { return p[1] > 0; });
      var mx = Math.max.apply(null, pts.map(function (p) { return p[3]; }).concat([s.deadline ? s.deadline.ms : 0, 1e-3])) * 1.1;
      var col = COLORS[k % COLORS.length];
      new uPlot({
        width: W, height: 180,
        scales: { x: { time: false, range: [0, D.durationS] }, y: { range: [0, mx] } },
        axes: [xTime(), yAxis('ms')],
        series: [{ label: 't (s)', value: function (u, v) { return fmt(v); } },
          { label: 'p50', stroke: col, width: 1.5, value: function (u, v) { return fmt(v); } },
          { label: 'max', stroke: col, width: 1, dash: [3, 3], value: function (u, v) { return fmt(v); } }],
        hooks: { draw: [hline(s.deadline ? s.deadline.ms : null, '#d93025', s.deadline ? s.deadline.param + ' ' + fmt(s.deadline.ms) : '')] },
      }, [pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[2]; }), pts.map(function (p) { return p[3]; })], a);
      // Histogram.
      var xs = s.samples, bins = 30, lo = Math.min.apply(null, xs), hi = Math.max.apply(null, xs);
      if (!(hi > lo)) { hi = lo + Math.max(1e-3, Math.abs(lo) * 0.1); }
      var bw = (hi - lo) / bins, counts = new Array(bins).fill(0);
      xs.forEach(function (v) { counts[Math.min(bins - 1, Math.floor((v - lo) / bw))]++; });
      var centers = counts.map(function (c, i) { return lo + (i + 0.5) * bw; });
      new uPlot({
        width: W, height: 180,
        scales: { x: { time: false, range: [lo, hi] }, y: { range: [0, Math.max.apply(null, counts) * 1.15] } },
        axes: [{ label: 'latency (ms)', values: function (u, vs) { return vs.map(fmt); } }, yAxis('count')],
        series: [{ label: 'ms', value: function (u, v) { return fmt(v); } }, { label: 'count', fill: col + '99', stroke: col, width: 1, paths: uPlot.paths.bars({ size: [0.95, 100] }), points: { show: false } }],
      }, [centers, counts], b);
    });
  })();

  // Frame drops per second.
  (function drops() {
    var withDrops = D.stages.filter(function (s) { return s.series.some(function (p) { return p[5] > 0; }); });
    var perception = D.stages.filter(function (s) { return /\/perception\/(inference|detect)$/.test(s.name) || /oracle/.test(s.name); })[0];
    var base = (withDrops[0] || perception || D.stages[0] || { series: [] }).series;
    var xs = base.map(function (p) { return p[0]; });
    var series = [{ label: 't (s)', value: function (u, v) { return fmt(v); } }], data = [xs];
    withDrops.forEach(function (s, i) {
      series.push({ label: s.name + ' drops/s', stroke: COLORS[(i + 1) % COLORS.length], fill: COLORS[(i + 1) % COLORS.length] + '55', width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) });
      var m = new Map(s.series.map(function (p) { return [p[0], p[5]]; }));
      data.push(xs.map(function (x) { return m.has(x) ? m.get(x) : 0; }));
    });
    if (perception) {
      series.push({ label: perception.name + ' frames/s', stroke: '#5b6472', width: 1, dash: [4, 3], paths: uPlot.paths.stepped({ align: 1 }) });
      var pm = new Map(perception.series.map(function (p) { return [p[0], p[1]]; }));
      data.push(xs.map(function (x) { return pm.has(x) ? pm.get(x) : 0; }));
    }
    if (series.length === 1) { series.push({ label: 'drops/s', stroke: '#5b6472' }); data.push(xs.map(function () { return 0; })); }
    mk('drops', { scales: { x: { time: false, range: [0, D.durationS] } }, axes: [xTime(), yAxis('per second')], series: series }, data);
    if (withDrops.length === 0) { var p = document.createElement('div'); p.className = 'cap'; p.textContent = 'No stage dropped a frame in this run.'; document.getElementById('drops').appendChild(p); }
  })();

  // Energy per stage: mJ per call (bars).
  (function energy() {
    var E = D.energy;
    if (E.length === 0) { document.getElementById('energy').textContent = 'No compute stage ran.'; return; }
    var xs = E.map(function (e, i) { return i; });
    mk('energy', {
      width: Math.max(320, width('energy')), height: 200,
      scales: { x: { time: false, range: [-0.6, E.length - 0.4] }, y: { range: [0, Math.max.apply(null, E.map(function (e) { return e.mj; })) * 1.2 || 1] } },
      axes: [{ values: function (u, vs) { return vs.map(function (v) { return Number.isInteger(v) && E[v] ? E[v].stage : ''; }); }, splits: function () { return xs; } }, yAxis('mJ per call')],
      series: [{ label: 'stage', value: function (u, v) { return E[v] ? E[v].stage : ''; } }, { label: 'mJ per call (estimate)', fill: '#ff990099', stroke: '#ff9900', paths: uPlot.paths.bars({ size: [0.5, 120] }), points: { show: false }, value: function (u, v) { return fmt(v); } }],
    }, [xs, E.map(function (e) { return e.mj; })]);
  })();

  // Top-down map.
  (function map() {
    var M = D.map, pts = [];
    M.regions.forEach(function (r) { r.polygon.forEach(function (p) { pts.push(p); }); });
    M.vehicle.forEach(function (v) { pts.push([v[1], v[2]]); });
    M.tracks.forEach(function (k) { pts.push([k[3], k[4]]); });
    if (pts.length === 0) pts.push([-10, -10], [10, 10]);
    var x0 = Math.min.apply(null, pts.map(function (p) { return p[0]; })) - 2, x1 = Math.max.apply(null, pts.map(function (p) { return p[0]; })) + 2;
    var y0 = Math.min.apply(null, pts.map(function (p) { return p[1]; })) - 2, y1 = Math.max.apply(null, pts.map(function (p) { return p[1]; })) + 2;
    var W = Math.min(width('map'), 620), pad = 36, s = Math.min((W - 2 * pad) / (x1 - x0), 420 / (y1 - y0)), H = (y1 - y0) * s + 2 * pad;
    function X(x) { return pad + (x - x0) * s; } function Y(y) { return pad + (y1 - y) * s; }
    var svg = el('svg', { width: W, height: H, role: 'img', style: 'background:#fbfbfc;border:1px solid #e6e9ee' }, document.getElementById('map'));
    var step = niceStep(Math.max(x1 - x0, y1 - y0), 8);
    for (var gx = Math.ceil(x0 / step) * step; gx <= x1; gx += step) { el('line', { x1: X(gx), x2: X(gx), y1: Y(y0), y2: Y(y1), stroke: '#eceff3' }, svg); text(svg, X(gx), H - 8, fmt(gx), { 'text-anchor': 'middle', fill: '#8a929e', 'font-size': 10 }); }
    for (var gy = Math.ceil(y0 / step) * step; gy <= y1; gy += step) { el('line', { x1: X(x0), x2: X(x1), y1: Y(gy), y2: Y(gy), stroke: '#eceff3' }, svg); text(svg, 4, Y(gy) + 3, fmt(gy), { fill: '#8a929e', 'font-size': 10 }); }
    text(svg, W - 6, H - 20, 'x east (m)', { 'text-anchor': 'end', fill: '#8a929e', 'font-size': 10 });
    text(svg, 4, 14, 'y north (m)', { fill: '#8a929e', 'font-size': 10 });
    M.regions.forEach(function (r, i) {
      var fence = r.name === M.geofence;
      var poly = el('polygon', { points: r.polygon.map(function (p) { return X(p[0]) + ',' + Y(p[1]); }).join(' '), fill: fence ? 'none' : COLORS[i % COLORS.length] + '1f', stroke: fence ? '#d93025' : COLORS[i % COLORS.length], 'stroke-width': fence ? 2 : 1, 'stroke-dasharray': fence ? '8 5' : '' }, svg);
      el('title', {}, poly).textContent = fence ? r.name + ' (geofence)' : r.name;
      var cx = r.polygon.reduce(function (a, p) { return a + p[0]; }, 0) / r.polygon.length, top = Math.max.apply(null, r.polygon.map(function (p) { return p[1]; }));
      text(svg, X(cx), Y(top) + 12, r.name + (fence ? ' (geofence)' : ''), { 'text-anchor': 'middle', fill: fence ? '#d93025' : COLORS[i % COLORS.length], 'font-size': 10 });
    });
    var byId = new Map();
    M.tracks.forEach(function (k) { if (!byId.has(k[1])) byId.set(k[1], { cls: k[2], pts: [] }); byId.get(k[1]).pts.push([k[3], k[4]]); });
    byId.forEach(function (tr, id) {
      var c = CLS_COLORS[tr.cls] || '#777';
      var pl = el('polyline', { points: tr.pts.map(function (p) { return X(p[0]) + ',' + Y(p[1]); }).join(' '), fill: 'none', stroke: c, 'stroke-width': 1.2, 'stroke-opacity': 0.7 }, svg);
      el('title', {}, pl).textContent = 'track ' + id + ' (' + tr.cls + ')';
      var l = tr.pts[tr.pts.length - 1]; el('circle', { cx: X(l[0]), cy: Y(l[1]), r: 2.5, fill: c }, svg);
    });
    if (M.vehicle.length) {
      el('polyline', { points: M.vehicle.map(function (v) { return X(v[1]) + ',' + Y(v[2]); }).join(' '), fill: 'none', stroke: '#1d2330', 'stroke-width': 2 }, svg);
      var a = M.vehicle[0], b = M.vehicle[M.vehicle.length - 1];
      el('circle', { cx: X(a[1]), cy: Y(a[2]), r: 5, fill: '#1d2330' }, svg);
      el('path', { d: 'M' + X(b[1]) + ' ' + (Y(b[2]) - 7) + ' l6 11 l-12 0 z', fill: '#1d2330' }, svg);
    }
    var lg = document.createElement('div'); lg.className = 'legend-inline cap';
    var items = [['vehicle', '#1d2330']].concat(Object.keys(CLS_COLORS).map(function (k) { return ['track: ' + k, CLS_COLORS[k]]; }));
    if (M.geofence) items.push(['geofence', '#d93025']);
    items.forEach(function (it) { var sp = document.createElement('span'); var i = document.createElement('i'); i.style.background = it[1]; sp.appendChild(i); sp.appendChild(document.createTextNode(it[0])); lg.appendChild(sp); });
    lg.appendChild(document.createTextNode(byId.size + ' tracks, ' + M.vehicle.length + ' vehicle samples'));
    document.getElementById('map').appendChild(lg);
  })();

  // Camera frames with their detections.
  (function frames() {
    var host = document.getElementById('frames');
    if (D.frames.length === 0) { host.textContent = 'No frames kept (oracle perception publishes no images, or nothing was detected).'; return; }
    D.frames.forEach(function (f) {
      var fig = document.createElement('figure'); host.appendChild(fig);
      var k = 300 / f.width, W = f.width * k, H = f.height * k;
      var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + f.width + ' ' + f.height, role: 'img' }, fig);
      el('image', { href: f.jpeg, x: 0, y: 0, width: f.width, height: f.height }, svg);
      f.boxes.forEach(function (b) {
        var c = CLS_COLORS[b.cls] || '#ff00ff';
        el('rect', { x: b.x, y: b.y, width: b.w, height: b.h, fill: 'none', stroke: c, 'stroke-width': 1.5 }, svg);
        var t = text(svg, b.x, Math.max(8, b.y - 2), b.cls + ' ' + fmt(b.score), { fill: c, 'font-size': 8, 'font-weight': 700, stroke: '#000', 'stroke-width': 0.25 });
        t.setAttribute('paint-order', 'stroke');
      });
      var cap = document.createElement('figcaption'); cap.textContent = fmt(f.t) + ' s: ' + f.boxes.length + ' detection(s)'; fig.appendChild(cap);
    });
  })();
  document.body.setAttribute('data-rendered', '1');
})();
`;
