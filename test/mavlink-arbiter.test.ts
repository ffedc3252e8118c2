/**
 * End to end over a real pty: arbiter (mission: arm, take off, hover at a point) → /cmd →
 * mavlink bridge → MAVLink → simulated PX4 → telemetry → /fc/state → arbiter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { arbiterNode } from '../nodes/arbiter/index.js';
import { mavlinkNode } from '../nodes/mavlink/index.js';
import { FAST_VEHICLE, paramMap } from './support/mavlink-rig.js';
import { SystemClock } from '../runtime/clock.js';
import { Container } from '../runtime/container.js';
import type { NodeDefinition } from '../runtime/node.js';
import type { ParamDecls } from '../runtime/params.js';
import { startSimulatedFc, type SimFcSetup } from '../sim/fc/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('arbiter → mavlink → simulated PX4', () => {
  it('arms, takes off and hovers at the mission point, then holds when the FC goes silent', async () => {
    const clock = new SystemClock();
    const sim: SimFcSetup = await startSimulatedFc({ clock, vehicleOptions: FAST_VEHICLE, fc: { gcsLossTimeoutMs: 3000 } });
    cleanups.push(() => sim.stop());
    const registry = new Map<string, NodeDefinition<ParamDecls>>([['mavlink', mavlinkNode], ['arbiter', arbiterNode]]);
    const c = new Container({ clock, registry, logSink: () => {} });
    cleanups.push(() => c.shutdownAll());
    await c.add({ package: 'kestrel', executable: 'mavlink', remaps: [], params: paramMap({ port: sim.bridgePort ?? '', heartbeat_timeout_ms: 1000, command_timeout_ms: 500, heartbeat_rate_hz: 5 }) });
    await c.add({
      package: 'kestrel', executable: 'arbiter', remaps: [],
      params: paramMap({ rate_hz: 20, mission_mode: 'hover', mission_point: [6, -3, 4], auto_takeoff: true, takeoff_altitude_m: 4, watch_topics: [], watch_periods_ms: [], fc_lost_land_ms: 60000 }),
    });
    await c.activateAll();
    const t0 = Date.now();
    const near = () => {
      const t = sim.vehicle.truth();
      return Math.hypot(t.x - 6, t.y + 3) < 0.5 && Math.abs(t.z - 4) < 0.5;
    };
    while (!near() && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 50));
    const t = sim.vehicle.truth();
    expect({ x: t.x, y: t.y, z: t.z, mode: t.mode, armed: t.armed }).toMatchObject({ mode: 'OFFBOARD', armed: true });
    expect(near()).toBe(true);
    const d = c.diagnostics.forNode('/mavlink').values;
    expect(Number(d.commands_failed)).toBe(0);
    expect(Number(d.cmd_rejected)).toBe(0);

    // The FC stops talking: the bridge reports it, the arbiter falls back to hold, the FC
    // (deaf, but still flying) takes its own offboard-loss failsafe.
    sim.fc.suspend(true);
    const t1 = Date.now();
    // The arbiter sees /fc/state go stale (max_age_ms) even before the heartbeat timeout.
    const settled = () => c.diagnostics.forNode('/arbiter').values.last_source === 'fallback' && c.diagnostics.forNode('/mavlink').values.connected === 'false';
    while (!settled() && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 50));
    expect(c.diagnostics.forNode('/arbiter').values.last_source).toBe('fallback');
    expect(c.diagnostics.forNode('/mavlink').values.connected).toBe('false');
    // The bridge may declare the FC lost before COM_OF_LOSS_T (0.5 s) has passed on the FC: its
    // last heartbeat can be up to 1 s old when the FC goes silent. Give the FC its timeout.
    while (sim.fc.status().mode !== 'AUTO.LOITER' && Date.now() - t1 < 1500) await new Promise((r) => setTimeout(r, 20));
    expect(sim.fc.status().mode).toBe('AUTO.LOITER');
    expect(sim.fc.status().failsafe).toBe('offboard setpoints lost: hold');
  }, 40000);
});
