/**
 * People counted per frame on one scenario (default passport-queue) at the operating score,
 * against the renderer's visible labels: what a "more than N people queueing" rule sees.
 *   npx tsx models/detector/count-check.ts [--model ...] [--scenario passport-queue] [--frames 20]
 */
import { parseArgs } from 'node:util';
import { Detector } from '../../nodes/perception/detector.js';
import { sampleScenarioFrame } from '../../sim/dataset.js';
import { EVAL_FIRST_SEED } from './sim-eval.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/detector/kestrel-det.onnx' },
    scenario: { type: 'string', default: 'passport-queue' },
    frames: { type: 'string', default: '20' },
    score: { type: 'string', default: '0.25' },
    class: { type: 'string', default: 'person' },
  },
});
const det = await Detector.create({ modelPath: values.model, scoreThreshold: Number(values.score), intraOpNumThreads: 1 });
const rows: [number, number][] = [];
for (let i = 0; i < Number(values.frames); i++) {
  const f = sampleScenarioFrame(EVAL_FIRST_SEED + i, { width: 320, height: 240 }, { scenarios: [values.scenario] });
  const truth = f.labels.filter((l) => l.visible && l.class_id === values.class).length;
  const dets = await det.detect({ width: f.width, height: f.height, step: f.width * 3, channels: 3, order: 'rgb', data: f.data });
  rows.push([truth, dets.filter((d) => d.className === values.class).length]);
}
await det.release();
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
console.log(`${values.model} on ${values.scenario}, ${rows.length} frames, ${values.class} at score ≥ ${values.score}`);
console.log(`true per frame: mean ${mean(rows.map((r) => r[0])).toFixed(1)}; detected: mean ${mean(rows.map((r) => r[1])).toFixed(1)}; |error| mean ${mean(rows.map((r) => Math.abs(r[1] - r[0]))).toFixed(1)}`);
console.log(`frames with > 10 true: ${rows.filter((r) => r[0] > 10).length}; of those with > 10 detected: ${rows.filter((r) => r[0] > 10 && r[1] > 10).length}`);
console.log(rows.map((r) => `${r[0]}/${r[1]}`).join(' '));
