/**
 * The simulated FC's protocols under sim time (in-process wire, scripted ground station):
 * missions uploaded and flown in AUTO.MISSION / AUTO, refused and stalled uploads, parameters
 * bound to the behaviour (bytewise on PX4, float cast and index 65535 on ArduPilot), takeoff
 * to the commanded height, landed state, message intervals for every stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { setModeParams } from '../../lib/mavlink/modes.js';
import { enuToGeo } from './vehicle.js';
import { isA, startScriptedGcs, type ScriptedGcs } from '../../test/support/mavlink-gcs.js';
import { STREAM_IDS } from './telemetry.js';

const { MavCmd, MavResult: R, MavMissionResult: MR, MavFrame } = common;

let g: ScriptedGcs | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

type Item = { command: number; x?: number; y?: number; z: number; frame?: number; p1?: number; p2?: number };

/** Local ENU (metres from the origin) to a MISSION_ITEM_INT lat/lon. */
function at(s: ScriptedGcs, x: number, y: number): { x: number; y: number } {
  const p = enuToGeo(s.vehicle.origin, x, y, 0);
  return { x: Math.round(p.lat * 1e7), y: Math.round(p.lon * 1e7) };
}

function missionItem(seq: number, it: Item, type = 0): InstanceType<typeof common.MissionItemInt> {
  const m = new common.MissionItemInt();
  Object.assign(m, {
    targetSystem: 1, targetComponent: 1, seq, frame: it.frame ?? MavFrame.GLOBAL_RELATIVE_ALT_INT, command: it.command, current: 0, autocontinue: 1,
    param1: it.p1 ?? 0, param2: it.p2 ?? 0, param3: 0, param4: Number.NaN, x: it.x ?? 0, y: it.y ?? 0, z: it.z, missionType: type,
  });
  return m;
}

/** The upload a ground station makes: COUNT, then each item as it is requested; returns the final MISSION_ACK. */
function upload(s: ScriptedGcs, items: Item[], type = 0): InstanceType<typeof common.MissionAck> {
  const count = new common.MissionCount();
  Object.assign(count, { targetSystem: 1, targetComponent: 1, count: items.length, missionType: type, opaqueId: 0 });
  let from = s.rx.length;
  s.send(count);
  for (;;) {
    const m = s.waitFor((x): x is InstanceType<typeof common.MissionRequestInt> | InstanceType<typeof common.MissionAck> => x instanceof common.MissionRequestInt || x instanceof common.MissionAck, 1000, from, 'MISSION_REQUEST_INT or MISSION_ACK');
    if (m instanceof common.MissionAck) return m;
    from = s.rx.indexOf(m) + 1;
    s.send(missionItem(m.seq, items[m.seq], type));
  }
}

function reachedSeqs(s: ScriptedGcs): number[] {
  return s.rx.filter((m): m is InstanceType<typeof common.MissionItemReached> => m instanceof common.MissionItemReached).map((m) => m.seq);
}

