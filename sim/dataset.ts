/**
 * Random scenes for training and testing the detector (classes person, bag, vehicle, in
 * SIM_CLASSES order). The same renderer as the scenarios, with everything varied that a
 * scenario can vary: altitude, field of view, heading, ground, paint, clutter (hard
 * negatives: bins, bollards, cones, crates...), queues and groups of people, bags near and
 * away from people, parked rows of cars, light, shadows and sensor noise.
 */
import type { kestrel_msgs } from '../msgs/index.js';
import { intrinsicsFromFov, pixelToGround, type CameraIntrinsics, type CameraPose, type Vec2 } from '../lib/geo/geometry.js';
import {
  CLUTTER_KINDS,
  GROUND_MATERIALS,
  renderFrame,
  SIM_CLASSES,
  type Background,
  type Clutter,
  type GroundPaint,
  type PaintLine,
  type RenderedFrame,
  type RenderOptions,
  type RGB,
  type SimClass,
  type SimObject,
} from './render.js';
import { Rng } from './rng.js';
import { listScenarios, loadScenario, type Scenario } from './scenario.js';
import { Simulator } from './simulator.js';

export interface TrainingFrame extends RenderedFrame {
  k: CameraIntrinsics;
  pose: CameraPose;
  objects: SimObject[];
}

export interface SampleOptions {
  /** Camera altitude range, metres; default [15, 40]. */
  altitude?: readonly [number, number];
  /** Horizontal field of view range, degrees; default [50, 80]. */
  hfov_deg?: readonly [number, number];
  /** Most labelled objects in a frame; default 25. */
  max_objects?: number;
}

const PAINT_COLORS: readonly RGB[] = [[225, 190, 40], [240, 240, 235], [60, 90, 160], [170, 50, 45], [70, 120, 70], [120, 120, 125], [200, 120, 40]];
const PAVED: readonly string[] = ['concrete', 'tiles', 'terrazzo'];
const LINE_COLORS: readonly RGB[] = [[240, 240, 235], [230, 195, 40], [200, 60, 50]];

/**
 * One random labelled frame. Deterministic in `seed`. Positions are drawn over the camera's
 * ground footprint plus a margin, so some objects are cut by the image border (those mostly
 * outside are labelled `visible: false`).
 */
