/**
 * Camera → perception (kestrel-det, real ONNX Runtime) → tracker, on frames the simulator
 * renders of a person walking east past a parked car, seen by a fixed camera 15 m up.
 * Checks what the rules need: one stable id for the walker, a ground velocity close to the
 * truth, a car that stays put, and region membership.
 */
import { fileURLToPath } from 'node:url';
import { firstValueFrom, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { Container } from '../../runtime/container.js';
import { intrinsicsFromFov } from '../../lib/geo/geometry.js';
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls, ParamOverride, ParamType, ParamValue } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { msToTime } from '../../runtime/time.js';
import { renderFrame, type SimObject } from '../../sim/render.js';
import { perception } from '../perception/index.js';
import { tracker } from './index.js';

const MODEL = fileURLToPath(new URL('../../models/detector/kestrel-det.onnx', import.meta.url));
const W = 320;
const H = 240;
const k = intrinsicsFromFov(W, H, (60 * Math.PI) / 180);
const pose = { x: 0, y: 0, altitude: 15, yaw: Math.PI / 2 };

function params(o: Record<string, [ParamValue, ParamType]>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([key, [value, type]]) => [key, { value, type, source: 'test' }]));
}

let c: Container | undefined;
afterEach(async () => {
  await c?.shutdownAll();
  c = undefined;
});

describe('perception → tracker on rendered frames', () => {
  it('tracks a walker with one id and its velocity, and a parked car as still', async () => {
    c = new Container({ registry: new Map<string, NodeDefinition<ParamDecls>>([['perception', perception], ['tracker', tracker]]), logSink: () => undefined });
    await c.add({ package: 'kestrel', executable: 'perception', params: params({ model_path: [MODEL, 'string'] }), remaps: [] });
    await c.add({
      package: 'kestrel',
      executable: 'tracker',
      params: params({
        'camera.pose_source': ['fixed', 'string'],
        'camera.altitude': [pose.altitude, 'double'],
        'camera.yaw_deg': [90, 'double'],
        'regions.crossing': [[-1, -10, 1, -10, 1, 10, -1, 10], 'double[]'],
      }),
      remaps: [],
    });
    await c.activateAll();
    const pub = c.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
    const tracks$ = c.bus.subscribe('/tracks', 'kestrel_msgs/msg/TrackArray');

    const speed = 1.2; // m/s east
    const out: kestrel_msgs.TrackArray[] = [];
    for (let i = 0; i < 20; i++) {
      const t = 200 * i; // 5 Hz
      const objects: SimObject[] = [
        { id: 1, class_id: 'person', x: -5 + (speed * t) / 1000, y: 1.5, yaw: 0, style: 11 },
        { id: 2, class_id: 'vehicle', x: -3, y: -4, yaw: 0, style: 5 },
      ];
      const f = renderFrame(objects, k, pose, { seed: 100 + i, background: { seed: 3, material: 'concrete' }, noise: 2 });
      const next = firstValueFrom(tracks$.pipe(take(1)));
      pub.publish(makeMsg('sensor_msgs/msg/Image', { header: { stamp: msToTime(1_000_000 + t), frame_id: 'cam' }, width: W, height: H, encoding: 'rgb8', step: W * 3, data: f.data }));
      out.push(await next);
    }
    const last = out[out.length - 1];
    const walker = last.tracks.find((t) => t.class_id === 'person');
    const car = last.tracks.find((t) => t.class_id === 'vehicle');
    expect(walker, JSON.stringify(last.tracks)).toBeDefined();
    expect(car).toBeDefined();
    // One id for the walker over the last 10 frames (confirmation takes the first few).
    const ids = new Set(out.slice(10).flatMap((m) => m.tracks.filter((t) => t.class_id === 'person').map((t) => t.id)));
    expect([...ids]).toEqual([walker?.id]);
    const truthX = -5 + speed * 3.8;
    expect(walker?.position.x).toBeCloseTo(truthX, -0.3); // within ~1 m
    expect(walker?.position.y).toBeCloseTo(1.5, -0.3);
    expect(walker?.velocity.x).toBeGreaterThan(0.7);
    expect(walker?.velocity.x).toBeLessThan(1.7);
    expect(Math.hypot(car?.velocity.x ?? 9, car?.velocity.y ?? 9)).toBeLessThan(0.3);
    // The crossing region spans x in [-1, 1]: the walker (x = -2.6 at frame 10) enters it at frame 17.
    const regionsAt = (i: number) => out[i].tracks.find((t) => t.id === walker?.id)?.regions ?? [];
    expect(regionsAt(10)).toEqual([]);
    expect(regionsAt(19)).toEqual(['crossing']);
  }, 60_000);
});