describe('missions', () => {
  it('PX4: uploads, flies AUTO.MISSION (takeoff, waypoints, land) and disarms on touchdown', async () => {
    const s = (g = await startScriptedGcs('px4'));
    s.heartbeat();
    const wp1 = at(s, 15, 0);
    const wp2 = at(s, 15, 10);
    const ack = upload(s, [
      { command: MavCmd.NAV_TAKEOFF, z: 5 },
      { command: MavCmd.NAV_WAYPOINT, ...wp1, z: 5, p1: 1 },
      { command: MavCmd.NAV_WAYPOINT, ...wp2, z: 6 },
      { command: MavCmd.NAV_LAND, ...wp2, z: 0 },
    ]);
    expect(ack.type).toBe(MR.ACCEPTED);
    expect(s.fc.missionState()).toEqual({ items: 4, current: 0 });
    expect(s.command(MavCmd.COMPONENT_ARM_DISARM, [1]).result).toBe(R.ACCEPTED);
    const mission = s.command(MavCmd.DO_SET_MODE, [1, 4, 4]);
    expect(mission.result).toBe(R.ACCEPTED);
    expect(s.fc.status().mode).toBe('AUTO.MISSION');
    let maxZ = 0;
    for (let i = 0; i < 300 && s.vehicle.truth().armed; i++) {
      if (i % 10 === 0) s.heartbeat(); // a ground station keeps the data link alive
      s.run(100);
      maxZ = Math.max(maxZ, s.vehicle.truth().z);
    }
    expect(reachedSeqs(s)).toEqual([0, 1, 2]);
    const t = s.vehicle.truth();
    expect(t.armed).toBe(false);
    expect(Math.hypot(t.x - 15, t.y - 10)).toBeLessThan(0.5);
    expect(maxZ).toBeGreaterThan(5.5);
    const cur = s.rx.filter((m): m is InstanceType<typeof common.MissionCurrent> => m instanceof common.MissionCurrent).map((m) => m.seq);
    expect(cur).toContain(3);
  });

  it('ArduPilot: item 0 is home; AUTO via SET_MODE (acked as command 11), flies to RTL', async () => {
    const s = (g = await startScriptedGcs('ardupilot', { rtlAltitude: 6 }));
    const wp = at(s, -10, 8);
    const ack = upload(s, [
      { command: MavCmd.NAV_WAYPOINT, frame: MavFrame.GLOBAL_INT, ...at(s, 0, 0), z: s.vehicle.origin.alt },
      { command: MavCmd.NAV_TAKEOFF, z: 4 },
      { command: MavCmd.NAV_WAYPOINT, ...wp, z: 4 },
      { command: MavCmd.NAV_RETURN_TO_LAUNCH, z: 0, frame: MavFrame.MISSION },
    ]);
    expect(ack.type).toBe(MR.ACCEPTED);
    expect(s.command(MavCmd.COMPONENT_ARM_DISARM, [1]).result).toBe(R.ACCEPTED);
    const sm = new common.SetMode();
    Object.assign(sm, { targetSystem: 1, baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED, customMode: 3 });
    const from = s.rx.length;
    s.send(sm);
    const smAck = s.waitFor(isA(common.CommandAck), 500, from, 'SET_MODE ack');
    expect({ command: smAck.command, result: smAck.result, to: smAck.targetSystem }).toEqual({ command: 11, result: R.ACCEPTED, to: 245 });
    expect(s.fc.status().mode).toBe('AUTO');
    for (let i = 0; i < 300 && s.vehicle.truth().armed; i++) s.run(100);
    expect(reachedSeqs(s)).toEqual([1, 2, 3]);
    expect(s.fc.status().mode).toBe('RTL');
    const t = s.vehicle.truth();
    expect(t.armed).toBe(false);
    expect(Math.hypot(t.x, t.y)).toBeLessThan(0.6);
  });

  it('refuses the mission mode without a mission, unsupported commands and frames, and counts out-of-order items', async () => {
    const s = (g = await startScriptedGcs('px4'));
    expect(s.command(MavCmd.COMPONENT_ARM_DISARM, [1]).result).toBe(R.ACCEPTED);
    expect(s.command(MavCmd.DO_SET_MODE, [1, 4, 4]).result).toBe(R.DENIED);
    expect(s.rx.some((m) => m instanceof common.StatusText && m.text.includes('no mission'))).toBe(true);
    expect(upload(s, [{ command: MavCmd.NAV_WAYPOINT, ...at(s, 1, 1), z: 3 }, { command: 183, z: 0, frame: MavFrame.MISSION }]).type).toBe(MR.UNSUPPORTED);
    expect(upload(s, [{ command: MavCmd.NAV_WAYPOINT, x: 1, y: 1, z: 3, frame: MavFrame.LOCAL_NED }]).type).toBe(MR.UNSUPPORTED_FRAME);
    expect(s.fc.missionState().items).toBe(0);
    expect(s.fc.stats().missionRefused).toBe(2);
    // An item out of order is re-requested.
    const count = new common.MissionCount();
    Object.assign(count, { targetSystem: 1, targetComponent: 1, count: 2, missionType: 0, opaqueId: 0 });
    s.send(count);
    s.run(20);
    const from = s.rx.length;
    s.send(missionItem(1, { command: MavCmd.NAV_WAYPOINT, ...at(s, 1, 1), z: 3 }));
    const again = s.waitFor(isA(common.MissionRequestInt), 200, from, 're-request');
    expect(again.seq).toBe(0);
    expect(s.fc.stats().missionOutOfOrder).toBe(1);
    // ...and a transfer that stalls is retried, then cancelled.
    const f2 = s.rx.length;
    const cancelled = s.waitFor(isA(common.MissionAck), 3000, f2, 'MISSION_ACK after the stall');
    expect(cancelled.type).toBe(MR.OPERATION_CANCELLED);
    expect(s.rx.slice(f2).filter((m) => m instanceof common.MissionRequestInt).length).toBe(5);
    expect(s.fc.stats().missionAbandoned).toBe(1);
  });

  it('clears, sets the current item, and keeps fence and rally points apart', async () => {
    const s = (g = await startScriptedGcs('px4'));
    const items = [0, 1, 2].map((i) => ({ command: MavCmd.NAV_WAYPOINT, ...at(s, i, i), z: 3 }));
    expect(upload(s, items).type).toBe(MR.ACCEPTED);
    expect(upload(s, [{ command: MavCmd.NAV_WAYPOINT, ...at(s, 5, 5), z: 0 }], 2).type).toBe(MR.ACCEPTED);
    const sc = new common.MissionSetCurrent();
    Object.assign(sc, { targetSystem: 1, targetComponent: 1, seq: 2 });
    let from = s.rx.length;
    s.send(sc);
    expect(s.waitFor(isA(common.MissionCurrent, (m) => m.seq === 2), 200, from, 'MISSION_CURRENT 2').total).toBe(3);
    const clear = new common.MissionClearAll();
    Object.assign(clear, { targetSystem: 1, targetComponent: 1, missionType: 0 });
    from = s.rx.length;
    s.send(clear);
    expect(s.waitFor(isA(common.MissionAck), 200, from, 'MISSION_ACK').type).toBe(MR.ACCEPTED);
    expect(s.fc.missionState().items).toBe(0);
    const list = new common.MissionRequestList();
    Object.assign(list, { targetSystem: 1, targetComponent: 1, missionType: 2 });
    from = s.rx.length;
    s.send(list);
    expect(s.waitFor(isA(common.MissionCount), 200, from, 'MISSION_COUNT rally').count).toBe(1);
  });
});

