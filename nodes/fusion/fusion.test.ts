import { describe, expect, it } from 'vitest';
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { SimClock, every } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { msToTime, timeToMs } from '../../runtime/time.js';
import { overrides, vehicleState } from '../../test/support/arbiter.js';
import { fuseWorld, pick, StampBuffer, yawOf } from './align.js';
import { fusionNode } from './index.js';

const tracks = (stampMs: number, ids: number[]): kestrel_msgs.TrackArray =>
  makeMsg('kestrel_msgs/msg/TrackArray', { header: { stamp: msToTime(stampMs) }, tracks: ids.map((id) => makeMsg('kestrel_msgs/msg/Track', { id, class_id: 'person' })) });

describe('approximate-time alignment', () => {
  it('picks the nearest sample within the slop, else the newest (unmatched); keeps stamp order and capacity', () => {
    const b = new StampBuffer<string>(3);
    b.push(100, 'a');
    b.push(300, 'c');
    b.push(200, 'b'); // late arrival, inserted in place
    b.push(400, 'd'); // evicts the oldest
    expect(b.size).toBe(3);
    expect(pick(b, 210, 20)).toEqual({ sample: { stampMs: 200, msg: 'b' }, matched: true });
    expect(pick(b, 250, 20)).toEqual({ sample: { stampMs: 400, msg: 'd' }, matched: false });
    expect(pick(b, 100, 20).sample?.msg).toBe('d');
    expect(pick(new StampBuffer<string>(2), 0, 10)).toEqual({ sample: undefined, matched: false });
    expect(() => new StampBuffer(0)).toThrow(/capacity/);
  });

  it('fuses with the age of every input; stale inputs are flagged and stale tracks left out', () => {
    const now = 10_000;
    const w = fuseWorld(
      {
        tracks: { stampMs: now - 80, msg: tracks(now - 80, [1, 2]) },
        state: { stampMs: now - 70, msg: vehicleState(now - 70, { battery_remaining: 0.8 }) },
        battery: { stampMs: now - 200, msg: makeMsg('sensor_msgs/msg/BatteryState', { voltage: 15.2, percentage: 0.5 }) },
        gps: { stampMs: now - 2000, msg: makeMsg('sensor_msgs/msg/NavSatFix', { latitude: 47 }) },
      },
      { now, maxAgeMs: 500, frameId: 'map' },
    );
    expect(w.inputs.map((i) => [i.name, i.stale, Math.round(i.age_ms)])).toEqual([
      ['tracks', false, 80],
      ['fc_state', false, 70],
      ['imu', true, -1],
      ['gps', true, 2000],
      ['battery', false, 200],
    ]);
    expect(timeToMs(w.header.stamp)).toBe(now - 200); // oldest fresh source stamp
    expect(w.tracks.map((t) => t.id)).toEqual([1, 2]);
    expect(w.vehicle.battery_remaining).toBeCloseTo(0.5);
    expect(w.vehicle.battery_voltage).toBeCloseTo(15.2);
    const stale = fuseWorld({ tracks: { stampMs: now - 900, msg: tracks(now - 900, [1]) } }, { now, maxAgeMs: 500, frameId: 'map' });
    expect(stale.tracks).toEqual([]);
    expect(stale.vehicle.connected).toBe(false);
  });

  it('without a fresh FC state, GPS and IMU fill in position and heading', () => {
    const now = 5000;
    const q = { x: 0, y: 0, z: Math.sin(0.5 / 2), w: Math.cos(0.5 / 2) };
    const w = fuseWorld(
      {
        imu: { stampMs: now - 5, msg: makeMsg('sensor_msgs/msg/Imu', { orientation: q }) },
        gps: { stampMs: now - 50, msg: makeMsg('sensor_msgs/msg/NavSatFix', { latitude: 47.39, longitude: 8.54, altitude: 500 }) },
      },
      { now, maxAgeMs: 500, frameId: 'map' },
    );
    expect(w.vehicle).toMatchObject({ latitude: 47.39, longitude: 8.54, altitude_amsl: 500 });
    expect(w.vehicle.heading).toBeCloseTo(0.5);
    expect(yawOf({ x: 0, y: 0, z: 0, w: 1 })).toBe(0);
  });
});

describe('fusion node under virtual time', () => {
  it('aligns late tracks with the state of their own stamp, publishes on a deadline when tracks stop, counts bad stamps', async () => {
    const clock = new SimClock(1_000_000);
    const c = new Container({ clock, registry: new Map([['fusion', fusionNode as unknown as NodeDefinition<ParamDecls>]]), logSink: () => {} });
    await c.add({ package: 'kestrel', executable: 'fusion', params: overrides({ slop_ms: 15, max_period_ms: 150, max_age_ms: 300 }), remaps: [] });
    await c.activateAll();
    const worlds: { at: number; w: kestrel_msgs.WorldState }[] = [];
    c.bus.subscribe('/world', 'kestrel_msgs/msg/WorldState').subscribe((w) => worlds.push({ at: clock.now(), w }));
    const fc = c.bus.advertise('/fc/state', 'kestrel_msgs/msg/VehicleState');
    const tr = c.bus.advertise('/tracks', 'kestrel_msgs/msg/TrackArray');
    const imu = c.bus.advertise('/imu/data', 'sensor_msgs/msg/Imu', QOS_SENSOR_DATA);
    // FC state every 20 ms; its x position encodes its stamp so the test can see which was chosen.
    every(clock, 20).subscribe(() => fc.publish(vehicleState(clock.now(), { position: { x: clock.now() - 1_000_000, y: 0, z: 10 } })));
    let tracksOn = true;
    // Tracks every 100 ms, 80 ms after the frame they describe (perception latency).
    every(clock, 100).subscribe(() => {
      if (tracksOn) tr.publish(tracks(clock.now() - 80, [clock.now()]));
    });
    clock.advanceBy(1000);
    const byTracks = worlds.filter((x) => x.w.tracks.length > 0);
    expect(byTracks.length).toBe(10);
    for (const { at, w } of byTracks) {
      const frame = at - 80 - 1_000_000;
      expect(w.vehicle.position.x).toBe(frame); // the state sample at the frame's stamp, not the newest
      expect(w.inputs.find((i) => i.name === 'tracks')?.age_ms).toBe(80);
      expect(timeToMs(w.header.stamp)).toBe(at - 80);
    }
    tracksOn = false;
    const before = worlds.length;
    clock.advanceBy(1000);
    const late = worlds.slice(before);
    // No tracks: a world every max_period_ms all the same.
    expect(late.map((x) => x.at - 1_001_000)).toEqual([150, 300, 450, 600, 750, 900]);
    const last = late.at(-1)!.w;
    expect(last.tracks).toEqual([]);
    expect(last.inputs.find((i) => i.name === 'tracks')).toMatchObject({ stale: true });
    expect(last.inputs.find((i) => i.name === 'fc_state')).toMatchObject({ stale: false });
    imu.publish(makeMsg('sensor_msgs/msg/Imu', {}));
    const diag = c.diagnostics.all().find((n) => n.node === '/fusion')!;
    expect(diag.stages.find((s) => s.name === '/fusion/input')?.drops).toBe(1);
    expect(diag.values.last_drop).toMatch(/\/imu\/data: zero/);
    expect(Number(diag.values.deadline_publishes)).toBe(6);
    await c.shutdownAll();
  });
});
