/**
 * The same loop as mavlink-arbiter.test.ts, on an in-process MAVLink wire under sim time:
 * deterministic, no pty, as `kestrel eval` runs it.
 */
import { describe, expect, it } from 'vitest';
import { runVirtual } from '../app/eval/driver.js';
import { arbiterNode } from '../nodes/arbiter/index.js';
import { mavlinkNode } from '../nodes/mavlink/index.js';
import { FAST_VEHICLE, paramMap } from './support/mavlink-rig.js';
import { SimClock } from '../runtime/clock.js';
import { Container } from '../runtime/container.js';
import type { NodeDefinition } from '../runtime/node.js';
import type { ParamDecls } from '../runtime/params.js';
import { SimFlightController, SimVehicle } from '../sim/fc/index.js';

async function flyOnce(): Promise<string> {
  const clock = new SimClock(1_000_000);
  const vehicle = new SimVehicle(FAST_VEHICLE);
  const fc = new SimFlightController({ vehicle, clock, link: { kind: 'memory', name: 'fc-test' } });
  await fc.start();
  const registry = new Map<string, NodeDefinition<ParamDecls>>([['mavlink', mavlinkNode], ['arbiter', arbiterNode]]);
  const c = new Container({ clock, registry, logSink: () => {} });
  await c.add({ package: 'kestrel', executable: 'mavlink', remaps: [], params: paramMap({ transport: 'memory', port: 'fc-test', heartbeat_rate_hz: 5 }) });
  await c.add({
    package: 'kestrel', executable: 'arbiter', remaps: [],
    params: paramMap({ rate_hz: 20, mission_mode: 'hover', mission_point: [6, -3, 4], auto_takeoff: true, takeoff_altitude_m: 4, watch_topics: [], watch_periods_ms: [] }),
  });
  const trace: string[] = [];
  c.bus.subscribe('/cmd', 'kestrel_msgs/msg/VehicleCommand').subscribe((m) => trace.push(`${m.header.stamp.sec}.${m.header.stamp.nanosec} ${m.action} ${m.source}`));
  await c.activateAll();
  await runVirtual(clock, c.compute, clock.now() + 20_000);
  const t = vehicle.truth();
  expect({ mode: t.mode, armed: t.armed }).toEqual({ mode: 'OFFBOARD', armed: true });
  expect(Math.hypot(t.x - 6, t.y + 3)).toBeLessThan(0.5);
  expect(Math.abs(t.z - 4)).toBeLessThan(0.5);
  await c.shutdownAll();
  await fc.stop();
  return trace.join('\n') + `\n${t.x.toFixed(6)} ${t.y.toFixed(6)} ${t.z.toFixed(6)}`;
}

describe('arbiter → mavlink → simulated PX4 over an in-process wire, sim time', () => {
  it('takes off and hovers at the mission point, identically on every run', async () => {
    const a = await flyOnce();
    const b = await flyOnce();
    expect(a.length).toBeGreaterThan(100);
    expect(b).toBe(a);
  }, 60_000);
});
