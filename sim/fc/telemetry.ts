/**
 * Telemetry of the simulated FC: the message builders (one per message id) and the stream
 * scheduler that sends each at its SET_MESSAGE_INTERVAL rate, paced on the FC clock.
 */
import { common, type MavLinkData } from 'node-mavlink';
import { enuYawToNed } from '../../lib/mavlink/frames.js';
import type { FcCore } from './core.js';

/** Streams the FC sends and their default rates (Hz), as a USB link of PX4 would. */
export const DEFAULT_STREAM_HZ: Readonly<Record<string, number>> = {
  HEARTBEAT: 1,
  ATTITUDE: 10,
  LOCAL_POSITION_NED: 10,
  GLOBAL_POSITION_INT: 5,
  SYS_STATUS: 1,
  BATTERY_STATUS: 1,
};

export const STREAM_IDS: Readonly<Record<string, number>> = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  ATTITUDE: 30,
  LOCAL_POSITION_NED: 32,
  GLOBAL_POSITION_INT: 33,
  BATTERY_STATUS: 147,
};

type Builder = (fc: FcCore) => MavLinkData;

function attitude(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const m = new common.Attitude();
  m.timeBootMs = fc.timeBootMs();
  m.roll = 0;
  m.pitch = 0;
  m.yaw = enuYawToNed(t.yaw);
  m.rollspeed = 0;
  m.pitchspeed = 0;
  m.yawspeed = 0;
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
  m.lat = Math.round(g.lat * 1e7);
  m.lon = Math.round(g.lon * 1e7);
  m.alt = Math.round(g.alt * 1000);
  m.relativeAlt = Math.round(t.z * 1000);
  m.vx = Math.round(t.vy * 100);
  m.vy = Math.round(t.vx * 100);
  m.vz = Math.round(-t.vz * 100);
  m.hdg = Math.round((((enuYawToNed(t.yaw) * 180) / Math.PI + 360) % 360) * 100) % 36000;
  return m;
}

function sysStatus(fc: FcCore): MavLinkData {
  const t = fc.v.truth();
  const m = new common.SysStatus();
  m.onboardControlSensorsPresent = 0 as common.MavSysStatusSensor;
  m.onboardControlSensorsEnabled = 0 as common.MavSysStatusSensor;
  m.onboardControlSensorsHealth = 0 as common.MavSysStatusSensor;
  m.onboardControlSensorsPresentExtended = 0 as common.MavSysStatusSensorExtended;
  m.onboardControlSensorsEnabledExtended = 0 as common.MavSysStatusSensorExtended;
  m.onboardControlSensorsHealthExtended = 0 as common.MavSysStatusSensorExtended;
  m.load = 200;
  m.voltageBattery = Math.round(t.battery_voltage * 1000);
  m.currentBattery = t.armed ? 1200 : 50;
  m.batteryRemaining = Math.round(t.battery_remaining * 100);
  m.dropRateComm = 0;
  m.errorsComm = 0;
  m.errorsCount1 = 0;
  m.errorsCount2 = 0;
  m.errorsCount3 = 0;
  m.errorsCount4 = 0;
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
    const name = Object.keys(STREAM_IDS).find((k) => STREAM_IDS[k] === msgid);
    if (name === undefined) return MavResult.UNSUPPORTED;
    if (intervalUs === -1) this.intervalMs.delete(msgid);
    else if (intervalUs === 0) this.intervalMs.set(msgid, 1000 / DEFAULT_STREAM_HZ[name]);
    else if (intervalUs > 0 && Number.isFinite(intervalUs)) this.intervalMs.set(msgid, Math.max(1, intervalUs / 1000));
    else return MavResult.DENIED;
    this.nextDue.delete(msgid);
    return MavResult.ACCEPTED;
  }
}
