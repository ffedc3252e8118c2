/**
 * The parameter protocol of the simulated FC, PX4 or ArduCopter flavour: a realistic set of
 * parameters with their MAVLink types (PX4: INT32/REAL32, sent bytewise; ArduPilot:
 * INT8/INT16/INT32/REAL32, sent as a float cast), PARAM_REQUEST_LIST streamed with index and
 * count, PARAM_REQUEST_READ by name or index, and PARAM_SET answered by PARAM_VALUE. The
 * parameters that govern the simulation (offboard-loss timeout and action, data-link loss,
 * takeoff and RTL altitudes, auto-disarm, guided timeout) are bound to it: setting one
 * changes the behaviour. Unknown names and invalid values get a STATUSTEXT and are counted.
 */
import { common } from 'node-mavlink';
import type { FcCore, FcTunables } from './core.js';

const { MavParamType: T, MavSeverity } = common;

export interface ParamDef {
  name: string;
  type: number;
  value: number;
  /** Applies a new value to the simulation; returns why it is refused, or undefined. */
  bind?: (value: number, o: FcTunables) => string | undefined;
  /** Reads the bound value from the simulation (so the table and the behaviour never disagree). */
  read?: (o: FcTunables) => number;
}

const enumBind = (table: Record<number, string>, set: (o: FcTunables, v: string) => void) => (value: number, o: FcTunables): string | undefined => {
  const name = table[value];
  if (name === undefined) return `expected one of ${Object.keys(table).join(', ')}`;
  set(o, name);
  return undefined;
};

const positive = (set: (o: FcTunables, v: number) => void) => (value: number, o: FcTunables): string | undefined => {
  if (!(value > 0)) return 'expected a value > 0';
  set(o, value);
  return undefined;
};

const PX4_OBL: Record<number, 'hold' | 'land'> = { 4: 'land', 5: 'hold' };
const PX4_DLL: Record<number, 'hold' | 'rtl' | 'land'> = { 1: 'hold', 2: 'rtl', 3: 'land' };
const APM_FS_GCS: Record<number, 'rtl' | 'land'> = { 1: 'rtl', 5: 'land' };
const inverse = <V extends string>(t: Record<number, V>, v: V): number => Number(Object.keys(t).find((k) => t[Number(k)] === v) ?? 0);

function px4Params(sysid: number, compid: number): ParamDef[] {
  return [
    { name: 'BAT1_N_CELLS', type: T.INT32, value: 4 },
    { name: 'BAT_CRIT_THR', type: T.REAL32, value: 0.07 },
    { name: 'BAT_LOW_THR', type: T.REAL32, value: 0.15 },
    // Sensor calibration ids: MAVSDK reads these for its health report.
    { name: 'CAL_ACC0_ID', type: T.INT32, value: 1310988 },
    { name: 'CAL_GYRO0_ID', type: T.INT32, value: 1310988 },
    { name: 'CAL_MAG0_ID', type: T.INT32, value: 197388 },
    { name: 'COM_ARM_WO_GPS', type: T.INT32, value: 1 },
    { name: 'COM_DISARM_LAND', type: T.REAL32, value: 1, bind: positive((o, v) => { o.autoDisarmMs = v * 1000; }), read: (o) => o.autoDisarmMs / 1000 },
    { name: 'COM_DL_LOSS_T', type: T.INT32, value: 5, bind: positive((o, v) => { o.gcsLossTimeoutMs = v * 1000; }), read: (o) => Math.round(o.gcsLossTimeoutMs / 1000) },
    { name: 'COM_LOW_BAT_ACT', type: T.INT32, value: 0 },
    { name: 'COM_OBL_RC_ACT', type: T.INT32, value: 5, bind: enumBind(PX4_OBL, (o, v) => { o.offboardLossAction = v as 'hold' | 'land'; }), read: (o) => inverse(PX4_OBL, o.offboardLossAction) },
    { name: 'COM_OF_LOSS_T', type: T.REAL32, value: 0.5, bind: positive((o, v) => { o.offboardTimeoutMs = v * 1000; }), read: (o) => o.offboardTimeoutMs / 1000 },
    { name: 'COM_RC_IN_MODE', type: T.INT32, value: 4 },
    { name: 'GF_ACTION', type: T.INT32, value: 2 },
    { name: 'MAV_COMP_ID', type: T.INT32, value: compid },
    { name: 'MAV_SYS_ID', type: T.INT32, value: sysid },
    { name: 'MAV_TYPE', type: T.INT32, value: 2 },
    { name: 'MIS_DIST_1WP', type: T.REAL32, value: 900 },
    { name: 'MIS_TAKEOFF_ALT', type: T.REAL32, value: 2.5, bind: positive((o, v) => { o.takeoffAltitude = v; }), read: (o) => o.takeoffAltitude },
    { name: 'MPC_LAND_SPEED', type: T.REAL32, value: 0.7 },
    { name: 'MPC_TKO_SPEED', type: T.REAL32, value: 1.5 },
    { name: 'MPC_XY_CRUISE', type: T.REAL32, value: 5 },
    { name: 'MPC_XY_VEL_MAX', type: T.REAL32, value: 12 },
    { name: 'MPC_Z_VEL_MAX_DN', type: T.REAL32, value: 1.5 },
    { name: 'MPC_Z_VEL_MAX_UP', type: T.REAL32, value: 3 },
    { name: 'NAV_ACC_RAD', type: T.REAL32, value: 2 },
    { name: 'NAV_DLL_ACT', type: T.INT32, value: 1, bind: enumBind(PX4_DLL, (o, v) => { o.gcsLossAction = v as 'hold' | 'rtl' | 'land'; }), read: (o) => inverse(PX4_DLL, o.gcsLossAction) },
    { name: 'RTL_RETURN_ALT', type: T.REAL32, value: 10, bind: positive((o, v) => { o.rtlAltitude = v; }), read: (o) => o.rtlAltitude },
    { name: 'SDLOG_MODE', type: T.INT32, value: 0 },
    { name: 'SYS_AUTOSTART', type: T.INT32, value: 4001 },
    { name: 'SYS_HAS_GPS', type: T.INT32, value: 1 },
    { name: 'SYS_HITL', type: T.INT32, value: 0 },
  ];
}

