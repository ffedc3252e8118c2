/**
 * A simulated flight controller speaking MAVLink 2 over a serial port (a pty in tests and
 * `npm start`) or UDP (like PX4 SITL: unsolicited to a ground station and an offboard API
 * port, several peers at once), in the manner of PX4 or ArduCopter. This class owns the link
 * and the clock tick and dispatches what it receives; the concerns are modules over a shared
 * core: telemetry (streams, identity), commands (COMMAND_LONG/INT, ACK, modes), guidance
 * (setpoints, mode targets), failsafes, and the parameter and mission protocols. The physics
 * is SimVehicle, stepped on the given clock so it runs the same under sim time.
 */
import { common, minimal } from 'node-mavlink';
import type { Subscription } from 'rxjs';
import { every, type Clock } from '../../runtime/clock.js';
import { MavEndpoint, type EndpointStats, type Received } from '../../lib/mavlink/endpoint.js';
import type { LinkHandlers } from '../../lib/mavlink/transport.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';
import { Commands } from './commands.js';
import { FcCore, type FcCounts } from './core.js';
import { Failsafes } from './failsafes.js';
import { Guidance } from './guidance.js';
import { itemFromFloat, itemFromInt, MissionProtocol } from './mission.js';
import { ParamsProtocol } from './params.js';
import { DEFAULT_STREAM_HZ, Telemetry } from './telemetry.js';
import { TcpServerLink } from './tcp-server.js';
import { UdpPeersLink } from './udp-peers.js';
import type { SimVehicle } from './vehicle.js';

export { DEFAULT_STREAM_HZ } from './telemetry.js';

/**
 * UDP like PX4 SITL: bind `port` on `host` (127.0.0.1), speak first to `gcsPort` (14550) and
 * `apiPort` (14540) on `peerHost` (127.0.0.1) — 0 turns either off — and to `remotePort` if
 * given, and serve everyone else who sends to us too.
 */
export interface SimUdpSpec {
  kind: 'udp';
  port: number;
  host?: string;
  remoteHost?: string;
  remotePort?: number;
  peerHost?: string;
  gcsPort?: number;
  apiPort?: number;
}

/** A TCP server like ArduPilot SITL's 5760 (MAVProxy --master=tcp:127.0.0.1:5760, Mission Planner). */
export interface SimTcpSpec {
  kind: 'tcp';
  port: number;
  host?: string;
}

export type SimLinkSpec = { kind: 'serial'; path: string; baudRate: number } | SimUdpSpec | SimTcpSpec | { kind: 'memory'; name: string };

/** PX4 SITL's ports: QGroundControl listens on 14550, MAVSDK/mavros on 14540. */
export const SITL_GCS_PORT = 14550;
export const SITL_API_PORT = 14540;

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

export interface SimFcStats extends EndpointStats, FcCounts {
  /** Parameter requests naming no parameter, and values refused. */
  paramErrors: number;
  missionOutOfOrder: number;
  missionAbandoned: number;
  missionRefused: number;
}

export class SimFlightController {
  private readonly fc: FcCore;
  private readonly ep: MavEndpoint;
  private readonly telemetry: Telemetry;
  private readonly commands: Commands;
  private readonly guidance: Guidance;
  private readonly failsafes: Failsafes;
  private readonly params: ParamsProtocol;
  private readonly mission: MissionProtocol;
  private udp: UdpPeersLink | undefined;
  private tcp: TcpServerLink | undefined;
  private tick: Subscription | undefined;
  private upWaiters: (() => void)[] = [];
  private linkDownNote: (why: string) => void = () => {};

