/**
 * The simulated drone camera: renders a top-down RGB frame of the world through the nadir
 * pinhole model of lib/geo/geometry.ts, with ground-truth boxes for every labelled object.
 *
 * 2.5D: every part of an object is a flat shape at a height above the ground; a point at
 * height h projects like a ground point seen from altitude - h, so tall things lean away
 * from the image centre as in a real nadir view. Parts are painted lowest first (higher is
 * nearer the camera), shapes have anti-aliased edges from a signed distance, and the frame
 * gets exposure, tint, vignetting and sensor noise. Pure TypeScript on typed arrays.
 */
import { makeMsg, type kestrel_msgs } from '../msgs/index.js';
import { groundToPixel, type CameraIntrinsics, type CameraPose, type Vec2 } from '../lib/geo/geometry.js';
import { hash01, hash3 } from './rng.js';

export type SimClass = 'person' | 'bag' | 'vehicle';
/** Detector class order (index = class id of the ONNX detector's output). */
export const SIM_CLASSES: readonly SimClass[] = ['person', 'bag', 'vehicle'];

export type RGB = readonly [number, number, number];

export interface SimObject {
  id: number;
  class_id: SimClass;
  /** Ground position, local ENU metres. */
  x: number;
  y: number;
  /** Heading, ENU radians (0 = east). */
  yaw: number;
  /** Appearance seed (colours, shape variant); defaults to a hash of id, so an object looks the same in every frame. */
  style?: number;
  /** Footprint along / across the heading, metres; a class default (varied by style) if absent. */
  length?: number;
  width?: number;
  /** Region names the object stands in, copied into its label (the world fills this). */
  regions?: readonly string[];
}

export type GroundMaterial = 'asphalt' | 'concrete' | 'tiles' | 'terrazzo' | 'grass' | 'gravel' | 'dirt';
export const GROUND_MATERIALS: readonly GroundMaterial[] = ['asphalt', 'concrete', 'tiles', 'terrazzo', 'grass', 'gravel', 'dirt'];

/** A painted or surfaced area on the ground (platform, queue lane, road, lawn). */
export interface GroundPaint {
  polygon: readonly Vec2[];
  color: RGB;
  /** 0..1, default 1. */
  alpha?: number;
  /** Painted border. */
  outline?: RGB;
  outline_m?: number;
}

/** A painted line (lane marking, platform edge, queue tape); dashed when dash_m is set. */
export interface PaintLine {
  a: Vec2;
  b: Vec2;
  width_m: number;
  color: RGB;
  dash_m?: number;
}

export type ClutterKind = 'bin' | 'bollard' | 'bench' | 'planter' | 'tree' | 'manhole' | 'pillar' | 'cone' | 'kiosk' | 'crate' | 'puddle';
export const CLUTTER_KINDS: readonly ClutterKind[] = ['bin', 'bollard', 'bench', 'planter', 'tree', 'manhole', 'pillar', 'cone', 'kiosk', 'crate', 'puddle'];

/** Unlabelled scenery: the hard negatives a detector must learn to ignore. */
export interface Clutter {
  kind: ClutterKind;
  x: number;
  y: number;
  yaw: number;
  /** Size multiplier, default 1. */
  scale?: number;
  style?: number;
}

export interface Background {
  /** Seeds the ground texture; fixed in world coordinates, so the ground does not shimmer as the camera moves. */
  seed: number;
  material?: GroundMaterial;
  /** Overrides the material's base colour. */
  base?: RGB;
  /** Tile/slab grid pitch in metres (0 = none); default from the material. */
  tile_m?: number;
  tile_yaw?: number;
  paints?: readonly GroundPaint[];
  lines?: readonly PaintLine[];
  clutter?: readonly Clutter[];
}

export interface RenderOptions {
  /** Seeds this frame's sensor noise. */
  seed: number;
  background?: Background;
  /** Sensor noise standard deviation in 8-bit levels, default 3. */
  noise?: number;
  /** Brightness gain, default 1. */
  exposure?: number;
  /** Per-channel white-balance gains, default [1, 1, 1]. */
  tint?: RGB;
  /** Direction shadows fall, ENU radians; default 4 (south-west). */
  sun_yaw?: number;
  /** Shadow length per metre of height, default 0.5; 0 = overcast. */
  shadow_len?: number;
  /** Darkening at the image corners, 0..1, default 0.15. */
  vignette?: number;
  /** A label is `visible` when at least this fraction of its box lies in the image, default 0.5. */
  min_visible?: number;
}

export interface RenderedFrame {
  width: number;
  height: number;
  /** rgb8, row-major, step = width * 3. */
  data: Uint8Array;
  /** One label per labelled object whose box touches the image; boxes in pixels, clipped to the image. */
  labels: kestrel_msgs.Label[];
}

// ---------------------------------------------------------------------------------------------
// Palettes

