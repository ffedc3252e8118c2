/**
 * The MAVLink bridge proper: link and heartbeat supervision, telemetry → /fc/state and
 * /battery, /cmd → setpoint streams and COMMAND_LONG procedures. index.ts declares the node.
 */
import { common, minimal } from 'node-mavlink';
import { Subscription } from 'rxjs';
import type { kestrel_msgs, sensor_msgs } from '../../msgs/index.js';
import type { Publisher } from '../../runtime/bus.js';
import { every } from '../../runtime/clock.js';
import type { NodeContext } from '../../runtime/node.js';
import { msToTime } from '../../runtime/time.js';
import { CommandClient, type CommandOutcome, type CommandRequest } from './command-client.js';
import { isStreamed, setpointFor, validateCommand, validUntilMs, type CommandLimits, type DiscreteAction, type EnuSetpoint } from './command-rules.js';
import { MavEndpoint, type Received } from '../../lib/mavlink/endpoint.js';
import { enuToGeo, enuToNed, enuYawToNed } from '../../lib/mavlink/frames.js';
import { isOffboardMode, setModeParams, type Autopilot, type ModeIntent } from '../../lib/mavlink/modes.js';
import { TelemetryModel } from './telemetry.js';
import type { LinkSpec } from '../../lib/mavlink/transport.js';
import { loadSigningKey } from '../../lib/mavlink/wire.js';

const { MavCmd, MavFrame, PositionTargetTypemask: M } = common;

export interface BridgeConfig {
  link: LinkSpec;
  systemId: number;
  componentId: number;
  targetSystem: number;
  targetComponent: number;
  autopilot: Autopilot | 'auto';
  heartbeatRateHz: number;
  heartbeatTimeoutMs: number;
  setpointRateHz: number;
  setpointFrame: 'local' | 'global';
  useCommandYaw: boolean;
  stateRateHz: number;
  commandTimeoutMs: number;
  commandRetries: number;
  /** A discrete action still requested but not in effect is retried after this long. */
  actionRepeatMs: number;
  reconnectMs: number;
  /** msgid → Hz, sent as SET_MESSAGE_INTERVAL on each connection (0 = leave the FC's default). */
  streamRates: Readonly<Record<number, number>>;
  signingKeyFile: string;
  signingLinkId: number;
  limits: CommandLimits;
}

/** Counters reported in /diagnostics (values) and read by tests. */
export interface BridgeCounters {
  setpoints_sent: number;
  commands_ok: number;
  commands_failed: number;
  cmd_received: number;
  cmd_rejected: number;
  cmd_stale: number;
  cmd_expired: number;
  /** Discrete commands dropped because the FC was not connected. */
  cmd_not_connected: number;
  setpoint_errors: number;
  foreign_sysid: number;
  not_for_us: number;
  /** Messages from components of the target system other than target_component (ignored). */
  other_component: number;
  heartbeat_losses: number;
  autopilot_mismatch: number;
}

interface ActionState {
  action: DiscreteAction;
  key: string;
  outcome: 'pending' | 'ok' | 'failed';
  atMs: number;
  /** Latest valid_until among the identical commands received: repeats keep the action alive. */
  validUntilMs: number;
}

export class MavlinkBridge {
  private readonly ep: MavEndpoint;
  private readonly client: CommandClient;
  private readonly tel: TelemetryModel;
  private autopilot: Autopilot;
  private readonly statePub: Publisher<kestrel_msgs.VehicleState>;
  private readonly batteryPub: Publisher<sensor_msgs.BatteryState>;
  private connected = false;
  private lastHeartbeatMs = -Infinity;
  private active: { cmd: kestrel_msgs.VehicleCommand; receivedMs: number; sent: number } | undefined;
  private action: ActionState | undefined;
  private procToken = 0;
  private modeRequest: { intent: ModeIntent; atMs: number; pending: boolean } | undefined;
  private readonly subs = new Subscription();
  // Reused: mavlink-mappings constructors cost ~20 µs (they scan enum keys), and encoding is synchronous.
  private readonly spLocal = new common.SetPositionTargetLocalNed();
  private readonly spGlobal = new common.SetPositionTargetGlobalInt();
  readonly counters: BridgeCounters = {
    setpoints_sent: 0, commands_ok: 0, commands_failed: 0, cmd_received: 0, cmd_rejected: 0, cmd_stale: 0, cmd_expired: 0, cmd_not_connected: 0,
    setpoint_errors: 0, foreign_sysid: 0, not_for_us: 0, other_component: 0, heartbeat_losses: 0, autopilot_mismatch: 0,
  };

