/**
 * Commands of the simulated FC: COMMAND_LONG and COMMAND_INT answered with COMMAND_ACK
 * (arm/disarm, takeoff, land, RTL, loiter, DO_SET_MODE, DO_REPOSITION, mission start and set
 * current, SET/GET_MESSAGE_INTERVAL, REQUEST_MESSAGE and the older REQUEST_AUTOPILOT_CAPABILITIES
 * / REQUEST_PROTOCOL_VERSION), and SET_MODE, acknowledged the way each autopilot does it. The
 * ACK goes out first, then any message the command asked for.
 */
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { customModeFromParams } from '../../lib/mavlink/modes.js';
import { missionCustomMode, type FcCore, type InternalMode } from './core.js';
import type { Guidance } from './guidance.js';
import type { MissionProtocol } from './mission.js';
import type { Telemetry } from './telemetry.js';

const { MavCmd, MavResult, MavSeverity, MavFrame, MavDoRepositionFlags } = common;
const { MavModeFlag } = minimal;

/** The seven parameters of a command, whichever message carried it. */
export interface CommandArgs {
  command: number;
  p: [number, number, number, number, number, number, number];
  /** COMMAND_INT only: the frame of x/y/z (x, y in degE7). */
  frame?: number;
}

interface Outcome {
  result: number;
  /** Sent after the ACK (the message a REQUEST_MESSAGE asked for). */
  then?: MavLinkData;
}

const INT32_MAX = 2147483647;
const MSG_ID_SET_MODE = 11;

export class Commands {
  constructor(
    private readonly fc: FcCore,
    private readonly tel: Telemetry,
    private readonly guidance: Guidance,
    private readonly mission: MissionProtocol,
  ) {}

  onCommandLong(msg: InstanceType<typeof common.CommandLong>, from: { sysid: number; compid: number }): void {
    if (!this.fc.forUs(msg.targetSystem, msg.targetComponent)) return;
    this.answer({ command: msg.command, p: [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7] }, from);
  }

  onCommandInt(msg: InstanceType<typeof common.CommandInt>, from: { sysid: number; compid: number }): void {
    if (!this.fc.forUs(msg.targetSystem, msg.targetComponent)) return;
    this.answer({ command: msg.command, p: [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7], frame: msg.frame }, from);
  }

  private sendAck(command: number, result: number, to: { sysid: number; compid: number }): void {
    const ack = new common.CommandAck();
    ack.command = command;
    ack.result = result;
    ack.progress = 0;
    ack.resultParam2 = 0;
    ack.targetSystem = to.sysid;
    ack.targetComponent = to.compid;
    this.fc.send(ack);
  }

  private answer(args: CommandArgs, from: { sysid: number; compid: number }): void {
    const fc = this.fc;
    fc.counts.commands++;
    const o = this.handle(args);
    if (o.result !== MavResult.ACCEPTED) fc.counts.commandsRefused++;
    this.sendAck(args.command, o.result, from);
    if (o.then) fc.send(o.then);
  }

  /**
   * SET_MODE. ArduPilot acknowledges it with a COMMAND_ACK whose command is the SET_MODE
   * message id (11); PX4 turns it into DO_SET_MODE and acknowledges that (176).
   */
  onSetMode(msg: InstanceType<typeof common.SetMode>, from: { sysid: number; compid: number }): void {
    const fc = this.fc;
    if (msg.targetSystem !== fc.sysid) {
      fc.counts.notForUs++;
      return;
    }
    fc.counts.commands++;
    const params: [number, number] = fc.autopilot === 'px4' ? [(msg.customMode >>> 16) & 0xff, (msg.customMode >>> 24) & 0xff] : [msg.customMode, 0];
    const known = customModeFromParams(fc.autopilot, ...params) !== undefined;
    const result = known ? this.requestMode(fc.intentOfCustom(msg.customMode), msg.customMode) : MavResult.DENIED;
    if (result !== MavResult.ACCEPTED) fc.counts.commandsRefused++;
    this.sendAck(fc.autopilot === 'px4' ? MavCmd.DO_SET_MODE : MSG_ID_SET_MODE, result, from);
  }