const CLOTHES: readonly RGB[] = [
  [200, 40, 40], [30, 60, 150], [25, 30, 60], [25, 25, 28], [230, 230, 225], [120, 120, 125], [40, 120, 60],
  [230, 200, 50], [230, 120, 30], [110, 50, 140], [230, 130, 170], [110, 75, 45], [190, 170, 120], [30, 140, 140],
  [150, 30, 50], [90, 140, 200], [60, 80, 40], [245, 245, 240],
];
const PANTS: readonly RGB[] = [[30, 40, 70], [25, 25, 28], [90, 90, 95], [170, 150, 110], [60, 50, 40], [70, 90, 130]];
const HAIR: readonly RGB[] = [[25, 20, 18], [60, 40, 25], [110, 80, 45], [200, 170, 110], [150, 150, 150], [45, 35, 30]];
const HATS: readonly RGB[] = [[235, 235, 235], [200, 40, 40], [30, 60, 150], [240, 200, 40], [30, 30, 30], [230, 120, 30]];
const BAGS: readonly RGB[] = [
  [25, 25, 28], [30, 40, 80], [70, 70, 75], [170, 30, 35], [70, 85, 45], [110, 70, 40], [190, 160, 110], [90, 50, 120],
  [220, 110, 30], [220, 190, 40], [40, 90, 170], [200, 200, 205], [140, 30, 90], [30, 120, 110],
];
const CARS: readonly RGB[] = [
  [235, 235, 235], [180, 182, 188], [25, 25, 30], [170, 25, 30], [30, 60, 140], [95, 95, 100], [235, 195, 30],
  [40, 90, 60], [120, 20, 25], [60, 110, 170], [210, 205, 190],
];
const MATERIAL: Record<GroundMaterial, { base: RGB; tile: number; grain: number; blotch: number }> = {
  asphalt: { base: [72, 74, 78], tile: 0, grain: 0.1, blotch: 0.1 },
  concrete: { base: [165, 162, 155], tile: 3, grain: 0.06, blotch: 0.08 },
  tiles: { base: [190, 180, 165], tile: 0.6, grain: 0.04, blotch: 0.05 },
  terrazzo: { base: [200, 196, 188], tile: 1.2, grain: 0.09, blotch: 0.04 },
  grass: { base: [85, 125, 55], tile: 0, grain: 0.14, blotch: 0.16 },
  gravel: { base: [140, 132, 118], tile: 0, grain: 0.2, blotch: 0.08 },
  dirt: { base: [130, 105, 75], tile: 0, grain: 0.12, blotch: 0.15 },
};

function styleOf(o: { id: number; style?: number }): number {
  return o.style ?? hash3(o.id, 0x0b1e, 7);
}

function pal(p: readonly RGB[], style: number, salt: number): RGB {
  return p[hash3(style, salt, 3) % p.length];
}

function scale(c: RGB, f: number): RGB {
  return [c[0] * f, c[1] * f, c[2] * f];
}

// ---------------------------------------------------------------------------------------------
// Shapes

/** A flat shape at a height above the ground; hx is the half-extent along yaw. */
interface Part {
  kind: 'ellipse' | 'rect';
  x: number;
  y: number;
  h: number;
  yaw: number;
  hx: number;
  hy: number;
  /** Corner radius (rect). */
  r: number;
  color: RGB;
  alpha: number;
  /** Darkening towards the rim, for rounded things (heads, shoulders, canopies). */
  shade: number;
  /** Per-pixel texture amplitude (foliage, fabric). */
  tex: number;
  order: number;
}

function part(kind: Part['kind'], x: number, y: number, h: number, yaw: number, hx: number, hy: number, color: RGB, extra: Partial<Part> = {}): Part {
  return { kind, x, y, h, yaw, hx, hy, r: 0, color, alpha: 1, shade: 0, tex: 0, order: 0, ...extra };
}

/** Offsets a point along a heading (fwd) and to its left (left), metres. */
function at(o: { x: number; y: number }, yaw: number, fwd: number, left: number): { x: number; y: number } {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return { x: o.x + fwd * c - left * s, y: o.y + fwd * s + left * c };
}

interface Sun {
  dx: number;
  dy: number;
  len: number;
}

function shadow(x: number, y: number, height: number, hx: number, hy: number, yaw: number, sun: Sun, kind: Part['kind'] = 'ellipse', alpha = 0.4): Part[] {
  if (sun.len <= 0) return [];
  const d = height * sun.len;
  // Blurred-edge look from two layers: a soft halo and a core.
  const cx = x + sun.dx * d * 0.5;
  const cy = y + sun.dy * d * 0.5;
  const sunYaw = Math.atan2(sun.dy, sun.dx);
  const along = Math.max(hx, hy) + d * 0.5;
  const across = Math.min(hx, hy) * 0.9 + 0.02;
  const useYaw = kind === 'rect' ? yaw : sunYaw;
  const ax = kind === 'rect' ? hx + d * 0.25 : along;
  const ay = kind === 'rect' ? hy + d * 0.25 : across;
  const dark: RGB = [0, 0, 0];
  return [
    part(kind, cx, cy, 0, useYaw, ax * 1.1, ay * 1.15, dark, { alpha: alpha * 0.4, r: Math.min(ax, ay) * 0.5, order: -2 }),
    part(kind, cx, cy, 0, useYaw, ax, ay, dark, { alpha: alpha * 0.7, r: Math.min(ax, ay) * 0.3, order: -1 }),
  ];
}

interface ObjectParts {
  parts: Part[];
  /** Parts whose extent forms the ground-truth box (not shadows). */
  body: Part[];
}

