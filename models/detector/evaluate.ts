/**
 * Accuracy of an ONNX detector on fresh simulator frames (mAP@0.5, precision/recall at the
 * operating threshold), for the README:
 *   npx tsx models/detector/evaluate.ts [--model models/detector/kestrel-det.onnx] [--frames 300] [--min-size 0] [--scenario [--scenarios passport-queue]]
 */
import { parseArgs } from 'node:util';
import { Detector } from '../../nodes/perception/detector.js';
import { evaluateOnSim } from './sim-eval.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/detector/kestrel-det.onnx' },
    frames: { type: 'string', default: '300' },
    'min-size': { type: 'string', default: '0' },
    score: { type: 'string', default: '0.25' },
    // Frames from the reference scenarios instead of random scenes (optionally only these, comma-separated).
    scenario: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: '' },
  },
});
const det = await Detector.create({ modelPath: values.model, scoreThreshold: 0.05, intraOpNumThreads: 1 });
const r = await evaluateOnSim(det, {
  frames: Number(values.frames),
  minSize: Number(values['min-size']),
  operatingScore: Number(values.score),
  source: values.scenario ? 'scenario' : 'random',
  ...(values.scenarios ? { scenarios: values.scenarios.split(',') } : {}),
});
console.log(`${values.scenario ? `scenario frames (${values.scenarios || 'all scenarios'})` : 'random scenes'}: ${values.model}`);
console.log(`frames ${r.frames}, ground truth smaller than ${r.minSize}px ignored`);
console.log(`mAP@0.5 ${r.map.toFixed(3)}`);
for (const c of r.classes) console.log(`${c.classId.padEnd(8)} gt ${String(c.groundTruth).padStart(5)}  AP50 ${c.ap.toFixed(3)}  P ${c.precision.toFixed(3)}  R ${c.recall.toFixed(3)} @ score ≥ ${values.score}`);
await det.release();
