/**
 * A simulated flight controller speaking MAVLink 2 over a serial port (a pty in tests and
 * `npm start`) or UDP, in the manner of PX4 or ArduCopter: heartbeat, telemetry streams at
 * SET_MESSAGE_INTERVAL rates, COMMAND_LONG with COMMAND_ACK, offboard/guided setpoints,
 * PX4's offboard-loss failsafe and a data-link-loss failsafe. The physics is SimVehicle,
 * stepped on the given clock so it runs the same under sim time.
 */
import { common, minimal, type MavLinkData } from 'node-mavlink';
import type { Subscription } from 'rxjs';
import { every, type Clock } from '../../runtime/clock.js';
import { MavEndpoint, type EndpointStats, type Received } from '../../lib/mavlink/endpoint.js';
import { enuYawToNed, geoToEnu, nedToEnu, nedYawToEnu } from '../../lib/mavlink/frames.js';
import { customModeFromParams, modeName, setModeParams, type Autopilot, type ModeIntent } from '../../lib/mavlink/modes.js';
import type { GuidanceTarget, SimVehicle } from './vehicle.js';

const { MavCmd, MavResult, MavFrame, PositionTargetTypemask, MavSeverity } = common;
const { MavModeFlag, MavType, MavAutopilot, MavState } = minimal;

export type SimLinkSpec = { kind: 'serial'; path: string; baudRate: number } | { kind: 'udp'; port: number; remoteHost?: string; remotePort?: number } | { kind: 'memory'; name: string };

/** Streams the FC sends and their default rates (Hz), as a USB link of PX4 would. */
export const DEFAULT_STREAM_HZ: Readonly<Record<string, number>> = {
  HEARTBEAT: 1,
  ATTITUDE: 10,
  LOCAL_POSITION_NED: 10,
  GLOBAL_POSITION_INT: 5,
  SYS_STATUS: 1,
  BATTERY_STATUS: 1,
};

const STREAM_IDS: Readonly<Record<string, number>> = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  ATTITUDE: 30,
  LOCAL_POSITION_NED: 32,
  GLOBAL_POSITION_INT: 33,
  BATTERY_STATUS: 147,
};

export interface SimFlightControllerOptions {
  vehicle: SimVehicle;
  clock: Clock;
  link: SimLinkSpec;
  autopilot?: Autopilot;
  physicsHz?: number;
  sysid?: number;
  compid?: number;
  /** MAVLink 2 signing: sign everything sent, accept only frames signed with this key. */
  signingKey?: Buffer;
  signingLinkId?: number;
  /** PX4 COM_OF_LOSS_T: offboard setpoints older than this trigger the failsafe. */
  offboardTimeoutMs?: number;
  /** PX4 COM_OBL_RC_ACT, reduced to the two actions that need no RC. */
  offboardLossAction?: 'hold' | 'land';
  /** Data link (GCS/companion heartbeat) loss timeout; 0 disables the check. */
  gcsLossTimeoutMs?: number;
  gcsLossAction?: 'hold' | 'rtl' | 'land';
  /** ArduCopter GUIDED: velocity targets older than this are replaced by a stop. */
  guidedVelocityTimeoutMs?: number;
  /** Default takeoff altitude above home, metres (PX4 MIS_TAKEOFF_ALT). */
  takeoffAltitude?: number;
  rtlAltitude?: number;
  /** Disarm this long after touching down in LAND/RTL (PX4 COM_DISARM_LAND). */
  autoDisarmMs?: number;
  streamHz?: Partial<Record<keyof typeof DEFAULT_STREAM_HZ, number>>;
  reconnectMs?: number;
}

export interface SimFcStatus {
  mode: string;
  armed: boolean;
  gcsConnected: boolean;
  /** Last failsafe taken, if any. */
  failsafe: string | undefined;
  linkUp: boolean;
}

export interface SimFcStats extends EndpointStats {
  commands: number;
  /** Commands answered with something other than ACCEPTED. */
  commandsRefused: number;
  setpoints: number;
  /** Of which SET_POSITION_TARGET_GLOBAL_INT. */
  globalSetpoints: number;
  /** Setpoints with an unsupported frame/type mask or non-finite values. */
  setpointsRejected: number;
  /** Messages addressed to another system/component. */
  notForUs: number;
}

