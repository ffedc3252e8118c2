/**
 * The flight controller as the bridge knows it, built from telemetry messages and converted
 * to Kestrel's ENU: VehicleState and BatteryState. Pure apart from keeping the last values.
 */
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { common as mmCommon } from 'mavlink-mappings';
import { makeMsg, type kestrel_msgs, type sensor_msgs, type std_msgs } from '../../msgs/index.js';
import { nedToEnu, nedYawToEnu, originFrom, type GeoOrigin, type GeoPosition, type Vec3 } from '../../lib/mavlink/frames.js';
import { modeName, type Autopilot } from '../../lib/mavlink/modes.js';

export type TelemetryKind = 'heartbeat' | 'attitude' | 'local_position' | 'global_position' | 'sys_status' | 'battery' | 'statustext' | 'autopilot_version';

export interface BatteryReading {
  voltage: number;
  /** Amperes, NaN when unknown. */
  current: number;
  /** 0..1, or -1 when unknown. */
  remaining: number;
  cells: number[];
}

export class TelemetryModel {
  armed = false;
  mode = '';
  customMode: number | undefined;
  detectedAutopilot: Autopilot | undefined;
  position: Vec3 | undefined;
  positionAtMs = -Infinity;
  velocity: Vec3 = { x: 0, y: 0, z: 0 };
  heading = 0;
  geo: GeoPosition | undefined;
  relativeAlt = 0;
  origin: GeoOrigin | undefined;
  /** Home altitude AMSL (GLOBAL_POSITION_INT alt - relative_alt). */
  homeAmsl: number | undefined;
  private localBootMs: number | undefined;
  battery: BatteryReading | undefined;
  batteryFromStatus = false;
  statusText = '';
  lastAtMs = -Infinity;
  /** MAV_PROTOCOL_CAPABILITY bits from AUTOPILOT_VERSION, once heard. */
  capabilities: number | undefined;

  constructor(private autopilot: Autopilot) {}

  setAutopilot(a: Autopilot): void {
    this.autopilot = a;
    if (this.customMode !== undefined) this.mode = modeName(a, this.customMode);
  }

  /** Applies one message from the flight controller; returns what it updated, if anything. */
  apply(msg: MavLinkData, nowMs: number): TelemetryKind | undefined {
    if (msg instanceof minimal.Heartbeat) {
      this.armed = (msg.baseMode & minimal.MavModeFlag.SAFETY_ARMED) !== 0;
      this.customMode = msg.customMode;
      if (msg.autopilot === minimal.MavAutopilot.PX4) this.detectedAutopilot = 'px4';
      else if (msg.autopilot === minimal.MavAutopilot.ARDUPILOTMEGA) this.detectedAutopilot = 'ardupilot';
      this.mode = (msg.baseMode & minimal.MavModeFlag.CUSTOM_MODE_ENABLED) !== 0 ? modeName(this.autopilot, msg.customMode) : `BASE_MODE(${msg.baseMode})`;
      return this.touch('heartbeat', nowMs);
    }
    if (msg instanceof common.Attitude) {
      this.heading = nedYawToEnu(msg.yaw);
      return this.touch('attitude', nowMs);
    }
    if (msg instanceof common.LocalPositionNed) {
      this.position = nedToEnu({ x: msg.x, y: msg.y, z: msg.z });
      this.velocity = nedToEnu({ x: msg.vx, y: msg.vy, z: msg.vz });
      this.positionAtMs = nowMs;
      this.localBootMs = msg.timeBootMs;
      return this.touch('local_position', nowMs);
    }
    if (msg instanceof common.GlobalPositionInt) {
      this.geo = { lat: msg.lat / 1e7, lon: msg.lon / 1e7, alt: msg.alt / 1000 };
      this.relativeAlt = msg.relativeAlt / 1000;
      // alt - relative_alt is home AMSL, exact within one message (what PX4's AMSL takeoff needs).
      this.homeAmsl = this.geo.alt - this.relativeAlt;
      this.updateOrigin(msg.timeBootMs);
      return this.touch('global_position', nowMs);
    }
    if (msg instanceof common.BatteryStatus) {
      const cells = msg.voltages.filter((v) => v !== 65535 && v !== 0).map((mv) => mv / 1000);
      const voltage = cells.reduce((a, b) => a + b, 0);
      this.battery = {
        voltage,
        current: msg.currentBattery === -1 ? Number.NaN : msg.currentBattery / 100,
        remaining: msg.batteryRemaining === -1 ? -1 : Math.max(0, Math.min(1, msg.batteryRemaining / 100)),
        cells,
      };
      this.batteryFromStatus = true;
      return this.touch('battery', nowMs);
    }
    if (msg instanceof common.SysStatus) {
      // BATTERY_STATUS carries more (cells); SYS_STATUS only fills in until one is seen.
      if (!this.batteryFromStatus) {
        this.battery = {
          voltage: msg.voltageBattery === 65535 ? Number.NaN : msg.voltageBattery / 1000,
          current: msg.currentBattery === -1 ? Number.NaN : msg.currentBattery / 100,
          remaining: msg.batteryRemaining === -1 ? -1 : Math.max(0, Math.min(1, msg.batteryRemaining / 100)),
          cells: [],
        };
        return this.touch('sys_status', nowMs);
      }
      return this.touch(undefined, nowMs);
    }
    // AUTOPILOT_VERSION decodes through the standalone mavlink-mappings (see lib/mavlink/wire.ts).
    if (msg instanceof mmCommon.AutopilotVersion) {
      this.capabilities = Number(msg.capabilities);
      return this.touch('autopilot_version', nowMs);
    }
    if (msg instanceof common.StatusText) {
      this.statusText = msg.text.replace(/\0+$/, '');
      return this.touch('statustext', nowMs);
    }
    return undefined;
  }