export function sampleTrainingFrame(seed: number, size: { width: number; height: number }, opts: SampleOptions = {}): TrainingFrame {
  const rng = new Rng(seed);
  const [a0, a1] = opts.altitude ?? [15, 40];
  const [f0, f1] = opts.hfov_deg ?? [50, 80];
  const k = intrinsicsFromFov(size.width, size.height, (rng.uniform(f0, f1) * Math.PI) / 180);
  const pose: CameraPose = { x: rng.uniform(-200, 200), y: rng.uniform(-200, 200), altitude: rng.uniform(a0, a1), yaw: rng.uniform(-Math.PI, Math.PI) };
  const onImage = (mx = 0.1): Vec2 => pixelToGround(rng.uniform(-mx, 1 + mx) * k.width, rng.uniform(-mx, 1 + mx) * k.height, k, pose);
  // A dominant scene direction: roads, rows, queues and tiles line up with it, as in real sites.
  const axis = rng.uniform(-Math.PI, Math.PI);
  const axisYaw = (): number => axis + (rng.chance(0.5) ? 0 : Math.PI / 2) + (rng.chance(0.5) ? 0 : Math.PI) + rng.normal(0, 0.05);

  const background = randomBackground(rng, onImage, axis);
  const objects: SimObject[] = [];
  let nextId = 1 + rng.int(0, 1000);
  const add = (class_id: SimClass, p: Vec2, yaw: number): boolean => {
    const minGap = class_id === 'vehicle' ? 4.2 : class_id === 'person' ? 0.5 : 0.45;
    for (const o of objects) {
      const gap = o.class_id === 'vehicle' || class_id === 'vehicle' ? Math.max(minGap, 3) : minGap;
      if (Math.hypot(o.x - p.x, o.y - p.y) < gap) return false;
    }
    objects.push({ id: nextId++, class_id, x: p.x, y: p.y, yaw, style: rng.int(0, 0x7fffffff) });
    return true;
  };

  const max = opts.max_objects ?? 25;
  const target = rng.chance(0.05) ? 0 : rng.int(1, max);
  let guard = 0;
  while (objects.length < target && guard++ < 200) {
    const r = rng.next();
    if (r < 0.15) {
      // A queue: people in a line, a little irregular.
      const start = onImage(0);
      const dir = axisYaw();
      const n = rng.int(3, 12);
      const gap = rng.uniform(0.65, 1.1);
      for (let i = 0; i < n && objects.length < target; i++) {
        const p = { x: start.x + Math.cos(dir) * gap * i + rng.normal(0, 0.08), y: start.y + Math.sin(dir) * gap * i + rng.normal(0, 0.08) };
        add('person', p, dir + Math.PI + rng.normal(0, 0.3));
      }
    } else if (r < 0.3) {
      // A group chatting, maybe with bags at their feet.
      const c = onImage(0);
      const n = rng.int(2, 5);
      for (let i = 0; i < n && objects.length < target; i++) {
        const a = (i / n) * 2 * Math.PI + rng.normal(0, 0.3);
        const rad = rng.uniform(0.45, 0.9);
        add('person', { x: c.x + Math.cos(a) * rad, y: c.y + Math.sin(a) * rad }, a + Math.PI + rng.normal(0, 0.3));
        if (rng.chance(0.3)) add('bag', { x: c.x + Math.cos(a) * (rad + 0.5), y: c.y + Math.sin(a) * (rad + 0.5) }, rng.uniform(-Math.PI, Math.PI));
      }
    } else if (r < 0.4) {
      // A parked row of cars.
      const start = onImage(0);
      const dir = axisYaw();
      const n = rng.int(2, 5);
      const carYaw = dir + Math.PI / 2 + (rng.chance(0.5) ? 0 : Math.PI);
      for (let i = 0; i < n && objects.length < target; i++) {
        if (rng.chance(0.2)) continue;
        add('vehicle', { x: start.x + Math.cos(dir) * 2.7 * i, y: start.y + Math.sin(dir) * 2.7 * i }, carYaw + rng.normal(0, 0.04));
      }
    } else {
      const cls = pickClass(rng);
      const p = onImage();
      if (cls === 'bag' && objects.length > 0 && rng.chance(0.5)) {
        // A bag beside someone (carried or just set down).
        const owner = rng.pick(objects);
        if (owner.class_id === 'person') {
          const a = rng.uniform(-Math.PI, Math.PI);
          const d = rng.uniform(0.45, 1.2);
          add('bag', { x: owner.x + Math.cos(a) * d, y: owner.y + Math.sin(a) * d }, rng.uniform(-Math.PI, Math.PI));
          continue;
        }
      }
      add(cls, p, cls === 'vehicle' ? axisYaw() : rng.uniform(-Math.PI, Math.PI));
    }
  }

  const render: RenderOptions = {
    seed: rng.int(0, 0x7fffffff),
    background,
    noise: rng.uniform(1, 7),
    exposure: rng.uniform(0.75, 1.25),
    tint: [rng.uniform(0.92, 1.08), rng.uniform(0.95, 1.05), rng.uniform(0.92, 1.08)],
    sun_yaw: rng.uniform(-Math.PI, Math.PI),
    shadow_len: rng.chance(0.2) ? 0 : rng.uniform(0.15, 0.8),
    vignette: rng.uniform(0, 0.3),
  };
  const frame = renderFrame(objects, k, pose, render);
  return { ...frame, k, pose, objects };
}

function pickClass(rng: Rng): SimClass {
  const r = rng.next();
  return r < 0.5 ? 'person' : r < 0.8 ? 'bag' : 'vehicle';
}

