/**
 * Multi-object tracker in the ByteTrack style: Kalman-predicted boxes are matched to
 * high-score detections first, then the remaining tracks to low-score detections (which
 * keeps ids through partial occlusion and blur), by optimal IoU assignment. New tracks
 * start tentative and are confirmed after `minHits` matches; a track is deleted after
 * `maxMisses` frames without a match. Boxes are buffered before IoU (C-BIoU), so small
 * fast objects whose boxes no longer overlap between frames still match.
 *
 * A second filter runs on each track's ground-plane point (when the camera pose is known),
 * giving position and velocity in metres and m/s, local ENU.
 *
 * Camera motion compensation: when the previous and the current frame both have a camera pose,
 * each track's box is first moved to where its ground point appears in the current frame (as
 * BoT-SORT's CMC does from image registration; here from the known poses). A drone patrolling at
 * 4 m/s and 22 m moves a standing person ~10 px a frame at 5 Hz, more than a 7 px box: without
 * this no new track ever matched its second detection, and a patrol never counted anyone
 * (perimeter-patrol). The box filters then carry object motion only.
 * Deterministic: the same detections and stamps give the same tracks.
 */
import type { Box } from '../../lib/vision/decode.js';
import { iou } from '../../lib/vision/nms.js';
import type { Vec2 } from '../../lib/geo/geometry.js';
import { assign } from './assign.js';
import { initAxis, predictAxis, updateAxis, type Axis } from './kalman.js';

export interface TrackerDetection extends Box {
  score: number;
  classId: string;
}

export interface TrackerOptions {
  /** Detections at or above this score take part in the first association and may start tracks. */
  highThreshold: number;
  /** Detections below this are ignored; between low and high they only extend existing tracks. */
  lowThreshold: number;
  /** A new track needs a detection at least this confident. */
  newTrackThreshold: number;
  /** Minimum (buffered) IoU for the first association. */
  matchIou: number;
  /** Minimum IoU for the second (low-score) association. */
  lowMatchIou: number;
  /** Each box side grows by this fraction on both sides before IoU (0 = plain IoU). */
  iouBuffer: number;
  minHits: number;
  /**
   * Confirmation by persistence (0 = off): an unmatched detection between `lowThreshold` and
   * `newTrackThreshold` starts a tentative track too, confirmed after this many consecutive
   * matches (high or low score) instead of `minHits`. A real object the detector keeps seeing at
   * 0.3-0.5 (a standing person next to a bag, a 10x5 px bag) then gets a track after a second of
   * persistence, while clutter that scores once or twice never does (SORT's min_hits applied
   * to the low-score detections ByteTrack otherwise uses only to extend tracks).
   */
  lowStartHits: number;
  /**
   * ...and such a track is published only while the mean score of its matches reaches this (per
   * class: `lowStartMinMeanByClass`, for the class it reports now). Clutter that kestrel-det keeps calling a person at 0.31-0.34
   * for a second or two (perimeter-patrol's yard from the patrolling drone) does not start a
   * track; a standing person at 0.35-0.48 does. A 10x5 px bag scores lower than any person, so
   * bags get their own floor.
   */
  lowStartMinMean: number;
  lowStartMinMeanByClass: Readonly<Record<string, number>>;
  maxMisses: number;
  /**
   * Only match a detection to a track of the same class. When false, association ignores the
   * class and each track reports the class with the most score-weighted votes (decaying by
   * `classDecay` per match), so a small object whose class flickers (a bag seen as a person every
   * few frames) stays one track of its majority class instead of two tracks on one spot.
   */
  matchClass: boolean;
  /** Weight kept by old class votes at each match (matchClass false). */
  classDecay: number;
  /** Process noise of the box filter, (pixels)²/s³, scaled by box height². */
  boxProcessNoise: number;
  /** Process noise of the ground filter, m²/s³. */
  groundProcessNoise: number;
  /** Ground measurement standard deviation, metres. */
  groundMeasurementStd: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  highThreshold: 0.5,
  lowThreshold: 0.1,
  newTrackThreshold: 0.6,
  matchIou: 0.2,
  lowMatchIou: 0.4,
  iouBuffer: 0.3,
  minHits: 2,
  lowStartHits: 0,
  lowStartMinMean: 0,
  lowStartMinMeanByClass: {},
  maxMisses: 30,
  matchClass: true,
  classDecay: 0.9,
  boxProcessNoise: 4,
  groundProcessNoise: 1,
  groundMeasurementStd: 0.3,
};