function personParts(o: SimObject, sun: Sun): ObjectParts {
  const st = styleOf(o);
  const w = (o.width ?? 0.5 + 0.12 * hash01(st, 1, 0)) / 2;
  const tall = 1.55 + 0.35 * hash01(st, 2, 0);
  const shirt = pal(CLOTHES, st, 11);
  const pants = pal(PANTS, st, 12);
  const hatted = hash01(st, 13, 0) < 0.18;
  const head = hatted ? pal(HATS, st, 14) : pal(HAIR, st, 15);
  const y = o.yaw;
  const body: Part[] = [
    part('ellipse', o.x, o.y, tall * 0.5, y, 0.13, w * 0.72, pants, { shade: 0.2, tex: 0.05 }),
    part('ellipse', o.x, o.y, tall * 0.82, y, 0.15, w, shirt, { shade: 0.35, tex: 0.06 }),
    part('ellipse', at(o, y, 0.01, 0).x, at(o, y, 0.01, 0).y, tall, y, hatted ? 0.14 : 0.11, hatted ? 0.14 : 0.1, head, { shade: 0.45, tex: 0.04 }),
  ];
  const extra: Part[] = [];
  if (hash01(st, 16, 0) < 0.25) {
    // A backpack: part of the person, not a separate bag.
    const b = at(o, y, -0.17, 0);
    body.push(part('rect', b.x, b.y, tall * 0.78, y, 0.09, w * 0.6, pal(BAGS, st, 17), { r: 0.04, shade: 0.2 }));
  }
  if (hash01(st, 18, 0) < 0.5) {
    // Arms swing a little ahead/behind the shoulders.
    const swing = (hash01(st, 19, 0) - 0.5) * 0.2;
    for (const side of [-1, 1]) {
      const a = at(o, y, swing * side, side * (w + 0.03));
      extra.push(part('ellipse', a.x, a.y, tall * 0.7, y, 0.12, 0.05, shirt, { shade: 0.3 }));
    }
  }
  return { parts: [...shadow(o.x, o.y, tall, 0.15, w, y, sun), ...extra, ...body], body };
}

function bagParts(o: SimObject, sun: Sun): ObjectParts {
  const st = styleOf(o);
  const variant = hash3(st, 21, 0) % 3; // 0 suitcase, 1 duffel, 2 backpack lying down
  const len = (o.length ?? [0.55, 0.6, 0.42][variant] * (0.85 + 0.3 * hash01(st, 22, 0))) / 2;
  const wid = (o.width ?? [0.38, 0.32, 0.3][variant] * (0.85 + 0.3 * hash01(st, 23, 0))) / 2;
  const c = pal(BAGS, st, 24);
  const height = [0.25, 0.3, 0.18][variant];
  const trim = scale(c, hash01(st, 25, 0) < 0.5 ? 0.6 : 1.3);
  const main = variant === 1
    ? part('ellipse', o.x, o.y, height, o.yaw, len, wid, c, { shade: 0.35, tex: 0.05 })
    : part('rect', o.x, o.y, height, o.yaw, len, wid, c, { r: variant === 0 ? 0.03 : 0.08, shade: 0.25, tex: 0.04 });
  const body = [main];
  const deco: Part[] = [];
  if (variant === 0) {
    deco.push(part('rect', o.x, o.y, height + 0.01, o.yaw, len * 0.92, wid * 0.12, trim, { r: 0.01 }));
    const hd = at(o, o.yaw, len * 0.9, 0);
    deco.push(part('rect', hd.x, hd.y, height + 0.02, o.yaw, 0.03, wid * 0.35, [20, 20, 20]));
  } else if (variant === 1) {
    deco.push(part('rect', o.x, o.y, height + 0.01, o.yaw, len * 0.45, 0.025, trim));
  } else {
    const pk = at(o, o.yaw, -len * 0.35, 0);
    deco.push(part('rect', pk.x, pk.y, height + 0.01, o.yaw, len * 0.35, wid * 0.7, trim, { r: 0.04 }));
  }
  return { parts: [...shadow(o.x, o.y, height, len, wid, o.yaw, sun, 'rect', 0.35), main, ...deco], body };
}

function vehicleParts(o: SimObject, sun: Sun): ObjectParts {
  const st = styleOf(o);
  const cart = hash01(st, 31, 0) < 0.25;
  const len = (o.length ?? (cart ? 2.6 : 4.2 + 0.7 * hash01(st, 32, 0))) / 2;
  const wid = (o.width ?? (cart ? 1.3 : 1.8 + 0.25 * hash01(st, 33, 0))) / 2;
  const c = cart ? (hash01(st, 34, 0) < 0.5 ? ([235, 235, 230] as RGB) : ([230, 190, 40] as RGB)) : pal(CARS, st, 35);
  const y = o.yaw;
  const glass: RGB = [30, 38, 48];
  if (cart) {
    const main = part('rect', o.x, o.y, 0.6, y, len, wid, scale(c, 0.8), { r: 0.15, shade: 0.1 });
    const roof = part('rect', at(o, y, -len * 0.1, 0).x, at(o, y, -len * 0.1, 0).y, 1.8, y, len * 0.6, wid * 0.95, c, { r: 0.1, shade: 0.1 });
    return { parts: [...shadow(o.x, o.y, 1.8, len, wid, y, sun, 'rect', 0.3), main, roof], body: [main, roof] };
  }
  const main = part('rect', o.x, o.y, 0.7, y, len, wid, c, { r: 0.35, shade: 0.12, tex: 0.02 });
  const wsh = at(o, y, len * 0.28, 0);
  const rear = at(o, y, -len * 0.55, 0);
  const roofC = at(o, y, -len * 0.1, 0);
  const parts = [
    ...shadow(o.x, o.y, 1.5, len, wid, y, sun, 'rect', 0.45),
    main,
    part('rect', wsh.x, wsh.y, 1.15, y, len * 0.2, wid * 0.85, glass, { r: 0.1 }),
    part('rect', rear.x, rear.y, 1.15, y, len * 0.12, wid * 0.8, glass, { r: 0.08 }),
    part('rect', roofC.x, roofC.y, 1.45, y, len * 0.34, wid * 0.8, hash01(st, 36, 0) < 0.2 ? glass : scale(c, 0.95), { r: 0.12, shade: 0.1 }),
  ];
  return { parts, body: [main, parts[parts.length - 1]] };
}

