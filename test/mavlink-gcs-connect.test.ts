/**
 * What QGroundControl, MAVSDK and MAVProxy send when they connect, against the simulated FC
 * (in-process wire, sim time): every request is answered, and a mission the ground station
 * uploads flies. The sequences follow what each one sends (see nodes/mavlink/README.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { common, type MavLinkData } from 'node-mavlink';
import type { Autopilot } from '../lib/mavlink/modes.js';
import { enuToGeo } from '../sim/fc/vehicle.js';
import { isA, startScriptedGcs, type ScriptedGcs } from './support/mavlink-gcs.js';

const { MavCmd, MavResult: R, MavFrame } = common;

let g: ScriptedGcs | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

const msgId = (m: MavLinkData): number => (m.constructor as unknown as { MSG_ID: number }).MSG_ID;
const answered = (id: number) => (m: MavLinkData): m is MavLinkData => msgId(m) === id;

type Step = { what: string; send: (s: ScriptedGcs) => void; answer: (m: MavLinkData) => boolean; then?: (s: ScriptedGcs, m: MavLinkData) => void };

const cmd = (c: number, params: number[] = []): ((s: ScriptedGcs) => void) => (s) => {
  const m = new common.CommandLong();
  const p = [...params, 0, 0, 0, 0, 0, 0, 0];
  Object.assign(m, { targetSystem: 1, targetComponent: 1, command: c, confirmation: 0, _param1: p[0], _param2: p[1], _param3: p[2], _param4: p[3], _param5: p[4], _param6: p[5], _param7: p[6] });
  s.send(m);
};
const acked = (c: number) => (m: MavLinkData): boolean => m instanceof common.CommandAck && m.command === c;
const msg = <M extends MavLinkData>(m: M, fields: Partial<M>): ((s: ScriptedGcs) => void) => (s) => { s.send(Object.assign(m, fields)); };
const T1 = { targetSystem: 1, targetComponent: 1 };

/** Downloads a whole list (mission, fence or rally) the way QGC/MAVSDK do: COUNT, then each item. */
function downloadList(s: ScriptedGcs, type: number, int: boolean): number {
  const from = s.rx.length;
  s.send(Object.assign(new common.MissionRequestList(), { ...T1, missionType: type }));
  const count = s.waitFor(isA(common.MissionCount), 500, from, `MISSION_COUNT type ${type}`).count;
  for (let seq = 0; seq < count; seq++) {
    const f = s.rx.length;
    s.send(Object.assign(int ? new common.MissionRequestInt() : new common.MissionRequest(), { ...T1, seq, missionType: type }));
    s.waitFor((m): m is MavLinkData => (m instanceof common.MissionItemInt || m instanceof common.MissionItem) && (m as { seq: number }).seq === seq, 500, f, `item ${seq}`);
  }
  s.send(Object.assign(new common.MissionAck(), { ...T1, type: 0, missionType: type, opaqueId: 0 }));
  return count;
}

function runSequence(s: ScriptedGcs, steps: Step[]): string[] {
  const unanswered: string[] = [];
  for (const st of steps) {
    const from = s.rx.length;
    s.heartbeat();
    st.send(s);
    try {
      const m = s.waitFor((x): x is MavLinkData => st.answer(x), 1000, from, st.what);
      st.then?.(s, m);
    } catch {
      unanswered.push(st.what);
    }
  }
  return unanswered;
}

/** Streams the parameter list and re-requests any index missing (QGC's and MAVProxy's way); returns the count. */
function allParams(s: ScriptedGcs): number {
  const from = s.rx.length;
  s.send(Object.assign(new common.ParamRequestList(), T1));
  s.run(1000);
  const vals = s.rx.slice(from).filter((m): m is InstanceType<typeof common.ParamValue> => m instanceof common.ParamValue);
  const count = vals[0]?.paramCount ?? 0;
  const seen = new Set(vals.map((v) => v.paramIndex));
  expect(seen.size).toBe(count);
  return count;
}

