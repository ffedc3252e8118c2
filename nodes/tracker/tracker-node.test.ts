import { afterEach, describe, expect, it } from 'vitest';
import { makeMsg, type kestrel_msgs, type vision_msgs } from '../../msgs/index.js';
import { Container } from '../../runtime/container.js';
import { SimClock } from '../../runtime/clock.js';
import { groundToPixel, intrinsicsFromFov } from '../../lib/geo/geometry.js';
import type { ParamOverride, ParamType, ParamValue } from '../../runtime/params.js';
import { tracker } from './index.js';

function params(o: Record<string, [ParamValue, ParamType]>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([k, [value, type]]) => [k, { value, type, source: 'test' }]));
}

const k = intrinsicsFromFov(320, 240, (60 * Math.PI) / 180);
const pose = { x: 10, y: 20, altitude: 20, yaw: Math.PI / 2 };

function detections(ms: number, objs: { x: number; y: number; cls?: string; score?: number; size?: number }[], frame = 'cam'): vision_msgs.Detection2DArray {
  return makeMsg('vision_msgs/msg/Detection2DArray', {
    header: { stamp: { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 }, frame_id: frame },
    detections: objs.map((o) => {
      const px = groundToPixel({ x: o.x, y: o.y }, k, pose);
      const s = o.size ?? 8;
      return makeMsg('vision_msgs/msg/Detection2D', {
        results: [makeMsg('vision_msgs/msg/ObjectHypothesisWithPose', { hypothesis: { class_id: o.cls ?? 'person', score: o.score ?? 0.9 } })],
        bbox: { center: { position: { x: px.x, y: px.y } }, size_x: s, size_y: s },
      });
    }),
  });
}

let c: Container | undefined;
afterEach(async () => {
  await c?.shutdownAll();
  c = undefined;
});

async function start(extra: Record<string, [ParamValue, ParamType]>) {
  c = new Container({ clock: new SimClock(0), registry: new Map([['tracker', tracker]]), logSink: () => undefined });
  await c.add({ package: 'kestrel', executable: 'tracker', params: params(extra), remaps: [] });
  await c.activateAll();
  const got: kestrel_msgs.TrackArray[] = [];
  c.bus.subscribe('/tracks', 'kestrel_msgs/msg/TrackArray').subscribe((m) => got.push(m));
  return { c, got, pub: c.bus.advertise('/detections', 'vision_msgs/msg/Detection2DArray'), status: () => c!.diagnostics.all()[0] };
}

describe('tracker node', () => {
  it('publishes stable ids, ENU positions and velocities, and region membership (fixed camera)', async () => {
    const { got, pub } = await start({
      'camera.pose_source': ['fixed', 'string'],
      'camera.x': [10, 'double'],
      'camera.y': [20, 'double'],
      'camera.altitude': [20, 'double'],
      'camera.yaw_deg': [90, 'double'],
      'regions.queue': [[0, 15, 12, 15, 12, 25, 0, 25], 'double[]'],
      'regions.gate': [[20, 0, 30, 0, 30, 40], 'double[]'],
    });
    // 5 Hz: a walker heading east at 1 m/s from x = 5 through the queue (x ≤ 12); a bag standing still in it.
    for (let s = 0; s <= 50; s++) pub.publish(detections(100_000 + 200 * s, [{ x: 5 + 0.2 * s, y: 20 }, { x: 8, y: 18, cls: 'bag' }]));
    expect(got).toHaveLength(51);
    const last = got[50];
    expect(last.header.stamp).toEqual({ sec: 110, nanosec: 0 });
    expect(last.header.frame_id).toBe('map');
    const walker = last.tracks.find((t) => t.class_id === 'person') as kestrel_msgs.Track;
    const bag = last.tracks.find((t) => t.class_id === 'bag') as kestrel_msgs.Track;
    expect(walker.id).toBe(1);
    expect(bag.id).toBe(2);
    expect(walker.hits).toBe(51);
    expect(walker.first_seen).toEqual({ sec: 100, nanosec: 0 });
    expect(walker.position.x).toBeCloseTo(15, 0);
    expect(walker.position.y).toBeCloseTo(20, 0);
    expect(walker.velocity.x).toBeCloseTo(1, 1);
    expect(Math.abs(walker.velocity.y)).toBeLessThan(0.1);
    expect(Math.hypot(bag.velocity.x, bag.velocity.y)).toBeLessThan(0.05);
    // Region membership follows the ground point: the walker is in the queue up to x = 12 (frame 35), out after.
    const inQueue = got.map((m) => m.tracks.find((t) => t.id === 1)?.regions.join(','));
    expect(inQueue.slice(2, 33).every((r) => r === 'queue')).toBe(true);
    expect(inQueue.slice(38).every((r) => r === '')).toBe(true);
    expect(bag.regions).toEqual(['queue']);
  });

  it('takes the pose from /fc/state and reports frames it cannot place', async () => {
    const { c, got, pub, status } = await start({});
    const state = c.bus.advertise('/fc/state', 'kestrel_msgs/msg/VehicleState');
    pub.publish(detections(1000, [{ x: 10, y: 20 }]));
    pub.publish(detections(2000, [{ x: 10, y: 20 }]));
    expect(got[1].header.frame_id).toBe('cam'); // no pose: image space only
    expect(got[1].tracks[0].position).toEqual({ x: 0, y: 0, z: 0 });
    state.publish(makeMsg('kestrel_msgs/msg/VehicleState', { header: { stamp: { sec: 3, nanosec: 0 } }, connected: true, position: { x: 10, y: 20, z: 20 }, heading: Math.PI / 2 }));
    pub.publish(detections(3000, [{ x: 10.1, y: 20.1 }]));
    expect(got[2].header.frame_id).toBe('map');
    expect(got[2].tracks[0].position.x).toBeCloseTo(10.1, 1);
    expect(got[2].tracks[0].position.y).toBeCloseTo(20.1, 1);
    pub.publish(detections(9000, [{ x: 10.1, y: 20.1 }])); // state now 6 s old
    expect(got[3].header.frame_id).toBe('cam');
    expect(status().values).toMatchObject({ 'pose_missing.no_state': '2', 'pose_missing.stale_state': '1' });
  });

  it('drops malformed detections with a count, and restarts when time goes back', async () => {
    const { got, pub, status } = await start({ 'camera.pose_source': ['none', 'string'] });
    const bad = detections(1000, [{ x: 10, y: 20 }, { x: 12, y: 20 }]);
    bad.detections[1].bbox.size_x = Number.NaN;
    pub.publish(bad);
    pub.publish(detections(2000, [{ x: 10, y: 20 }]));
    expect(got[1].tracks.map((t) => t.id)).toEqual([1]);
    pub.publish(detections(1000, [{ x: 10, y: 20 }])); // a bag looped
    expect(got[2].tracks).toEqual([]); // new timeline, new tentative track
    expect(status().values).toMatchObject({ 'dropped.invalid_detection': '1', 'resets.time_jump': '1' });
  });

  it('refuses a malformed region polygon by name', async () => {
    await expect(start({ 'regions.queue': [[0, 0, 1, 1], 'double[]'] })).rejects.toThrow(/parameter regions.queue: expected \[x0, y0, x1, y1, \.\.\.\] with at least 3 points, got 4 numbers/);
  });
});
