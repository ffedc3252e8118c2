/**
 * The MAVLink bridge proper: link and heartbeat supervision, telemetry → /fc/state and
 * /battery, and /cmd dispatch: streamed actions to the SetpointStreamer (setpoints.ts),
 * discrete ones (and goto by DO_REPOSITION) to the command Procedures (procedures.ts); FC
 * parameters and the route mission to FcSetup (fc-setup.ts). index.ts declares the node.
 */
import { common, minimal } from 'node-mavlink';
import { Subscription } from 'rxjs';
import type { kestrel_msgs, sensor_msgs } from '../../msgs/index.js';
import type { Publisher } from '../../runtime/bus.js';
import { every } from '../../runtime/clock.js';
import type { NodeContext } from '../../runtime/node.js';
import { msToTime } from '../../runtime/time.js';
import { CommandClient } from './command-client.js';
import { isStreamed, validateCommand, validUntilMs, type CommandLimits } from './command-rules.js';
import { MavEndpoint, type Received } from '../../lib/mavlink/endpoint.js';
import type { Vec3 } from '../../lib/mavlink/frames.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';
import { FcSetup } from './fc-setup.js';
import type { RouteOptions, UploadOutcome } from './mission-client.js';
import type { ParamOutcome } from './param-client.js';
import { Procedures } from './procedures.js';
import { SetpointStreamer } from './setpoints.js';
import { TelemetryModel } from './telemetry.js';
import type { LinkSpec } from '../../lib/mavlink/transport.js';
import { loadSigningKey } from '../../lib/mavlink/wire.js';

const { MavCmd } = common;

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
  /** goto as streamed setpoints, or as COMMAND_INT DO_REPOSITION where the autopilot advertises COMMAND_INT. */
  gotoVia: 'setpoints' | 'reposition';
  /** FC parameters set on each connection. */
  fcParams: readonly { name: string; value: number }[];
  /** A route (local ENU) uploaded as a mission once connected and the origin is known; empty = none. */
  route: readonly Vec3[];
  routeEnd: NonNullable<RouteOptions['end']>;
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
  params_set: number;
  params_failed: number;
  mission_uploads: number;
  mission_upload_failed: number;
  /** goto commands flown by DO_REPOSITION. */
  reposition_gotos: number;
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
  private readonly procedures: Procedures;
  private readonly setpoints: SetpointStreamer;
  private readonly subs = new Subscription();
  readonly counters: BridgeCounters = {
    setpoints_sent: 0, commands_ok: 0, commands_failed: 0, cmd_received: 0, cmd_rejected: 0, cmd_stale: 0, cmd_expired: 0, cmd_not_connected: 0,
    setpoint_errors: 0, foreign_sysid: 0, not_for_us: 0, other_component: 0, heartbeat_losses: 0, autopilot_mismatch: 0,
    params_set: 0, params_failed: 0, mission_uploads: 0, mission_upload_failed: 0, reposition_gotos: 0,
  };
  private readonly fcSetup: FcSetup;

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
    const host = {
      ctx,
      client: this.client,
      tel: this.tel,
      counters: this.counters,
      autopilot: () => this.autopilot,
      connected: () => this.connected,
    };
    this.procedures = new Procedures({ ...host, actionRepeatMs: cfg.actionRepeatMs });
    this.fcSetup = new FcSetup({ ...host, send: (m) => this.ep.send(m), record: (label, o) => this.procedures.record(label, o) }, cfg);
    this.setpoints = new SetpointStreamer({
      ...host,
      send: (m) => this.ep.send(m),
      setMode: (intent, now) => this.procedures.setMode(intent, now),
      targetSystem: cfg.targetSystem,
      targetComponent: cfg.targetComponent,
      setpointFrame: cfg.setpointFrame,
      useCommandYaw: cfg.useCommandYaw,
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
    s.add(every(clock, 1000 / this.cfg.setpointRateHz).subscribe(() => this.setpoints.tick()));
    s.add(every(clock, 1000 / this.cfg.stateRateHz).subscribe(() => this.publishState()));
    s.add(this.ctx.subscribe('/cmd').subscribe((c) => this.onCommand(c)));
    s.add(() => {
      this.procedures.cancel();
      this.setpoints.stop();
      this.client.cancelAll('cancelled');
      this.fcSetup.cancel('cancelled');
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
    this.fcSetup.cancel('link down');
    this.procedures.linkLost();
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
    this.fcSetup.onConnected();
    this.publishState();
  }

  /** Reads a flight-controller parameter (PARAM_REQUEST_READ → PARAM_VALUE). */
  getParam(name: string): Promise<ParamOutcome> {
    return this.fcSetup.getParam(name);
  }

  /** Sets a flight-controller parameter; ok only when the FC reports the value asked for. */
  setParam(name: string, value: number, type?: number): Promise<ParamOutcome> {
    return this.fcSetup.setParam(name, value, type);
  }

  /** Uploads a route (local ENU, z above home) as a mission; needs the FC's origin. */
  uploadRoute(route: readonly Vec3[], opts: RouteOptions = {}): Promise<UploadOutcome> {
    return this.fcSetup.uploadRoute(route, opts);
  }

  private async requestStreams(): Promise<void> {
    for (const [id, hz] of Object.entries(this.cfg.streamRates)) {
      if (!(hz > 0) || !this.connected) continue;
      const o = await this.client.run({ command: MavCmd.SET_MESSAGE_INTERVAL, params: [Number(id), 1e6 / hz, 0, 0, 0, 0, 0], label: `SET_MESSAGE_INTERVAL ${id} ${hz} Hz` });
      this.procedures.record(`SET_MESSAGE_INTERVAL(${id}, ${hz} Hz)`, o);
    }
  }

  // --- receiving ---

  private onMessage({ msg, frame }: Received): void {
    if (frame.sysid !== this.cfg.targetSystem) {
      this.counters.foreign_sysid++;
      return;
    }
    const now = this.ctx.clock.now();
    const forUs = (m: { targetSystem: number; targetComponent: number }): boolean => {
      const ok = m.targetSystem === 0 || (m.targetSystem === this.cfg.systemId && (m.targetComponent === 0 || m.targetComponent === this.cfg.componentId));
      if (!ok) this.counters.not_for_us++;
      return ok;
    };
    if (msg instanceof common.CommandAck) {
      if (forUs(msg)) this.client.onAck(msg);
      return;
    }
    if (msg instanceof common.MissionRequestInt || msg instanceof common.MissionRequest) {
      if (forUs(msg)) this.fcSetup.missions.onRequest(msg);
      return;
    }
    if (msg instanceof common.MissionAck) {
      if (forUs(msg)) this.fcSetup.missions.onAck(msg);
      return;
    }
    if (msg instanceof common.ParamValue) {
      this.fcSetup.params.onValue(msg); // broadcast: a list someone else asked for updates our values too
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
    this.fcSetup.tick();
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
    const origin = this.tel.origin;
    const commandInt = ((this.tel.capabilities ?? 0) & 8) !== 0; // MAV_PROTOCOL_CAPABILITY_COMMAND_INT
    if (c.action === 'goto' && this.cfg.gotoVia === 'reposition' && commandInt && origin) {
      this.setpoints.stop();
      this.counters.reposition_gotos++;
      this.procedures.reposition(c, now, origin);
      return;
    }
    if (isStreamed(c.action)) {
      this.procedures.forgetAction();
      this.setpoints.start(c, now);
      return;
    }
    this.setpoints.stop();
    this.procedures.discrete(c, now);
  }
}