function randomBackground(rng: Rng, onImage: (mx?: number) => Vec2, axis: number): Background {
  const material = rng.pick(GROUND_MATERIALS);
  const paints: GroundPaint[] = [];
  const nPaint = rng.int(0, 3);
  for (let i = 0; i < nPaint; i++) {
    const c = onImage(0.2);
    const yaw = axis + rng.normal(0, 0.1);
    const hl = rng.uniform(2, 20);
    const hw = rng.uniform(1, 8);
    const corners = [[1, 1], [-1, 1], [-1, -1], [1, -1]].map(([a, b]) => ({
      x: c.x + a * hl * Math.cos(yaw) - b * hw * Math.sin(yaw),
      y: c.y + a * hl * Math.sin(yaw) + b * hw * Math.cos(yaw),
    }));
    paints.push({
      polygon: corners,
      color: rng.pick(PAINT_COLORS),
      alpha: rng.uniform(0.15, 0.7),
      ...(rng.chance(0.5) ? { outline: rng.pick(LINE_COLORS), outline_m: rng.uniform(0.08, 0.3) } : {}),
    });
  }
  const lines: PaintLine[] = [];
  const nLines = rng.int(0, 6);
  for (let i = 0; i < nLines; i++) {
    const c = onImage(0.2);
    const yaw = axis + (rng.chance(0.5) ? 0 : Math.PI / 2);
    const len = rng.uniform(3, 60);
    lines.push({
      a: { x: c.x - (Math.cos(yaw) * len) / 2, y: c.y - (Math.sin(yaw) * len) / 2 },
      b: { x: c.x + (Math.cos(yaw) * len) / 2, y: c.y + (Math.sin(yaw) * len) / 2 },
      width_m: rng.uniform(0.08, 0.4),
      color: rng.pick(LINE_COLORS),
      ...(rng.chance(0.4) ? { dash_m: rng.uniform(0.5, 3) } : {}),
    });
  }
  const clutter: Clutter[] = [];
  const nClutter = rng.int(0, 15);
  for (let i = 0; i < nClutter; i++) {
    const p = onImage(0.1);
    clutter.push({ kind: rng.pick(CLUTTER_KINDS), x: p.x, y: p.y, yaw: rng.uniform(-Math.PI, Math.PI), scale: rng.uniform(0.8, 1.25), style: rng.int(0, 0x7fffffff) });
  }
  return {
    seed: rng.int(0, 0x7fffffff),
    material,
    tile_yaw: axis,
    ...(PAVED.includes(material) && rng.chance(0.3) ? { tile_m: rng.chance(0.3) ? 0 : rng.uniform(0.4, 4) } : {}),
    paints,
    lines,
    clutter,
  };
}

/** A label as a detector training target: class index in SIM_CLASSES order and a pixel box. */
export interface TrainingBox {
  class_index: number;
  /** Pixel box corners, clipped to the image. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  visible: boolean;
  id: number;
}

export function labelsToBoxes(labels: readonly kestrel_msgs.Label[]): TrainingBox[] {
  return labels.map((l) => {
    const idx = SIM_CLASSES.indexOf(l.class_id as SimClass);
    if (idx < 0) throw new Error(`labelsToBoxes: label ${l.id} has class '${l.class_id}', expected one of ${SIM_CLASSES.join(', ')}`);
    const { x, y } = l.bbox.center.position;
    return { class_index: idx, x0: x - l.bbox.size_x / 2, y0: y - l.bbox.size_y / 2, x1: x + l.bbox.size_x / 2, y1: y + l.bbox.size_y / 2, visible: l.visible, id: l.id };
  });
}

const scenarioCache = new Map<string, Scenario>();

/**
 * A labelled frame from one of the reference scenarios (or those named), at a random time,
 * with a random world seed and sometimes the control variant: the scenes the deployed
 * detector will see, for checking that training on `sampleTrainingFrame` transfers (or for
 * mixing into training). Deterministic in `seed`.
 */
export function sampleScenarioFrame(seed: number, size: { width: number; height: number }, opts: { scenarios?: readonly string[] } = {}): TrainingFrame & { scenario: string; t: number } {
  const rng = new Rng(seed);
  const name = rng.pick(opts.scenarios ?? listScenarios());
  const control = rng.chance(0.3);
  const key = `${name}:${control}`;
  let scn = scenarioCache.get(key);
  if (!scn) {
    scn = loadScenario(name, { control });
    scenarioCache.set(key, scn);
  }
  // A coarse world step is plenty for a still frame, and ten times faster to reach it.
  const sim = new Simulator(scn, { render: false, imu_rate_hz: 10, seed: rng.int(0, 0x7fffffff), camera: { width: size.width, height: size.height } });
  const t = rng.uniform(0, scn.duration_s);
  while (sim.t < t && !sim.done) sim.tick();
  const f = sim.renderNow();
  if (!f) throw new Error(`sampleScenarioFrame: ${name} at t=${sim.t.toFixed(1)} s has the camera below 1 m`);
  return {
    width: f.image.width,
    height: f.image.height,
    data: f.image.data,
    labels: f.labels.labels,
    k: sim.k,
    pose: sim.cameraPose(),
    objects: sim.world.objects(),
    scenario: name,
    t: sim.t,
  };
}
