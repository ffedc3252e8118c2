import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../../test/support/mavlink-rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('mavlink bridge ↔ simulated PX4 over a pty pair', () => {
  it('flies takeoff → offboard goto → land and reports state in ENU', async () => {
    rig = await startRig();
    const r = rig;
    const s0 = await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected with a position');
    expect(s0.autopilot).toBe('px4');
    expect(s0.armed).toBe(false);

    const takeoff = r.stream('takeoff', { target: { x: 0, y: 0, z: 4 } });
    await r.waitState((s) => s.armed && s.position.z > 3.7, 8000, 'airborne at 4 m');
    takeoff.stop();

    const go = r.stream('goto', { target: { x: 10, y: 5, z: 4 } });
    const at = await r.waitState((s) => s.mode === 'OFFBOARD' && Math.hypot(s.position.x - 10, s.position.y - 5) < 0.3, 8000, 'at (10, 5) in OFFBOARD');
    go.stop();
    expect(at.position.z).toBeCloseTo(4, 0);
    const truth = r.vehicle.truth();
    expect(truth.x).toBeCloseTo(10, 0);
    expect(truth.y).toBeCloseTo(5, 0);

    const land = r.stream('land');
    await r.waitState((s) => !s.armed && s.position.z < 0.1, 8000, 'landed and disarmed');
    land.stop();
    const d = r.diag();
    expect(Number(d.commands_failed)).toBe(0);
    expect(Number(d.setpoints_sent)).toBeGreaterThan(10);
    expect(Number(d.crcErrors)).toBe(0);
  }, 30000);
});

describe('mavlink bridge: orbit, global setpoints, battery', () => {
  it('orbits a point at the commanded radius', async () => {
    rig = await startRig();
    const r = rig;
    await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected');
    const t = r.stream('takeoff', { target: { x: 0, y: 0, z: 3 } });
    await r.waitState((s) => s.armed && s.position.z > 2.7, 8000, 'airborne');
    t.stop();
    const center = { x: 6, y: 0, z: 3 };
    const o = r.stream('orbit', { target: center, radius: 4, speed: 3 });
    await r.waitState((s) => s.mode === 'OFFBOARD', 3000, 'OFFBOARD');
    await new Promise((res) => setTimeout(res, 3000));
    // After converging, the vehicle stays on the circle and keeps moving along it.
    const dists: number[] = [];
    let angle0: number | undefined;
    let angle1 = 0;
    for (let i = 0; i < 10; i++) {
      const s = await r.waitState(() => true, 1000);
      dists.push(Math.hypot(s.position.x - center.x, s.position.y - center.y));
      angle1 = Math.atan2(s.position.y - center.y, s.position.x - center.x);
      angle0 ??= angle1;
    }
    o.stop();
    expect(Math.min(...dists)).toBeGreaterThan(3.3);
    expect(Math.max(...dists)).toBeLessThan(4.7);
    expect(angle1).not.toBeCloseTo(angle0 ?? 0, 1);
  }, 30000);

  it('sends position targets as SET_POSITION_TARGET_GLOBAL_INT when asked, and reports the battery', async () => {
    rig = await startRig({ params: { setpoint_frame: 'global' } });
    const r = rig;
    const batteries: number[] = [];
    const sub = r.container.bus.subscribe('/battery', 'sensor_msgs/msg/BatteryState').subscribe((b) => batteries.push(b.percentage));
    await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected');
    const t = r.stream('takeoff', { target: { x: 0, y: 0, z: 3 } });
    await r.waitState((s) => s.armed && s.position.z > 2.7, 8000, 'airborne');
    t.stop();
    const go = r.stream('goto', { target: { x: -4, y: 6, z: 5 } });
    const s = await r.waitState((st) => Math.hypot(st.position.x + 4, st.position.y - 6) < 0.3 && Math.abs(st.position.z - 5) < 0.3, 8000, 'at (-4, 6, 5)');
    go.stop();
    expect(r.fc.stats().globalSetpoints).toBeGreaterThan(0);
    expect(s.latitude).toBeGreaterThan(r.vehicle.origin.lat); // north of home
    r.vehicle.setBatteryRemaining(0.42);
    const low = await r.waitState((st) => Math.abs(st.battery_remaining - 0.42) < 0.011, 3000, 'battery 42 %');
    expect(low.battery_voltage).toBeGreaterThan(10);
    sub.unsubscribe();
    expect(batteries.length).toBeGreaterThan(0);
    expect(batteries.at(-1)).toBeCloseTo(0.42, 1);
  }, 30000);
});
