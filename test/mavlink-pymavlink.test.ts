/**
 * The simulated FC against bytes a real implementation wrote: every frame pymavlink encoded
 * (../shared/fixtures/peers/pymavlink) decodes to its listed fields, and each ground-station
 * request there gets the answer PX4 (or ArduPilot) gives, checked field by field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { decodeFrame, MavFramer } from '../lib/mavlink/wire.js';
import { capabilities, FLIGHT_SW_VERSION } from '../sim/fc/telemetry.js';
import { isA, startScriptedGcs, type ScriptedGcs } from './support/mavlink-gcs.js';

const PEERS = join(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'peers', 'pymavlink');
const VECTORS = join(PEERS, 'mavlink-vectors.json');
const present = existsSync(VECTORS);
if (!present) console.warn(`skipping pymavlink vector tests: ${VECTORS} not found (../shared is absent)`);

interface Vector { name: string; msgid: number; type: string; hex: string; fields: Record<string, unknown>; srcSystem: number; srcComponent: number }
const load = (): Vector[] => (JSON.parse(readFileSync(VECTORS, 'utf8')) as { frames: Vector[] }).frames;
const vector = (name: string): Vector => {
  const v = load().find((f) => f.name === name);
  if (!v) throw new Error(`vector '${name}' not in ${VECTORS}`);
  return v;
};

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const num = (x: unknown): number => (x === 'NaN' ? Number.NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : Number(x));

/** Compares a decoded field with pymavlink's value: float32 rounding, int64 as bigint, NUL-padded strings. */
function sameValue(got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && want.every((w, i) => sameValue(got[i], w));
  if (typeof want === 'string' && !['NaN', 'Infinity', '-Infinity'].includes(want)) return typeof got === 'string' && got.replace(/\0+$/, '') === want;
  const g = typeof got === 'bigint' ? Number(got) : Number(got);
  const w = num(want);
  if (Number.isNaN(w)) return Number.isNaN(g);
  return g === w || g === Math.fround(w) || Math.abs(g - w) <= 1e-6 * Math.max(1, Math.abs(w));
}

/** mavlink-mappings names COMMAND_INT's x, y, z as its params 5-7. */
const ALIASES: Record<string, Record<string, string>> = { COMMAND_INT: { x: '_param5', y: '_param6', z: '_param7' } };

function fieldsOf(m: MavLinkData, fields: Record<string, unknown>): Record<string, unknown> {
  const rec = m as unknown as Record<string, unknown>;
  const alias = ALIASES[(m.constructor as { MSG_NAME?: string }).MSG_NAME ?? ''] ?? {};
  return Object.fromEntries(Object.keys(fields).map((k) => [k, alias[k] ? rec[alias[k]] : camel(k) in rec ? rec[camel(k)] : rec[`_${camel(k)}`]]));
}

function expectFields(m: MavLinkData, fields: Record<string, unknown>): void {
  const got = fieldsOf(m, fields);
  const bad = Object.keys(fields).filter((k) => !sameValue(got[k], fields[k]));
  expect(bad.map((k) => `${k}: got ${String(got[k])}, want ${String(fields[k])}`)).toEqual([]);
}

describe.skipIf(!present)('pymavlink frames decode to their listed fields', () => {
  it('every vector, and all 32 from the noisy stream', () => {
    const frames = load();
    expect(frames.length).toBe(32);
    for (const v of frames) {
      const framer = new MavFramer();
      const out = framer.push(Buffer.from(v.hex, 'hex'));
      expect(out.map((f) => [f.msgid, f.sysid, f.compid]), v.name).toEqual([[v.msgid, v.srcSystem, v.srcComponent]]);
      const m = decodeFrame(out[0]);
      expect((m.constructor as { MSG_NAME?: string }).MSG_NAME, v.name).toBe(v.type);
      expectFields(m, v.fields);
    }
    const framer = new MavFramer();
    const stream = [...framer.push(readFileSync(join(PEERS, 'mavlink-stream-with-noise.bin'))), ...framer.flush()];
    expect(stream.map((f) => f.msgid)).toEqual(frames.map((f) => f.msgid));
  });
});

let g: ScriptedGcs | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

/** What the simulated FC answers to one pymavlink request frame. */
function ask<T extends MavLinkData>(s: ScriptedGcs, name: string, pred: (m: MavLinkData) => m is T, what: string): T {
  const from = s.rx.length;
  s.raw(vector(name).hex);
  return s.waitFor(pred, 1000, from, `${what} for ${name}`);
}

const R = common.MavResult;

