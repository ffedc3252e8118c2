/**
 * Telemetry of the simulated FC: the message builders (one per message id: state, position,
 * GPS, home, landed state, battery, identity) and the stream scheduler that sends each at its
 * SET_MESSAGE_INTERVAL rate, paced on the FC clock. Any message with a builder can be
 * streamed, requested (REQUEST_MESSAGE) and asked for its interval (GET_MESSAGE_INTERVAL).
 */
import { common, type MavLinkData } from 'node-mavlink';
import { common as mmCommon, minimal as mmMinimal } from 'mavlink-mappings';
import { enuToGeo, enuYawToNed } from '../../lib/mavlink/frames.js';
import type { FcCore } from './core.js';

/** Streams the FC sends and their default rates (Hz), as a USB link of PX4 would. */
export const DEFAULT_STREAM_HZ: Readonly<Record<string, number>> = {
  HEARTBEAT: 1,
  ATTITUDE: 10,
  LOCAL_POSITION_NED: 10,
  GLOBAL_POSITION_INT: 5,
  SYS_STATUS: 1,
  BATTERY_STATUS: 1,
  ATTITUDE_QUATERNION: 5,
  GPS_RAW_INT: 1,
  EXTENDED_SYS_STATE: 1,
  HOME_POSITION: 0.5,
  MISSION_CURRENT: 1,
};

export const STREAM_IDS: Readonly<Record<string, number>> = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  ATTITUDE: 30,
  LOCAL_POSITION_NED: 32,
  GLOBAL_POSITION_INT: 33,
  BATTERY_STATUS: 147,
  GPS_RAW_INT: 24,
  ATTITUDE_QUATERNION: 31,
  MISSION_CURRENT: 42,
  AUTOPILOT_VERSION: 148,
  HOME_POSITION: 242,
  EXTENDED_SYS_STATE: 245,
  PROTOCOL_VERSION: 300,
};

/** Sensors a SITL multicopter reports in SYS_STATUS: present, enabled and healthy. */
const S = common.MavSysStatusSensor;
const SENSORS = S.SENSOR_3D_GYRO | S.SENSOR_3D_ACCEL | S.SENSOR_3D_MAG | S.SENSOR_ABSOLUTE_PRESSURE | S.SENSOR_GPS
  | S.SENSOR_ANGULAR_RATE_CONTROL | S.SENSOR_ATTITUDE_STABILIZATION | S.SENSOR_YAW_POSITION | S.SENSOR_Z_ALTITUDE_CONTROL
  | S.SENSOR_XY_POSITION_CONTROL | S.SENSOR_MOTOR_OUTPUTS | S.AHRS | S.SENSOR_BATTERY | S.PREARM_CHECK;

type Builder = (fc: FcCore) => MavLinkData;

/** A geodetic position as MAVLink's integers: degrees × 1e7, altitude in mm. */
function geoInt(g: { lat: number; lon: number; alt: number }): { lat: number; lon: number; alt: number } {
  return { lat: Math.round(g.lat * 1e7), lon: Math.round(g.lon * 1e7), alt: Math.round(g.alt * 1000) };
}

/** A direction (radians clockwise from north) as MAVLink's centidegrees, 0..35999. */
function centidegrees(rad: number): number {
  return Math.round((((rad * 180) / Math.PI + 360) % 360) * 100) % 36000;
}

/** The number fields of a message class. */
type NumberFields<T> = { [K in keyof T as T[K] extends number ? K : never]?: number };

/** Sets number fields by name, checked against the class (Object.assign alone takes any name). */
function setAll<T extends object>(m: T, values: NumberFields<T>): void {
  Object.assign(m, values);
}

function attitude(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const m = new common.Attitude();
  m.timeBootMs = fc.timeBootMs();
  m.roll = 0;
  m.pitch = 0;
  m.yaw = enuYawToNed(t.yaw);
  setAll(m, { rollspeed: 0, pitchspeed: 0, yawspeed: 0 });
  return m;
}

function localPosition(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const m = new common.LocalPositionNed();
  m.timeBootMs = fc.timeBootMs();
  m.x = t.y;
  m.y = t.x;
  m.z = -t.z;
  m.vx = t.vy;
  m.vy = t.vx;
  m.vz = -t.vz;
  return m;
}

