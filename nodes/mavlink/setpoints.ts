/**
 * Setpoint streaming of the bridge: the streamed /cmd actions (goto, velocity, orbit) as
 * SET_POSITION_TARGET_LOCAL_NED (or GLOBAL_INT) at the setpoint rate while the command is
 * valid; OFFBOARD/GUIDED asked for after two setpoints; hold once when the last one expires.
 */
import { common } from 'node-mavlink';
import type { kestrel_msgs } from '../../msgs/index.js';
import type { NodeContext } from '../../runtime/node.js';
import { enuToGeo, enuToNed, enuYawToNed } from '../../lib/mavlink/frames.js';
import { isOffboardMode, type Autopilot, type ModeIntent } from '../../lib/mavlink/modes.js';
import type { MavLinkData } from '../../lib/mavlink/wire.js';
import { setpointFor, validUntilMs, type EnuSetpoint } from './command-rules.js';
import type { TelemetryModel } from './telemetry.js';

const { MavFrame, PositionTargetTypemask: M } = common;

/** What the streamer needs from the bridge. */
export interface SetpointHost {
  ctx: NodeContext;
  tel: TelemetryModel;
  send(m: MavLinkData): boolean;
  autopilot(): Autopilot;
  connected(): boolean;
  setMode(intent: ModeIntent, now: number): Promise<boolean>;
  targetSystem: number;
  targetComponent: number;
  setpointFrame: 'local' | 'global';
  useCommandYaw: boolean;
  counters: { setpoints_sent: number; setpoint_errors: number; cmd_expired: number };
}

export class SetpointStreamer {
  private active: { cmd: kestrel_msgs.VehicleCommand; receivedMs: number; sent: number } | undefined;
  // Reused: mavlink-mappings constructors cost ~20 µs (they scan enum keys), and encoding is synchronous.
  private readonly spLocal = new common.SetPositionTargetLocalNed();
  private readonly spGlobal = new common.SetPositionTargetGlobalInt();

  constructor(private readonly h: SetpointHost) {}

  /** A streamed command (validated, not expired): replaces the one streaming and sends at once. */
  start(c: kestrel_msgs.VehicleCommand, now: number): void {
    const same = this.active && this.active.cmd.action === c.action;
    this.active = { cmd: c, receivedMs: now, sent: same && this.active ? this.active.sent : 0 };
    this.send(now);
  }

  stop(): void {
    this.active = undefined;
  }

  /** Called at the setpoint rate. */
  tick(): void {
    const a = this.active;
    if (!a) return;
    const h = this.h;
    const now = h.ctx.clock.now();
    if (now > validUntilMs(a.cmd)) {
      this.active = undefined;
      h.counters.cmd_expired++;
      h.ctx.log.warn(`/cmd seq ${a.cmd.seq} (${a.cmd.action}) expired without a successor: setpoints stopped, holding`);
      if (h.connected()) void h.setMode('hold', now);
      return;
    }
    this.send(now);
  }

  private send(now: number): void {
    const a = this.active;
    const h = this.h;
    if (!a || !h.connected()) return;
    const sp = setpointFor(a.cmd, h.tel.freshPosition(now, 1000), h.useCommandYaw);
    if (typeof sp === 'string') {
      h.counters.setpoint_errors++;
      h.ctx.diag.stage('setpoint').error(sp);
      return;
    }
    const msg = h.setpointFrame === 'global' && sp.kind === 'position' ? this.globalSetpoint(sp) : this.localSetpoint(sp);
    if (!msg) {
      h.counters.setpoint_errors++;
      h.ctx.diag.stage('setpoint').error('global setpoints need the FC origin (GLOBAL_POSITION_INT and LOCAL_POSITION_NED not yet received)');
      return;
    }
    if (!h.send(msg)) return;
    h.counters.setpoints_sent++;
    if (a.sent === 0) h.ctx.diag.stage('cmd_to_wire').record(now - a.receivedMs);
    a.sent++;
    // PX4 accepts OFFBOARD only once setpoints are flowing; ask after a couple of them.
    if (a.sent >= 2 && !isOffboardMode(h.autopilot(), h.tel.mode)) void h.setMode('offboard', now);
  }

  private localSetpoint(sp: EnuSetpoint): InstanceType<typeof common.SetPositionTargetLocalNed> {
    const m = this.spLocal;
    m.timeBootMs = 0;
    m.targetSystem = this.h.targetSystem;
    m.targetComponent = this.h.targetComponent;
    m.coordinateFrame = MavFrame.LOCAL_NED;
    let mask = M.AX_IGNORE | M.AY_IGNORE | M.AZ_IGNORE | M.YAW_RATE_IGNORE;
    if (sp.kind === 'position') {
      const p = enuToNed(sp.p);
      m.x = p.x;
      m.y = p.y;
      m.z = p.z;
      m.vx = m.vy = m.vz = 0;
      mask |= M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE;
    } else {
      const v = enuToNed(sp.v);
      m.x = m.y = m.z = 0;
      m.vx = v.x;
      m.vy = v.y;
      m.vz = v.z;
      mask |= M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE;
    }
    m.afx = m.afy = m.afz = 0;
    if (sp.yaw === undefined) mask |= M.YAW_IGNORE;
    m.yaw = sp.yaw === undefined ? 0 : enuYawToNed(sp.yaw);
    m.yawRate = 0;
    m.typeMask = mask as common.PositionTargetTypemask;
    return m;
  }

  private globalSetpoint(sp: EnuSetpoint & { kind: 'position' }): InstanceType<typeof common.SetPositionTargetGlobalInt> | undefined {
    const origin = this.h.tel.origin;
    if (!origin) return undefined;
    const g = enuToGeo(origin, sp.p.x, sp.p.y, sp.p.z);
    const m = this.spGlobal;
    m.timeBootMs = 0;
    m.targetSystem = this.h.targetSystem;
    m.targetComponent = this.h.targetComponent;
    m.coordinateFrame = MavFrame.GLOBAL_RELATIVE_ALT_INT;
    m.latInt = Math.round(g.lat * 1e7);
    m.lonInt = Math.round(g.lon * 1e7);
    m.alt = sp.p.z;
    m.vx = m.vy = m.vz = 0;
    m.afx = m.afy = m.afz = 0;
    let mask = M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE | M.AX_IGNORE | M.AY_IGNORE | M.AZ_IGNORE | M.YAW_RATE_IGNORE;
    if (sp.yaw === undefined) mask |= M.YAW_IGNORE;
    m.yaw = sp.yaw === undefined ? 0 : enuYawToNed(sp.yaw);
    m.yawRate = 0;
    m.typeMask = mask as common.PositionTargetTypemask;
    return m;
  }
}
