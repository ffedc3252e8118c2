/**
 * The bridge's side of the FC protocols, against the simulated FC over a pty: parameters set
 * on connection, a route uploaded as a mission, goto through COMMAND_INT DO_REPOSITION where
 * the autopilot advertises COMMAND_INT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import { mavlinkNode } from './index.js';
import { paramMap, startRig, type Rig } from '../../test/support/mavlink-rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('bridge: FC parameters and a route as a mission', () => {
  it('sets fc_params on connection (refusing an unknown one) and uploads route_enu as a mission', async () => {
    rig = await startRig({ params: { fc_params: ['MIS_TAKEOFF_ALT=4', 'COM_OF_LOSS_T=1', 'NO_SUCH_PARAM=1'], route_enu: [10, 0, 5, 10, 10, 5], route_end: 'land' } });
    const r = rig;
    await until(() => Number(r.diag().params_set) + Number(r.diag().params_failed) === 3, 8000, 'three parameter sets answered or given up');
    expect(r.fc.param('MIS_TAKEOFF_ALT')).toBe(4);
    expect(r.fc.param('COM_OF_LOSS_T')).toBe(1);
    expect(Number(r.diag().params_failed)).toBe(1);
    await until(() => r.diag().mission_uploads === '1', 5000, 'route uploaded');
    // PX4: takeoff, two waypoints, land.
    expect(r.fc.missionState()).toEqual({ items: 4, current: 0 });
    expect(Number(r.diag().mission_upload_failed)).toBe(0);
  }, 20000);

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
      rig = await startRig({ fc: { autopilot }, params: { goto_via: 'reposition', autopilot } });
      const r = rig;
      await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected');
      const t = r.stream('takeoff', { target: { x: 0, y: 0, z: 3 } });
      await r.waitState((s) => s.armed && s.position.z > 2.7, 8000, 'airborne');
      t.stop();
      await sleep(300);
      const go = r.stream('goto', { target: { x: 8, y: -4, z: 4 } });
      const at = await r.waitState((s) => Math.hypot(s.position.x - 8, s.position.y + 4) < 0.5 && Math.abs(s.position.z - 4) < 0.3, 8000, 'at (8, -4, 4)');
      go.stop();
      expect(at.mode).toBe(autopilot === 'px4' ? 'AUTO.LOITER' : 'GUIDED');
      expect(r.fc.stats().setpoints).toBe(0);
      expect(Number(r.diag().reposition_gotos)).toBeGreaterThan(0);
      expect(Number(r.diag().commands_failed)).toBe(0);
      // One DO_REPOSITION per target, not one per /cmd.
      expect(r.fc.stats().commands).toBeLessThan(20);
    }, 30000);
  }
});