  constructor(private readonly ctx: NodeContext, private readonly cfg: BridgeConfig) {
    this.autopilot = cfg.autopilot === 'auto' ? 'px4' : cfg.autopilot;
    this.tel = new TelemetryModel(this.autopilot);
    const key = cfg.signingKeyFile ? loadSigningKey(cfg.signingKeyFile) : undefined;
    this.ep = new MavEndpoint({
      link: cfg.link,
      clock: ctx.clock,
      sysid: cfg.systemId,
      compid: cfg.componentId,
      signing: key ? { key, linkId: cfg.signingLinkId } : undefined,
      reconnectMs: cfg.reconnectMs,
      onMessage: (r) => this.onMessage(r),
      onLinkUp: () => ctx.log.info(`link up: ${this.ep.description}`),
      onLinkDown: (why) => this.onLinkDown(why),
    });
    this.client = new CommandClient({
      clock: ctx.clock,
      send: (m) => this.ep.send(m),
      targetSystem: cfg.targetSystem,
      targetComponent: cfg.targetComponent,
      timeoutMs: cfg.commandTimeoutMs,
      retries: cfg.commandRetries,
    });
    this.statePub = ctx.advertise('/fc/state');
    this.batteryPub = ctx.advertise('/battery');
    ctx.diag.set('warn', `waiting for a heartbeat on ${this.ep.description}`);
  }

  activate(): Subscription {
    const clock = this.ctx.clock;
    this.ep.start();
    const s = new Subscription();
    s.add(every(clock, 1000 / this.cfg.heartbeatRateHz).subscribe(() => this.sendHeartbeat()));
    s.add(every(clock, Math.min(100, this.cfg.heartbeatTimeoutMs / 4)).subscribe(() => this.checkHeartbeat()));
    s.add(every(clock, 1000 / this.cfg.setpointRateHz).subscribe(() => this.setpointTick()));
    s.add(every(clock, 1000 / this.cfg.stateRateHz).subscribe(() => this.publishState()));
    s.add(this.ctx.subscribe('/cmd').subscribe((c) => this.onCommand(c)));
    s.add(() => {
      this.procToken++;
      this.active = undefined;
      this.client.cancelAll('cancelled');
    });
    this.subs.add(s);
    return s;
  }

  async shutdown(): Promise<void> {
    this.subs.unsubscribe();
    await this.ep.stop();
  }

  isConnected(): boolean {
    return this.connected;
  }

  // --- link and heartbeat ---

  private sendHeartbeat(): void {
    const m = new minimal.Heartbeat();
    m.type = minimal.MavType.ONBOARD_CONTROLLER;
    m.autopilot = minimal.MavAutopilot.INVALID;
    m.baseMode = 0 as minimal.MavModeFlag;
    m.customMode = 0;
    m.systemStatus = minimal.MavState.ACTIVE;
    m.mavlinkVersion = 3;
    this.ep.send(m);
  }

  private checkHeartbeat(): void {
    if (this.connected && this.ctx.clock.now() - this.lastHeartbeatMs > this.cfg.heartbeatTimeoutMs) {
      this.setDisconnected(`no heartbeat from system ${this.cfg.targetSystem} for ${this.cfg.heartbeatTimeoutMs} ms`);
    }
  }

  private onLinkDown(why: string): void {
    this.ctx.log.warn(why);
    if (this.connected) this.setDisconnected(why);
    else this.ctx.diag.set('error', why);
  }

  private setDisconnected(why: string): void {
    this.connected = false;
    this.counters.heartbeat_losses++;
    this.client.cancelAll('link_down');
    this.modeRequest = undefined;
    this.ctx.diag.set('error', `flight controller lost: ${why}`);
    this.ctx.log.warn(`flight controller lost: ${why}`);
    this.publishState();
  }