export interface TrackState {
  id: number;
  classId: string;
  score: number;
  /** cx, cy, w, h filters (pixels). */
  box: [Axis, Axis, Axis, Axis];
  ground?: [Axis, Axis];
  firstSeenMs: number;
  lastSeenMs: number;
  hits: number;
  /** Consecutive frames without a match. */
  misses: number;
  confirmed: boolean;
  /** Matches needed to confirm (minHits, or lowStartHits for a track started from a low-score detection). */
  needHits: number;
  /** Started from a low-score detection (confirmation by persistence): takes part in the low-score association while tentative. */
  lowStart: boolean;
  /** Sum of the matched scores (the persistence start's mean). */
  scoreSum: number;
  /** Score-weighted class votes (class-agnostic association). */
  votes: Map<string, number>;
}

export interface TrackView {
  id: number;
  classId: string;
  score: number;
  box: Box;
  /** Pixel velocity of the box centre, px/s. */
  pixelVelocity: Vec2;
  position?: Vec2;
  velocity?: Vec2;
  firstSeenMs: number;
  hits: number;
  misses: number;
}

function boxOf(t: TrackState): Box {
  const [cx, cy, w, h] = t.box.map((a) => a.p);
  const hw = Math.max(0, w) / 2;
  const hh = Math.max(0, h) / 2;
  return { x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh };
}

function buffered(b: Box, f: number): Box {
  const dx = (b.x2 - b.x1) * f;
  const dy = (b.y2 - b.y1) * f;
  return { x1: b.x1 - dx, y1: b.y1 - dy, x2: b.x2 + dx, y2: b.y2 + dy };
}

export class MultiTracker {
  readonly o: TrackerOptions;
  private tracks: TrackState[] = [];
  private nextId = 1;
  private lastMs: number | undefined;
  /** The previous frame's image → ground mapping (camera motion compensation). */
  private lastToGround: ((u: number, v: number) => Vec2) | undefined;

  constructor(opts: Partial<TrackerOptions> = {}) {
    this.o = { ...DEFAULT_TRACKER_OPTIONS, ...opts };
  }

  get all(): readonly TrackState[] {
    return this.tracks;
  }

  reset(): void {
    this.tracks = [];
    this.lastMs = undefined;
    this.lastToGround = undefined;
  }