type InternalMode = ModeIntent;

interface Setpoint {
  target: GuidanceTarget;
  atMs: number;
  velocity: boolean;
}

export class SimFlightController {
  private readonly v: SimVehicle;
  private readonly clock: Clock;
  private readonly autopilot: Autopilot;
  private readonly sysid: number;
  private readonly compid: number;
  private readonly ep: MavEndpoint;
  private readonly o: Required<Pick<SimFlightControllerOptions,
    'physicsHz' | 'offboardTimeoutMs' | 'offboardLossAction' | 'gcsLossTimeoutMs' | 'gcsLossAction' | 'guidedVelocityTimeoutMs' | 'takeoffAltitude' | 'rtlAltitude' | 'autoDisarmMs'>>;
  private readonly intervalMs = new Map<number, number>();
  private readonly nextDue = new Map<number, number>();
  private tick: Subscription | undefined;
  private bootMs = 0;
  private mode: InternalMode = 'manual';
  private customMode = 0;
  private modeLabel = '';
  private setpoint: Setpoint | undefined;
  private takeoffAlt = 0;
  private rtlPhase: 'climb' | 'return' | 'land' = 'climb';
  private touchdownAt: number | undefined;
  private gcsSeenAt: number | undefined;
  private gcsLost = false;
  private failsafe: string | undefined;
  private readonly counts = { commands: 0, commandsRefused: 0, setpoints: 0, globalSetpoints: 0, setpointsRejected: 0, notForUs: 0 };
  private upWaiters: (() => void)[] = [];
  private suspended = false;
  private batteryWarned = 0;
  private linkDownNote: (why: string) => void = () => {};

  constructor(opts: SimFlightControllerOptions) {
    this.v = opts.vehicle;
    this.clock = opts.clock;
    this.autopilot = opts.autopilot ?? 'px4';
    this.sysid = opts.sysid ?? 1;
    this.compid = opts.compid ?? 1;
    this.o = {
      physicsHz: opts.physicsHz ?? 50,
      offboardTimeoutMs: opts.offboardTimeoutMs ?? 500,
      offboardLossAction: opts.offboardLossAction ?? 'hold',
      gcsLossTimeoutMs: opts.gcsLossTimeoutMs ?? 5000,
      gcsLossAction: opts.gcsLossAction ?? 'hold',
      guidedVelocityTimeoutMs: opts.guidedVelocityTimeoutMs ?? 3000,
      takeoffAltitude: opts.takeoffAltitude ?? 2.5,
      rtlAltitude: opts.rtlAltitude ?? 10,
      autoDisarmMs: opts.autoDisarmMs ?? 1000,
    };
    for (const [name, hz] of Object.entries({ ...DEFAULT_STREAM_HZ, ...opts.streamHz })) {
      if (hz !== undefined && hz > 0) this.intervalMs.set(STREAM_IDS[name], 1000 / hz);
    }
    const link = opts.link.kind === 'serial' || opts.link.kind === 'memory' ? opts.link : { kind: 'udp' as const, port: opts.link.port, host: '127.0.0.1', remoteHost: opts.link.remoteHost, remotePort: opts.link.remotePort };
    this.ep = new MavEndpoint({
      link,
      clock: this.clock,
      sysid: this.sysid,
      compid: this.compid,
      signing: opts.signingKey ? { key: opts.signingKey, linkId: opts.signingLinkId ?? 0 } : undefined,
      reconnectMs: opts.reconnectMs ?? 200,
      onMessage: (r) => this.onMessage(r),
      onLinkUp: () => {
        for (const w of this.upWaiters.splice(0)) w();
      },
      onLinkDown: (why) => this.linkDownNote(why),
    });
    this.setMode('manual');
  }