  requestMode(intent: InternalMode, customMode: number): number {
    const fc = this.fc;
    if (intent === 'offboard' && fc.autopilot === 'px4') {
      // PX4 refuses OFFBOARD unless setpoints are already streaming.
      const sp = fc.setpoint;
      if (!sp || fc.clock.now() - sp.atMs > fc.o.offboardTimeoutMs) {
        fc.statusText(MavSeverity.CRITICAL, 'Switching to Offboard is currently not available');
        return MavResult.DENIED;
      }
    }
    if (intent === 'mission' && !this.mission.canStart()) return MavResult.DENIED;
    if (intent === 'takeoff') return this.takeoff(fc.o.takeoffAltitude);
    if (intent === 'offboard' && fc.mode !== 'offboard') this.setpointHoldOnEntry();
    fc.failsafe = undefined;
    fc.applyMode(intent, customMode);
    return MavResult.ACCEPTED;
  }

  /** Entering GUIDED with no setpoint holds where the vehicle is (ArduCopter). */
  private setpointHoldOnEntry(): void {
    const fc = this.fc;
    if (fc.autopilot === 'ardupilot' && !fc.setpoint) {
      const t = fc.v.truth();
      fc.setpoint = { target: { kind: 'position', x: t.x, y: t.y, z: t.z }, atMs: fc.clock.now(), velocity: false };
    }
  }

  private takeoff(relAlt: number): number {
    const fc = this.fc;
    if (!fc.v.isArmed()) return MavResult.DENIED;
    if (!(relAlt > 0 && relAlt <= 500)) return MavResult.DENIED;
    fc.takeoffAlt = relAlt;
    fc.failsafe = undefined;
    if (fc.autopilot === 'px4') {
      fc.setMode('takeoff');
    } else {
      if (fc.mode !== 'offboard') return MavResult.DENIED; // ArduCopter: takeoff only in GUIDED
      const home = fc.v.homePosition();
      fc.setpoint = { target: { kind: 'position', x: home.x, y: home.y, z: relAlt }, atMs: fc.clock.now(), velocity: false };
    }
    return MavResult.ACCEPTED;
  }

  /**
   * DO_REPOSITION (what MAVSDK's goto_location and QGroundControl's "go to location" send):
   * PX4 flies there in AUTO.LOITER; ArduCopter in GUIDED, switching to it only when the
   * CHANGE_MODE flag is set. Lat/lon INT32_MAX (or 0) keep the current position, NaN alt the current altitude.
   */
  private reposition(c: CommandArgs): number {
    const fc = this.fc;
    if (!fc.v.isArmed() || fc.v.landed()) return MavResult.DENIED;
    const [, flags, , yawDeg, x, y, z] = c.p;
    const t = fc.v.truth();
    let target = { x: t.x, y: t.y, z: t.z };
    const hasLatLon = !(x === INT32_MAX || y === INT32_MAX || (x === 0 && y === 0) || Number.isNaN(x) || Number.isNaN(y));
    if (hasLatLon) {
      const frame = c.frame ?? MavFrame.GLOBAL;
      // COMMAND_LONG carries lat/lon as float degrees, COMMAND_INT as degE7.
      const scale = c.frame === undefined ? 1 : 1e-7;
      const local = this.guidance.globalToLocal(frame, x * scale, y * scale, Number.isNaN(z) ? 0 : z);
      if (!local) return MavResult.UNSUPPORTED;
      target = { x: local.x, y: local.y, z: Number.isNaN(z) ? t.z : local.z };
    } else if (!Number.isNaN(z)) {
      const frame = c.frame ?? MavFrame.GLOBAL;
      const local = this.guidance.globalToLocal(frame, 0, 0, z);
      if (!local) return MavResult.UNSUPPORTED;
      target.z = local.z;
    }
    if (!(target.z > 0 && target.z <= 500) || !Number.isFinite(target.x) || !Number.isFinite(target.y)) return MavResult.DENIED;
    const yaw = Number.isFinite(yawDeg) ? Math.PI / 2 - (yawDeg * Math.PI) / 180 : undefined;
    fc.failsafe = undefined;
    if (fc.autopilot === 'px4') {
      fc.setMode('hold');
      fc.holdTarget = { ...target, yaw };
      return MavResult.ACCEPTED;
    }
    if (fc.mode !== 'offboard') {
      if ((flags & MavDoRepositionFlags.CHANGE_MODE) === 0) return MavResult.DENIED;
      fc.setMode('offboard');
    }
    fc.setpoint = { target: { kind: 'position', ...target, yaw }, atMs: fc.clock.now(), velocity: false };
    return MavResult.ACCEPTED;
  }