function globalPosition(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const g = fc.v.geodetic();
  const m = new common.GlobalPositionInt();
  m.timeBootMs = fc.timeBootMs();
  setAll(m, geoInt(g));
  m.relativeAlt = Math.round(t.z * 1000);
  m.vx = Math.round(t.vy * 100);
  m.vy = Math.round(t.vx * 100);
  m.vz = Math.round(-t.vz * 100);
  m.hdg = centidegrees(enuYawToNed(t.yaw));
  return m;
}

function sysStatus(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const m = new common.SysStatus();
  // Motor outputs are enabled only while armed; battery and pre-arm health fail on a critical battery.
  const enabled = t.armed ? SENSORS : SENSORS & ~S.SENSOR_MOTOR_OUTPUTS;
  const healthy = t.battery_remaining < 0.07 ? SENSORS & ~(S.SENSOR_BATTERY | S.PREARM_CHECK) : SENSORS;
  m.onboardControlSensorsPresent = SENSORS as common.MavSysStatusSensor;
  m.onboardControlSensorsEnabled = enabled as common.MavSysStatusSensor;
  m.onboardControlSensorsHealth = healthy as common.MavSysStatusSensor;
  m.onboardControlSensorsPresentExtended = 0 as common.MavSysStatusSensorExtended;
  m.onboardControlSensorsEnabledExtended = 0 as common.MavSysStatusSensorExtended;
  m.onboardControlSensorsHealthExtended = 0 as common.MavSysStatusSensorExtended;
  m.load = 200;
  m.voltageBattery = Math.round(t.battery_voltage * 1000);
  m.currentBattery = t.armed ? 1200 : 50;
  m.batteryRemaining = Math.round(t.battery_remaining * 100);
  setAll(m, { dropRateComm: 0, errorsComm: 0, errorsCount1: 0, errorsCount2: 0, errorsCount3: 0, errorsCount4: 0 });
  return m;
}

function batteryStatus(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  // LiPo cells at 3.5..4.2 V each; the pack voltage tells how many.
  const cells = Math.max(1, Math.round(t.battery_voltage / 3.85));
  const m = new common.BatteryStatus();
  m.id = 0;
  m.batteryFunction = common.MavBatteryFunction.ALL;
  m.type = common.MavBatteryType.LIPO;
  m.temperature = 32767; // INT16_MAX: unknown
  m.voltages = Array.from({ length: 10 }, (_, i) => (i < cells ? Math.round((t.battery_voltage / cells) * 1000) : 65535));
  m.currentBattery = t.armed ? 1200 : 50;
  m.currentConsumed = -1;
  m.energyConsumed = -1;
  m.batteryRemaining = Math.round(t.battery_remaining * 100);
  m.timeRemaining = 0;
  m.chargeState = t.battery_remaining > 0.2 ? common.MavBatteryChargeState.OK : t.battery_remaining > 0.1 ? common.MavBatteryChargeState.LOW : common.MavBatteryChargeState.CRITICAL;
  m.voltagesExt = [0, 0, 0, 0];
  m.mode = common.MavBatteryMode.UNKNOWN;
  m.faultBitmask = 0 as common.MavBatteryFault;
  return m;
}

function attitudeQuaternion(fc: FcCore): MavLinkData {
  const yaw = enuYawToNed(fc.v.truth().yaw);
  const m = new common.AttitudeQuaternion();
  m.timeBootMs = fc.timeBootMs();
  // Level attitude: a rotation about the NED z axis by yaw.
  m.q1 = Math.cos(yaw / 2);
  m.q2 = 0;
  m.q3 = 0;
  m.q4 = Math.sin(yaw / 2);
  setAll(m, { rollspeed: 0, pitchspeed: 0, yawspeed: 0 });
  m.reprOffsetQ = [0, 0, 0, 0];
  return m;
}