  private onConnected(): void {
    this.connected = true;
    if (this.cfg.autopilot === 'auto' && this.tel.detectedAutopilot) {
      this.autopilot = this.tel.detectedAutopilot;
      this.tel.setAutopilot(this.autopilot);
    } else if (this.tel.detectedAutopilot && this.tel.detectedAutopilot !== this.autopilot) {
      this.counters.autopilot_mismatch++;
      this.ctx.log.warn(`autopilot param is '${this.autopilot}' but the heartbeat says '${this.tel.detectedAutopilot}'`);
    }
    this.ctx.diag.set('ok', `connected to system ${this.cfg.targetSystem} (${this.autopilot}) on ${this.ep.description}`);
    this.ctx.log.info(`flight controller connected (${this.autopilot}, mode ${this.tel.mode})`);
    void this.requestStreams();
    this.publishState();
  }

  private async requestStreams(): Promise<void> {
    for (const [id, hz] of Object.entries(this.cfg.streamRates)) {
      if (!(hz > 0) || !this.connected) continue;
      const o = await this.client.run({ command: MavCmd.SET_MESSAGE_INTERVAL, params: [Number(id), 1e6 / hz, 0, 0, 0, 0, 0], label: `SET_MESSAGE_INTERVAL ${id} ${hz} Hz` });
      this.record(`SET_MESSAGE_INTERVAL(${id}, ${hz} Hz)`, o);
    }
  }

  // --- receiving ---

  private onMessage({ msg, frame }: Received): void {
    if (frame.sysid !== this.cfg.targetSystem) {
      this.counters.foreign_sysid++;
      return;
    }
    const now = this.ctx.clock.now();
    if (msg instanceof common.CommandAck) {
      if (msg.targetSystem !== 0 && (msg.targetSystem !== this.cfg.systemId || (msg.targetComponent !== 0 && msg.targetComponent !== this.cfg.componentId))) {
        this.counters.not_for_us++;
        return;
      }
      this.client.onAck(msg);
      return;
    }
    // Other components of the vehicle (camera, gimbal) would otherwise overwrite the autopilot's state.
    if (frame.compid !== this.cfg.targetComponent) {
      this.counters.other_component++;
      return;
    }
    const kind = this.tel.apply(msg, now);
    if (kind === 'heartbeat') {
      this.lastHeartbeatMs = now;
      if (!this.connected) this.onConnected();
    } else if (kind === 'battery' || kind === 'sys_status') {
      const b = this.tel.batteryState(this.ctx.header(msToTime(now), 'fc'));
      if (b) this.batteryPub.publish(b);
    } else if (kind === 'statustext') {
      this.ctx.log.info(`FC: ${this.tel.statusText}`);
    }
  }

  private publishState(): void {
    const stamp = Number.isFinite(this.tel.lastAtMs) ? msToTime(this.tel.lastAtMs) : msToTime(this.ctx.clock.now());
    this.updateDiagnostics();
    this.statePub.publish(this.tel.vehicleState(this.ctx.header(stamp, 'map'), this.connected, this.autopilot));
  }

  private updateDiagnostics(): void {
    const v = this.ctx.diag.values;
    const s = this.ep.stats();
    v.connected = String(this.connected);
    v.mode = this.tel.mode;
    v.armed = String(this.tel.armed);
    v.link = this.ep.description;
    for (const [k, n] of Object.entries(s)) v[k] = String(n);
    for (const [k, n] of Object.entries(this.counters)) v[k] = String(n);
    v.command_resends = String(this.client.resends);
    v.unmatched_acks = String(this.client.unmatchedAcks);
  }

  // --- commands ---

  private onCommand(c: kestrel_msgs.VehicleCommand): void {
    const now = this.ctx.clock.now();
    this.counters.cmd_received++;
    const err = validateCommand(c, this.cfg.limits);
    if (err) {
      this.counters.cmd_rejected++;
      this.ctx.diag.stage('cmd').error(err);
      this.ctx.log.warn(err);
      return;
    }
    if (now > validUntilMs(c)) {
      // Never act on a command whose validity has passed, however it got delayed.
      this.counters.cmd_stale++;
      this.ctx.diag.stage('cmd').drop();
      return;
    }
    if (isStreamed(c.action)) {
      const same = this.active && this.active.cmd.action === c.action;
      this.active = { cmd: c, receivedMs: now, sent: same && this.active ? this.active.sent : 0 };
      this.action = undefined;
      this.sendSetpoint(now);
      return;
    }
    this.active = undefined;
    this.discrete(c, now);
  }