function clutterParts(c: Clutter, sun: Sun): Part[] {
  const st = c.style ?? hash3(Math.round(c.x * 100), Math.round(c.y * 100), 77);
  const s = c.scale ?? 1;
  const y = c.yaw;
  switch (c.kind) {
    case 'bin': {
      const col = pal([[40, 70, 50], [50, 50, 55], [25, 25, 28], [30, 60, 120], [120, 120, 125]], st, 1);
      return [...shadow(c.x, c.y, 0.9 * s, 0.3 * s, 0.3 * s, y, sun), part(hash01(st, 2, 0) < 0.6 ? 'ellipse' : 'rect', c.x, c.y, 0.9 * s, y, 0.3 * s, 0.3 * s, col, { r: 0.05, shade: 0.2 }),
        part('ellipse', c.x, c.y, 0.91 * s, y, 0.18 * s, 0.18 * s, scale(col, 0.5))];
    }
    case 'bollard': {
      const col = pal([[90, 90, 95], [220, 190, 40], [30, 30, 30], [180, 180, 185]], st, 1);
      return [...shadow(c.x, c.y, 0.9 * s, 0.1 * s, 0.1 * s, y, sun), part('ellipse', c.x, c.y, 0.9 * s, y, 0.1 * s, 0.1 * s, col, { shade: 0.4 })];
    }
    case 'bench': {
      const col = pal([[120, 85, 50], [100, 100, 105], [60, 45, 30]], st, 1);
      const out = [...shadow(c.x, c.y, 0.45 * s, 0.9 * s, 0.25 * s, y, sun, 'rect', 0.3)];
      for (const k of [-1, 0, 1]) {
        const pnt = at(c, y, 0, k * 0.16 * s);
        out.push(part('rect', pnt.x, pnt.y, 0.45 * s, y, 0.9 * s, 0.06 * s, col, { r: 0.01 }));
      }
      return out;
    }
    case 'planter': {
      return [...shadow(c.x, c.y, 0.6 * s, 0.6 * s, 0.6 * s, y, sun), part('ellipse', c.x, c.y, 0.5 * s, y, 0.6 * s, 0.6 * s, [150, 145, 135], { shade: 0.1 }),
        part('ellipse', c.x, c.y, 0.6 * s, y, 0.5 * s, 0.5 * s, [55, 100, 45], { shade: 0.3, tex: 0.35 })];
    }
    case 'tree': {
      const r = (1.8 + 1.5 * hash01(st, 1, 0)) * s;
      return [...shadow(c.x, c.y, 5, r, r, y, sun, 'ellipse', 0.5), part('ellipse', c.x, c.y, 5 * Math.min(s, 1.5), y, r, r * (0.85 + 0.15 * hash01(st, 2, 0)), [50 + 30 * hash01(st, 3, 0), 95, 40], { shade: 0.45, tex: 0.45 })];
    }
    case 'manhole':
      return [part('ellipse', c.x, c.y, 0, y, 0.35 * s, 0.35 * s, [55, 55, 58], { tex: 0.15 }), part('ellipse', c.x, c.y, 0, y, 0.28 * s, 0.28 * s, [75, 75, 78], { tex: 0.2, alpha: 0.7 })];
    case 'pillar':
      return [...shadow(c.x, c.y, 3, 0.4 * s, 0.4 * s, y, sun, 'rect', 0.4), part('rect', c.x, c.y, 3 * Math.min(s, 1.3), y, 0.4 * s, 0.4 * s, [200, 198, 192], { r: 0.02, shade: 0.08 })];
    case 'cone':
      return [...shadow(c.x, c.y, 0.5 * s, 0.15 * s, 0.15 * s, y, sun), part('rect', c.x, c.y, 0.03, y, 0.18 * s, 0.18 * s, [230, 100, 20], { r: 0.02 }),
        part('ellipse', c.x, c.y, 0.5 * s, y, 0.08 * s, 0.08 * s, [245, 130, 30], { shade: 0.3 }), part('ellipse', c.x, c.y, 0.51 * s, y, 0.04 * s, 0.04 * s, [240, 240, 240])];
    case 'kiosk': {
      const col = pal([[70, 80, 100], [180, 60, 40], [220, 220, 215], [60, 100, 70]], st, 1);
      return [...shadow(c.x, c.y, 2.2 * s, 0.6 * s, 0.9 * s, y, sun, 'rect', 0.4), part('rect', c.x, c.y, 2.2 * s, y, 0.6 * s, 0.9 * s, col, { r: 0.05, shade: 0.05 })];
    }
    case 'crate': {
      const col = pal([[150, 110, 65], [60, 100, 150], [110, 110, 110]], st, 1);
      return [...shadow(c.x, c.y, 0.6 * s, 0.5 * s, 0.4 * s, y, sun, 'rect', 0.35), part('rect', c.x, c.y, 0.6 * s, y, 0.5 * s, 0.4 * s, col, { tex: 0.1 }),
        part('rect', c.x, c.y, 0.61 * s, y, 0.5 * s, 0.03 * s, scale(col, 0.7))];
    }
    case 'puddle':
      return [part('ellipse', c.x, c.y, 0, y, 0.9 * s, 0.5 * s, [60, 70, 80], { alpha: 0.45, tex: 0.1 })];
  }
}

