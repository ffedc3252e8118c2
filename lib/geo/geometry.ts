/**
 * Shared geometry: a nadir (straight-down) pinhole camera over a flat ground plane, and
 * polygons. Frames: local ENU (x east, y north, z up, metres); yaw is ENU (0 = east,
 * counter-clockwise, radians); image u to the right, v down, top of image = vehicle forward.
 * The simulator renders with `groundToPixel`; the tracker inverts with `pixelToGround`.
 */
export interface Vec2 {
  x: number;
  y: number;
}

export interface CameraIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

export interface CameraPose {
  x: number;
  y: number;
  /** Height above the ground plane, metres (> 0). */
  altitude: number;
  yaw: number;
}

/** Intrinsics from a horizontal field of view, principal point at the centre. */
export function intrinsicsFromFov(width: number, height: number, hfovRad: number): CameraIntrinsics {
  const fx = width / 2 / Math.tan(hfovRad / 2);
  return { width, height, fx, fy: fx, cx: width / 2, cy: height / 2 };
}

function axes(yaw: number): { f: Vec2; r: Vec2 } {
  return { f: { x: Math.cos(yaw), y: Math.sin(yaw) }, r: { x: Math.sin(yaw), y: -Math.cos(yaw) } };
}

export function pixelToGround(u: number, v: number, k: CameraIntrinsics, pose: CameraPose): Vec2 {
  const { f, r } = axes(pose.yaw);
  const a = ((u - k.cx) / k.fx) * pose.altitude;
  const b = (-(v - k.cy) / k.fy) * pose.altitude;
  return { x: pose.x + a * r.x + b * f.x, y: pose.y + a * r.y + b * f.y };
}

export function groundToPixel(p: Vec2, k: CameraIntrinsics, pose: CameraPose): Vec2 {
  const { f, r } = axes(pose.yaw);
  const dx = p.x - pose.x;
  const dy = p.y - pose.y;
  return { x: k.cx + (k.fx * (dx * r.x + dy * r.y)) / pose.altitude, y: k.cy - (k.fy * (dx * f.x + dy * f.y)) / pose.altitude };
}

/** Metres per pixel at the image centre. */
export function groundSampleDistance(k: CameraIntrinsics, pose: CameraPose): number {
  return pose.altitude / k.fx;
}

/** Even-odd rule; points on an edge may fall either way. */
export function pointInPolygon(p: Vec2, poly: readonly Vec2[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

const cross = (ax: number, ay: number, bx: number, by: number): number => ax * by - ay * bx;

/** Distance from p to the segment a-b. */
export function distanceToSegment(p: Vec2, a: Vec2, b: Vec2): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Smallest distance from p to the polygon's boundary. */
export function distanceToBoundary(p: Vec2, poly: readonly Vec2[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) best = Math.min(best, distanceToSegment(p, poly[j], poly[i]));
  return best;
}

/**
 * Whether the whole segment a-b lies inside a simple polygon, concave ones included: both ends
 * inside, no edge crossed, and between any two points where it touches the boundary (a reflex
 * vertex) it is inside again. A segment running along an edge counts as outside (on the fence
 * is not inside it).
 */
export function segmentInsidePolygon(a: Vec2, b: Vec2, poly: readonly Vec2[]): boolean {
  if (!pointInPolygon(a, poly) || !pointInPolygon(b, poly)) return false;
  const ex = b.x - a.x;
  const ey = b.y - a.y;
  const len = Math.hypot(ex, ey);
  if (len === 0) return true;
  const eps = 1e-12 * Math.max(1, len * len);
  const ts: number[] = [0, 1];
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const c = poly[j];
    const d = poly[i];
    const fx = d.x - c.x;
    const fy = d.y - c.y;
    const denom = cross(ex, ey, fx, fy);
    const acx = c.x - a.x;
    const acy = c.y - a.y;
    if (Math.abs(denom) <= eps * Math.max(1, Math.hypot(fx, fy))) {
      // Parallel: collinear with an overlap means running along the fence.
      if (Math.abs(cross(acx, acy, ex, ey)) > eps * len) continue;
      const t0 = (acx * ex + acy * ey) / (len * len);
      const t1 = ((d.x - a.x) * ex + (d.y - a.y) * ey) / (len * len);
      if (Math.min(1, Math.max(t0, t1)) - Math.max(0, Math.min(t0, t1)) > 1e-9) return false;
      continue;
    }
    const t = cross(acx, acy, fx, fy) / denom;
    const u = cross(acx, acy, ex, ey) / denom;
    if (t < -1e-12 || t > 1 + 1e-12 || u < -1e-12 || u > 1 + 1e-12) continue;
    // Crossing an edge away from its ends and the segment's ends: from inside to outside.
    if (t > 1e-9 && t < 1 - 1e-9 && u > 1e-9 && u < 1 - 1e-9) return false;
    ts.push(Math.min(1, Math.max(0, t)));
  }
  ts.sort((x, y) => x - y);
  for (let k = 1; k < ts.length; k++) {
    if (ts[k] - ts[k - 1] <= 1e-9) continue;
    const m = (ts[k] + ts[k - 1]) / 2;
    if (!pointInPolygon({ x: a.x + m * ex, y: a.y + m * ey }, poly)) return false;
  }
  return true;
}

/**
 * Whether the whole disc of radius r around c lies inside a simple polygon (concave included):
 * the centre inside and no boundary point closer than r. (The disc is connected, so if it holds
 * no boundary point and its centre is inside, all of it is.)
 */
export function circleInsidePolygon(c: Vec2, r: number, poly: readonly Vec2[]): boolean {
  if (!(r >= 0) || !Number.isFinite(r)) return false;
  return pointInPolygon(c, poly) && distanceToBoundary(c, poly) >= r;
}

/** `[x0, y0, x1, y1, ...]` (a ROS 2 double[] parameter) → polygon. */
export function polygonFromFlat(flat: readonly number[], name = 'polygon'): Vec2[] {
  if (flat.length < 6 || flat.length % 2 !== 0) {
    throw new Error(`${name}: expected [x0, y0, x1, y1, ...] with at least 3 points, got ${flat.length} numbers`);
  }
  const out: Vec2[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ x: flat[i], y: flat[i + 1] });
  return out;
}

export function distance(a: Vec2, b: Vec2): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Converts a MAVLink/NED yaw (0 = north, clockwise) to ENU yaw (0 = east, counter-clockwise). */
export function nedYawToEnu(yawNed: number): number {
  return wrapAngle(Math.PI / 2 - yawNed);
}

export function wrapAngle(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}
