/**
 * Commands of the simulated FC: COMMAND_LONG answered with COMMAND_ACK (arm/disarm,
 * takeoff, land, RTL, loiter, DO_SET_MODE, SET_MESSAGE_INTERVAL, REQUEST_MESSAGE), and
 * the mode requests they and SET_MODE make, with each autopilot's refusals.
 */
import { common, minimal } from 'node-mavlink';
import { customModeFromParams } from '../../lib/mavlink/modes.js';
import type { FcCore, InternalMode } from './core.js';
import type { Telemetry } from './telemetry.js';

const { MavCmd, MavResult, MavSeverity } = common;
const { MavModeFlag } = minimal;

/** The seven parameters of a command, whichever message carried it. */
export interface CommandArgs {
  command: number;
  p: [number, number, number, number, number, number, number];
  /** COMMAND_INT only: the frame of x/y/z. */
  frame?: number;
  /** COMMAND_INT: x and y are degE7 integers. */
  isInt: boolean;
}

export class Commands {
  constructor(private readonly fc: FcCore, private readonly tel: Telemetry) {}

  onCommandLong(msg: InstanceType<typeof common.CommandLong>, from: { sysid: number; compid: number }): void {
    const fc = this.fc;
    if (!fc.forUs(msg.targetSystem, msg.targetComponent)) return;
    const args: CommandArgs = { command: msg.command, p: [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7], isInt: false };
    this.answer(args, from);
  }

  private answer(args: CommandArgs, from: { sysid: number; compid: number }): void {
    const fc = this.fc;
    fc.counts.commands++;
    const result = this.handle(args);
    if (result !== MavResult.ACCEPTED) fc.counts.commandsRefused++;
    const ack = new common.CommandAck();
    ack.command = args.command;
    ack.result = result;
    ack.progress = 0;
    ack.resultParam2 = 0;
    ack.targetSystem = from.sysid;
    ack.targetComponent = from.compid;
    fc.send(ack);
  }

  /** SET_MODE (ArduPilot-style, no ack of its own). */
  onSetMode(msg: InstanceType<typeof common.SetMode>): void {
    const fc = this.fc;
    if (msg.targetSystem !== fc.sysid) return;
    const params: [number, number] = fc.autopilot === 'px4' ? [(msg.customMode >>> 16) & 0xff, (msg.customMode >>> 24) & 0xff] : [msg.customMode, 0];
    if (customModeFromParams(fc.autopilot, ...params) !== undefined) this.requestMode(fc.intentOfCustom(msg.customMode), msg.customMode);
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

  private handle(c: CommandArgs): number {
    const fc = this.fc;
    const v = fc.v;
    const [p1, p2, p3, , , , p7] = c.p;
    switch (c.command) {
      case MavCmd.COMPONENT_ARM_DISARM: {
        if (p1 === 1) {
          if (!v.landed() && !v.isArmed()) return MavResult.DENIED;
          if (v.truth().battery_remaining < 0.05) {
            fc.statusText(MavSeverity.CRITICAL, 'Arming denied: battery critically low');
            return MavResult.DENIED;
          }
          if (!v.isArmed()) {
            v.setArmed(true);
            fc.sendHeartbeat();
          }
          return MavResult.ACCEPTED;
        }
        if (p1 === 0) {
          // Disarming in the air needs the force magic number, as on both autopilots.
          if (!v.landed() && p2 !== 21196) return MavResult.DENIED;
          v.setArmed(false);
          fc.sendHeartbeat();
          return MavResult.ACCEPTED;
        }
        return MavResult.DENIED;
      }
      case MavCmd.NAV_TAKEOFF: {
        const rel = fc.autopilot === 'px4' ? (Number.isNaN(p7) ? fc.o.takeoffAltitude : p7 - v.origin.alt) : p7;
        return this.takeoff(rel);
      }
      case MavCmd.NAV_LAND:
        if (!v.isArmed()) return MavResult.DENIED;
        fc.failsafe = undefined;
        fc.setMode('land');
        return MavResult.ACCEPTED;
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        if (!v.isArmed()) return MavResult.DENIED;
        fc.failsafe = undefined;
        fc.setMode('rtl');
        return MavResult.ACCEPTED;
      case MavCmd.NAV_LOITER_UNLIM:
        fc.setMode('hold');
        return MavResult.ACCEPTED;
      case MavCmd.DO_SET_MODE: {
        if ((p1 & MavModeFlag.CUSTOM_MODE_ENABLED) === 0) return MavResult.DENIED;
        const cm = customModeFromParams(fc.autopilot, p2, p3);
        if (cm === undefined) return MavResult.DENIED;
        return this.requestMode(fc.intentOfCustom(cm), cm);
      }
      case MavCmd.SET_MESSAGE_INTERVAL:
        return this.tel.setInterval(p1, p2);
      case MavCmd.REQUEST_MESSAGE:
        return this.tel.sendMessage(p1) ? MavResult.ACCEPTED : MavResult.UNSUPPORTED;
      default:
        return MavResult.UNSUPPORTED;
    }
  }
}
