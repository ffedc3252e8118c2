/**
 * The state every module of the simulated flight controller shares: the vehicle, the clock,
 * the autopilot flavour, the flight mode, the offboard setpoint and the way out (send,
 * STATUSTEXT, heartbeat). The modules (telemetry, commands, guidance, failsafes, params,
 * mission) each own their own state and reach the rest only through this.
 */
import { common, minimal, type MavLinkData } from 'node-mavlink';
import type { Clock } from '../../runtime/clock.js';
import { modeName, setModeParams, type Autopilot, type ModeIntent } from '../../lib/mavlink/modes.js';
import type { GuidanceTarget, SimVehicle } from './vehicle.js';

const { MavModeFlag, MavType, MavAutopilot, MavState } = minimal;

export type InternalMode = ModeIntent | 'mission';

export interface Setpoint {
  target: GuidanceTarget;
  atMs: number;
  velocity: boolean;
}

export interface FcTunables {
  physicsHz: number;
  offboardTimeoutMs: number;
  offboardLossAction: 'hold' | 'land';
  gcsLossTimeoutMs: number;
  gcsLossAction: 'hold' | 'rtl' | 'land';
  guidedVelocityTimeoutMs: number;
  takeoffAltitude: number;
  rtlAltitude: number;
  autoDisarmMs: number;
}

export interface FcCounts {
  commands: number;
  commandsRefused: number;
  setpoints: number;
  globalSetpoints: number;
  setpointsRejected: number;
  notForUs: number;
}

/** PX4 AUTO.MISSION is main 4 / sub 4; ArduCopter AUTO is 3. */
export function missionCustomMode(autopilot: Autopilot): number {
  return autopilot === 'px4' ? (4 << 16) | (4 << 24) : 3;
}

export class FcCore {
  mode: InternalMode = 'manual';
  customMode = 0;
  modeLabel = '';
  setpoint: Setpoint | undefined;
  /** Where a hold mode holds when it is not where the vehicle happens to be (after takeoff, DO_REPOSITION, mission end). */
  holdTarget: { x: number; y: number; z: number; yaw?: number } | undefined;
  takeoffAlt = 0;
  rtlPhase: 'climb' | 'return' | 'land' = 'climb';
  failsafe: string | undefined;
  suspended = false;
  bootMs = 0;
  readonly counts: FcCounts = { commands: 0, commandsRefused: 0, setpoints: 0, globalSetpoints: 0, setpointsRejected: 0, notForUs: 0 };
  /** Set by the owner: writes one message to the link(s). */
  transmit: (m: MavLinkData) => boolean = () => false;
  /** Called after every mode change (the mission module resets its progress, the FC sends a heartbeat). */
  onModeChange: (changed: boolean) => void = () => {};

  constructor(
    readonly v: SimVehicle,
    readonly clock: Clock,
    readonly autopilot: Autopilot,
    readonly sysid: number,
    readonly compid: number,
    readonly o: FcTunables,
  ) {}

  send(m: MavLinkData): boolean {
    return this.suspended ? false : this.transmit(m);
  }

  timeBootMs(): number {
    return Math.max(0, Math.round(this.clock.now() - this.bootMs)) >>> 0;
  }

  statusText(severity: number, text: string): void {
    const m = new common.StatusText();
    m.severity = severity;
    m.text = text.slice(0, 50);
    m.id = 0;
    m.chunkSeq = 0;
    this.send(m);
  }

  /** Whether a message addressed to (system, component) is for this FC; counts the ones that are not. */
  forUs(targetSystem: number, targetComponent: number): boolean {
    const ok = (targetSystem === 0 || targetSystem === this.sysid) && (targetComponent === 0 || targetComponent === this.compid);
    if (!ok) this.counts.notForUs++;
    return ok;
  }

  // --- modes ---

  setMode(intent: InternalMode): void {
    this.applyMode(intent, intent === 'mission' ? missionCustomMode(this.autopilot) : setModeParams(this.autopilot, intent).customMode);
  }

  applyMode(intent: InternalMode, customMode: number): void {
    const changed = this.mode !== intent || this.customMode !== customMode;
    this.mode = intent;
    this.customMode = customMode;
    this.holdTarget = undefined;
    this.modeLabel = modeName(this.autopilot, customMode);
    this.v.setMode(this.modeLabel);
    if (intent === 'rtl' && changed) this.rtlPhase = 'climb';
    this.onModeChange(changed);
  }

  intentOfCustom(customMode: number): InternalMode {
    switch (modeName(this.autopilot, customMode)) {
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
      case 'AUTO.MISSION':
      case 'AUTO':
        return 'mission';
      case 'POSCTL':
      case 'POSHOLD':
      case 'ALT_HOLD':
      case 'ALTCTL':
        return 'position';
      default:
        return 'manual';
    }
  }

  failsafeTo(action: 'hold' | 'rtl' | 'land', why: string): void {
    this.failsafe = `${why}: ${action}`;
    this.setMode(action);
    this.statusText(common.MavSeverity.WARNING, `Failsafe: ${why}, ${action}`);
  }

  heartbeat(): MavLinkData {
    const m = new minimal.Heartbeat();
    m.type = MavType.QUADROTOR;
    m.autopilot = this.autopilot === 'px4' ? MavAutopilot.PX4 : MavAutopilot.ARDUPILOTMEGA;
    let base = MavModeFlag.CUSTOM_MODE_ENABLED | MavModeFlag.STABILIZE_ENABLED;
    if (this.v.isArmed()) base |= MavModeFlag.SAFETY_ARMED;
    if (this.mode === 'offboard') base |= MavModeFlag.GUIDED_ENABLED;
    if (this.mode === 'hold' || this.mode === 'land' || this.mode === 'rtl' || this.mode === 'takeoff' || this.mode === 'mission') base |= MavModeFlag.AUTO_ENABLED | MavModeFlag.GUIDED_ENABLED;
    m.baseMode = base;
    m.customMode = this.customMode;
    m.systemStatus = this.v.isArmed() ? MavState.ACTIVE : MavState.STANDBY;
    m.mavlinkVersion = 3;
    return m;
  }

  sendHeartbeat(): void {
    this.send(this.heartbeat());
  }
}