  /**
   * One frame: detections at time `tMs` (the source image stamp), `toGround` mapping an image
   * point to the ground plane and `toPixel` the ground plane into this frame (both undefined
   * when the camera pose is unknown; `toPixel` enables camera motion compensation).
   * Returns the confirmed tracks, matched this frame or coasting.
   */
  step(dets: readonly TrackerDetection[], tMs: number, toGround?: (u: number, v: number) => Vec2, toPixel?: (p: Vec2) => Vec2): TrackView[] {
    if (this.lastMs !== undefined && tMs < this.lastMs) throw new RangeError(`tracker: time went back from ${this.lastMs} ms to ${tMs} ms; reset the tracker first`);
    const dt = this.lastMs === undefined ? 0 : (tMs - this.lastMs) / 1000;
    this.lastMs = tMs;
    const o = this.o;
    if (this.lastToGround && toPixel) this.compensate(this.lastToGround, toPixel);
    this.lastToGround = toGround;
    for (const t of this.tracks) this.predict(t, dt);

    const high: number[] = [];
    const low: number[] = [];
    dets.forEach((d, i) => {
      if (!(d.score >= o.lowThreshold) || !(d.x2 > d.x1) || !(d.y2 > d.y1)) return;
      (d.score >= o.highThreshold ? high : low).push(i);
    });

    const cost = (ts: readonly TrackState[], ds: readonly number[], buf: number): number[][] =>
      ts.map((t) => {
        const tb = buffered(boxOf(t), buf);
        return ds.map((di) => (o.matchClass && dets[di].classId !== t.classId ? Infinity : 1 - iou(tb, buffered(dets[di], buf))));
      });

    // 1. Every track (confirmed first, by assignment cost alone) against the high-score detections.
    const pool = [...this.tracks];
    const m1 = assign(cost(pool, high, o.iouBuffer), 1 - o.matchIou);
    const matchedT = new Set<TrackState>();
    const usedHigh = new Set<number>();
    for (const [ti, dj] of m1) {
      this.update(pool[ti], dets[high[dj]], tMs, toGround);
      matchedT.add(pool[ti]);
      usedHigh.add(high[dj]);
    }
    // 2. Remaining confirmed tracks, and tentative ones started from low scores (they live on
    // low-score matches), against the low-score detections (no buffer: these are less certain).
    const rest = pool.filter((t) => !matchedT.has(t) && (t.confirmed || t.lowStart));
    const m2 = assign(cost(rest, low, 0), 1 - o.lowMatchIou);
    const usedLow = new Set<number>();
    for (const [ti, dj] of m2) {
      this.update(rest[ti], dets[low[dj]], tMs, toGround);
      matchedT.add(rest[ti]);
      usedLow.add(low[dj]);
    }
    // 3. Unmatched tracks miss; tentative ones die at once, confirmed ones after maxMisses.
    for (const t of this.tracks) if (!matchedT.has(t)) t.misses++;
    this.tracks = this.tracks.filter((t) => matchedT.has(t) || (t.confirmed && t.misses <= o.maxMisses));
    // 4. New tentative tracks from confident unmatched detections.
    for (const i of high) {
      if (usedHigh.has(i) || dets[i].score < o.newTrackThreshold) continue;
      this.tracks.push(this.start(dets[i], tMs, o.minHits, false, toGround));
    }
    // 5. Confirmation by persistence: the other unmatched detections start tracks that must be
    // matched on lowStartHits consecutive frames (a tentative track dies at its first miss).
    if (o.lowStartHits > 0) {
      for (const i of [...high, ...low]) {
        if (usedHigh.has(i) || usedLow.has(i) || dets[i].score >= o.newTrackThreshold) continue;
        this.tracks.push(this.start(dets[i], tMs, o.lowStartHits, true, toGround));
      }
    }
    return this.tracks.filter((t) => t.confirmed && this.evident(t)).map((t) => this.view(t));
  }

  /**
   * A track started by persistence is published only while its mean score reaches the floor of
   * the class it reports now: one confirmed as a bag at the bag floor, whose votes then turn it
   * into a person, must also hold the person floor (yard clutter scored bag 0.2 / person 0.39 in
   * turn became a phantom intruder, perimeter-patrol control 102). It still coasts and absorbs
   * its detections meanwhile, so it starts no duplicate.
   */
  private evident(t: TrackState): boolean {
    return !t.lowStart || t.scoreSum / t.hits >= (this.o.lowStartMinMeanByClass[t.classId] ?? this.o.lowStartMinMean);
  }

  /** Moves each box centre from the previous frame's image to this one's, through the ground plane. */
  private compensate(prevToGround: (u: number, v: number) => Vec2, toPixel: (p: Vec2) => Vec2): void {
    for (const t of this.tracks) {
      const p = toPixel(prevToGround(t.box[0].p, t.box[1].p));
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      t.box[0] = { ...t.box[0], p: p.x };
      t.box[1] = { ...t.box[1], p: p.y };
    }
  }

