/**
 * Command procedures of the bridge: each discrete /cmd action (arm, disarm, hold, land,
 * rtl, takeoff) as a sequence of COMMAND_LONGs through the CommandClient, sent once per
 * change of action, retried after `actionRepeatMs` when not visibly in effect, never past
 * the command's validity; and mode requests (DO_SET_MODE), at most one pending per mode.
 */
import { common, minimal } from 'node-mavlink';
import type { kestrel_msgs } from '../../msgs/index.js';
import type { NodeContext } from '../../runtime/node.js';
import { enuToGeo, type GeoOrigin } from '../../lib/mavlink/frames.js';
import { setModeParams, type Autopilot, type ModeIntent } from '../../lib/mavlink/modes.js';
import type { CommandClient, CommandOutcome, CommandRequest } from './command-client.js';
import { validUntilMs, type DiscreteAction } from './command-rules.js';
import type { TelemetryModel } from './telemetry.js';

const { MavCmd } = common;

/** What the procedures need from the bridge. */
export interface ProcedureHost {
  ctx: NodeContext;
  client: CommandClient;
  tel: TelemetryModel;
  autopilot(): Autopilot;
  connected(): boolean;
  actionRepeatMs: number;
  counters: { commands_ok: number; commands_failed: number; cmd_not_connected: number };
}

/** The discrete actions, and goto when it is flown by DO_REPOSITION rather than streamed. */
type ProcedureAction = DiscreteAction | 'goto';

interface ActionState {
  action: ProcedureAction;
  key: string;
  outcome: 'pending' | 'ok' | 'failed';
  atMs: number;
  /** Latest valid_until among the identical commands received: repeats keep the action alive. */
  validUntilMs: number;
}

export class Procedures {
  private action: ActionState | undefined;
  private token = 0;
  private modeRequest: { intent: ModeIntent; atMs: number; pending: boolean } | undefined;

  constructor(private readonly h: ProcedureHost) {}

  /** Stops whatever procedure runs (the node deactivates). */
  cancel(): void {
    this.token++;
    this.action = undefined;
  }

  /** A streamed command took over: the next discrete action starts afresh (the running one may finish). */
  forgetAction(): void {
    this.action = undefined;
  }

  /** Forgets a pending mode request (link lost: its answer will never come). */
  linkLost(): void {
    this.modeRequest = undefined;
  }

  /** Requests a mode once; repeated only after actionRepeatMs and never while one is pending. */
  async setMode(intent: ModeIntent, now: number): Promise<boolean> {
    const r = this.modeRequest;
    if (r && r.intent === intent && (r.pending || now - r.atMs < this.h.actionRepeatMs)) return false;
    const req = this.modeCommand(intent);
    this.modeRequest = { intent, atMs: now, pending: true };
    const o = await this.h.client.run(req);
    if (this.modeRequest?.intent === intent) this.modeRequest.pending = false;
    this.record(req.label, o);
    return o.ok;
  }

  modeCommand(intent: ModeIntent, validUntil?: () => number): CommandRequest {
    const p = setModeParams(this.h.autopilot(), intent);
    return {
      command: MavCmd.DO_SET_MODE,
      params: [minimal.MavModeFlag.CUSTOM_MODE_ENABLED, p.param2, p.param3, 0, 0, 0, 0],
      label: `DO_SET_MODE ${p.name}`,
      validUntilMs: validUntil,
    };
  }

  record(label: string, o: CommandOutcome): void {
    const { ctx, counters } = this.h;
    const st = ctx.diag.stage('commands');
    if (o.ok) {
      counters.commands_ok++;
      st.record(o.elapsedMs);
    } else if (o.result !== 'superseded' && o.result !== 'cancelled') {
      counters.commands_failed++;
      st.error(`${label}: ${o.result} after ${o.attempts} attempt(s)`);
      ctx.log.warn(`${label}: ${o.result} after ${o.attempts} attempt(s)`);
    }
  }

  /** Whether a discrete action is visibly in effect (so a repeated request needs nothing). */
  private inEffect(a: ProcedureAction, c: kestrel_msgs.VehicleCommand): boolean {
    const tel = this.h.tel;
    const mode = tel.mode;
    const landing = mode === 'AUTO.LAND' || mode === 'LAND';
    switch (a) {
      case 'arm': return tel.armed;
      case 'disarm': return !tel.armed;
      case 'hold': return mode === setModeParams(this.h.autopilot(), 'hold').name;
      case 'land': return landing || !tel.armed;
      case 'rtl': return mode === 'AUTO.RTL' || mode === 'RTL' || landing || !tel.armed;
      case 'takeoff': return tel.armed && (mode === 'AUTO.TAKEOFF' || (tel.position?.z ?? 0) > Math.min(1, c.target.z / 2));
      // An accepted reposition stays in force until the target changes (a new key).
      case 'goto': return true;
    }
  }

  /** A goto flown as COMMAND_INT DO_REPOSITION (the autopilot advertises COMMAND_INT), sent once per target. */
  reposition(c: kestrel_msgs.VehicleCommand, now: number, origin: GeoOrigin): void {
    this.origin = origin;
    this.discrete(c, now);
  }

  private origin: GeoOrigin | undefined;