function ardupilotParams(sysid: number): ParamDef[] {
  return [
    { name: 'ANGLE_MAX', type: T.INT16, value: 3000 },
    { name: 'ARMING_CHECK', type: T.INT32, value: 1 },
    { name: 'BATT_CAPACITY', type: T.INT32, value: 5200 },
    { name: 'BATT_LOW_VOLT', type: T.REAL32, value: 14 },
    { name: 'BATT_MONITOR', type: T.INT8, value: 4 },
    { name: 'DISARM_DELAY', type: T.INT8, value: 10 },
    { name: 'FENCE_ENABLE', type: T.INT8, value: 0 },
    { name: 'FRAME_CLASS', type: T.INT8, value: 1 },
    { name: 'FRAME_TYPE', type: T.INT8, value: 1 },
    { name: 'FS_GCS_ENABLE', type: T.INT8, value: 1, bind: enumBind(APM_FS_GCS, (o, v) => { o.gcsLossAction = v as 'rtl' | 'land'; }), read: (o) => inverse(APM_FS_GCS, o.gcsLossAction as 'rtl' | 'land') },
    { name: 'FS_GCS_TIMEOUT', type: T.REAL32, value: 5, bind: positive((o, v) => { o.gcsLossTimeoutMs = v * 1000; }), read: (o) => o.gcsLossTimeoutMs / 1000 },
    { name: 'GPS_TYPE', type: T.INT8, value: 1 },
    { name: 'GUID_TIMEOUT', type: T.REAL32, value: 3, bind: positive((o, v) => { o.guidedVelocityTimeoutMs = v * 1000; }), read: (o) => o.guidedVelocityTimeoutMs / 1000 },
    { name: 'LAND_SPEED', type: T.INT16, value: 50 },
    { name: 'PILOT_TKOFF_ALT', type: T.REAL32, value: 0 },
    { name: 'RTL_ALT', type: T.INT32, value: 1000, bind: positive((o, v) => { o.rtlAltitude = v / 100; }), read: (o) => Math.round(o.rtlAltitude * 100) },
    { name: 'SERIAL0_PROTOCOL', type: T.INT8, value: 2 },
    { name: 'SYSID_MYGCS', type: T.INT16, value: 255 },
    { name: 'SYSID_THISMAV', type: T.INT8, value: sysid },
    { name: 'WPNAV_ACCEL', type: T.REAL32, value: 250 },
    { name: 'WPNAV_RADIUS', type: T.REAL32, value: 200 },
    { name: 'WPNAV_SPEED', type: T.REAL32, value: 1000 },
    { name: 'WPNAV_SPEED_DN', type: T.REAL32, value: 150 },
    { name: 'WPNAV_SPEED_UP', type: T.REAL32, value: 250 },
    { name: 'WP_YAW_BEHAVIOR', type: T.INT8, value: 2 },
  ];
}

const INT_RANGE: Record<number, [number, number]> = {
  [T.UINT8]: [0, 255], [T.INT8]: [-128, 127], [T.UINT16]: [0, 65535], [T.INT16]: [-32768, 32767],
  [T.UINT32]: [0, 4294967295], [T.INT32]: [-2147483648, 2147483647],
};