function uploadAndFly(s: ScriptedGcs, autopilot: Autopilot, start: 'mode' | 'mission_start'): void {
  const o = s.vehicle.origin;
  const ll = (x: number, y: number) => { const p = enuToGeo(o, x, y, 0); return { x: Math.round(p.lat * 1e7), y: Math.round(p.lon * 1e7) }; };
  const items = [
    ...(autopilot === 'ardupilot' ? [{ command: MavCmd.NAV_WAYPOINT, frame: MavFrame.GLOBAL_INT, ...ll(0, 0), z: o.alt }] : []),
    { command: MavCmd.NAV_TAKEOFF, frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, x: 0, y: 0, z: 5 },
    { command: MavCmd.NAV_WAYPOINT, frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, ...ll(12, 6), z: 5 },
    { command: MavCmd.NAV_LAND, frame: MavFrame.GLOBAL_RELATIVE_ALT_INT, ...ll(12, 6), z: 0 },
  ];
  let from = s.rx.length;
  s.send(Object.assign(new common.MissionCount(), { ...T1, count: items.length, missionType: 0, opaqueId: 0 }));
  for (;;) {
    const m = s.waitFor((x): x is InstanceType<typeof common.MissionRequestInt> | InstanceType<typeof common.MissionAck> => x instanceof common.MissionRequestInt || x instanceof common.MissionAck, 1000, from, 'upload');
    if (m instanceof common.MissionAck) {
      expect(m.type).toBe(common.MavMissionResult.ACCEPTED);
      break;
    }
    from = s.rx.indexOf(m) + 1;
    const it = items[m.seq];
    s.send(Object.assign(new common.MissionItemInt(), { ...T1, seq: m.seq, frame: it.frame, command: it.command, current: 0, autocontinue: 1, param1: 0, param2: 0, param3: 0, param4: Number.NaN, x: it.x, y: it.y, z: it.z, missionType: 0 }));
  }
  expect(s.command(MavCmd.COMPONENT_ARM_DISARM, [1]).result).toBe(R.ACCEPTED);
  const go = start === 'mission_start' ? s.command(MavCmd.MISSION_START, [0, 0]) : s.command(MavCmd.DO_SET_MODE, [1, ...(autopilot === 'px4' ? [4, 4] : [3, 0])]);
  expect(go.result).toBe(R.ACCEPTED);
  for (let i = 0; i < 300 && s.vehicle.truth().armed; i++) {
    if (i % 10 === 0) s.heartbeat();
    s.run(100);
  }
  const t = s.vehicle.truth();
  expect({ armed: t.armed, landed: t.z < 0.05 }).toEqual({ armed: false, landed: true });
  expect(Math.hypot(t.x - 12, t.y - 6)).toBeLessThan(0.5);
  const reached = s.rx.filter((m): m is InstanceType<typeof common.MissionItemReached> => m instanceof common.MissionItemReached).map((m) => m.seq);
  expect(reached).toEqual(autopilot === 'px4' ? [0, 1] : [1, 2]);
}

