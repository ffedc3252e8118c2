/**
 * Failsafes of the simulated FC, as PX4 and ArduCopter take them: offboard setpoint loss
 * (PX4 COM_OF_LOSS_T / COM_OBL_RC_ACT), data link loss (NAV_DLL_ACT), low battery (a
 * warning, COM_LOW_BAT_ACT = 0) and the auto-disarm after touching down (COM_DISARM_LAND).
 */
import { common } from 'node-mavlink';
import type { FcCore, InternalMode } from './core.js';

const { MavSeverity } = common;

export class Failsafes {
  gcsSeenAt: number | undefined;
  gcsLost = false;
  private touchdownAt: number | undefined;
  private batteryWarned = 0;

  /** Whether the mission item being flown is a landing (set by the owner). */
  missionLanding: () => boolean = () => false;

  constructor(private readonly fc: FcCore) {}

  gcsConnected(): boolean {
    return this.gcsSeenAt !== undefined && !this.gcsLost;
  }

  /** A heartbeat from a ground station or companion. */
  onPeerHeartbeat(now: number): void {
    this.gcsSeenAt = now;
    if (this.gcsLost) {
      this.gcsLost = false;
      this.fc.statusText(MavSeverity.INFO, 'Data link regained');
    }
  }

  onModeChange(intent: InternalMode): void {
    if (intent !== 'land' && intent !== 'rtl' && intent !== 'mission') this.touchdownAt = undefined;
  }

  /** Before guidance: link and offboard loss. */
  beforeGuidance(now: number): void {
    this.checkLinkLoss(now);
    this.checkOffboardLoss(now);
  }

  /** After the physics step: touchdown and battery. */
  afterStep(now: number): void {
    this.checkTouchdown(now);
    this.checkBattery();
  }

  private checkOffboardLoss(now: number): void {
    const fc = this.fc;
    if (!fc.v.isArmed() || fc.mode !== 'offboard' || fc.autopilot !== 'px4') return;
    const sp = fc.setpoint;
    const age = sp ? now - sp.atMs : Infinity;
    if (age <= fc.o.offboardTimeoutMs) return;
    fc.failsafeTo(fc.o.offboardLossAction, 'offboard setpoints lost');
    fc.v.setTarget({ kind: fc.o.offboardLossAction === 'land' ? 'land' : 'hold' });
  }

  private checkBattery(): void {
    const b = this.fc.v.truth().battery_remaining;
    const level = b <= 0.07 ? 2 : b <= 0.15 ? 1 : 0;
    if (level > this.batteryWarned) {
      this.fc.statusText(level === 2 ? MavSeverity.CRITICAL : MavSeverity.WARNING, level === 2 ? 'Critical battery level!' : 'Low battery level!');
    }
    this.batteryWarned = level;
  }

  private checkLinkLoss(now: number): void {
    const fc = this.fc;
    if (fc.o.gcsLossTimeoutMs <= 0 || this.gcsSeenAt === undefined || this.gcsLost) return;
    if (now - this.gcsSeenAt <= fc.o.gcsLossTimeoutMs) return;
    this.gcsLost = true;
    // PX4 NAV_DLL_ACT: in the air, take the action unless already doing it or coming down.
    const airborne = fc.v.isArmed() && !fc.v.landed();
    const busy = fc.mode === fc.o.gcsLossAction || fc.mode === 'land' || (fc.mode === 'rtl' && fc.o.gcsLossAction !== 'land');
    if (airborne && !busy) fc.failsafeTo(fc.o.gcsLossAction, 'data link lost');
    else fc.statusText(MavSeverity.WARNING, 'Data link lost');
  }

  private checkTouchdown(now: number): void {
    const fc = this.fc;
    const landing = fc.mode === 'land' || (fc.mode === 'rtl' && fc.rtlPhase === 'land') || (fc.mode === 'mission' && this.missionLanding());
    if (!fc.v.isArmed() || !landing) return;
    if (!fc.v.landed()) {
      this.touchdownAt = undefined;
      return;
    }
    this.touchdownAt ??= now;
    if (now - this.touchdownAt >= fc.o.autoDisarmMs) {
      fc.v.setArmed(false);
      this.touchdownAt = undefined;
      fc.statusText(MavSeverity.INFO, 'Landing detected, disarmed');
      // PX4 falls back to a hold mode after an auto-disarm; ArduCopter stays in LAND.
      if (fc.autopilot === 'px4') fc.setMode('hold');
      fc.sendHeartbeat();
    }
  }
}