  constructor(opts: SimFlightControllerOptions) {
    const autopilot = opts.autopilot ?? 'px4';
    this.fc = new FcCore(opts.vehicle, opts.clock, autopilot, opts.sysid ?? 1, opts.compid ?? 1, {
      physicsHz: opts.physicsHz ?? 50,
      offboardTimeoutMs: opts.offboardTimeoutMs ?? 500,
      offboardLossAction: opts.offboardLossAction ?? 'hold',
      gcsLossTimeoutMs: opts.gcsLossTimeoutMs ?? 5000,
      gcsLossAction: opts.gcsLossAction ?? 'hold',
      guidedVelocityTimeoutMs: opts.guidedVelocityTimeoutMs ?? 3000,
      takeoffAltitude: opts.takeoffAltitude ?? 2.5,
      rtlAltitude: opts.rtlAltitude ?? 10,
      autoDisarmMs: opts.autoDisarmMs ?? 1000,
    });
    const fc = this.fc;
    this.telemetry = new Telemetry(fc, opts.streamHz);
    this.guidance = new Guidance(fc);
    this.failsafes = new Failsafes(fc);
    this.params = new ParamsProtocol(fc);
    this.mission = new MissionProtocol(fc, this.guidance, this.params);
    this.commands = new Commands(fc, this.telemetry, this.guidance, this.mission);
    this.telemetry.register(42, () => this.mission.currentMessage());
    this.failsafes.missionLanding = () => this.mission.landing();
    fc.onModeChange = (changed) => {
      this.failsafes.onModeChange(fc.mode);
      this.mission.onModeChange();
      if (changed) fc.sendHeartbeat();
    };
    const spec = opts.link;
    // The endpoint's own links cover serial and memory; UDP and TCP are the simulator's servers.
    const link = spec.kind === 'serial' || spec.kind === 'memory' ? spec : { kind: 'udp' as const, port: spec.port, host: spec.host ?? '127.0.0.1' };
    const byteLink = spec.kind === 'udp' ? (h: LinkHandlers) => (this.udp = new UdpPeersLink({ port: spec.port, host: spec.host ?? '127.0.0.1', targets: udpTargets(spec) }, opts.clock, h))
      : spec.kind === 'tcp' ? (h: LinkHandlers) => (this.tcp = new TcpServerLink({ port: spec.port, host: spec.host }, h))
      : undefined;
    this.ep = new MavEndpoint({
      link,
      byteLink,
      clock: opts.clock,
      sysid: fc.sysid,
      compid: fc.compid,
      signing: opts.signingKey ? { key: opts.signingKey, linkId: opts.signingLinkId ?? 0 } : undefined,
      reconnectMs: opts.reconnectMs ?? 200,
      onMessage: (r) => this.onMessage(r),
      onLinkUp: () => {
        for (const w of this.upWaiters.splice(0)) w();
      },
      onLinkDown: (why) => this.linkDownNote(why),
    });
    fc.transmit = (m) => this.ep.send(m);
    fc.setMode('manual');
  }

  /**
   * Opens the link and starts the physics and telemetry; resolves once the link is up, or
   * fails (and stops) if it is not up within `openTimeoutMs` of real time.
   */
  async start(openTimeoutMs = 5000): Promise<void> {
    if (this.tick) return;
    const fc = this.fc;
    fc.bootMs = fc.clock.now();
    let lastError = '';
    const up = new Promise<void>((resolve) => this.upWaiters.push(resolve));
    this.linkDownNote = (why) => { lastError = why; };
    this.ep.start();
    const dt = 1000 / fc.o.physicsHz;
    this.tick = every(fc.clock, dt).subscribe(() => this.step(dt));
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
    this.fc.suspended = on;
  }

  /** On UDP: the local port bound (the ephemeral one with port 0) and the peers frames go to now. */
  udpInfo(): { port: number | undefined; peers: { host: string; port: number }[] } | undefined {
    return this.udp ? { port: this.udp.boundPort(), peers: this.udp.peers() } : undefined;
  }

  /** On TCP: the port listened on and the clients connected. */
  tcpInfo(): { port: number | undefined; clients: number } | undefined {
    return this.tcp ? { port: this.tcp.boundPort(), clients: this.tcp.clientCount() } : undefined;
  }

  /** The parameter protocol's current value of a parameter (PX4 or ArduPilot name). */
  param(name: string): number | undefined {
    return this.params.get(name);
  }

  /** Mission items held (mission type by default), and the index being flown. */
  missionState(): { items: number; current: number } {
    return { items: this.mission.items().length, current: this.mission.current };
  }

  /** Writes raw bytes to the link, bypassing framing: line noise and corrupt frames for tests. */
  injectRaw(bytes: Buffer): boolean {
    return this.ep.writeRaw(bytes);
  }

  status(): SimFcStatus {
    const fc = this.fc;
    return { mode: fc.modeLabel, armed: fc.v.isArmed(), gcsConnected: this.failsafes.gcsConnected(), failsafe: fc.failsafe, linkUp: this.ep.isUp() };
  }

  stats(): SimFcStats {
    const e = this.mission.errors;
    return { ...this.ep.stats(), ...this.fc.counts, paramErrors: this.params.errors, missionOutOfOrder: e.outOfOrder, missionAbandoned: e.abandoned, missionRefused: e.refused };
  }

