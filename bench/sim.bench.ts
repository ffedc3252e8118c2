/**
 * Simulator camera: time to render one 320×240 frame of a busy scenario (passport-queue at
 * t = 40 s, ~20 people and bags, clutter, region paint) and one random training frame,
 * against a reference measured in the same run: one plain JS pass over the same frame that
 * writes rgb8 from a float buffer with a gain (the least any renderer of this kind does).
 * The ratio says how many such passes a frame costs; the absolute times are in details.
 */
import { sampleTrainingFrame } from '../sim/dataset.js';
import { createSimulator } from '../sim/simulator.js';
import { defineBench, stats, timeMs } from './harness.js';

const W = 320;
const H = 240;

function onePass(src: Float32Array, dst: Uint8ClampedArray, gain: number): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i] * gain;
}

export default defineBench({
  name: 'sim',
  description: 'Simulator camera render time (320x240) as a multiple of one plain per-pixel pass',
  async run() {
    const sim = createSimulator('passport-queue', { render: false, camera: { width: W, height: H } });
    while (sim.t < 40) sim.tick();
    const objects = sim.world.objects().length;
    const src = new Float32Array(W * H * 3).map((_, i) => i % 251);
    const dst = new Uint8ClampedArray(W * H * 3);
    // Warm up the JIT on all three.
    for (let i = 0; i < 20; i++) {
      sim.renderNow();
      sampleTrainingFrame(i, { width: W, height: H });
      onePass(src, dst, 1.01);
    }
    const scene: number[] = [];
    const train: number[] = [];
    const ref: number[] = [];
    for (let i = 0; i < 60; i++) {
      ref.push(await timeMs(() => onePass(src, dst, 1 + i * 1e-3)));
      scene.push(await timeMs(() => sim.renderNow()));
      train.push(await timeMs(() => sampleTrainingFrame(1000 + i, { width: W, height: H })));
    }
    const r = stats(ref);
    const s = stats(scene);
    const t = stats(train);
    const sceneRatio = s.p50 / r.p50;
    const trainRatio = t.p50 / r.p50;
    return {
      figures: { scenario_frame_vs_pass: sceneRatio, training_frame_vs_pass: trainRatio },
      // A frame should cost at most a few dozen plain passes (ground texture, ~20 objects, noise).
      goals: [{ name: 'scenario frame / one pass (p50)', value: sceneRatio, op: '<=', target: 40 }],
      details: { size: `${W}x${H}`, objects, scenario_ms: s, training_ms: t, pass_ms: r },
      summary: `320x240 frame: scenario ${s.p50.toFixed(2)} ms (${sceneRatio.toFixed(1)} passes), training ${t.p50.toFixed(2)} ms (${trainRatio.toFixed(1)} passes); one pass ${r.p50.toFixed(3)} ms`,
    };
  },
});