  /** A discrete /cmd action, already validated and not expired. */
  discrete(c: kestrel_msgs.VehicleCommand, now: number): void {
    const { ctx } = this.h;
    const a = c.action as ProcedureAction;
    const t = c.target;
    const key = a === 'takeoff' ? `takeoff@${t.z.toFixed(2)}` : a === 'goto' ? `goto@${t.x.toFixed(1)},${t.y.toFixed(1)},${t.z.toFixed(1)}` : a;
    const prev = this.action;
    if (prev && prev.key === key) {
      prev.validUntilMs = Math.max(prev.validUntilMs, validUntilMs(c));
      if (prev.outcome === 'pending') return;
      if (now - prev.atMs < this.h.actionRepeatMs) return;
      if (prev.outcome === 'ok' && this.inEffect(a, c)) return;
    }
    if (!this.h.connected()) {
      // The arbiter repeats its fallback every tick; count, and try again once connected.
      this.h.counters.cmd_not_connected++;
      ctx.diag.stage('cmd').drop();
      return;
    }
    const state: ActionState = { action: a, key, outcome: 'pending', atMs: now, validUntilMs: validUntilMs(c) };
    this.action = state;
    const token = ++this.token;
    const validUntil = (): number => state.validUntilMs;
    void this.run(a, c, token, validUntil).then((ok) => {
      if (this.action === state) {
        state.outcome = ok ? 'ok' : 'failed';
        state.atMs = ctx.clock.now();
      }
    });
    ctx.diag.stage('cmd_to_wire').record(ctx.clock.now() - now);
  }

  private async step(req: CommandRequest, token: number): Promise<boolean> {
    if (token !== this.token) return false;
    const vu = req.validUntilMs;
    if (vu !== undefined && this.h.ctx.clock.now() > (typeof vu === 'function' ? vu() : vu)) {
      // The next step of a procedure whose command has expired is not sent either.
      this.record(req.label, { ok: false, result: 'expired', attempts: 0, elapsedMs: 0 });
      return false;
    }
    const o = await this.h.client.run(req);
    this.record(req.label, o);
    return o.ok && token === this.token;
  }

  private async run(a: ProcedureAction, c: kestrel_msgs.VehicleCommand, token: number, validUntil: () => number): Promise<boolean> {
    const pad7 = (first: number[]): number[] => [...first, ...Array<number>(7 - first.length).fill(0)];
    const tel = this.h.tel;
    switch (a) {
      case 'goto': {
        const origin = this.origin as GeoOrigin;
        const g = enuToGeo(origin, c.target.x, c.target.y, 0);
        // Ground speed default (-1), CHANGE_MODE (ArduPilot switches to GUIDED), yaw unchanged (NaN), relative altitude.
        const speed = c.speed > 0 ? c.speed : -1;
        const req: CommandRequest = {
          command: MavCmd.DO_REPOSITION,
          frame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
          params: [speed, common.MavDoRepositionFlags.CHANGE_MODE, 0, Number.NaN, Math.round(g.lat * 1e7), Math.round(g.lon * 1e7), c.target.z],
          label: `DO_REPOSITION (${c.target.x.toFixed(1)}, ${c.target.y.toFixed(1)}, ${c.target.z.toFixed(1)})`,
          validUntilMs: validUntil,
        };
        return this.step(req, token);
      }
      case 'arm':
        return this.step({ command: MavCmd.COMPONENT_ARM_DISARM, params: pad7([1]), label: 'ARM', validUntilMs: validUntil }, token);
      case 'disarm':
        return this.step({ command: MavCmd.COMPONENT_ARM_DISARM, params: pad7([0]), label: 'DISARM', validUntilMs: validUntil }, token);
      case 'hold':
        return this.step(this.modeCommand('hold', validUntil), token);
      case 'land':
        return this.step({ command: MavCmd.NAV_LAND, params: [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, Number.NaN], label: 'NAV_LAND', validUntilMs: validUntil }, token);
      case 'rtl':
        return this.step({ command: MavCmd.NAV_RETURN_TO_LAUNCH, params: pad7([]), label: 'NAV_RETURN_TO_LAUNCH', validUntilMs: validUntil }, token);
      case 'takeoff': {
        const rel = c.target.z;
        const autopilot = this.h.autopilot();
        if (autopilot === 'ardupilot') {
          if (!(await this.step(this.modeCommand('offboard', validUntil), token))) return false;
        }
        if (!tel.armed) {
          if (!(await this.step({ command: MavCmd.COMPONENT_ARM_DISARM, params: pad7([1]), label: 'ARM', validUntilMs: validUntil }, token))) return false;
        }
        let p7 = rel;
        if (autopilot === 'px4') {
          // PX4 reads NAV_TAKEOFF param7 as AMSL: home AMSL + the relative altitude.
          const home = tel.homeAmsl;
          if (home === undefined) {
            this.h.counters.commands_failed++;
            this.h.ctx.diag.stage('commands').error('takeoff: PX4 needs GLOBAL_POSITION_INT (home altitude) to compute the AMSL takeoff altitude');
            return false;
          }
          p7 = home + rel;
        }
        return this.step({ command: MavCmd.NAV_TAKEOFF, params: [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, p7], label: `NAV_TAKEOFF ${rel} m`, validUntilMs: validUntil }, token);
      }
    }
  }
}
