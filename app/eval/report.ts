/**
 * Self-contained HTML report (no scripts, no external assets): summary tables, latency
 * histograms and a timeline of alerts against ground truth, drawn as inline SVG.
 */
export interface Interval {
  name: string;
  startS: number;
  endS: number;
}

export interface ReportInput {
  title: string;
  summary: Record<string, string | number>;
  stages: { name: string; count: number; p50: number; p99: number; max: number; misses: number; drops: number; errors: number; samples: number[] }[];
  truth: Interval[];
  alerts: Interval[];
  durationS: number;
  notes: string[];
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 3 : 1));

export function histogramSvg(samples: readonly number[], width = 360, height = 120, bins = 24): string {
  if (samples.length === 0) return '<svg width="360" height="20"><text x="0" y="14" font-size="12">no samples</text></svg>';
  const max = Math.max(...samples);
  const min = Math.min(...samples);
  const span = max - min || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const s of samples) counts[Math.min(bins - 1, Math.floor(((s - min) / span) * bins))]++;
  const top = Math.max(...counts);
  const bw = width / bins;
  const bars = counts
    .map((c, i) => {
      const h = (c / top) * (height - 20);
      return `<rect x="${(i * bw).toFixed(1)}" y="${(height - 16 - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"/>`;
    })
    .join('');
  return `<svg width="${width}" height="${height}" role="img">${bars}<text x="0" y="${height - 2}" font-size="10">${fmt(min)} ms</text><text x="${width}" y="${height - 2}" font-size="10" text-anchor="end">${fmt(max)} ms</text></svg>`;
}

export function timelineSvg(truth: readonly Interval[], alerts: readonly Interval[], durationS: number, width = 760): string {
  const names = [...new Set([...truth.map((t) => `truth: ${t.name}`), ...alerts.map((a) => `alert: ${a.name}`)])];
  const rowH = 22;
  const left = 220;
  const scale = (width - left - 10) / Math.max(durationS, 1e-9);
  const height = names.length * rowH + 24;
  const rect = (iv: Interval, row: number, color: string): string =>
    `<rect x="${(left + iv.startS * scale).toFixed(1)}" y="${row * rowH + 4}" width="${Math.max(2, (iv.endS - iv.startS) * scale).toFixed(1)}" height="${rowH - 8}" fill="${color}"><title>${esc(iv.name)} ${fmt(iv.startS)}–${fmt(iv.endS)} s</title></rect>`;
  const rows = names.map((n, i) => `<text x="0" y="${i * rowH + 16}" font-size="11">${esc(n)}</text>`).join('');
  const bars = [
    ...truth.map((t) => rect(t, names.indexOf(`truth: ${t.name}`), '#999')),
    ...alerts.map((a) => rect(a, names.indexOf(`alert: ${a.name}`), '#d04a4a')),
  ].join('');
  const axis = `<text x="${left}" y="${height - 4}" font-size="10">0 s</text><text x="${width - 10}" y="${height - 4}" font-size="10" text-anchor="end">${fmt(durationS)} s</text>`;
  return `<svg width="${width}" height="${height}" role="img">${rows}${bars}${axis}</svg>`;
}

export function renderReport(r: ReportInput): string {
  const summary = Object.entries(r.summary)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'number' ? fmt(v) : v)}</td></tr>`)
    .join('');
  const stageRows = r.stages
    .map((s) => `<tr><td>${esc(s.name)}</td><td>${s.count}</td><td>${fmt(s.p50)}</td><td>${fmt(s.p99)}</td><td>${fmt(s.max)}</td><td>${s.misses}</td><td>${s.drops}</td><td>${s.errors}</td></tr>`)
    .join('');
  const hists = r.stages
    .filter((s) => s.samples.length > 0)
    .map((s) => `<figure><figcaption>${esc(s.name)}</figcaption>${histogramSvg(s.samples)}</figure>`)
    .join('');
  const notes = r.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1000px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{display:inline-block;margin:8px}figcaption{font-size:12px}</style>
</head><body>
<h1>${esc(r.title)}</h1>
<h2>Summary</h2><table>${summary}</table>
<h2>Alerts vs ground truth</h2>${timelineSvg(r.truth, r.alerts, r.durationS)}
<h2>Stages</h2><table><tr><th>stage</th><th>count</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>deadline misses</th><th>drops</th><th>errors</th></tr>${stageRows}</table>
<h2>Latency histograms</h2>${hists}
<h2>Notes</h2><ul>${notes}</ul>
</body></html>
`;
}