// ---------------------------------------------------------------------------------------------
// Rasterisation

/** Screen-space setup shared by all passes: ground point of pixel (u, v) at height h = o + u * du + v * dv, scaled by (A - h) / A. */
interface View {
  k: CameraIntrinsics;
  pose: CameraPose;
  f: Vec2;
  r: Vec2;
}

function makeView(k: CameraIntrinsics, pose: CameraPose): View {
  return { k, pose, f: { x: Math.cos(pose.yaw), y: Math.sin(pose.yaw) }, r: { x: Math.sin(pose.yaw), y: -Math.cos(pose.yaw) } };
}

function project(v: View, p: Vec2, h: number): Vec2 {
  return groundToPixel(p, v.k, { ...v.pose, altitude: v.pose.altitude - h });
}

const MIN_CLEARANCE = 0.3;

/** Pixel-space bounding box of a part (exact for rect corners; sampled for ellipses). */
function partBox(v: View, pt: Part): [number, number, number, number] | undefined {
  if (v.pose.altitude - pt.h < MIN_CLEARANCE) return undefined;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const n = pt.kind === 'rect' ? 4 : 16;
  for (let i = 0; i < n; i++) {
    let fx: number;
    let lx: number;
    if (pt.kind === 'rect') {
      fx = i === 0 || i === 3 ? pt.hx : -pt.hx;
      lx = i < 2 ? pt.hy : -pt.hy;
    } else {
      const a = (i / n) * 2 * Math.PI;
      // Scaled so the polygon circumscribes the ellipse.
      fx = (pt.hx * Math.cos(a)) / Math.cos(Math.PI / n);
      lx = (pt.hy * Math.sin(a)) / Math.cos(Math.PI / n);
    }
    const q = project(v, at(pt, pt.yaw, fx, lx), pt.h);
    x0 = Math.min(x0, q.x);
    y0 = Math.min(y0, q.y);
    x1 = Math.max(x1, q.x);
    y1 = Math.max(y1, q.y);
  }
  return [x0, y0, x1, y1];
}

function drawPart(v: View, buf: Float32Array, pt: Part, texSeed: number): void {
  const { k, pose } = v;
  const W = k.width;
  const H = k.height;
  const A = pose.altitude - pt.h;
  if (A < MIN_CLEARANCE) return;
  const box = partBox(v, pt);
  if (!box) return;
  const u0 = Math.max(0, Math.floor(box[0]) - 1);
  const v0 = Math.max(0, Math.floor(box[1]) - 1);
  const u1 = Math.min(W - 1, Math.ceil(box[2]) + 1);
  const v1 = Math.min(H - 1, Math.ceil(box[3]) + 1);
  if (u0 > u1 || v0 > v1) return;
  // Local shape coordinates are affine in (u, v): l = L0 + u * Lu + v * Lv.
  const cy = Math.cos(pt.yaw);
  const sy = Math.sin(pt.yaw);
  const mu = A / k.fx;
  const mv = A / k.fy;
  const gdu = { x: mu * v.r.x, y: mu * v.r.y };
  const gdv = { x: -mv * v.f.x, y: -mv * v.f.y };
  const g00 = { x: pose.x + (-k.cx * mu) * v.r.x + (k.cy * mv) * v.f.x, y: pose.y + (-k.cx * mu) * v.r.y + (k.cy * mv) * v.f.y };
  const toL = (gx: number, gy: number): [number, number] => [gx * cy + gy * sy, -gx * sy + gy * cy];
  const [lx0, ly0] = toL(g00.x - pt.x, g00.y - pt.y);
  const [lxu, lyu] = toL(gdu.x, gdu.y);
  const [lxv, lyv] = toL(gdv.x, gdv.y);
  const mpp = Math.max(mu, mv);
  const inv = 1 / mpp;
  const minR = Math.min(pt.hx, pt.hy);
  const rr = Math.min(pt.r, minR);
  const [cr, cg, cb] = pt.color;
  for (let py = v0; py <= v1; py++) {
    const vc = py + 0.5;
    let row = (py * W + u0) * 3;
    for (let px = u0; px <= u1; px++, row += 3) {
      const uc = px + 0.5;
      const lx = lx0 + uc * lxu + vc * lxv;
      const ly = ly0 + uc * lyu + vc * lyv;
      let sd: number;
      let rad2: number;
      if (pt.kind === 'ellipse') {
        const ex = lx / pt.hx;
        const ey = ly / pt.hy;
        rad2 = ex * ex + ey * ey;
        sd = (Math.sqrt(rad2) - 1) * minR;
      } else {
        const qx = Math.abs(lx) - pt.hx + rr;
        const qy = Math.abs(ly) - pt.hy + rr;
        const ox = qx > 0 ? qx : 0;
        const oy = qy > 0 ? qy : 0;
        sd = Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0) - rr;
        const ex = lx / pt.hx;
        const ey = ly / pt.hy;
        rad2 = Math.max(ex * ex, ey * ey);
      }
      let a = 0.5 - sd * inv;
      if (a <= 0) continue;
      if (a > 1) a = 1;
      a *= pt.alpha;
      let m = 1 - pt.shade * (rad2 > 1 ? 1 : rad2);
      if (pt.tex > 0) m *= 1 + pt.tex * (hash01(Math.floor(lx * 20), Math.floor(ly * 20), texSeed) - 0.5);
      buf[row] += (cr * m - buf[row]) * a;
      buf[row + 1] += (cg * m - buf[row + 1]) * a;
      buf[row + 2] += (cb * m - buf[row + 2]) * a;
    }
  }
}