  /**
   * Opens the link and starts the physics and telemetry; resolves once the link is up, or
   * fails (and stops) if it is not up within `openTimeoutMs` of real time.
   */
  async start(openTimeoutMs = 5000): Promise<void> {
    if (this.tick) return;
    this.bootMs = this.clock.now();
    let lastError = '';
    const up = new Promise<void>((resolve) => this.upWaiters.push(resolve));
    this.linkDownNote = (why) => { lastError = why; };
    this.ep.start();
    const dt = 1000 / this.o.physicsHz;
    this.tick = every(this.clock, dt).subscribe(() => this.step(dt));
    if (this.ep.isUp()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Real time on purpose: opening a device does not wait for sim time.
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), openTimeoutMs); });
    const r = await Promise.race([up, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      await this.stop();
      throw new Error(`simulated FC: link ${this.ep.description} not up within ${openTimeoutMs} ms${lastError ? ` (${lastError})` : ''}`);
    }
  }

  async stop(): Promise<void> {
    this.tick?.unsubscribe();
    this.tick = undefined;
    await this.ep.stop();
  }

  /**
   * Simulates a hung FC or a radio dropout: while suspended nothing is sent and everything
   * received is ignored (the physics keeps running).
   */
  suspend(on: boolean): void {
    this.suspended = on;
  }

  /** Writes raw bytes to the link, bypassing framing: line noise and corrupt frames for tests. */
  injectRaw(bytes: Buffer): boolean {
    return this.ep.writeRaw(bytes);
  }

  status(): SimFcStatus {
    return { mode: this.modeLabel, armed: this.v.isArmed(), gcsConnected: this.gcsSeenAt !== undefined && !this.gcsLost, failsafe: this.failsafe, linkUp: this.ep.isUp() };
  }

  stats(): SimFcStats {
    return { ...this.ep.stats(), ...this.counts };
  }

  /** Sends a STATUSTEXT (also used by tests and the simulator for events). */
  statusText(severity: number, text: string): void {
    const m = new common.StatusText();
    m.severity = severity;
    m.text = text.slice(0, 50);
    m.id = 0;
    m.chunkSeq = 0;
    this.send(m);
  }

  // --- modes ---

  private setMode(intent: InternalMode): void {
    const p = setModeParams(this.autopilot, intent);
    this.applyMode(intent, p.customMode);
  }

  private applyMode(intent: InternalMode, customMode: number): void {
    const changed = this.mode !== intent || this.customMode !== customMode;
    this.mode = intent;
    this.customMode = customMode;
    this.modeLabel = modeName(this.autopilot, customMode);
    this.v.setMode(this.modeLabel);
    if (intent === 'rtl' && changed) this.rtlPhase = 'climb';
    if (intent !== 'land' && intent !== 'rtl') this.touchdownAt = undefined;
    if (changed) this.sendHeartbeat();
  }

  private intentOfCustom(customMode: number): InternalMode {
    const name = modeName(this.autopilot, customMode);
    switch (name) {
      case 'OFFBOARD':
      case 'GUIDED':
        return 'offboard';
      case 'AUTO.LOITER':
      case 'LOITER':
      case 'BRAKE':
        return 'hold';
      case 'AUTO.LAND':
      case 'LAND':
        return 'land';
      case 'AUTO.RTL':
      case 'RTL':
      case 'SMART_RTL':
        return 'rtl';
      case 'AUTO.TAKEOFF':
        return 'takeoff';
      case 'POSCTL':
      case 'POSHOLD':
      case 'ALT_HOLD':
      case 'ALTCTL':
        return 'position';
      default:
        return 'manual';
    }
  }

  private failsafeTo(action: 'hold' | 'rtl' | 'land', why: string): void {
    this.failsafe = `${why}: ${action}`;
    this.setMode(action);
    this.statusText(MavSeverity.WARNING, `Failsafe: ${why}, ${action}`);
  }

  // --- physics and guidance ---

  private step(dtMs: number): void {
    const now = this.clock.now();
    this.checkLinkLoss(now);
    this.guide(now);
    this.v.step(dtMs);
    this.checkTouchdown(now);
    this.checkBattery();
    this.sendStreams(now);
  }

  /** PX4's default low-battery reaction is a warning (COM_LOW_BAT_ACT = 0); the arbiter decides what to do. */
  private checkBattery(): void {
    const b = this.v.truth().battery_remaining;
    const level = b <= 0.07 ? 2 : b <= 0.15 ? 1 : 0;
    if (level > this.batteryWarned) {
      this.statusText(level === 2 ? MavSeverity.CRITICAL : MavSeverity.WARNING, level === 2 ? 'Critical battery level!' : 'Low battery level!');
    }
    this.batteryWarned = level;
  }

  private checkLinkLoss(now: number): void {
    if (this.o.gcsLossTimeoutMs <= 0 || this.gcsSeenAt === undefined || this.gcsLost) return;
    if (now - this.gcsSeenAt <= this.o.gcsLossTimeoutMs) return;
    this.gcsLost = true;
    // PX4 NAV_DLL_ACT: in the air, take the action unless already doing it or coming down.
    const airborne = this.v.isArmed() && !this.v.landed();
    const busy = this.mode === this.o.gcsLossAction || this.mode === 'land' || (this.mode === 'rtl' && this.o.gcsLossAction !== 'land');
    if (airborne && !busy) this.failsafeTo(this.o.gcsLossAction, 'data link lost');
    else this.statusText(MavSeverity.WARNING, 'Data link lost');
  }

  private guide(now: number): void {
    if (!this.v.isArmed()) return;
    const t = this.v.truth();
    switch (this.mode) {
      case 'offboard': {
        const sp = this.setpoint;
        const age = sp ? now - sp.atMs : Infinity;
        if (this.autopilot === 'px4') {
          if (age > this.o.offboardTimeoutMs) {
            this.failsafeTo(this.o.offboardLossAction, 'offboard setpoints lost');
            this.v.setTarget({ kind: this.o.offboardLossAction === 'land' ? 'land' : 'hold' });
            return;
          }
          if (sp) this.v.setTarget(sp.target);
        } else if (sp && !(sp.velocity && age > this.o.guidedVelocityTimeoutMs)) {
          this.v.setTarget(sp.target);
        } else if (this.v.getTarget().kind !== 'position') {
          this.v.setTarget({ kind: 'hold' });
        }
        return;
      }
      case 'takeoff': {
        const home = this.v.homePosition();
        this.v.setTarget({ kind: 'position', x: home.x, y: home.y, z: this.takeoffAlt });
        if (Math.abs(t.z - this.takeoffAlt) < 0.3 && this.autopilot === 'px4') this.setMode('hold');
        return;
      }
      case 'land':
        this.v.setTarget({ kind: 'land' });
        return;
      case 'rtl': {
        const home = this.v.homePosition();
        const alt = this.o.rtlAltitude;
        if (this.rtlPhase === 'climb') {
          const climbTo = Math.max(t.z, alt);
          this.v.setTarget({ kind: 'position', x: t.x, y: t.y, z: climbTo });
          if (t.z >= alt - 0.3) this.rtlPhase = 'return';
        } else if (this.rtlPhase === 'return') {
          const cruise = Math.max(alt, 0);
          this.v.setTarget({ kind: 'position', x: home.x, y: home.y, z: Math.max(cruise, Math.min(t.z, cruise + 50)) });
          if (Math.hypot(t.x - home.x, t.y - home.y) < 0.5) this.rtlPhase = 'land';
        } else {
          this.v.setTarget({ kind: 'land' });
        }
        return;
      }
      default:
        this.v.setTarget({ kind: 'hold' });
    }
  }

  private checkTouchdown(now: number): void {
    if (!this.v.isArmed() || !(this.mode === 'land' || (this.mode === 'rtl' && this.rtlPhase === 'land'))) return;
    if (!this.v.landed()) {
      this.touchdownAt = undefined;
      return;
    }
    this.touchdownAt ??= now;
    if (now - this.touchdownAt >= this.o.autoDisarmMs) {
      this.v.setArmed(false);
      this.touchdownAt = undefined;
      this.statusText(MavSeverity.INFO, 'Landing detected, disarmed');
      // PX4 falls back to a hold mode after an auto-disarm; ArduCopter stays in LAND.
      if (this.autopilot === 'px4') this.setMode('hold');
      this.sendHeartbeat();
    }
  }

  // --- telemetry ---

  private sendStreams(now: number): void {
    for (const [msgid, interval] of this.intervalMs) {
      const due = this.nextDue.get(msgid) ?? now;
      if (now + 1e-6 < due) continue;
      this.sendMessage(msgid);
      // Keep the cadence, but never burst to catch up after a stall.
      this.nextDue.set(msgid, now - due > interval ? now + interval : due + interval);
    }
  }

  private timeBootMs(): number {
    return Math.max(0, Math.round(this.clock.now() - this.bootMs)) >>> 0;
  }

  private send(m: MavLinkData): boolean {
    return this.suspended ? false : this.ep.send(m);
  }

  private sendMessage(msgid: number): boolean {
    const m = this.buildMessage(msgid);
    return m ? this.send(m) : false;
  }

  private buildMessage(msgid: number): MavLinkData | undefined {
    const t = this.v.truth();
    switch (msgid) {
      case 0: return this.heartbeat();
      case 30: {
        const m = new common.Attitude();
        m.timeBootMs = this.timeBootMs();
        m.roll = 0;
        m.pitch = 0;
        m.yaw = enuYawToNed(t.yaw);
        m.rollspeed = 0;
        m.pitchspeed = 0;
        m.yawspeed = 0;
        return m;
      }
      case 32: {
        const m = new common.LocalPositionNed();
        m.timeBootMs = this.timeBootMs();
        m.x = t.y;
        m.y = t.x;
        m.z = -t.z;
        m.vx = t.vy;
        m.vy = t.vx;
        m.vz = -t.vz;
        return m;
      }
      case 33: {
        const g = this.v.geodetic();
        const m = new common.GlobalPositionInt();
        m.timeBootMs = this.timeBootMs();
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
      case 1: {
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
      case 147: {
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
      default:
        return undefined;
    }
  }

  private heartbeat(): MavLinkData {
    const m = new minimal.Heartbeat();
    m.type = MavType.QUADROTOR;
    m.autopilot = this.autopilot === 'px4' ? MavAutopilot.PX4 : MavAutopilot.ARDUPILOTMEGA;
    let base = MavModeFlag.CUSTOM_MODE_ENABLED | MavModeFlag.STABILIZE_ENABLED;
    if (this.v.isArmed()) base |= MavModeFlag.SAFETY_ARMED;
    if (this.mode === 'offboard') base |= MavModeFlag.GUIDED_ENABLED;
    if (this.mode === 'hold' || this.mode === 'land' || this.mode === 'rtl' || this.mode === 'takeoff') base |= MavModeFlag.AUTO_ENABLED | MavModeFlag.GUIDED_ENABLED;
    m.baseMode = base;
    m.customMode = this.customMode;
    m.systemStatus = this.v.isArmed() ? MavState.ACTIVE : MavState.STANDBY;
    m.mavlinkVersion = 3;
    return m;
  }

  private sendHeartbeat(): void {
    this.send(this.heartbeat());
  }

  // --- receiving ---

  private forUs(targetSystem: number, targetComponent: number): boolean {
    const ok = (targetSystem === 0 || targetSystem === this.sysid) && (targetComponent === 0 || targetComponent === this.compid);
    if (!ok) this.counts.notForUs++;
    return ok;
  }

  private onMessage({ msg, frame }: Received): void {
    if (this.suspended) return;
    const now = this.clock.now();
    if (msg instanceof minimal.Heartbeat) {
      if (frame.sysid === this.sysid && frame.compid === this.compid) return;
      this.gcsSeenAt = now;
      if (this.gcsLost) {
        this.gcsLost = false;
        this.statusText(MavSeverity.INFO, 'Data link regained');
      }
    } else if (msg instanceof common.CommandLong) {
      if (!this.forUs(msg.targetSystem, msg.targetComponent)) return;
      this.counts.commands++;
      const result = this.handleCommand(msg);
      if (result !== MavResult.ACCEPTED) this.counts.commandsRefused++;
      const ack = new common.CommandAck();
      ack.command = msg.command;
      ack.result = result;
      ack.progress = 0;
      ack.resultParam2 = 0;
      ack.targetSystem = frame.sysid;
      ack.targetComponent = frame.compid;
      this.send(ack);
    } else if (msg instanceof common.SetPositionTargetLocalNed) {
      if (!this.forUs(msg.targetSystem, msg.targetComponent)) return;
      this.acceptSetpoint(msg.coordinateFrame === MavFrame.LOCAL_NED ? this.localTarget(msg) : undefined, msg.typeMask, now);
    } else if (msg instanceof common.SetPositionTargetGlobalInt) {
      if (!this.forUs(msg.targetSystem, msg.targetComponent)) return;
      this.counts.globalSetpoints++;
      this.acceptSetpoint(this.globalTarget(msg), msg.typeMask, now);
    } else if (msg instanceof common.SetMode) {
      if (msg.targetSystem !== this.sysid) return;
      const intent = this.intentOfCustom(msg.customMode);
      if (customModeFromParams(this.autopilot, ...this.paramsOfCustom(msg.customMode)) !== undefined) this.requestMode(intent, msg.customMode);
    }
  }

  private paramsOfCustom(customMode: number): [number, number] {
    return this.autopilot === 'px4' ? [(customMode >>> 16) & 0xff, (customMode >>> 24) & 0xff] : [customMode, 0];
  }

  private acceptSetpoint(target: GuidanceTarget | undefined, typeMask: number, now: number): void {
    if (!target) {
      this.counts.setpointsRejected++;
      return;
    }
    this.counts.setpoints++;
    this.setpoint = { target, atMs: now, velocity: target.kind === 'velocity' && (typeMask & 0b111) !== 0 };
  }

  private vectorTarget(mask: number, pos: { x: number; y: number; z: number } | undefined, vel: { x: number; y: number; z: number }, yaw: number, yawRate: number): GuidanceTarget | undefined {
    const M = PositionTargetTypemask;
    const yawEnu = mask & M.YAW_IGNORE ? undefined : nedYawToEnu(yaw);
    const rateEnu = mask & M.YAW_RATE_IGNORE ? undefined : -yawRate;
    const usePos = (mask & (M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE)) === 0;
    const useVel = (mask & (M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE)) === 0;
    const finite = (...xs: (number | undefined)[]): boolean => xs.every((x) => x === undefined || Number.isFinite(x));
    if (usePos && pos) {
      if (!finite(pos.x, pos.y, pos.z, yawEnu)) return undefined;
      return { kind: 'position', x: pos.x, y: pos.y, z: pos.z, yaw: yawEnu };
    }
    if (useVel) {
      if (!finite(vel.x, vel.y, vel.z, yawEnu, rateEnu)) return undefined;
      return { kind: 'velocity', vx: vel.x, vy: vel.y, vz: vel.z, yaw: yawEnu, yawRate: rateEnu };
    }
    return undefined;
  }

  private localTarget(m: InstanceType<typeof common.SetPositionTargetLocalNed>): GuidanceTarget | undefined {
    const p = nedToEnu({ x: m.x, y: m.y, z: m.z });
    const v = nedToEnu({ x: m.vx, y: m.vy, z: m.vz });
    return this.vectorTarget(m.typeMask, p, v, m.yaw, m.yawRate);
  }

  private globalTarget(m: InstanceType<typeof common.SetPositionTargetGlobalInt>): GuidanceTarget | undefined {
    const F = MavFrame;
    let pos: { x: number; y: number; z: number } | undefined;
    const lat = m.latInt / 1e7;
    const lon = m.lonInt / 1e7;
    if (m.coordinateFrame === F.GLOBAL_INT || m.coordinateFrame === F.GLOBAL) pos = geoToEnu(this.v.origin, lat, lon, m.alt);
    else if (m.coordinateFrame === F.GLOBAL_RELATIVE_ALT_INT || m.coordinateFrame === F.GLOBAL_RELATIVE_ALT) {
      const e = geoToEnu(this.v.origin, lat, lon, this.v.origin.alt);
      pos = { x: e.x, y: e.y, z: m.alt };
    } else return undefined;
    const v = nedToEnu({ x: m.vx, y: m.vy, z: m.vz });
    return this.vectorTarget(m.typeMask, pos, v, m.yaw, m.yawRate);
  }

  private requestMode(intent: InternalMode, customMode: number): number {
    if (intent === 'offboard' && this.autopilot === 'px4') {
      // PX4 refuses OFFBOARD unless setpoints are already streaming.
      const sp = this.setpoint;
      if (!sp || this.clock.now() - sp.atMs > this.o.offboardTimeoutMs) {
        this.statusText(MavSeverity.CRITICAL, 'Switching to Offboard is currently not available');
        return MavResult.DENIED;
      }
    }
    if (intent === 'takeoff') return this.takeoff(this.o.takeoffAltitude);
    if (intent === 'offboard' && this.mode !== 'offboard') this.setpointHoldOnEntry();
    this.failsafe = undefined;
    this.applyMode(intent, customMode);
    return MavResult.ACCEPTED;
  }

  /** Entering GUIDED with no setpoint holds where the vehicle is (ArduCopter). */
  private setpointHoldOnEntry(): void {
    if (this.autopilot === 'ardupilot' && !this.setpoint) {
      const t = this.v.truth();
      this.setpoint = { target: { kind: 'position', x: t.x, y: t.y, z: t.z }, atMs: this.clock.now(), velocity: false };
    }
  }

  private takeoff(relAlt: number): number {
    if (!this.v.isArmed()) return MavResult.DENIED;
    if (!(relAlt > 0 && relAlt <= 500)) return MavResult.DENIED;
    this.takeoffAlt = relAlt;
    this.failsafe = undefined;
    if (this.autopilot === 'px4') {
      this.setMode('takeoff');
    } else {
      if (this.mode !== 'offboard') return MavResult.DENIED; // ArduCopter: takeoff only in GUIDED
      const home = this.v.homePosition();
      this.setpoint = { target: { kind: 'position', x: home.x, y: home.y, z: relAlt }, atMs: this.clock.now(), velocity: false };
    }
    return MavResult.ACCEPTED;
  }

  private handleCommand(c: InstanceType<typeof common.CommandLong>): number {
    switch (c.command) {
      case MavCmd.COMPONENT_ARM_DISARM: {
        if (c._param1 === 1) {
          if (!this.v.landed() && !this.v.isArmed()) return MavResult.DENIED;
          if (this.v.truth().battery_remaining < 0.05) {
            this.statusText(MavSeverity.CRITICAL, 'Arming denied: battery critically low');
            return MavResult.DENIED;
          }
          if (!this.v.isArmed()) {
            this.v.setArmed(true);
            this.sendHeartbeat();
          }
          return MavResult.ACCEPTED;
        }
        if (c._param1 === 0) {
          // Disarming in the air needs the force magic number, as on both autopilots.
          if (!this.v.landed() && c._param2 !== 21196) return MavResult.DENIED;
          this.v.setArmed(false);
          this.sendHeartbeat();
          return MavResult.ACCEPTED;
        }
        return MavResult.DENIED;
      }
      case MavCmd.NAV_TAKEOFF: {
        const rel = this.autopilot === 'px4'
          ? (Number.isNaN(c._param7) ? this.o.takeoffAltitude : c._param7 - this.v.origin.alt)
          : c._param7;
        return this.takeoff(rel);
      }
      case MavCmd.NAV_LAND:
        if (!this.v.isArmed()) return MavResult.DENIED;
        this.failsafe = undefined;
        this.setMode('land');
        return MavResult.ACCEPTED;
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        if (!this.v.isArmed()) return MavResult.DENIED;
        this.failsafe = undefined;
        this.setMode('rtl');
        return MavResult.ACCEPTED;
      case MavCmd.NAV_LOITER_UNLIM:
        this.setMode('hold');
        return MavResult.ACCEPTED;
      case MavCmd.DO_SET_MODE: {
        if ((c._param1 & MavModeFlag.CUSTOM_MODE_ENABLED) === 0) return MavResult.DENIED;
        const cm = customModeFromParams(this.autopilot, c._param2, c._param3);
        if (cm === undefined) return MavResult.DENIED;
        return this.requestMode(this.intentOfCustom(cm), cm);
      }
      case MavCmd.SET_MESSAGE_INTERVAL: {
        const id = c._param1;
        if (!Object.values(STREAM_IDS).includes(id)) return MavResult.UNSUPPORTED;
        if (c._param2 === -1) this.intervalMs.delete(id);
        else if (c._param2 === 0) {
          const name = Object.keys(STREAM_IDS).find((k) => STREAM_IDS[k] === id) as string;
          this.intervalMs.set(id, 1000 / DEFAULT_STREAM_HZ[name]);
        } else if (c._param2 > 0 && Number.isFinite(c._param2)) this.intervalMs.set(id, Math.max(1, c._param2 / 1000));
        else return MavResult.DENIED;
        this.nextDue.delete(id);
        return MavResult.ACCEPTED;
      }
      case MavCmd.REQUEST_MESSAGE:
        return this.sendMessage(c._param1) ? MavResult.ACCEPTED : MavResult.UNSUPPORTED;
      default:
        return MavResult.UNSUPPORTED;
    }
  }
}
