/**
 * The bridge's side of the FC protocols, against the simulated FC: parameters set on
 * connection, a route uploaded as a mission, goto through COMMAND_INT DO_REPOSITION where the
 * autopilot advertises COMMAND_INT; on the in-process wire under sim time (deterministic).
 */
import { describe, expect, it } from 'vitest';
import { runVirtual } from '../../app/eval/driver.js';
import { every, SimClock, SystemClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import { makeMsg } from '../../msgs/index.js';
import { msToTime } from '../../runtime/time.js';
import { SimFlightController } from '../../sim/fc/flight-controller.js';
import { SimVehicle } from '../../sim/fc/vehicle.js';
import { mavlinkNode } from './index.js';
import { FAST_VEHICLE, paramMap } from '../../test/support/mavlink-rig.js';

describe('bridge: FC parameters and a route as a mission', () => {
  it('sets fc_params on connection (refusing an unknown one) and uploads route_enu as a mission', async () => {
    const clock = new SimClock(1_000_000);
    const fc = new SimFlightController({ vehicle: new SimVehicle(FAST_VEHICLE), clock, link: { kind: 'memory', name: 'fc-setup-test' } });
    await fc.start();
    const c = new Container({ clock, registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
    try {
      await c.add({
        package: 'kestrel', executable: 'mavlink', remaps: [],
        params: paramMap({ transport: 'memory', port: 'fc-setup-test', fc_params: ['MIS_TAKEOFF_ALT=4', 'COM_OF_LOSS_T=1', 'NO_SUCH_PARAM=1'], route_enu: [10, 0, 5, 10, 10, 5], route_end: 'land' }),
      });
      await c.activateAll();
      await runVirtual(clock, c.compute, clock.now() + 10_000);
      const d = c.diagnostics.forNode('/mavlink').values;
      expect(fc.param('MIS_TAKEOFF_ALT')).toBe(4);
      expect(fc.param('COM_OF_LOSS_T')).toBe(1);
      expect({ set: d.params_set, failed: d.params_failed }).toEqual({ set: '2', failed: '1' });
      expect(c.diagnostics.forNode('/mavlink').status().stages.find((st) => st.name === '/mavlink/params')?.lastError).toMatch(/NO_SUCH_PARAM = 1: no PARAM_VALUE after 4 attempt/);
      // PX4: takeoff, two waypoints, land.
      expect({ uploads: d.mission_uploads, failed: d.mission_upload_failed }).toEqual({ uploads: '1', failed: '0' });
      expect(fc.missionState()).toEqual({ items: 4, current: 0 });
    } finally {
      await c.shutdownAll();
      await fc.stop();
    }
  });

  it('refuses fc_params that are not NAME=VALUE and a route that is not triples', async () => {
    const c = new Container({ clock: new SystemClock(), registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
    await expect(c.add({ package: 'kestrel', executable: 'mavlink', remaps: [], params: paramMap({ transport: 'memory', port: 'x', fc_params: ['MIS_TAKEOFF_ALT'] }) })).rejects.toThrow(/fc_params.*'MIS_TAKEOFF_ALT' is not NAME=VALUE/);
    await expect(c.add({ package: 'kestrel', executable: 'mavlink', remaps: [], params: paramMap({ transport: 'memory', port: 'x', route_enu: [1, 2] }) })).rejects.toThrow(/route_enu.*triples, got 2/);
    await c.shutdownAll();
  });
});

describe('bridge: goto through COMMAND_INT DO_REPOSITION', () => {
  for (const autopilot of ['px4', 'ardupilot'] as const) {
    it(`${autopilot}: flies a goto without streaming setpoints`, async () => {
      const clock = new SimClock(1_000_000);
      const vehicle = new SimVehicle(FAST_VEHICLE);
      const wire = `reposition-${autopilot}`;
      const fc = new SimFlightController({ vehicle, clock, autopilot, link: { kind: 'memory', name: wire } });
      await fc.start();
      const c = new Container({ clock, registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
      try {
        await c.add({ package: 'kestrel', executable: 'mavlink', remaps: [], params: paramMap({ transport: 'memory', port: wire, goto_via: 'reposition', autopilot }) });
        await c.activateAll();
        const pub = c.bus.advertise('/cmd', 'kestrel_msgs/msg/VehicleCommand');
        let seq = 0;
        let cmd: { action: string; target: { x: number; y: number; z: number } } = { action: 'takeoff', target: { x: 0, y: 0, z: 3 } };
        // Like the arbiter: the current decision every 50 ms, valid for 400 ms.
        const tick = every(clock, 50).subscribe(() => {
          const now = clock.now();
          pub.publish(makeMsg('kestrel_msgs/msg/VehicleCommand', { header: { stamp: msToTime(now), frame_id: 'map' }, seq: ++seq, action: cmd.action, target: cmd.target, source: 'mission', valid_until: msToTime(now + 400) }));
        });
        await runVirtual(clock, c.compute, clock.now() + 6000);
        expect(vehicle.truth().z).toBeGreaterThan(2.7);
        cmd = { action: 'goto', target: { x: 8, y: -4, z: 4 } };
        await runVirtual(clock, c.compute, clock.now() + 8000);
        tick.unsubscribe();
        const t = vehicle.truth();
        expect(Math.hypot(t.x - 8, t.y + 4)).toBeLessThan(0.5);
        expect(t.z).toBeCloseTo(4, 0);
        expect(fc.status().mode).toBe(autopilot === 'px4' ? 'AUTO.LOITER' : 'GUIDED');
        expect(fc.stats().setpoints).toBe(0);
        const d = c.diagnostics.forNode('/mavlink').values;
        expect(Number(d.reposition_gotos)).toBeGreaterThan(0);
        expect(Number(d.commands_failed)).toBe(0);
        // One DO_REPOSITION per target, not one per /cmd.
        expect(fc.stats().commands).toBeLessThan(20);
      } finally {
        await c.shutdownAll();
        await fc.stop();
      }
    });
  }
});