describe('ground stations connect with no request unanswered, and a mission they upload flies', () => {
  it('QGroundControl → PX4', async () => {
    const s = (g = await startScriptedGcs('px4'));
    s.waitFor(answered(0), 1500, 0, 'heartbeat');
    const unanswered = runSequence(s, [
      { what: 'REQUEST_PROTOCOL_VERSION', send: cmd(MavCmd.REQUEST_PROTOCOL_VERSION, [1]), answer: answered(300) },
      { what: 'REQUEST_MESSAGE AUTOPILOT_VERSION', send: cmd(MavCmd.REQUEST_MESSAGE, [148]), answer: answered(148) },
      { what: 'REQUEST_MESSAGE COMPONENT_METADATA (no such: an ack)', send: cmd(MavCmd.REQUEST_MESSAGE, [397]), answer: acked(MavCmd.REQUEST_MESSAGE) },
      { what: 'GET_HOME_POSITION', send: cmd(MavCmd.GET_HOME_POSITION), answer: answered(242) },
      { what: 'SET_MESSAGE_INTERVAL ATTITUDE_QUATERNION', send: cmd(MavCmd.SET_MESSAGE_INTERVAL, [31, 50000]), answer: acked(MavCmd.SET_MESSAGE_INTERVAL) },
      { what: 'PARAM_REQUEST_READ _HASH_CHECK-style by index', send: msg(new common.ParamRequestRead(), { ...T1, paramId: '', paramIndex: 0 }), answer: answered(22) },
    ]);
    expect(unanswered).toEqual([]);
    expect(allParams(s)).toBeGreaterThan(25);
    for (const type of [0, 1, 2]) expect(downloadList(s, type, true)).toBe(0);
    uploadAndFly(s, 'px4', 'mode');
  });

  it('MAVSDK → PX4 (TIMESYNC, intervals, calibration parameters, MISSION_START)', async () => {
    const s = (g = await startScriptedGcs('px4'));
    const unanswered = runSequence(s, [
      { what: 'REQUEST_MESSAGE AUTOPILOT_VERSION', send: cmd(MavCmd.REQUEST_MESSAGE, [148]), answer: answered(148) },
      { what: 'TIMESYNC', send: msg(new common.TimeSync(), { tc1: 0n, ts1: 123456789n, targetSystem: 0, targetComponent: 0 }), answer: (m) => m instanceof common.TimeSync && Number(m.ts1) === 123456789 },
      ...[31, 24, 242, 245, 1, 147, 33].map((id) => ({ what: `SET_MESSAGE_INTERVAL ${id}`, send: cmd(MavCmd.SET_MESSAGE_INTERVAL, [id, 200000]), answer: (m: MavLinkData) => m instanceof common.CommandAck && m.command === MavCmd.SET_MESSAGE_INTERVAL && m.result === R.ACCEPTED })),
      { what: 'REQUEST_MESSAGE HOME_POSITION', send: cmd(MavCmd.REQUEST_MESSAGE, [242]), answer: answered(242) },
      ...['CAL_GYRO0_ID', 'CAL_ACC0_ID', 'CAL_MAG0_ID', 'SYS_HITL'].map((p) => ({ what: `PARAM_REQUEST_READ ${p}`, send: msg(new common.ParamRequestRead(), { ...T1, paramId: p, paramIndex: -1 }), answer: (m: MavLinkData) => m instanceof common.ParamValue && m.paramId.replace(/\0+$/, '') === p })),
    ]);
    expect(unanswered).toEqual([]);
    uploadAndFly(s, 'px4', 'mission_start');
  });

  it('MAVProxy → ArduPilot (REQUEST_DATA_STREAM, legacy MISSION_REQUEST, AUTO mode)', async () => {
    const s = (g = await startScriptedGcs('ardupilot'));
    s.send(Object.assign(new common.RequestDataStream(), { ...T1, reqStreamId: 0, reqMessageRate: 4, startStop: 1 }));
    s.run(1000);
    const from = s.rx.length;
    s.run(1000);
    expect(s.rx.slice(from).filter((m) => m instanceof common.GpsRawInt).length).toBe(4);
    const unanswered = runSequence(s, [
      { what: 'REQUEST_AUTOPILOT_CAPABILITIES', send: cmd(MavCmd.REQUEST_AUTOPILOT_CAPABILITIES, [1]), answer: answered(148) },
      { what: 'SET_MODE GUIDED', send: msg(new common.SetMode(), { targetSystem: 1, baseMode: 1 as common.MavMode, customMode: 4 }), answer: (m) => m instanceof common.CommandAck && (m.command as number) === 11 && m.result === R.ACCEPTED },
      { what: 'TIMESYNC', send: msg(new common.TimeSync(), { tc1: 0n, ts1: 42n, targetSystem: 1, targetComponent: 1 }), answer: answered(111) },
    ]);
    expect(unanswered).toEqual([]);
    expect(allParams(s)).toBeGreaterThan(20);
    expect(downloadList(s, 0, false)).toBe(0);
    uploadAndFly(s, 'ardupilot', 'mode');
    expect(downloadList(s, 0, false)).toBe(4);
  });
});