const f32 = Buffer.alloc(4);

/** PX4 sends integer parameters bytewise: the int32's bits, read as a float (PARAM_ENCODE_BYTEWISE). */
export function encodeBytewise(value: number, type: number): number {
  if (type === T.REAL32) return value;
  f32.writeInt32LE(value | 0, 0);
  return f32.readFloatLE(0);
}

export function decodeBytewise(wire: number, type: number): number {
  if (type === T.REAL32) return wire;
  f32.writeFloatLE(wire, 0);
  return f32.readInt32LE(0);
}

export class ParamsProtocol {
  private readonly defs: ParamDef[];
  private readonly byName = new Map<string, number>();
  /** Indices still to send for a PARAM_REQUEST_LIST, sent a few per tick like a real link. */
  private queue: number[] = [];
  /** Requests naming no parameter, and values refused. */
  errors = 0;

  constructor(private readonly fc: FcCore, private readonly perTick = 10) {
    this.defs = fc.autopilot === 'px4' ? px4Params(fc.sysid, fc.compid) : ardupilotParams(fc.sysid);
    this.defs.forEach((d, i) => this.byName.set(d.name, i));
  }

  get count(): number {
    return this.defs.length;
  }

  /** Current value of a parameter (bound ones read from the simulation), or undefined. */
  get(name: string): number | undefined {
    const i = this.byName.get(name);
    return i === undefined ? undefined : this.valueAt(i);
  }

  private valueAt(i: number): number {
    const d = this.defs[i];
    return d.read ? d.read(this.fc.o) : d.value;
  }

  private wireValue(i: number): number {
    const d = this.defs[i];
    const v = this.valueAt(i);
    return this.fc.autopilot === 'px4' ? encodeBytewise(v, d.type) : Math.fround(v);
  }

  private sendValue(i: number, index: number): void {
    const d = this.defs[i];
    const m = new common.ParamValue();
    m.paramId = d.name;
    m.paramValue = this.wireValue(i);
    m.paramType = d.type;
    m.paramCount = this.defs.length;
    m.paramIndex = index;
    this.fc.send(m);
  }

  private fail(text: string): void {
    this.errors++;
    this.fc.statusText(MavSeverity.ERROR, text);
  }

  onRequestList(m: InstanceType<typeof common.ParamRequestList>): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    this.queue = this.defs.map((_, i) => i);
  }

  onRequestRead(m: InstanceType<typeof common.ParamRequestRead>): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    const name = m.paramId.replace(/\0+$/, '');
    const i = m.paramIndex >= 0 ? m.paramIndex : this.byName.get(name);
    if (i === undefined || i >= this.defs.length) {
      this.fail(m.paramIndex >= 0 ? `Param index ${m.paramIndex} out of range (0..${this.defs.length - 1})` : `Param ${name} not found`);
      return;
    }
    this.sendValue(i, i);
  }

  onSet(m: InstanceType<typeof common.ParamSet>): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    const name = m.paramId.replace(/\0+$/, '');
    const i = this.byName.get(name);
    if (i === undefined) {
      this.fail(`Param ${name} not found`);
      return;
    }
    const d = this.defs[i];
    // ArduPilot answers a PARAM_SET with index 65535 (-1), PX4 with the parameter's index.
    const ackIndex = this.fc.autopilot === 'px4' ? i : 65535;
    const value = this.fc.autopilot === 'px4' ? decodeBytewise(m.paramValue, d.type) : m.paramValue;
    // PX4 refuses a PARAM_SET whose type is not the parameter's ("param types mismatch"): the bytes would mean another number.
    const mismatch = this.fc.autopilot === 'px4' && m.paramType !== d.type;
    const why = mismatch ? undefined : this.check(d, value) ?? d.bind?.(value, this.fc.o);
    if (mismatch) this.fail(`Param ${name}: type ${m.paramType} mismatch (is ${d.type})`);
    else if (why) this.fail(`Param ${name}: ${Number(value.toPrecision(6))} refused, ${why}`);
    else d.value = value;
    // Acknowledged by the value now in force (unchanged when refused).
    this.sendValue(i, ackIndex);
  }

  private check(d: ParamDef, value: number): string | undefined {
    if (!Number.isFinite(value)) return 'not a finite number';
    const r = INT_RANGE[d.type];
    if (r && !(Number.isInteger(value) && value >= r[0] && value <= r[1])) return `expected an integer in [${r[0]}, ${r[1]}]`;
    return undefined;
  }

  /** Streams a few PARAM_VALUEs of a pending list request. */
  tick(): void {
    for (let k = 0; k < this.perTick && this.queue.length > 0; k++) {
      const i = this.queue.shift() as number;
      this.sendValue(i, i);
    }
  }
}
