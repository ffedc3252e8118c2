import { describe, expect, it } from 'vitest';
import { assign } from './assign.js';
import { initAxis, predictAxis, updateAxis } from './kalman.js';
import { MultiTracker, type TrackerDetection } from './tracker.js';

const det = (cx: number, cy: number, size: number, score = 0.9, classId = 'person'): TrackerDetection => ({
  x1: cx - size / 2,
  y1: cy - size / 2,
  x2: cx + size / 2,
  y2: cy + size / 2,
  score,
  classId,
});

describe('assign', () => {
  it('finds the optimal assignment where greedy would not', () => {
    // Greedy takes (0,0)=1 then (1,1)=10: total 11. Optimal: (0,1)+(1,0) = 2+3 = 5.
    expect(assign([[1, 2], [3, 10]], 100)).toEqual([[0, 1], [1, 0]]);
  });
  it('handles rectangular matrices and gates costly pairs', () => {
    expect(assign([[0.1, 0.9, 0.5]], 1)).toEqual([[0, 0]]);
    expect(assign([[0.9], [0.2], [0.5]], 1)).toEqual([[1, 0]]);
    expect(assign([[0.9, Infinity], [Infinity, 0.3]], 0.5)).toEqual([[1, 1]]);
    expect(assign([], 1)).toEqual([]);
  });
});

describe('kalman axis', () => {
  it('learns a constant velocity from positions alone', () => {
    let a = initAxis(0, 1, 100);
    for (let i = 1; i <= 30; i++) a = updateAxis(predictAxis(a, 0.1, 0.1), 2 * i * 0.1, 0.01);
    expect(a.v).toBeCloseTo(2, 1);
    expect(a.p).toBeCloseTo(6, 1);
  });
});

describe('MultiTracker', () => {
  // A camera that sees 0.1 m per pixel, image origin at ENU (0, 0), v pointing south.
  const toGround = (u: number, v: number) => ({ x: u * 0.1, y: -v * 0.1 });

  it('keeps ids of crossing-free movers and estimates their velocities', () => {
    const tr = new MultiTracker();
    let out = tr.step([], 0);
    for (let f = 0; f <= 20; f++) {
      const t = f * 100;
      out = tr.step([det(100 + 3 * f, 100, 10), det(300, 200 - 2 * f, 12, 0.8)], t, toGround);
    }
    expect(out.map((t) => t.id).sort()).toEqual([1, 2]);
    const a = out.find((t) => t.id === 1);
    const b = out.find((t) => t.id === 2);
    expect(a?.hits).toBe(21);
    expect(a?.pixelVelocity.x).toBeCloseTo(30, 0); // 3 px per 100 ms
    expect(a?.velocity?.x).toBeCloseTo(3, 0); // 30 px/s × 0.1 m/px
    expect(Math.abs(a?.velocity?.y ?? 1)).toBeLessThan(0.2);
    expect(b?.velocity?.y).toBeCloseTo(2, 0); // moving up the image = north
    expect(a?.position?.x).toBeCloseTo(16, 0);
    expect(a?.firstSeenMs).toBe(0);
  });

  it('follows the camera: a standing person seen from a drone moving 10 px a frame keeps one track (camera motion compensation)', () => {
    // 0.1 m per pixel; the camera moves 1 m east per frame (a patrol at 5 m/s, 5 Hz); the person
    // stands at ENU (10, -10) and so slides 10 px west per frame, more than its 7 px box.
    const cam = (f: number) => ({ toGround: (u: number, v: number) => ({ x: f + u * 0.1, y: -v * 0.1 }), toPixel: (g: { x: number; y: number }) => ({ x: (g.x - f) / 0.1, y: -g.y / 0.1 }) });
    const run = (compensate: boolean) => {
      const tr = new MultiTracker();
      let out: ReturnType<MultiTracker['step']> = [];
      for (let f = 0; f < 10; f++) {
        const c = cam(f);
        out = tr.step([det((10 - f) / 0.1, 100, 7)], f * 200, c.toGround, compensate ? c.toPixel : undefined);
      }
      return out;
    };
    // Without it no second detection overlaps the first: the track never confirms.
    expect(run(false)).toEqual([]);
    const out = run(true);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ id: 1, hits: 10, misses: 0 });
    expect(out[0].position?.x).toBeCloseTo(10, 1);
    expect(out[0].position?.y).toBeCloseTo(-10, 1);
    // The box filter carries the object's own motion, none here.
    expect(Math.abs(out[0].pixelVelocity.x)).toBeLessThan(1);
  });

  it('confirms after minHits and holds an id through a low-score frame (ByteTrack second stage)', () => {
    const tr = new MultiTracker({ minHits: 2 });
    expect(tr.step([det(50, 50, 10)], 0)).toHaveLength(0); // tentative
    expect(tr.step([det(51, 50, 10)], 100).map((t) => t.id)).toEqual([1]);
    const low = tr.step([det(52, 50, 10, 0.3)], 200);
    expect(low.map((t) => [t.id, t.misses])).toEqual([[1, 0]]);
    expect(tr.all).toHaveLength(1); // the low-score box did not start a second track
    // A lone low-score detection never starts a track.
    tr.step([det(52, 50, 10, 0.3), det(400, 400, 10, 0.3)], 300);
    expect(tr.all).toHaveLength(1);
  });

  it('coasts through missed frames, then drops the track after maxMisses', () => {
    const tr = new MultiTracker({ maxMisses: 5 });
    for (let f = 0; f < 5; f++) tr.step([det(100 + 2 * f, 100, 10)], f * 100);
    for (let f = 5; f < 9; f++) {
      const out = tr.step([], f * 100);
      expect(out[0].misses).toBe(f - 4);
      expect(out[0].box.x1).toBeGreaterThan(100); // predicted forward with its velocity
    }
    const back = tr.step([det(118, 100, 10)], 900);
    expect(back.map((t) => t.id)).toEqual([1]);
    for (let f = 10; f < 17; f++) tr.step([], f * 100);
    expect(tr.all).toHaveLength(0);
    tr.step([det(118, 100, 10)], 1700);
    tr.step([det(118, 100, 10)], 1800);
    expect(tr.step([det(118, 100, 10)], 1900).map((t) => t.id)).toEqual([2]); // a new id
  });

  it('matches small fast objects through the buffered IoU, and never across classes', () => {
    const tr = new MultiTracker();
    // 6 px boxes moving 5 px per frame: plain IoU between frames is 0.09, below matchIou.
    for (let f = 0; f < 6; f++) tr.step([det(100 + 5 * f, 100, 6)], f * 100);
    expect(tr.all.map((t) => t.id)).toEqual([1]);
    const out = tr.step([det(130, 100, 6, 0.9, "bag")], 600);
    expect(out.map((t) => [t.id, t.misses])).toEqual([[1, 1]]);
    expect(tr.all.map((t) => t.classId)).toEqual(['person', 'bag']);
  });

  it('is deterministic and refuses time going back', () => {
    const run = () => {
      const tr = new MultiTracker();
      const res = [];
      for (let f = 0; f < 10; f++) res.push(tr.step([det(10 + f, 10, 8), det(60, 60 - f, 8), det(61, 61, 8, 0.4)], f * 50, toGround));
      return JSON.stringify(res);
    };
    expect(run()).toBe(run());
    const tr = new MultiTracker();
    tr.step([], 1000);
    expect(() => tr.step([], 900)).toThrow(/time went back from 1000 ms to 900 ms/);
  });
});

