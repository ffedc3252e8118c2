/**
 * What the bridge configures on the flight controller at each connection: it asks for
 * AUTOPILOT_VERSION (whose capabilities decide how goto is flown), sets the `fc_params`, and
 * uploads the configured route as a mission once the FC's origin is known. Also the parameter
 * get/set and route upload the bridge offers in code.
 */
import { common } from 'node-mavlink';
import type { NodeContext } from '../../runtime/node.js';
import type { Vec3 } from '../../lib/mavlink/frames.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';
import type { CommandClient, CommandOutcome } from './command-client.js';
import { MissionClient, routeMission, type RouteOptions, type UploadOutcome } from './mission-client.js';
import { ParamClient, type ParamOutcome } from './param-client.js';
import type { TelemetryModel } from './telemetry.js';

type Outgoing = InstanceType<typeof common.ParamRequestRead> | InstanceType<typeof common.ParamSet> | InstanceType<typeof common.MissionCount> | InstanceType<typeof common.MissionItemInt>;

export interface FcSetupHost {
  ctx: NodeContext;
  client: CommandClient;
  tel: TelemetryModel;
  autopilot(): Autopilot;
  connected(): boolean;
  send(m: Outgoing): boolean;
  record(label: string, o: CommandOutcome): void;
  counters: { params_set: number; params_failed: number; mission_uploads: number; mission_upload_failed: number };
}

export interface FcSetupConfig {
  targetSystem: number;
  targetComponent: number;
  commandTimeoutMs: number;
  commandRetries: number;
  fcParams: readonly { name: string; value: number }[];
  route: readonly Vec3[];
  routeEnd: NonNullable<RouteOptions['end']>;
}

export class FcSetup {
  readonly params: ParamClient;
  readonly missions: MissionClient;
  /** The configured route still to upload on this connection. */
  private routePending = false;

  constructor(private readonly h: FcSetupHost, private readonly cfg: FcSetupConfig) {
    this.params = new ParamClient({
      clock: h.ctx.clock,
      send: (m) => h.send(m),
      autopilot: () => h.autopilot(),
      targetSystem: cfg.targetSystem,
      targetComponent: cfg.targetComponent,
      timeoutMs: cfg.commandTimeoutMs,
      retries: cfg.commandRetries,
    });
    this.missions = new MissionClient({ clock: h.ctx.clock, send: (m) => h.send(m), targetSystem: cfg.targetSystem, targetComponent: cfg.targetComponent, stepTimeoutMs: cfg.commandTimeoutMs * (cfg.commandRetries + 1) });
  }

  onConnected(): void {
    this.routePending = this.cfg.route.length > 0;
    void this.connectRequests();
  }

  /** Link lost or node deactivated: whatever is in flight ends. */
  cancel(why: string): void {
    this.params.cancelAll(why);
    this.missions.cancel(why);
  }

  /** Called at the state rate: uploads the route once the origin is known. */
  tick(): void {
    if (!this.routePending || !this.h.connected() || !this.h.tel.origin || this.missions.busy()) return;
    this.routePending = false;
    void this.uploadRoute(this.cfg.route, { end: this.cfg.routeEnd });
  }

  private async connectRequests(): Promise<void> {
    const o = await this.h.client.run({ command: common.MavCmd.REQUEST_MESSAGE, params: [148, 0, 0, 0, 0, 0, 0], label: 'REQUEST_MESSAGE AUTOPILOT_VERSION' });
    this.h.record('REQUEST_MESSAGE AUTOPILOT_VERSION', o);
    for (const { name, value } of this.cfg.fcParams) {
      if (!this.h.connected()) return;
      await this.setParam(name, value);
    }
  }

  getParam(name: string): Promise<ParamOutcome> {
    return this.params.get(name);
  }

  async setParam(name: string, value: number, type?: number): Promise<ParamOutcome> {
    const { ctx, counters } = this.h;
    const o = await this.params.set(name, value, type);
    if (o.ok) counters.params_set++;
    else {
      counters.params_failed++;
      ctx.diag.stage('params').error(`set ${name} = ${value}: ${o.error}`);
      ctx.log.warn(`FC parameter ${name} = ${value}: ${o.error}`);
    }
    return o;
  }

  async uploadRoute(route: readonly Vec3[], opts: RouteOptions = {}): Promise<UploadOutcome> {
    const { ctx, counters, tel } = this.h;
    const origin = tel.origin;
    const o: UploadOutcome = !this.h.connected() ? { ok: false, error: 'FC not connected' }
      : !origin ? { ok: false, error: 'FC origin unknown (GLOBAL_POSITION_INT and LOCAL_POSITION_NED not yet received)' }
      : await this.missions.uploadItems(routeMission(route, origin, this.h.autopilot(), opts));
    if (o.ok) {
      counters.mission_uploads++;
      ctx.diag.stage('mission').record(o.elapsedMs);
    } else {
      counters.mission_upload_failed++;
      ctx.diag.stage('mission').error(`route upload: ${o.error}`);
      ctx.log.warn(`route upload: ${o.error}`);
    }
    return o;
  }
}