  private predict(t: TrackState, dt: number): void {
    if (dt <= 0) return;
    const h = Math.max(1, t.box[3].p);
    const q = this.o.boxProcessNoise * h * h;
    t.box = [predictAxis(t.box[0], dt, q), predictAxis(t.box[1], dt, q), predictAxis(t.box[2], dt, q / 4), predictAxis(t.box[3], dt, q / 4)];
    if (t.ground) t.ground = [predictAxis(t.ground[0], dt, this.o.groundProcessNoise), predictAxis(t.ground[1], dt, this.o.groundProcessNoise)];
  }

  private measurementVar(d: Box): number {
    // Box noise grows with box size (ByteTrack's std_weight_position × height), with a floor of one pixel.
    const s = Math.max(1, 0.05 * (d.y2 - d.y1));
    return s * s;
  }

  private start(d: TrackerDetection, tMs: number, needHits: number, lowStart: boolean, toGround?: (u: number, v: number) => Vec2): TrackState {
    const r = this.measurementVar(d);
    const vVar = (10 * Math.max(1, d.y2 - d.y1)) ** 2;
    const cx = (d.x1 + d.x2) / 2;
    const cy = (d.y1 + d.y2) / 2;
    const t: TrackState = {
      id: this.nextId++,
      classId: d.classId,
      score: d.score,
      box: [initAxis(cx, r, vVar), initAxis(cy, r, vVar), initAxis(d.x2 - d.x1, r, vVar / 4), initAxis(d.y2 - d.y1, r, vVar / 4)],
      firstSeenMs: tMs,
      lastSeenMs: tMs,
      hits: 1,
      misses: 0,
      confirmed: needHits <= 1,
      needHits,
      lowStart,
      scoreSum: d.score,
      votes: new Map([[d.classId, d.score]]),
    };
    const g = toGround?.(cx, cy);
    if (g) {
      const gv = this.o.groundMeasurementStd ** 2;
      t.ground = [initAxis(g.x, gv, 25), initAxis(g.y, gv, 25)];
    }
    return t;
  }

  private update(t: TrackState, d: TrackerDetection, tMs: number, toGround?: (u: number, v: number) => Vec2): void {
    const r = this.measurementVar(d);
    const cx = (d.x1 + d.x2) / 2;
    const cy = (d.y1 + d.y2) / 2;
    t.box = [updateAxis(t.box[0], cx, r), updateAxis(t.box[1], cy, r), updateAxis(t.box[2], d.x2 - d.x1, r), updateAxis(t.box[3], d.y2 - d.y1, r)];
    t.score = d.score;
    if (!this.o.matchClass) {
      for (const [c, v] of t.votes) t.votes.set(c, v * this.o.classDecay);
      t.votes.set(d.classId, (t.votes.get(d.classId) ?? 0) + d.score);
      let best = t.classId;
      for (const [c, v] of t.votes) if (v > (t.votes.get(best) ?? 0)) best = c;
      t.classId = best;
    }
    t.hits++;
    t.misses = 0;
    t.lastSeenMs = tMs;
    t.scoreSum += d.score;
    if (t.hits >= t.needHits) t.confirmed = true;
    const g = toGround?.(cx, cy);
    if (g) {
      const gv = this.o.groundMeasurementStd ** 2;
      t.ground = t.ground ? [updateAxis(t.ground[0], g.x, gv), updateAxis(t.ground[1], g.y, gv)] : [initAxis(g.x, gv, 25), initAxis(g.y, gv, 25)];
    }
  }

  private view(t: TrackState): TrackView {
    return {
      id: t.id,
      classId: t.classId,
      score: t.score,
      box: boxOf(t),
      pixelVelocity: { x: t.box[0].v, y: t.box[1].v },
      position: t.ground ? { x: t.ground[0].p, y: t.ground[1].p } : undefined,
      velocity: t.ground ? { x: t.ground[0].v, y: t.ground[1].v } : undefined,
      firstSeenMs: t.firstSeenMs,
      hits: t.hits,
      misses: t.misses,
    };
  }
}
