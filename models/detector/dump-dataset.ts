/**
 * Renders labelled training frames with the simulator and writes them for train.py:
 *   <out>/images-<part>.u8    frames back to back, rgb8, height × width × 3 each
 *   <out>/labels-<part>.json  { width, height, seeds, boxes: [[class_index, x0, y0, x1, y1], ...][] }
 * Frames are deterministic in their seed, so a dataset is named by its seed range.
 * Only visible labels become targets (a box mostly outside the image is not a target).
 *
 *   npx tsx models/detector/dump-dataset.ts --out /tmp/kdet --first 1 --count 1500 --part 0
 *   npx tsx models/detector/dump-dataset.ts --out /tmp/kdet --first 2801 --count 1200 --part 2 --altitude 16,26 --hfov 56,66
 *   npx tsx models/detector/dump-dataset.ts --out /tmp/kdet --first 1 --count 300 --part s0 --scenario
 */
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labelsToBoxes, sampleScenarioFrame, sampleTrainingFrame } from '../../sim/dataset.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/kestrel-det-data' },
    first: { type: 'string', default: '1' },
    count: { type: 'string', default: '1000' },
    part: { type: 'string', default: '0' },
    width: { type: 'string', default: '320' },
    height: { type: 'string', default: '240' },
    // Random scenes at these ranges (e.g. the missions' 18-22 m, hfov 60 deg) instead of the defaults.
    altitude: { type: 'string', default: '' },
    hfov: { type: 'string', default: '' },
    // Frames from the reference scenarios (sampleScenarioFrame) instead of random scenes.
    scenario: { type: 'boolean', default: false },
  },
});

const width = Number(values.width);
const height = Number(values.height);
const first = Number(values.first);
const count = Number(values.count);
const range = (v: string | undefined, what: string): [number, number] | undefined => {
  if (!v) return undefined;
  const r = v.split(',').map(Number);
  if (r.length !== 2 || !r.every(Number.isFinite)) throw new Error(`dump-dataset: --${what} '${v}': expected 'min,max'`);
  return [r[0], r[1]];
};
const altitude = range(values.altitude, 'altitude');
const hfov_deg = range(values.hfov, 'hfov');
mkdirSync(values.out, { recursive: true });
const fd = openSync(join(values.out, `images-${values.part}.u8`), 'w');
const seeds: number[] = [];
const boxes: number[][][] = [];
// Labels that are no target (mostly outside the image): scored as "ignore" by train.py's validation.
const ignored: number[][][] = [];
for (let i = 0; i < count; i++) {
  const seed = first + i;
  const f = values.scenario
    ? sampleScenarioFrame(seed, { width, height })
    : sampleTrainingFrame(seed, { width, height }, { ...(altitude ? { altitude } : {}), ...(hfov_deg ? { hfov_deg } : {}) });
  writeSync(fd, f.data);
  seeds.push(seed);
  const all = labelsToBoxes(f.labels);
  boxes.push(all.filter((b) => b.visible).map((b) => [b.class_index, b.x0, b.y0, b.x1, b.y1]));
  ignored.push(all.filter((b) => !b.visible).map((b) => [b.class_index, b.x0, b.y0, b.x1, b.y1]));
  if ((i + 1) % 250 === 0) console.log(`part ${values.part}: ${i + 1}/${count}`);
}
closeSync(fd);
writeFileSync(join(values.out, `labels-${values.part}.json`), JSON.stringify({ width, height, seeds, boxes, ignored }));
console.log(`part ${values.part}: wrote ${count} frames (seeds ${first}..${first + count - 1})`);