function paramSet(s: ScriptedGcs, name: string, value: number, type: number): InstanceType<typeof common.ParamValue> {
  const m = new common.ParamSet();
  Object.assign(m, { targetSystem: 1, targetComponent: 1, paramId: name, paramValue: value, paramType: type });
  const from = s.rx.length;
  s.send(m);
  return s.waitFor(isA(common.ParamValue), 200, from, `PARAM_VALUE for ${name}`);
}

const bytewise = (n: number): number => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b.readFloatLE(); };
const T = common.MavParamType;

describe('parameters', () => {
  it('PX4: bound parameters change the behaviour; INT32 bytewise; invalid values refused with the old value', async () => {
    const s = (g = await startScriptedGcs('px4'));
    expect(paramSet(s, 'MIS_TAKEOFF_ALT', 4, T.REAL32).paramValue).toBe(4);
    const dl = paramSet(s, 'COM_DL_LOSS_T', bytewise(3), T.INT32);
    expect(dl.paramValue).toBe(bytewise(3));
    expect(s.fc.param('COM_DL_LOSS_T')).toBe(3);
    const bad = paramSet(s, 'NAV_DLL_ACT', bytewise(7), T.INT32);
    expect(bad.paramValue).toBe(bytewise(1));
    expect(s.rx.some((m) => m instanceof common.StatusText && m.text.includes('NAV_DLL_ACT: 7 refused'))).toBe(true);
    expect(s.fc.stats().paramErrors).toBe(1);
    // An INT32 written to a REAL32 parameter would mean another number: refused.
    expect(paramSet(s, 'MIS_TAKEOFF_ALT', bytewise(4), T.INT32).paramValue).toBe(4);
    expect(s.rx.some((m) => m instanceof common.StatusText && m.text.includes('MIS_TAKEOFF_ALT') && m.text.includes('type'))).toBe(true);
    // Takeoff with NaN altitude uses MIS_TAKEOFF_ALT, and levels at it (not short of it).
    expect(s.command(MavCmd.COMPONENT_ARM_DISARM, [1]).result).toBe(R.ACCEPTED);
    expect(s.command(MavCmd.NAV_TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, Number.NaN]).result).toBe(R.ACCEPTED);
    s.run(5000);
    expect(s.fc.status().mode).toBe('AUTO.LOITER');
    expect(s.vehicle.truth().z).toBeCloseTo(4, 1);
  });

  it('ArduPilot: float-cast values, PARAM_SET acked with index 65535, out-of-range integers refused', async () => {
    const s = (g = await startScriptedGcs('ardupilot'));
    const v = paramSet(s, 'WPNAV_SPEED', 750, T.REAL32);
    expect({ value: v.paramValue, index: v.paramIndex, type: v.paramType }).toEqual({ value: 750, index: 65535, type: T.REAL32 });
    expect(paramSet(s, 'RTL_ALT', 1500, T.INT32).paramValue).toBe(1500);
    expect(s.fc.param('RTL_ALT')).toBe(1500);
    expect(paramSet(s, 'FRAME_CLASS', 300, T.INT8).paramValue).toBe(1);
    expect(s.fc.stats().paramErrors).toBe(1);
  });
});