describe.skipIf(!present)('each ground-station request from pymavlink gets the answer PX4 gives', () => {
  it('commands: arm, offboard (refused, then accepted once setpoints stream), DO_REPOSITION, REQUEST_MESSAGE, SET_MESSAGE_INTERVAL', async () => {
    const s = (g = await startScriptedGcs('px4'));
    s.heartbeat();
    const arm = ask(s, 'gcs_command_long_arm', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(arm, { command: 400, result: R.ACCEPTED, target_system: 245, target_component: 190 });
    const home = s.waitFor(isA(common.HomePosition), 500, 0, 'HOME_POSITION after arming');
    expect(home.altitude).toBe(Math.round(s.vehicle.origin.alt * 1000));
    const armedHb = s.waitFor(isA(minimal.Heartbeat, (h) => (h.baseMode & minimal.MavModeFlag.SAFETY_ARMED) !== 0), 1500, 0, 'armed heartbeat');
    expect(armedHb.autopilot).toBe(minimal.MavAutopilot.PX4);

    const refused = ask(s, 'gcs_command_long_set_mode_offboard', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(refused, { command: 176, result: R.DENIED, target_system: 245, target_component: 190 });
    const why = s.rx.find((m): m is InstanceType<typeof common.StatusText> => m instanceof common.StatusText && m.text.includes('Offboard'));
    expect(why?.severity).toBe(common.MavSeverity.CRITICAL);
    const sp = vector('gcs_set_position_target_local_ned').hex;
    s.raw(sp);
    s.run(100);
    s.raw(sp);
    s.run(20);
    const setpointsBefore = s.fc.stats().setpoints;
    expect(setpointsBefore).toBe(2);
    const accepted = ask(s, 'gcs_command_long_set_mode_offboard', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(accepted, { command: 176, result: R.ACCEPTED });
    expect(s.fc.status().mode).toBe('OFFBOARD');
    // The pymavlink setpoint is NED (5, -3, -10): ENU (-3, 5, 10). Keep streaming it and fly there.
    for (let i = 0; i < 60; i++) { s.raw(sp); s.run(100); }
    const t = s.vehicle.truth();
    expect(Math.hypot(t.x + 3, t.y - 5, t.z - 10)).toBeLessThan(0.5);

    const repo = ask(s, 'gcs_command_int_do_reposition', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(repo, { command: 192, result: R.ACCEPTED, target_system: 245, target_component: 190 });
    expect(s.fc.status().mode).toBe('AUTO.LOITER');
    s.run(2000);
    // Toward lat 47.3770 (south of the Zurich origin) and up to 420 m above home.
    const moved = s.vehicle.truth();
    expect(moved.y).toBeLessThan(t.y - 5);
    expect(moved.z).toBeGreaterThan(t.z + 5);

    const ver = ask(s, 'gcs_request_message_autopilot_version', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(ver, { command: 512, result: R.ACCEPTED });
    const av = s.waitFor((m): m is MavLinkData => (m.constructor as { MSG_ID?: number }).MSG_ID === 148, 500, 0, 'AUTOPILOT_VERSION') as unknown as { capabilities: bigint; flightSwVersion: number };
    const caps = Number(av.capabilities);
    const C = { MISSION_INT: 4, COMMAND_INT: 8, PARAM_FLOAT: 2, SET_POSITION_TARGET_LOCAL_NED: 128, MAVLINK2: 8192 };
    for (const [name, bit] of Object.entries(C)) expect(caps & bit, name).toBe(bit);
    expect(caps).toBe(capabilities('px4'));
    expect(av.flightSwVersion).toBe(FLIGHT_SW_VERSION.px4);

    expect(s.command(common.MavCmd.SET_MESSAGE_INTERVAL, [32, 500000]).result).toBe(R.ACCEPTED); // 2 Hz first, so the vector's 10 Hz is a change
    const si = ask(s, 'gcs_set_message_interval', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(si, { command: 511, result: R.ACCEPTED });
    const from = s.rx.length;
    s.command(common.MavCmd.GET_MESSAGE_INTERVAL, [32]);
    const iv = s.waitFor(isA(common.MessageInterval), 200, from, 'MESSAGE_INTERVAL');
    expect({ id: iv.messageId, us: iv.intervalUs }).toEqual({ id: 32, us: 100000 });
    const n0 = s.rx.length;
    s.run(1000);
    const lp = s.rx.slice(n0).filter((m) => m instanceof common.LocalPositionNed).length;
    expect(lp).toBe(10);
  });

  it('parameters: the list streamed with index and count, read by name, set acked by PARAM_VALUE', async () => {
    const s = (g = await startScriptedGcs('px4'));
    const from = s.rx.length;
    s.raw(vector('gcs_param_request_list').hex);
    s.run(1000);
    const values = s.rx.slice(from).filter((m): m is InstanceType<typeof common.ParamValue> => m instanceof common.ParamValue);
    const count = values[0].paramCount;
    expect(count).toBeGreaterThan(20);
    expect(values.map((v) => v.paramIndex)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(new Set(values.map((v) => v.paramCount))).toEqual(new Set([count]));
    const xy = values.find((v) => v.paramId.replace(/\0+$/, '') === 'MPC_XY_VEL_MAX');
    expect(xy).toBeDefined();
    // PX4 sends INT32 parameters bytewise: 4001 as the float with the same bits.
    const autostart = values.find((v) => v.paramId.replace(/\0+$/, '') === 'SYS_AUTOSTART') as InstanceType<typeof common.ParamValue>;
    const b = Buffer.alloc(4);
    b.writeFloatLE(autostart.paramValue);
    expect({ type: autostart.paramType, int: b.readInt32LE() }).toEqual({ type: common.MavParamType.INT32, int: 4001 });

    const read = ask(s, 'gcs_param_request_read', isA(common.ParamValue), 'PARAM_VALUE');
    expectFields(read, { param_id: 'MPC_XY_VEL_MAX', param_value: 12, param_type: 9, param_count: count, param_index: (xy as InstanceType<typeof common.ParamValue>).paramIndex });
    const set = ask(s, 'gcs_param_set', isA(common.ParamValue), 'PARAM_VALUE');
    expectFields(set, { param_id: 'MPC_XY_VEL_MAX', param_value: 8, param_type: 9, param_count: count, param_index: read.paramIndex });
    expect(s.fc.param('MPC_XY_VEL_MAX')).toBe(8);
  });

  it('missions: MISSION_COUNT → REQUEST_INT per item → ACK; download; TIMESYNC', async () => {
    const s = (g = await startScriptedGcs('px4'));
    const req0 = ask(s, 'gcs_mission_count', isA(common.MissionRequestInt), 'MISSION_REQUEST_INT');
    expectFields(req0, { seq: 0, target_system: 245, target_component: 190, mission_type: 0 });
    const req1 = ask(s, 'gcs_mission_item_int', isA(common.MissionRequestInt), 'MISSION_REQUEST_INT');
    expectFields(req1, { seq: 1, mission_type: 0 });
    const item = new common.MissionItemInt();
    const v = vector('gcs_mission_item_int').fields;
    Object.assign(item, { targetSystem: 1, targetComponent: 1, seq: 1, frame: 6, command: common.MavCmd.NAV_LAND, current: 0, autocontinue: 1, param1: 0, param2: 0, param3: 0, param4: Number.NaN, x: v.x, y: v.y, z: 0, missionType: 0 });
    const from = s.rx.length;
    s.send(item);
    const ack = s.waitFor(isA(common.MissionAck), 500, from, 'MISSION_ACK');
    expectFields(ack, { type: common.MavMissionResult.ACCEPTED, target_system: 245, target_component: 190, mission_type: 0 });

    const count = ask(s, 'gcs_mission_request_list', isA(common.MissionCount), 'MISSION_COUNT');
    expectFields(count, { count: 2, target_system: 245, target_component: 190, mission_type: 0 });
    const r = new common.MissionRequestInt();
    Object.assign(r, { targetSystem: 1, targetComponent: 1, seq: 0, missionType: 0 });
    const f2 = s.rx.length;
    s.send(r);
    const back = s.waitFor(isA(common.MissionItemInt), 500, f2, 'MISSION_ITEM_INT');
    const sent = { ...vector('gcs_mission_item_int').fields };
    delete sent.target_system;
    delete sent.target_component;
    delete sent.current;
    expectFields(back, sent);
    expect(back.current).toBe(1); // the item to fly first

    const ts = ask(s, 'gcs_timesync_request', isA(common.TimeSync), 'TIMESYNC');
    expect(Number(ts.ts1)).toBe(987654321000);
    expect(Number(ts.tc1)).toBeGreaterThan(0);
  });

  it('ArduPilot flavour: AUTOPILOT_VERSION, no PROTOCOL_VERSION, unknown PX4 parameter refused with a STATUSTEXT', async () => {
    const s = (g = await startScriptedGcs('ardupilot'));
    const ver = ask(s, 'gcs_request_message_autopilot_version', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(ver, { command: 512, result: R.ACCEPTED });
    const av = s.waitFor((m): m is MavLinkData => (m.constructor as { MSG_ID?: number }).MSG_ID === 148, 500, 0, 'AUTOPILOT_VERSION') as unknown as { capabilities: bigint; flightSwVersion: number };
    expect(Number(av.capabilities)).toBe(capabilities('ardupilot'));
    expect(av.flightSwVersion).toBe(FLIGHT_SW_VERSION.ardupilot);
    expect(s.command(common.MavCmd.REQUEST_PROTOCOL_VERSION, [1]).result).toBe(R.UNSUPPORTED);
    const from = s.rx.length;
    s.raw(vector('gcs_param_request_read').hex);
    const err = s.waitFor(isA(common.StatusText, (t) => t.text.includes('MPC_XY_VEL_MAX')), 500, from, 'STATUSTEXT');
    expect(err.text).toContain('not found');
    expect(s.fc.stats().paramErrors).toBe(1);
    // MAVLink 1 COMMAND_LONG (arm) is understood and answered in MAVLink 2.
    const arm = ask(s, 'v1_command_long', isA(common.CommandAck), 'COMMAND_ACK');
    expectFields(arm, { command: 400, result: R.ACCEPTED, target_system: 1, target_component: 1 });
  });
});
