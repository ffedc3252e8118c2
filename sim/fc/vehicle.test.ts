import { describe, expect, it } from 'vitest';
import { SimVehicle, enuToGeo, geoToEnu, DEFAULT_ORIGIN } from './vehicle.js';

function run(v: SimVehicle, ms: number, dt = 20): void {
  for (let t = 0; t < ms; t += dt) v.step(dt);
}

describe('SimVehicle', () => {
  it('stays on the ground while disarmed and drains no battery', () => {
    const v = new SimVehicle();
    v.setTarget({ kind: 'position', x: 10, y: 0, z: 5 });
    run(v, 2000);
    const t = v.truth();
    expect([t.x, t.y, t.z, t.battery_remaining]).toEqual([0, 0, 0, 1]);
  });

  it('flies to a position target, limited in speed, and drains the battery', () => {
    const v = new SimVehicle({ maxSpeed: 5, drainPerSecond: 0.01 });
    v.setArmed(true);
    v.setTarget({ kind: 'position', x: 20, y: 10, z: 10 });
    let maxH = 0;
    for (let t = 0; t < 30000; t += 20) {
      v.step(20);
      const s = v.truth();
      maxH = Math.max(maxH, Math.hypot(s.vx, s.vy));
    }
    const s = v.truth();
    expect(s.x).toBeCloseTo(20, 1);
    expect(s.y).toBeCloseTo(10, 1);
    expect(s.z).toBeCloseTo(10, 1);
    expect(maxH).toBeLessThanOrEqual(5 + 1e-9);
    expect(s.battery_remaining).toBeCloseTo(0.7, 2);
    expect(s.battery_voltage).toBeGreaterThan(14);
  });

  it('follows velocity targets and yaw', () => {
    const v = new SimVehicle();
    v.setArmed(true);
    v.setTarget({ kind: 'velocity', vx: 0, vy: 0, vz: 2 });
    run(v, 3000);
    v.setTarget({ kind: 'velocity', vx: 1, vy: 0, vz: 0, yaw: 0 });
    run(v, 4000);
    const s = v.truth();
    expect(s.vx).toBeCloseTo(1, 5);
    expect(s.yaw).toBeCloseTo(0, 2);
  });

  it('holds where hold began, lands and stops on the ground', () => {
    const v = new SimVehicle();
    v.setArmed(true);
    v.setTarget({ kind: 'position', x: 0, y: 0, z: 5 });
    run(v, 10000);
    v.setTarget({ kind: 'velocity', vx: 2, vy: 0, vz: 0 });
    run(v, 2000);
    v.setTarget({ kind: 'hold' });
    run(v, 5000);
    const held = v.truth();
    expect(Math.hypot(held.vx, held.vy)).toBeLessThan(0.05);
    v.setTarget({ kind: 'land' });
    run(v, 10000);
    expect(v.landed()).toBe(true);
    expect(v.truth().z).toBe(0);
  });

  it('drifts with a wind gust until it adapts', () => {
    const v = new SimVehicle({ windAdaptS: 2 });
    v.setArmed(true);
    v.setTarget({ kind: 'position', x: 0, y: 0, z: 5 });
    run(v, 10000);
    v.setWind({ x: 5, y: 0 });
    run(v, 1000);
    expect(v.truth().x).toBeGreaterThan(0.5);
    run(v, 30000);
    expect(Math.abs(v.truth().x)).toBeLessThan(0.2);
  });

  it('rejects an out-of-range battery fraction', () => {
    expect(() => new SimVehicle().setBatteryRemaining(1.5)).toThrow(/0\.\.1/);
  });

  it('converts ENU to geodetic and back', () => {
    const g = enuToGeo(DEFAULT_ORIGIN, 100, -50, 20);
    const e = geoToEnu(DEFAULT_ORIGIN, g.lat, g.lon, g.alt);
    expect(e.x).toBeCloseTo(100, 6);
    expect(e.y).toBeCloseTo(-50, 6);
    expect(e.z).toBeCloseTo(20, 6);
  });
});