describe('commands and telemetry', () => {
  it('takes off to the commanded height and reports the landed state', async () => {
    const s = (g = await startScriptedGcs('px4'));
    const landed = (): number => {
      const from = s.rx.length;
      s.command(MavCmd.REQUEST_MESSAGE, [245]);
      return s.waitFor(isA(common.ExtendedSysState), 100, from, 'EXTENDED_SYS_STATE').landedState;
    };
    expect(landed()).toBe(common.MavLandedState.ON_GROUND);
    s.command(MavCmd.COMPONENT_ARM_DISARM, [1]);
    expect(s.command(MavCmd.NAV_TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, s.vehicle.origin.alt + 2.5]).result).toBe(R.ACCEPTED);
    s.run(5000);
    expect(s.vehicle.truth().z).toBeCloseTo(2.5, 1);
    expect(landed()).toBe(common.MavLandedState.IN_AIR);
    s.command(MavCmd.NAV_LAND, []);
    s.run(200);
    expect(landed()).toBe(common.MavLandedState.LANDING);
  });

  it('every stream can be requested, its interval read and set; COMMAND_INT is answered', async () => {
    const s = (g = await startScriptedGcs('px4'));
    for (const id of Object.values(STREAM_IDS)) {
      const from = s.rx.length;
      expect(s.command(MavCmd.REQUEST_MESSAGE, [id]).result, `REQUEST_MESSAGE ${id}`).toBe(R.ACCEPTED);
      s.waitFor((m): m is typeof m => (m.constructor as { MSG_ID?: number }).MSG_ID === id, 100, from, `message ${id}`);
      expect(s.command(MavCmd.SET_MESSAGE_INTERVAL, [id, 200000]).result, `SET_MESSAGE_INTERVAL ${id}`).toBe(R.ACCEPTED);
      const f2 = s.rx.length;
      expect(s.command(MavCmd.GET_MESSAGE_INTERVAL, [id]).result).toBe(R.ACCEPTED);
      expect(s.waitFor(isA(common.MessageInterval), 100, f2, 'MESSAGE_INTERVAL').intervalUs).toBe(200000);
    }
    expect(s.command(MavCmd.GET_MESSAGE_INTERVAL, [9999]).result).toBe(R.UNSUPPORTED);
    const ci = new common.CommandInt();
    Object.assign(ci, { targetSystem: 1, targetComponent: 1, frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, command: MavCmd.DO_REPOSITION, current: 0, autocontinue: 0, _param1: -1, _param2: 1, _param3: 0, _param4: Number.NaN, _param5: 0, _param6: 0, _param7: 10 });
    const from = s.rx.length;
    s.send(ci);
    expect(s.waitFor(isA(common.CommandAck), 200, from, 'ACK').result).toBe(R.DENIED); // on the ground
    const hold = setModeParams('px4', 'hold');
    const sm = new common.SetMode();
    Object.assign(sm, { targetSystem: 1, baseMode: 1, customMode: hold.customMode });
    const f3 = s.rx.length;
    s.send(sm);
    expect(s.waitFor(isA(common.CommandAck), 200, f3, 'SET_MODE ack').command).toBe(MavCmd.DO_SET_MODE);
  });
});