  private setpointTick(): void {
    const a = this.active;
    if (!a) return;
    const now = this.ctx.clock.now();
    if (now > validUntilMs(a.cmd)) {
      this.active = undefined;
      this.counters.cmd_expired++;
      this.ctx.log.warn(`/cmd seq ${a.cmd.seq} (${a.cmd.action}) expired without a successor: setpoints stopped, holding`);
      if (this.connected) void this.setMode('hold', now);
      return;
    }
    this.sendSetpoint(now);
  }

  private sendSetpoint(now: number): void {
    const a = this.active;
    if (!a || !this.connected) return;
    const sp = setpointFor(a.cmd, this.tel.freshPosition(now, 1000), this.cfg.useCommandYaw);
    if (typeof sp === 'string') {
      this.counters.setpoint_errors++;
      this.ctx.diag.stage('setpoint').error(sp);
      return;
    }
    const msg = this.cfg.setpointFrame === 'global' && sp.kind === 'position' ? this.globalSetpoint(sp) : this.localSetpoint(sp);
    if (!msg) {
      this.counters.setpoint_errors++;
      this.ctx.diag.stage('setpoint').error('global setpoints need the FC origin (GLOBAL_POSITION_INT and LOCAL_POSITION_NED not yet received)');
      return;
    }
    if (!this.ep.send(msg)) return;
    this.counters.setpoints_sent++;
    if (a.sent === 0) this.ctx.diag.stage('cmd_to_wire').record(now - a.receivedMs);
    a.sent++;
    // PX4 accepts OFFBOARD only once setpoints are flowing; ask after a couple of them.
    if (a.sent >= 2 && !isOffboardMode(this.autopilot, this.tel.mode)) void this.setMode('offboard', now);
  }