  /** Sends a STATUSTEXT (also used by tests and the simulator for events). */
  statusText(severity: number, text: string): void {
    this.fc.statusText(severity, text);
  }

  private step(dtMs: number): void {
    const now = this.fc.clock.now();
    this.failsafes.beforeGuidance(now);
    this.guidance.guide(now);
    this.fc.v.step(dtMs);
    this.failsafes.afterStep(now);
    this.params.tick();
    this.mission.tick(now);
    this.telemetry.sendStreams(now);
  }

  private onMessage({ msg, frame }: Received): void {
    const fc = this.fc;
    if (fc.suspended) return;
    const now = fc.clock.now();
    const from = { sysid: frame.sysid, compid: frame.compid };
    if (msg instanceof minimal.Heartbeat) {
      if (frame.sysid === fc.sysid && frame.compid === fc.compid) return;
      this.failsafes.onPeerHeartbeat(now);
    } else if (msg instanceof common.CommandLong) {
      this.commands.onCommandLong(msg, from);
    } else if (msg instanceof common.SetPositionTargetLocalNed) {
      if (fc.forUs(msg.targetSystem, msg.targetComponent)) this.guidance.onLocalSetpoint(msg, now);
    } else if (msg instanceof common.SetPositionTargetGlobalInt) {
      if (fc.forUs(msg.targetSystem, msg.targetComponent)) this.guidance.onGlobalSetpoint(msg, now);
    } else if (msg instanceof common.CommandInt) {
      this.commands.onCommandInt(msg, from);
    } else if (msg instanceof common.SetMode) {
      this.commands.onSetMode(msg, from);
    } else if (msg instanceof common.ParamRequestList) {
      this.params.onRequestList(msg);
    } else if (msg instanceof common.ParamRequestRead) {
      this.params.onRequestRead(msg);
    } else if (msg instanceof common.ParamSet) {
      this.params.onSet(msg);
    } else if (msg instanceof common.MissionCount) {
      this.mission.onCount(msg, from);
    } else if (msg instanceof common.MissionItemInt) {
      this.mission.onItem(itemFromInt(msg), msg.missionType, msg, from);
    } else if (msg instanceof common.MissionItem) {
      this.mission.onItem(itemFromFloat(msg), msg.missionType, msg, from);
    } else if (msg instanceof common.MissionRequestList) {
      this.mission.onRequestList(msg, from);
    } else if (msg instanceof common.MissionRequestInt) {
      this.mission.onRequest(msg, true, from);
    } else if (msg instanceof common.MissionRequest) {
      this.mission.onRequest(msg, false, from);
    } else if (msg instanceof common.MissionClearAll) {
      this.mission.onClearAll(msg, from);
    } else if (msg instanceof common.MissionSetCurrent) {
      this.mission.onSetCurrent(msg);
    } else if (msg instanceof common.RequestDataStream) {
      if (fc.autopilot === 'ardupilot' && fc.forUs(msg.targetSystem, msg.targetComponent)) this.telemetry.requestDataStream(msg.reqStreamId, msg.reqMessageRate, msg.startStop !== 0);
    } else if (msg instanceof common.TimeSync) {
      this.onTimesync(msg, from);
    }
  }

  /** TIMESYNC: a request (tc1 = 0) is answered with our time in ns and the request's ts1. */
  private onTimesync(m: InstanceType<typeof common.TimeSync>, from: { sysid: number; compid: number }): void {
    if (BigInt(m.tc1) !== 0n) return; // an answer to someone else's request
    const r = new common.TimeSync();
    r.tc1 = BigInt(Math.round((this.fc.clock.now() - this.fc.bootMs) * 1000)) * 1000n + 1n;
    r.ts1 = m.ts1;
    r.targetSystem = from.sysid;
    r.targetComponent = from.compid;
    this.fc.send(r);
  }
}

function udpTargets(s: SimUdpSpec): { host: string; port: number }[] {
  const host = s.peerHost ?? '127.0.0.1';
  const out: { host: string; port: number }[] = [];
  const gcs = s.gcsPort ?? SITL_GCS_PORT;
  const api = s.apiPort ?? SITL_API_PORT;
  if (gcs > 0) out.push({ host, port: gcs });
  if (api > 0) out.push({ host, port: api });
  if (s.remotePort) out.push({ host: s.remoteHost ?? '127.0.0.1', port: s.remotePort });
  return out;
}