function gpsRawInt(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const g = fc.v.geodetic();
  const m = new common.GpsRawInt();
  m.timeUsec = BigInt(fc.timeBootMs()) * 1000n;
  m.fixType = common.GpsFixType.GPS_FIX_TYPE_3D_FIX;
  const p = geoInt(g);
  setAll(m, p);
  m.vel = Math.round(Math.hypot(t.vx, t.vy) * 100);
  m.cog = centidegrees(Math.atan2(t.vx, t.vy));
  setAll(m, { eph: 80, epv: 120, satellitesVisible: 12, altEllipsoid: p.alt, hAcc: 500, vAcc: 800, velAcc: 200, hdgAcc: 0, yaw: 0 });
  return m;
}

function homePosition(fc: FcCore): MavLinkData {
  const h = fc.v.homePosition();
  const g = enuToGeo(fc.v.origin, h.x, h.y, h.z);
  const m = new common.HomePosition();
  ({ lat: m.latitude, lon: m.longitude, alt: m.altitude } = geoInt(g));
  m.x = h.y;
  m.y = h.x;
  m.z = -h.z;
  m.q = [1, 0, 0, 0];
  m.approachX = 0;
  m.approachY = 0;
  m.approachZ = 0;
  m.timeUsec = BigInt(fc.timeBootMs()) * 1000n;
  return m;
}

function extendedSysState(fc: FcCore): MavLinkData {
  const L = common.MavLandedState;
  const v = fc.v;
  const t = v.truth();
  const m = new common.ExtendedSysState();
  m.vtolState = common.MavVtolState.UNDEFINED;
  if (!v.isArmed() || v.landed()) m.landedState = L.ON_GROUND;
  else if ((fc.mode === 'takeoff' || fc.mode === 'mission') && t.vz > 0.3 && t.z < 1.5) m.landedState = L.TAKEOFF;
  else if (fc.mode === 'land' || (fc.mode === 'rtl' && fc.rtlPhase === 'land') || v.getTarget().kind === 'land') m.landedState = L.LANDING;
  else m.landedState = L.IN_AIR;
  return m;
}

const CAP = mmCommon.MavProtocolCapability;

/** What each autopilot advertises in AUTOPILOT_VERSION (the parts this simulator implements). */
export function capabilities(autopilot: 'px4' | 'ardupilot'): number {
  const both = CAP.MISSION_FLOAT | CAP.PARAM_FLOAT | CAP.MISSION_INT | CAP.COMMAND_INT | CAP.SET_POSITION_TARGET_LOCAL_NED
    | CAP.SET_POSITION_TARGET_GLOBAL_INT | CAP.MAVLINK2 | CAP.MISSION_FENCE | CAP.MISSION_RALLY;
  // PX4 encodes integer parameters bytewise (PARAM_ENCODE_BYTEWISE, once PARAM_UNION).
  return autopilot === 'px4' ? both | CAP.PARAM_UNION : both;
}

/** PX4 v1.14.0 and ArduCopter V4.5.0, FIRMWARE_VERSION_TYPE_OFFICIAL. */
export const FLIGHT_SW_VERSION = { px4: 0x010e00ff, ardupilot: 0x040500ff } as const;

function autopilotVersion(fc: FcCore): MavLinkData {
  const m = new mmCommon.AutopilotVersion();
  m.capabilities = BigInt(capabilities(fc.autopilot)) as unknown as typeof m.capabilities;
  m.uid = BigInt(0x4b45535452454c00 + fc.sysid) as unknown as typeof m.uid;
  m.flightSwVersion = FLIGHT_SW_VERSION[fc.autopilot];
  m.middlewareSwVersion = 0;
  m.osSwVersion = 0;
  m.boardVersion = 0;
  m.vendorId = 0;
  m.productId = 0;
  m.flightCustomVersion = [0, 0, 0, 0, 0, 0, 0, 0];
  m.middlewareCustomVersion = [0, 0, 0, 0, 0, 0, 0, 0];
  m.osCustomVersion = [0, 0, 0, 0, 0, 0, 0, 0];
  m.uid2 = Array<number>(18).fill(0);
  return m as unknown as MavLinkData;
}

function protocolVersion(): MavLinkData {
  const m = new mmMinimal.ProtocolVersion();
  m.version = 200;
  m.minVersion = 100;
  m.maxVersion = 200;
  m.specVersionHash = [0, 0, 0, 0, 0, 0, 0, 0];
  m.libraryVersionHash = [0, 0, 0, 0, 0, 0, 0, 0];
  return m as unknown as MavLinkData;
}

