/**
 * Renders scenario frames (or random training frames) to a PNG contact sheet, with the
 * ground-truth boxes drawn, to look at what the camera and the detector see.
 *
 *   npx tsx app/sim-tools/preview.ts passport-queue --at 10,40,80 [--control] [--no-boxes] --out /tmp/pq.png
 *   npx tsx app/sim-tools/preview.ts --training 1,2,3,4 --out /tmp/train.png
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { sampleTrainingFrame } from '../../sim/dataset.js';
import type { kestrel_msgs } from '../../msgs/index.js';
import { createSimulator } from '../../sim/simulator.js';

interface Tile {
  width: number;
  height: number;
  data: Uint8Array;
  labels: kestrel_msgs.Label[];
}

const COLORS: Record<string, [number, number, number]> = { person: [255, 0, 255], bag: [0, 255, 255], vehicle: [255, 255, 0] };

function drawBoxes(t: Tile): Uint8Array {
  const d = new Uint8Array(t.data);
  const put = (x: number, y: number, c: readonly number[]): void => {
    if (x >= 0 && x < t.width && y >= 0 && y < t.height) d.set(c, (y * t.width + x) * 3);
  };
  for (const l of t.labels) {
    const c = l.visible ? COLORS[l.class_id] : [128, 128, 128];
    const x0 = Math.floor(l.bbox.center.position.x - l.bbox.size_x / 2);
    const x1 = Math.ceil(l.bbox.center.position.x + l.bbox.size_x / 2) - 1;
    const y0 = Math.floor(l.bbox.center.position.y - l.bbox.size_y / 2);
    const y1 = Math.ceil(l.bbox.center.position.y + l.bbox.size_y / 2) - 1;
    for (let x = x0; x <= x1; x++) { put(x, y0, c); put(x, y1, c); }
    for (let y = y0; y <= y1; y++) { put(x0, y, c); put(x1, y, c); }
  }
  return d;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      at: { type: 'string', default: '5,30,60' },
      training: { type: 'string' },
      control: { type: 'boolean', default: false },
      'no-boxes': { type: 'boolean', default: false },
      cols: { type: 'string', default: '3' },
      out: { type: 'string', default: '/tmp/kestrel-preview.png' },
    },
  });
  const tiles: Tile[] = [];
  if (values.training) {
    for (const s of values.training.split(',')) tiles.push(sampleTrainingFrame(Number(s), { width: 320, height: 240 }));
  } else {
    const name = positionals[0];
    if (!name) throw new Error('usage: preview.ts <scenario> --at t1,t2,... | --training seed1,seed2,...');
    const sim = createSimulator(name, { control: values.control, render: false });
    for (const t of values.at.split(',').map(Number).sort((a, b) => a - b)) {
      while (sim.t < t - 1e-9 && !sim.done) sim.tick();
      const f = sim.renderNow();
      if (!f) continue;
      tiles.push({ width: f.image.width, height: f.image.height, data: f.image.data, labels: f.labels.labels });
      console.log(`t=${sim.t.toFixed(1)}s: ${f.labels.labels.length} labels; events ${sim.events().map((e) => `${e.name}=${e.active}`).join(' ')}`);
    }
  }
  if (tiles.length === 0) throw new Error('nothing rendered');
  const cols = Math.min(Number(values.cols), tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const W = tiles[0].width;
  const H = tiles[0].height;
  const sheet = new Uint8Array(W * cols * H * rows * 3);
  tiles.forEach((t, i) => {
    const d = values['no-boxes'] ? t.data : drawBoxes(t);
    const ox = (i % cols) * W;
    const oy = Math.floor(i / cols) * H;
    for (let y = 0; y < H; y++) sheet.set(d.subarray(y * W * 3, (y + 1) * W * 3), ((oy + y) * W * cols + ox) * 3);
  });
  await sharp(Buffer.from(sheet), { raw: { width: W * cols, height: H * rows, channels: 3 } }).png().toFile(values.out);
  console.log(`wrote ${values.out}`);
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