  private touch<K extends TelemetryKind | undefined>(k: K, nowMs: number): K {
    this.lastAtMs = nowMs;
    return k;
  }

  /**
   * The local origin is where GLOBAL_POSITION_INT and LOCAL_POSITION_NED agree. The two come
   * at different times, so the local position is carried to the global sample's time_boot_ms
   * with its velocity; otherwise a climbing vehicle would shift the origin by vz × Δt.
   */
  private updateOrigin(globalBootMs: number): void {
    if (!this.geo || !this.position || this.localBootMs === undefined) return;
    const dt = (globalBootMs - this.localBootMs) / 1000;
    if (Math.abs(dt) > 1) return; // too far apart to carry over
    const p = this.position;
    const v = this.velocity;
    this.origin = originFrom(this.geo, { x: p.x + v.x * dt, y: p.y + v.y * dt, z: p.z + v.z * dt });
  }

  /** Position if it was heard within maxAgeMs. */
  freshPosition(nowMs: number, maxAgeMs: number): Vec3 | undefined {
    return this.position && nowMs - this.positionAtMs <= maxAgeMs ? this.position : undefined;
  }

  vehicleState(header: std_msgs.Header, connected: boolean, autopilot: Autopilot): kestrel_msgs.VehicleState {
    return makeMsg('kestrel_msgs/msg/VehicleState', {
      header,
      connected,
      armed: this.armed,
      mode: this.mode,
      autopilot,
      position: this.position ?? { x: 0, y: 0, z: 0 },
      velocity: this.velocity,
      latitude: this.geo?.lat ?? Number.NaN,
      longitude: this.geo?.lon ?? Number.NaN,
      altitude_amsl: this.geo?.alt ?? Number.NaN,
      heading: this.heading,
      battery_voltage: this.battery?.voltage ?? Number.NaN,
      battery_remaining: this.battery?.remaining ?? -1,
      status_text: this.statusText,
    });
  }

  batteryState(header: std_msgs.Header): sensor_msgs.BatteryState | undefined {
    const b = this.battery;
    if (!b) return undefined;
    return makeMsg('sensor_msgs/msg/BatteryState', {
      header,
      voltage: b.voltage,
      temperature: Number.NaN,
      current: b.current,
      charge: Number.NaN,
      capacity: Number.NaN,
      design_capacity: Number.NaN,
      // ROS convention: NaN when unknown, 0..1 otherwise.
      percentage: b.remaining < 0 ? Number.NaN : b.remaining,
      power_supply_status: 2, // DISCHARGING
      power_supply_health: 0, // UNKNOWN
      power_supply_technology: 3, // LIPO
      present: true,
      cell_voltage: b.cells,
      cell_temperature: [],
      location: 'fc',
      serial_number: '',
    });
  }
}