describe('MultiTracker under detector flicker', () => {
  it('class-agnostic association: a bag whose class flickers stays one track of its majority class', () => {
    // 5 Hz, a 7 px object at (100, 80): 'bag' on 6 frames of 10, 'person' on 4 (in pairs).
    const classes = ['bag', 'person', 'person', 'bag', 'bag', 'person', 'person', 'bag', 'bag', 'bag'];
    const strict = new MultiTracker({ minHits: 2 });
    const voting = new MultiTracker({ minHits: 2, matchClass: false });
    let a = strict.step([], 0);
    let b = voting.step([], 0);
    classes.forEach((c, i) => {
      a = strict.step([det(100, 80, 7, c === 'bag' ? 0.8 : 0.6, c)], (i + 1) * 200);
      b = voting.step([det(100, 80, 7, c === 'bag' ? 0.8 : 0.6, c)], (i + 1) * 200);
    });
    // Strict: a person track sits on the bag (it would 'attend' it); voting: one bag track.
    expect(new Set(a.map((t) => t.classId))).toEqual(new Set(['bag', 'person']));
    expect(b).toHaveLength(1);
    expect(b[0].classId).toBe('bag');
    expect(b[0].hits).toBe(10);
  });

  it('a confirmed track coasts through missed frames and keeps its id and first_seen', () => {
    const t = new MultiTracker({ minHits: 2, maxMisses: 15 });
    let out = t.step([det(50, 50, 8)], 0);
    out = t.step([det(50, 50, 8)], 200);
    const id = out[0].id;
    // 10 missed frames (2 s), then seen again at the same place.
    for (let i = 2; i < 12; i++) out = t.step([], i * 200);
    expect(out[0]).toMatchObject({ id, misses: 10 });
    out = t.step([det(50.5, 50, 8)], 12 * 200);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ id, misses: 0, firstSeenMs: 0 });
  });
});