function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  let fx = x - ix;
  let fy = y - iy;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  const a = hash01(ix, iy, seed);
  const b = hash01(ix + 1, iy, seed);
  const c = hash01(ix, iy + 1, seed);
  const d = hash01(ix + 1, iy + 1, seed);
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
}

const GRAIN_BITS = 8;
const GRAIN_MASK = (1 << GRAIN_BITS) - 1;
const grainTables = new Map<number, Float32Array>();

/** Per-seed table of grain values (-0.5..0.5), tiled over the ground: a lookup per pixel instead of a hash. */
function grainTable(seed: number): Float32Array {
  let t = grainTables.get(seed);
  if (!t) {
    t = new Float32Array(1 << (2 * GRAIN_BITS));
    for (let i = 0; i < t.length; i++) t[i] = hash01(i, seed, 0x9a1) - 0.5;
    if (grainTables.size > 64) grainTables.clear();
    grainTables.set(seed, t);
  }
  return t;
}

const BLOTCH_STEP = 8;

function drawGround(v: View, buf: Float32Array, bg: Background): void {
  const { k, pose } = v;
  const W = k.width;
  const H = k.height;
  const material = bg.material ?? 'concrete';
  const mat = MATERIAL[material];
  const base = bg.base ?? mat.base;
  const tile = bg.tile_m ?? mat.tile;
  const tc = Math.cos(bg.tile_yaw ?? 0);
  const ts = Math.sin(bg.tile_yaw ?? 0);
  const mu = pose.altitude / k.fx;
  const mv = pose.altitude / k.fy;
  const seed = bg.seed | 0;
  // Grain cells of 8 cm; the table repeats every ~20 m, which nothing in a frame reveals.
  const invGrain = 1 / 0.08;
  const grain = grainTable(seed);
  const invTile = 1 / Math.max(tile, 1e-9);
  // Grout width in metres; at least ~0.6 px so the grid does not alias away at altitude.
  const grout = Math.max(0.02, mu * 0.6);
  const gw = grout / Math.max(tile, 1e-9);
  // Stains vary over metres: sample them on a coarse pixel grid and interpolate.
  const gxN = Math.ceil(W / BLOTCH_STEP) + 2;
  const gyN = Math.ceil(H / BLOTCH_STEP) + 2;
  const blotch = new Float32Array(gxN * gyN);
  for (let j = 0; j < gyN; j++) {
    for (let i = 0; i < gxN; i++) {
      const a = (i * BLOTCH_STEP - k.cx) * mu;
      const b = -(j * BLOTCH_STEP - k.cy) * mv;
      const gx = pose.x + a * v.r.x + b * v.f.x;
      const gy = pose.y + a * v.r.y + b * v.f.y;
      blotch[j * gxN + i] = 1 + mat.blotch * (valueNoise(gx / 3.1, gy / 3.1, seed) - 0.5) * 2;
    }
  }
  let lastTx = NaN;
  let lastTy = NaN;
  let tileM = 1;
  let tileWarm = 0;
  for (let py = 0; py < H; py++) {
    const b = -(py + 0.5 - k.cy) * mv;
    const jy = (py + 0.5) / BLOTCH_STEP;
    const j0 = Math.floor(jy);
    const fj = jy - j0;
    let i = py * W * 3;
    for (let px = 0; px < W; px++, i += 3) {
      const a = (px + 0.5 - k.cx) * mu;
      const gx = pose.x + a * v.r.x + b * v.f.x;
      const gy = pose.y + a * v.r.y + b * v.f.y;
      const ix = (px + 0.5) / BLOTCH_STEP;
      const i0 = Math.floor(ix);
      const fi = ix - i0;
      const q = j0 * gxN + i0;
      const top = blotch[q] + (blotch[q + 1] - blotch[q]) * fi;
      const bot = blotch[q + gxN] + (blotch[q + gxN + 1] - blotch[q + gxN]) * fi;
      let m = top + (bot - top) * fj;
      m += mat.grain * grain[((Math.floor(gx * invGrain) & GRAIN_MASK) << GRAIN_BITS) | (Math.floor(gy * invGrain) & GRAIN_MASK)];
      let warm = 0;
      if (tile > 0) {
        const tx = (gx * tc + gy * ts) * invTile;
        const ty = (-gx * ts + gy * tc) * invTile;
        const fx = tx - Math.floor(tx);
        const fy = ty - Math.floor(ty);
        if (fx < gw || fy < gw) m *= 0.78;
        else {
          const cx = Math.floor(tx);
          const cy = Math.floor(ty);
          if (cx !== lastTx || cy !== lastTy) {
            const h = hash3(cx, cy, seed + 2);
            tileM = 0.94 + 0.12 * ((h & 0xffff) / 65536);
            tileWarm = ((h >>> 16) / 65536 - 0.5) * 8;
            lastTx = cx;
            lastTy = cy;
          }
          m *= tileM;
          warm = tileWarm;
        }
      }
      buf[i] = base[0] * m + warm;
      buf[i + 1] = base[1] * m;
      buf[i + 2] = base[2] * m - warm;
    }
  }
}

