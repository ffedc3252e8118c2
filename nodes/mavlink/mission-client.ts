/**
 * The mission protocol from the ground-station side: upload a list of items (MISSION_COUNT,
 * then each MISSION_ITEM_INT as the FC requests it, until its MISSION_ACK), with a timeout on
 * every step. `routeMission` turns a route in local ENU into the items PX4 or ArduPilot
 * expect (ArduPilot's item 0 is home): a takeoff, one waypoint per point, and an optional end.
 */
import { common } from 'node-mavlink';
import { timer, type Subscription } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';
import { enuToGeo, type GeoOrigin, type Vec3 } from '../../lib/mavlink/frames.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';

const { MavCmd, MavFrame, MavMissionResult } = common;

export interface MissionItemSpec {
  command: number;
  frame: number;
  params: [number, number, number, number];
  /** degE7 for global frames. */
  x: number;
  y: number;
  z: number;
}

export type UploadOutcome = { ok: true; items: number; elapsedMs: number } | { ok: false; error: string };

export interface RouteOptions {
  /** Acceptance radius at each waypoint, m (0 = the FC's default). */
  acceptRadius?: number;
  /** What to do after the last point. */
  end?: 'none' | 'land' | 'rtl';
}

/** A route (local ENU, z above home) as mission items for the given autopilot. */
export function routeMission(route: readonly Vec3[], origin: GeoOrigin, autopilot: Autopilot, o: RouteOptions = {}): MissionItemSpec[] {
  const ll = (p: Vec3): { x: number; y: number } => {
    const g = enuToGeo(origin, p.x, p.y, 0);
    return { x: Math.round(g.lat * 1e7), y: Math.round(g.lon * 1e7) };
  };
  const rel = MavFrame.GLOBAL_RELATIVE_ALT_INT;
  const items: MissionItemSpec[] = [];
  if (autopilot === 'ardupilot') items.push({ command: MavCmd.NAV_WAYPOINT, frame: MavFrame.GLOBAL_INT, params: [0, 0, 0, 0], ...ll({ x: 0, y: 0, z: 0 }), z: origin.alt });
  if (route.length === 0) return items;
  items.push({ command: MavCmd.NAV_TAKEOFF, frame: rel, params: [0, 0, 0, Number.NaN], x: 0, y: 0, z: route[0].z });
  for (const p of route) items.push({ command: MavCmd.NAV_WAYPOINT, frame: rel, params: [0, o.acceptRadius ?? 0, 0, Number.NaN], ...ll(p), z: p.z });
  const last = route[route.length - 1];
  if (o.end === 'land') items.push({ command: MavCmd.NAV_LAND, frame: rel, params: [0, 0, 0, Number.NaN], ...ll(last), z: 0 });
  if (o.end === 'rtl') items.push({ command: MavCmd.NAV_RETURN_TO_LAUNCH, frame: MavFrame.MISSION, params: [0, 0, 0, 0], x: 0, y: 0, z: 0 });
  return items;
}

export interface MissionClientOptions {
  clock: Clock;
  send(m: InstanceType<typeof common.MissionCount> | InstanceType<typeof common.MissionItemInt>): boolean;
  targetSystem: number;
  targetComponent: number;
  /** Longest wait for the FC's next request or its ACK. */
  stepTimeoutMs: number;
}

const RESULT_NAMES = MavMissionResult as unknown as Record<number, string>;

export class MissionClient {
  private upload: { items: MissionItemSpec[]; started: number; timer: Subscription | undefined; resolve(o: UploadOutcome): void } | undefined;

  constructor(private readonly o: MissionClientOptions) {}

  busy(): boolean {
    return this.upload !== undefined;
  }

  uploadItems(items: MissionItemSpec[]): Promise<UploadOutcome> {
    this.finish({ ok: false, error: 'superseded by a new upload' });
    return new Promise((resolve) => {
      this.upload = { items, started: this.o.clock.now(), timer: undefined, resolve };
      const c = new common.MissionCount();
      c.targetSystem = this.o.targetSystem;
      c.targetComponent = this.o.targetComponent;
      c.count = items.length;
      c.missionType = common.MavMissionType.MISSION;
      c.opaqueId = 0;
      if (!this.o.send(c)) {
        this.finish({ ok: false, error: 'link down' });
        return;
      }
      this.arm();
    });
  }

  private arm(): void {
    const u = this.upload;
    if (!u) return;
    u.timer?.unsubscribe();
    u.timer = timer(this.o.stepTimeoutMs, this.o.clock.scheduler).subscribe(() => this.finish({ ok: false, error: `no MISSION_REQUEST_INT or MISSION_ACK within ${this.o.stepTimeoutMs} ms` }));
  }

  private finish(o: UploadOutcome): void {
    const u = this.upload;
    if (!u) return;
    u.timer?.unsubscribe();
    this.upload = undefined;
    u.resolve(o);
  }

  /** MISSION_REQUEST_INT (or the legacy MISSION_REQUEST: still answered with MISSION_ITEM_INT). */
  onRequest(m: { seq: number; missionType: number }): void {
    const u = this.upload;
    if (!u || m.missionType !== common.MavMissionType.MISSION) return;
    const it = u.items[m.seq];
    if (!it) {
      this.finish({ ok: false, error: `FC requested item ${m.seq} of ${u.items.length}` });
      return;
    }
    const out = new common.MissionItemInt();
    out.targetSystem = this.o.targetSystem;
    out.targetComponent = this.o.targetComponent;
    out.seq = m.seq;
    out.frame = it.frame;
    out.command = it.command;
    out.current = m.seq === 0 ? 1 : 0;
    out.autocontinue = 1;
    [out.param1, out.param2, out.param3, out.param4] = it.params;
    out.x = it.x;
    out.y = it.y;
    out.z = it.z;
    out.missionType = common.MavMissionType.MISSION;
    this.o.send(out);
    this.arm();
  }

  onAck(m: InstanceType<typeof common.MissionAck>): void {
    const u = this.upload;
    if (!u || m.missionType !== common.MavMissionType.MISSION) return;
    if (m.type === MavMissionResult.ACCEPTED) this.finish({ ok: true, items: u.items.length, elapsedMs: this.o.clock.now() - u.started });
    else this.finish({ ok: false, error: `FC refused the mission: MAV_MISSION_${RESULT_NAMES[m.type] ?? m.type}` });
  }

  cancel(error = 'cancelled'): void {
    this.finish({ ok: false, error });
  }
}