describe('MultiTracker confirmation by persistence (lowStartHits)', () => {
  // The mission's settings: tracks start at 0.5 from one detection (+ minHits 2), or from five
  // consecutive low-score ones at one place.
  const opts = { highThreshold: 0.5, newTrackThreshold: 0.5, minHits: 2, lowStartHits: 5, matchClass: false };

  it('a bag seen at 0.3-0.45 on consecutive frames gets a track on the fifth, with first_seen at the first', () => {
    const tr = new MultiTracker(opts);
    const scores = [0.32, 0.41, 0.3, 0.45, 0.38, 0.35];
    const out = scores.map((s, i) => tr.step([det(100 + (i % 2) * 0.5, 80, 8, s, 'bag')], i * 200));
    expect(out.slice(0, 4).map((o) => o.length)).toEqual([0, 0, 0, 0]);
    expect(out[4]).toHaveLength(1);
    expect(out[4][0]).toMatchObject({ classId: 'bag', hits: 5, firstSeenMs: 0 });
    expect(out[5].map((t) => t.id)).toEqual([out[4][0].id]);
  });

  it('low-score clutter that skips a frame never gets a track (the count restarts at each miss)', () => {
    const tr = new MultiTracker(opts);
    for (let i = 0; i < 40; i++) {
      // Seen four frames of every five: never five in a row.
      const out = tr.step(i % 5 === 4 ? [] : [det(200, 150, 8, 0.4, 'bag')], i * 200);
      expect(out).toHaveLength(0);
    }
  });

  it('is off at 0: the same persistent low-score detections never start a track', () => {
    const tr = new MultiTracker({ ...opts, lowStartHits: 0 });
    for (let i = 0; i < 20; i++) expect(tr.step([det(100, 80, 8, 0.4, 'bag')], i * 200)).toHaveLength(0);
    expect(tr.all).toHaveLength(0);
  });

  it('a low-score detection that extends an existing track starts no second track on it', () => {
    const tr = new MultiTracker(opts);
    tr.step([det(50, 50, 10, 0.9)], 0);
    tr.step([det(50, 50, 10, 0.9)], 200);
    for (let i = 2; i < 12; i++) tr.step([det(50, 50, 10, 0.35)], i * 200);
    expect(tr.all).toHaveLength(1);
    expect(tr.all[0]).toMatchObject({ id: 1, hits: 12, confirmed: true });
  });

  it('a person who stops (a walking track overshoots and is lost) is re-acquired from low scores', () => {
    const tr = new MultiTracker(opts);
    // Walks at 6 px a frame at 0.6, then stands still at x = 130 with scores 0.35-0.48.
    let t = 0;
    for (let x = 100; x <= 130; x += 6, t += 200) tr.step([det(x, 60, 7, 0.6)], t);
    const standing = [0.42, 0.35, 0.47, 0.4, 0.48, 0.38, 0.45, 0.41, 0.46, 0.37];
    let out: ReturnType<MultiTracker['step']> = [];
    for (const s of standing) {
      out = tr.step([det(130, 60, 7, s)], t);
      t += 200;
    }
    const near = out.filter((k) => Math.abs((k.box.x1 + k.box.x2) / 2 - 130) < 3 && k.misses === 0);
    expect(near).toHaveLength(1);
  });

  it('the mean-score floor: clutter at 0.31-0.34 stays tentative, a person at 0.35-0.48 is confirmed, a bag has its own floor', () => {
    const floor = { ...opts, lowStartMinMean: 0.37, lowStartMinMeanByClass: { bag: 0.2 } };
    const clutter = new MultiTracker(floor);
    for (let i = 0; i < 30; i++) expect(clutter.step([det(80, 80, 7, [0.31, 0.34, 0.32][i % 3])], i * 200)).toHaveLength(0);
    expect(clutter.all).toHaveLength(1); // one hidden track all along, no duplicates
    const person = new MultiTracker(floor);
    const ps = [0.42, 0.35, 0.47, 0.4, 0.48];
    expect(ps.map((s, i) => person.step([det(80, 80, 7, s)], i * 200).length)).toEqual([0, 0, 0, 0, 1]);
    const bag = new MultiTracker(floor);
    const bs = [0.22, 0.18, 0.3, 0.25, 0.21];
    expect(bs.map((s, i) => bag.step([det(80, 80, 8, s, 'bag')], i * 200).length)).toEqual([0, 0, 0, 0, 1]);
  });

  it('a persistence track confirmed as a bag that turns into a person must also hold the person floor', () => {
    const tr = new MultiTracker({ ...opts, lowStartMinMean: 0.37, lowStartMinMeanByClass: { bag: 0.2 } });
    const seq: [number, string][] = [[0.22, 'bag'], [0.25, 'bag'], [0.2, 'bag'], [0.24, 'bag'], [0.22, 'bag'], [0.39, 'person'], [0.38, 'person'], [0.39, 'person'], [0.4, 'person']];
    const out = seq.map(([s, c], i) => tr.step([det(80, 80, 7, s, c)], i * 200));
    expect(out[4].map((k) => k.classId)).toEqual(['bag']);
    // Votes make it a person (0.39 x 4 > the decayed bag votes), but its mean (~0.3) is under 0.37.
    expect(tr.all[0].classId).toBe('person');
    expect(out[8]).toHaveLength(0);
  });
});
