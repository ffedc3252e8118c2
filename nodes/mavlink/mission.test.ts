import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './testing.js';

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
