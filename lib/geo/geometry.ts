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