function fillPolygon(v: View, buf: Float32Array, paint: GroundPaint, seed: number): void {
  const W = v.k.width;
  const H = v.k.height;
  const pts = paint.polygon.map((p) => project(v, p, 0));
  if (pts.length < 3) return;
  const alpha = paint.alpha ?? 1;
  const [cr, cg, cb] = paint.color;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const p of pts) {
    ymin = Math.min(ymin, p.y);
    ymax = Math.max(ymax, p.y);
  }
  const mu = v.pose.altitude / v.k.fx;
  const xs: number[] = [];
  for (let py = Math.max(0, Math.floor(ymin)); py <= Math.min(H - 1, Math.ceil(ymax)); py++) {
    const yc = py + 0.5;
    xs.length = 0;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
      const a = pts[i];
      const b = pts[j];
      if (a.y > yc !== b.y > yc) xs.push(a.x + ((yc - a.y) * (b.x - a.x)) / (b.y - a.y));
    }
    xs.sort((p, q) => p - q);
    for (let s = 0; s + 1 < xs.length; s += 2) {
      const x0 = Math.max(0, Math.ceil(xs[s] - 0.5));
      const x1 = Math.min(W - 1, Math.floor(xs[s + 1] - 0.5));
      for (let px = x0; px <= x1; px++) {
        const i = (py * W + px) * 3;
        // Worn paint: alpha varies slowly over the ground, so it reads as paint, not a flat overlay.
        const wear = 0.85 + 0.15 * hash01(Math.floor(px * mu * 4), Math.floor(py * mu * 4), seed);
        const a = alpha * wear;
        buf[i] += (cr * (buf[i] / 160) - buf[i]) * a * 0.35 + (cr - buf[i]) * a * 0.65;
        buf[i + 1] += (cg * (buf[i + 1] / 160) - buf[i + 1]) * a * 0.35 + (cg - buf[i + 1]) * a * 0.65;
        buf[i + 2] += (cb * (buf[i + 2] / 160) - buf[i + 2]) * a * 0.35 + (cb - buf[i + 2]) * a * 0.65;
      }
    }
  }
}