  /** REQUEST_MESSAGE: the message, or UNSUPPORTED for one this autopilot does not send. */
  private requested(msgid: number, p2: number): Outcome {
    // ArduPilot has no PROTOCOL_VERSION (ground stations fall back to the heartbeat's MAVLink 2).
    if (msgid === 300 && this.fc.autopilot === 'ardupilot') return { result: MavResult.UNSUPPORTED };
    if (msgid === 244) {
      const m = this.tel.intervalMessage(p2);
      return m ? { result: MavResult.ACCEPTED, then: m } : { result: MavResult.DENIED };
    }
    if (msgid === 42) return { result: MavResult.ACCEPTED, then: this.mission.currentMessage() };
    const m = this.tel.build(msgid);
    return m ? { result: MavResult.ACCEPTED, then: m } : { result: MavResult.UNSUPPORTED };
  }

  private handle(c: CommandArgs): Outcome {
    const fc = this.fc;
    const v = fc.v;
    const [p1, p2, p3, , , , p7] = c.p;
    const r = (result: number): Outcome => ({ result });
    switch (c.command) {
      case MavCmd.COMPONENT_ARM_DISARM: {
        if (p1 === 1) {
          if (!v.landed() && !v.isArmed()) return r(MavResult.DENIED);
          if (v.truth().battery_remaining < 0.05) {
            fc.statusText(MavSeverity.CRITICAL, 'Arming denied: battery critically low');
            return r(MavResult.DENIED);
          }
          if (!v.isArmed()) {
            v.setArmed(true);
            fc.sendHeartbeat();
            // Home is set on arming; PX4 and ArduPilot both announce the new one.
            return { result: MavResult.ACCEPTED, then: this.tel.build(242) };
          }
          return r(MavResult.ACCEPTED);
        }
        if (p1 === 0) {
          // Disarming in the air needs the force magic number, as on both autopilots.
          if (!v.landed() && p2 !== 21196) return r(MavResult.DENIED);
          v.setArmed(false);
          fc.sendHeartbeat();
          return r(MavResult.ACCEPTED);
        }
        return r(MavResult.DENIED);
      }
      case MavCmd.NAV_TAKEOFF: {
        const rel = fc.autopilot === 'px4' ? (Number.isNaN(p7) ? fc.o.takeoffAltitude : p7 - v.origin.alt) : p7;
        return r(this.takeoff(rel));
      }
      case MavCmd.NAV_LAND:
        if (!v.isArmed()) return r(MavResult.DENIED);
        fc.failsafe = undefined;
        fc.setMode('land');
        return r(MavResult.ACCEPTED);
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        if (!v.isArmed()) return r(MavResult.DENIED);
        fc.failsafe = undefined;
        fc.setMode('rtl');
        return r(MavResult.ACCEPTED);
      case MavCmd.NAV_LOITER_UNLIM:
        fc.setMode('hold');
        return r(MavResult.ACCEPTED);
      case MavCmd.DO_SET_MODE: {
        if ((p1 & MavModeFlag.CUSTOM_MODE_ENABLED) === 0) return r(MavResult.DENIED);
        const cm = customModeFromParams(fc.autopilot, p2, p3);
        if (cm === undefined) return r(MavResult.DENIED);
        return r(this.requestMode(fc.intentOfCustom(cm), cm));
      }
      case MavCmd.DO_REPOSITION:
        return r(this.reposition(c));
      case MavCmd.MISSION_START: {
        if (!v.isArmed()) return r(MavResult.DENIED);
        if (Number.isInteger(p1) && p1 > 0 && !this.mission.setCurrent(p1)) return r(MavResult.DENIED);
        return r(this.requestMode('mission', missionCustomMode(fc.autopilot)));
      }
      case MavCmd.DO_SET_MISSION_CURRENT:
        if (!Number.isInteger(p1) || !this.mission.setCurrent(p1)) return r(MavResult.DENIED);
        return { result: MavResult.ACCEPTED, then: this.mission.currentMessage() };
      case MavCmd.SET_MESSAGE_INTERVAL:
        return r(this.tel.setInterval(p1, p2));
      case MavCmd.GET_MESSAGE_INTERVAL: {
        const m = this.tel.intervalMessage(p1);
        return m ? { result: MavResult.ACCEPTED, then: m } : r(MavResult.UNSUPPORTED);
      }
      case MavCmd.REQUEST_MESSAGE:
        return this.requested(p1, p2);
      case MavCmd.REQUEST_AUTOPILOT_CAPABILITIES:
        return this.requested(148, 0);
      case MavCmd.REQUEST_PROTOCOL_VERSION:
        return this.requested(300, 0);
      case MavCmd.GET_HOME_POSITION:
        return this.requested(242, 0);
      default:
        return r(MavResult.UNSUPPORTED);
    }
  }
}