  private localSetpoint(sp: EnuSetpoint): InstanceType<typeof common.SetPositionTargetLocalNed> {
    const m = this.spLocal;
    m.timeBootMs = 0;
    m.targetSystem = this.cfg.targetSystem;
    m.targetComponent = this.cfg.targetComponent;
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
    const origin = this.tel.origin;
    if (!origin) return undefined;
    const g = enuToGeo(origin, sp.p.x, sp.p.y, sp.p.z);
    const m = this.spGlobal;
    m.timeBootMs = 0;
    m.targetSystem = this.cfg.targetSystem;
    m.targetComponent = this.cfg.targetComponent;
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

  /** Requests a mode once; repeated only after actionRepeatMs and never while one is pending. */
  private async setMode(intent: ModeIntent, now: number): Promise<boolean> {
    const r = this.modeRequest;
    if (r && r.intent === intent && (r.pending || now - r.atMs < this.cfg.actionRepeatMs)) return false;
    const req = this.modeCommand(intent);
    this.modeRequest = { intent, atMs: now, pending: true };
    const o = await this.client.run(req);
    if (this.modeRequest?.intent === intent) this.modeRequest.pending = false;
    this.record(req.label, o);
    return o.ok;
  }

  private modeCommand(intent: ModeIntent, validUntil?: () => number): CommandRequest {
    const p = setModeParams(this.autopilot, intent);
    return {
      command: MavCmd.DO_SET_MODE,
      params: [minimal.MavModeFlag.CUSTOM_MODE_ENABLED, p.param2, p.param3, 0, 0, 0, 0],
      label: `DO_SET_MODE ${p.name}`,
      validUntilMs: validUntil,
    };
  }

  private record(label: string, o: CommandOutcome): void {
    const st = this.ctx.diag.stage('commands');
    if (o.ok) {
      this.counters.commands_ok++;
      st.record(o.elapsedMs);
    } else if (o.result !== 'superseded' && o.result !== 'cancelled') {
      this.counters.commands_failed++;
      st.error(`${label}: ${o.result} after ${o.attempts} attempt(s)`);
      this.ctx.log.warn(`${label}: ${o.result} after ${o.attempts} attempt(s)`);
    }
  }

  /** Whether a discrete action is visibly in effect (so a repeated request needs nothing). */
  private inEffect(a: DiscreteAction, c: kestrel_msgs.VehicleCommand): boolean {
    const mode = this.tel.mode;
    const landing = mode === 'AUTO.LAND' || mode === 'LAND';
    switch (a) {
      case 'arm': return this.tel.armed;
      case 'disarm': return !this.tel.armed;
      case 'hold': return mode === setModeParams(this.autopilot, 'hold').name;
      case 'land': return landing || !this.tel.armed;
      case 'rtl': return mode === 'AUTO.RTL' || mode === 'RTL' || landing || !this.tel.armed;
      case 'takeoff': return this.tel.armed && (mode === 'AUTO.TAKEOFF' || (this.tel.position?.z ?? 0) > Math.min(1, c.target.z / 2));
    }
  }

  private discrete(c: kestrel_msgs.VehicleCommand, now: number): void {
    const a = c.action as DiscreteAction;
    const key = a === 'takeoff' ? `takeoff@${c.target.z.toFixed(2)}` : a;
    const prev = this.action;
    if (prev && prev.key === key) {
      prev.validUntilMs = Math.max(prev.validUntilMs, validUntilMs(c));
      if (prev.outcome === 'pending') return;
      if (now - prev.atMs < this.cfg.actionRepeatMs) return;
      if (prev.outcome === 'ok' && this.inEffect(a, c)) return;
    }
    if (!this.connected) {
      // The arbiter repeats its fallback every tick; count, and try again once connected.
      this.counters.cmd_not_connected++;
      this.ctx.diag.stage('cmd').drop();
      return;
    }
    const state: ActionState = { action: a, key, outcome: 'pending', atMs: now, validUntilMs: validUntilMs(c) };
    this.action = state;
    const token = ++this.procToken;
    const validUntil = (): number => state.validUntilMs;
    void this.runProcedure(a, c, token, validUntil).then((ok) => {
      if (this.action === state) {
        state.outcome = ok ? 'ok' : 'failed';
        state.atMs = this.ctx.clock.now();
      }
    });
    this.ctx.diag.stage('cmd_to_wire').record(this.ctx.clock.now() - now);
  }

  private async step(req: CommandRequest, token: number): Promise<boolean> {
    if (token !== this.procToken) return false;
    const vu = req.validUntilMs;
    if (vu !== undefined && this.ctx.clock.now() > (typeof vu === 'function' ? vu() : vu)) {
      // The next step of a procedure whose command has expired is not sent either.
      this.record(req.label, { ok: false, result: 'expired', attempts: 0, elapsedMs: 0 });
      return false;
    }
    const o = await this.client.run(req);
    this.record(req.label, o);
    return o.ok && token === this.procToken;
  }

  private async runProcedure(a: DiscreteAction, c: kestrel_msgs.VehicleCommand, token: number, validUntil: () => number): Promise<boolean> {
    const pad7 = (first: number[]): number[] => [...first, ...Array<number>(7 - first.length).fill(0)];
    switch (a) {
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
        if (this.autopilot === 'ardupilot') {
          if (!(await this.step(this.modeCommand('offboard', validUntil), token))) return false;
        }
        if (!this.tel.armed) {
          if (!(await this.step({ command: MavCmd.COMPONENT_ARM_DISARM, params: pad7([1]), label: 'ARM', validUntilMs: validUntil }, token))) return false;
        }
        let p7 = rel;
        if (this.autopilot === 'px4') {
          // PX4 reads NAV_TAKEOFF param7 as AMSL: home AMSL + the relative altitude.
          const home = this.tel.homeAmsl;
          if (home === undefined) {
            this.counters.commands_failed++;
            this.ctx.diag.stage('commands').error('takeoff: PX4 needs GLOBAL_POSITION_INT (home altitude) to compute the AMSL takeoff altitude');
            return false;
          }
          p7 = home + rel;
        }
        return this.step({ command: MavCmd.NAV_TAKEOFF, params: [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, p7], label: `NAV_TAKEOFF ${rel} m`, validUntilMs: validUntil }, token);
      }
    }
  }
}