function lineParts(l: PaintLine): Part[] {
  const dx = l.b.x - l.a.x;
  const dy = l.b.y - l.a.y;
  const len = Math.hypot(dx, dy);
  if (len < 1e-6) return [];
  const yaw = Math.atan2(dy, dx);
  const out: Part[] = [];
  const dash = l.dash_m ?? 0;
  const step = dash > 0 ? dash * 2 : len;
  for (let s = 0; s < len; s += step) {
    const e = Math.min(len, s + (dash > 0 ? dash : len));
    const m = (s + e) / 2;
    out.push(part('rect', l.a.x + (dx / len) * m, l.a.y + (dy / len) * m, 0, yaw, (e - s) / 2, l.width_m / 2, l.color, { alpha: 0.9, tex: 0.1, order: -3 }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function labelFor(v: View, o: SimObject, body: readonly Part[], minVisible: number): kestrel_msgs.Label | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const pt of body) {
    const b = partBox(v, pt);
    if (!b) continue;
    x0 = Math.min(x0, b[0]);
    y0 = Math.min(y0, b[1]);
    x1 = Math.max(x1, b[2]);
    y1 = Math.max(y1, b[3]);
  }
  if (!(x1 > x0 && y1 > y0)) return undefined;
  const W = v.k.width;
  const H = v.k.height;
  const cx0 = Math.max(0, x0);
  const cy0 = Math.max(0, y0);
  const cx1 = Math.min(W, x1);
  const cy1 = Math.min(H, y1);
  if (cx1 <= cx0 || cy1 <= cy0) return undefined;
  const frac = ((cx1 - cx0) * (cy1 - cy0)) / ((x1 - x0) * (y1 - y0));
  return makeMsg('kestrel_msgs/msg/Label', {
    id: o.id,
    class_id: o.class_id,
    bbox: { center: { position: { x: (cx0 + cx1) / 2, y: (cy0 + cy1) / 2 }, theta: 0 }, size_x: cx1 - cx0, size_y: cy1 - cy0 },
    position: { x: o.x, y: o.y, z: 0 },
    regions: [...(o.regions ?? [])],
    visible: frac >= minVisible,
  });
}

function objectParts(o: SimObject, sun: Sun): ObjectParts {
  switch (o.class_id) {
    case 'person':
      return personParts(o, sun);
    case 'bag':
      return bagParts(o, sun);
    case 'vehicle':
      return vehicleParts(o, sun);
    default:
      throw new Error(`renderFrame: object ${String((o as SimObject).id)} has unknown class_id '${String((o as SimObject).class_id)}' (expected person, bag or vehicle)`);
  }
}

function checkInputs(k: CameraIntrinsics, pose: CameraPose): void {
  if (!Number.isInteger(k.width) || !Number.isInteger(k.height) || k.width <= 0 || k.height <= 0) {
    throw new Error(`renderFrame: image size must be positive integers, got ${k.width}x${k.height}`);
  }
  if (!(k.fx > 0 && k.fy > 0)) throw new Error(`renderFrame: focal lengths must be > 0, got fx=${k.fx} fy=${k.fy}`);
  if (!(pose.altitude > 0.5) || !Number.isFinite(pose.altitude)) throw new Error(`renderFrame: camera altitude must be > 0.5 m, got ${pose.altitude}`);
  if (![pose.x, pose.y, pose.yaw].every(Number.isFinite)) throw new Error(`renderFrame: camera pose must be finite, got ${JSON.stringify(pose)}`);
}

let scratchBuf = new Float32Array(0);

/** The float frame buffer, reused between frames (drawGround overwrites every pixel first). */
function scratch(n: number): Float32Array {
  if (scratchBuf.length !== n) scratchBuf = new Float32Array(n);
  return scratchBuf;
}

/**
 * The labels `renderFrame` would give, without drawing: for perfect-perception runs and
 * evaluation, at a tiny fraction of a frame's cost. Same boxes, same `visible` rule.
 */
export function labelObjects(objects: readonly SimObject[], k: CameraIntrinsics, pose: CameraPose, minVisible = 0.5): kestrel_msgs.Label[] {
  checkInputs(k, pose);
  const v = makeView(k, pose);
  const noSun: Sun = { dx: 1, dy: 0, len: 0 };
  const labels: kestrel_msgs.Label[] = [];
  for (const o of objects) {
    const label = labelFor(v, o, objectParts(o, noSun).body, minVisible);
    if (label) labels.push(label);
  }
  return labels;
}

const DEFAULT_BACKGROUND: Background = { seed: 1, material: 'concrete' };

/**
 * Renders one camera frame. Deterministic: the same objects, camera, background and `opts.seed`
 * give identical bytes. Labels cover the object's body (not its shadow), are clipped to the
 * image, omit objects wholly outside it, and are `visible: false` when mostly outside.
 */
export function renderFrame(objects: readonly SimObject[], k: CameraIntrinsics, pose: CameraPose, opts: RenderOptions): RenderedFrame {
  checkInputs(k, pose);
  const v = makeView(k, pose);
  const W = k.width;
  const H = k.height;
  const bg = opts.background ?? DEFAULT_BACKGROUND;
  const buf = scratch(W * H * 3);
  drawGround(v, buf, bg);
  for (const [i, paint] of (bg.paints ?? []).entries()) fillPolygon(v, buf, paint, (bg.seed | 0) + 100 + i);

  const sunYaw = opts.sun_yaw ?? 4;
  const sun: Sun = { dx: Math.cos(sunYaw), dy: Math.sin(sunYaw), len: opts.shadow_len ?? 0.5 };
  const parts: Part[] = [];
  for (const paint of bg.paints ?? []) {
    if (!paint.outline) continue;
    const n = paint.polygon.length;
    for (let i = 0; i < n; i++) parts.push(...lineParts({ a: paint.polygon[i], b: paint.polygon[(i + 1) % n], width_m: paint.outline_m ?? 0.12, color: paint.outline }));
  }
  for (const l of bg.lines ?? []) parts.push(...lineParts(l));
  for (const c of bg.clutter ?? []) parts.push(...clutterParts(c, sun));
  const minVisible = opts.min_visible ?? 0.5;
  const labels: kestrel_msgs.Label[] = [];
  for (const o of objects) {
    const op = objectParts(o, sun);
    parts.push(...op.parts);
    const label = labelFor(v, o, op.body, minVisible);
    if (label) labels.push(label);
  }
  // Painter's order: lower first (nearer the ground is farther from the camera); stable otherwise.
  const order = parts.map((pt, i) => ({ pt, i }));
  order.sort((a, b) => a.pt.h - b.pt.h || a.pt.order - b.pt.order || a.i - b.i);
  const texSeed = bg.seed | 0;
  for (const { pt } of order) drawPart(v, buf, pt, texSeed);

  return { width: W, height: H, data: finish(buf, W, H, opts), labels };
}

/** Exposure, tint, vignetting and sensor noise, then quantisation to rgb8. */
function finish(buf: Float32Array, W: number, H: number, opts: RenderOptions): Uint8Array {
  // Clamped array: the engine clamps and rounds on store, faster than doing it by hand.
  const out = new Uint8ClampedArray(W * H * 3);
  let s = hash3(opts.seed, 0x401e, 5) | 1;
  const sigma = opts.noise ?? 3;
  // Sum of three uniform bytes has variance 3 * 256^2 / 12: scale it to sigma.
  const kl = sigma / 128;
  const kc = sigma / 512;
  const gain = opts.exposure ?? 1;
  const [tr, tg, tb] = opts.tint ?? [1, 1, 1];
  const vig = opts.vignette ?? 0.15;
  const cx = W / 2;
  const cy = H / 2;
  const inv = 1 / (cx * cx + cy * cy);
  for (let py = 0; py < H; py++) {
    const dy = py + 0.5 - cy;
    for (let px = 0; px < W; px++) {
      const dx = px + 0.5 - cx;
      const g = gain * (1 - vig * (dx * dx + dy * dy) * inv);
      // One xorshift word per pixel: three bytes make luminance noise, one chroma noise.
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const nl = ((s & 255) + ((s >>> 8) & 255) + ((s >>> 16) & 255) - 382.5) * kl;
      const nc = ((s >>> 24) - 127.5) * kc;
      const i = (py * W + px) * 3;
      out[i] = buf[i] * g * tr + nl + nc;
      out[i + 1] = buf[i + 1] * g * tg + nl;
      out[i + 2] = buf[i + 2] * g * tb + nl - nc;
    }
  }
  return new Uint8Array(out.buffer);
}