export class Telemetry {
  private readonly intervalMs = new Map<number, number>();
  private readonly nextDue = new Map<number, number>();
  private readonly builders = new Map<number, Builder>([
    [0, (fc) => fc.heartbeat()],
    [1, sysStatus],
    [30, attitude],
    [32, localPosition],
    [33, globalPosition],
    [147, batteryStatus],
    [24, gpsRawInt],
    [31, attitudeQuaternion],
    [148, autopilotVersion],
    [242, homePosition],
    [245, extendedSysState],
    [300, protocolVersion],
  ]);

  constructor(private readonly fc: FcCore, streamHz: Partial<Record<string, number>> = {}) {
    for (const [name, hz] of Object.entries({ ...DEFAULT_STREAM_HZ, ...streamHz })) {
      if (hz !== undefined && hz > 0) this.intervalMs.set(STREAM_IDS[name], 1000 / hz);
    }
  }

  /** Adds (or replaces) the builder of a message other modules own (mission, params...). */
  register(msgid: number, build: Builder): void {
    this.builders.set(msgid, build);
  }

  sendStreams(now: number): void {
    for (const [msgid, interval] of this.intervalMs) {
      const due = this.nextDue.get(msgid) ?? now;
      if (now + 1e-6 < due) continue;
      this.sendMessage(msgid);
      // Keep the cadence, but never burst to catch up after a stall.
      this.nextDue.set(msgid, now - due > interval ? now + interval : due + interval);
    }
  }

  build(msgid: number): MavLinkData | undefined {
    return this.builders.get(msgid)?.(this.fc);
  }

  sendMessage(msgid: number): boolean {
    const m = this.build(msgid);
    return m ? this.fc.send(m) : false;
  }

  /** SET_MESSAGE_INTERVAL: µs, -1 = off, 0 = default. */
  setInterval(msgid: number, intervalUs: number): number {
    const { MavResult } = common;
    if (!this.builders.has(msgid)) return MavResult.UNSUPPORTED;
    const name = Object.keys(STREAM_IDS).find((k) => STREAM_IDS[k] === msgid);
    const defHz = name === undefined ? 0 : DEFAULT_STREAM_HZ[name] ?? 0;
    if (intervalUs === -1 || (intervalUs === 0 && !(defHz > 0))) this.intervalMs.delete(msgid);
    else if (intervalUs === 0) this.intervalMs.set(msgid, 1000 / defHz);
    else if (intervalUs > 0 && Number.isFinite(intervalUs)) this.intervalMs.set(msgid, Math.max(1, intervalUs / 1000));
    else return MavResult.DENIED;
    this.nextDue.delete(msgid);
    return MavResult.ACCEPTED;
  }

  /**
   * REQUEST_DATA_STREAM, ArduPilot's older rate request (MAVProxy and Mission Planner send it):
   * a stream group at a rate in Hz, 0 or start_stop 0 to stop. PX4 ignores it.
   */
  requestDataStream(streamId: number, hz: number, start: boolean): void {
    const groups: Record<number, number[]> = {
      1: [24], // RAW_SENSORS
      2: [1, 24, 42, 147], // EXTENDED_STATUS
      6: [32, 33], // POSITION
      10: [30, 31], // EXTRA1
      12: [245], // EXTRA3
    };
    const ids = streamId === 0 ? [...new Set(Object.values(groups).flat())] : groups[streamId] ?? [];
    for (const id of ids) this.setInterval(id, start && hz > 0 ? 1e6 / hz : -1);
  }

  /** MESSAGE_INTERVAL for GET_MESSAGE_INTERVAL: the interval in µs, -1 when not streamed; undefined for a message this FC cannot send. */
  intervalMessage(msgid: number): MavLinkData | undefined {
    if (!this.builders.has(msgid)) return undefined;
    const ms = this.intervalMs.get(msgid);
    const m = new common.MessageInterval();
    m.messageId = msgid;
    m.intervalUs = ms === undefined ? -1 : Math.round(ms * 1000);
    return m;
  }
}
