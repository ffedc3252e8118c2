/**
 * Watches a running pipeline from the bus and keeps what a run is judged by: alert
 * episodes, ground-truth episodes, the decision log (every /cmd, in order), plans and rules.
 * Only message contents and stamps go into the decision log, never wall time, so a run under
 * sim time with a latency model gives the same bytes every time.
 */
import type { Subscription } from 'rxjs';
import type { kestrel_msgs, vision_msgs } from '../../msgs/index.js';
import type { Bus } from '../../runtime/bus.js';
import { QOS_LATCHED, QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { timeToMs, type Time } from '../../runtime/time.js';

export type MissionEvent =
  | { kind: 'alert'; t: number; rule: string; active: boolean; message: string; reaction: string }
  | { kind: 'truth'; t: number; name: string; active: boolean }
  | { kind: 'rules'; t: number; rules: string[]; intent: string }
  | { kind: 'command'; t: number; action: string; source: string; reason: string }
  | { kind: 'plan'; t: number; action: string; reason: string; tokens: number; ttftMs: number };

export interface Sample {
  t: number;
  name: string;
  active: boolean;
}

/** A camera frame kept for the report, with the detections made on it (image pixels). */
export interface FrameSnapshot {
  t: number;
  width: number;
  height: number;
  encoding: string;
  data: Uint8Array;
  boxes: { cls: string; score: number; x: number; y: number; w: number; h: number }[];
}

export interface MonitorOptions {
  /** Camera frames (with their detections) to keep for the report, spread over the run (default 0: none). */
  keepFrames?: number;
  /** Seconds between kept frames (default 8). */
  frameEveryS?: number;
}

/** Time series are kept at most this often (s): enough for plots, bounded memory on long runs. */
const SERIES_STEP_S = 0.2;

export class MissionMonitor {
  /** Alert on/off samples by rule id (seconds since `t0`). */
  readonly alertSamples: Sample[] = [];
  readonly truthSamples: Sample[] = [];
  readonly rules: kestrel_msgs.Rule[] = [];
  readonly decisionLog: string[] = [];
  readonly commandsBySource: Record<string, number> = {};
  readonly e2eAgesMs: number[] = [];
  readonly plans: { t: number; action: string; reason: string; tokens: number; ttftMs: number; genMs: number }[] = [];
  /** Every /cmd: time, action, source and the age of the data behind it (time series for the report). */
  readonly commands: { t: number; action: string; source: string; e2eMs: number }[] = [];
  /** Vehicle state from /fc/state, one sample per SERIES_STEP_S. */
  readonly vehicle: { t: number; x: number; y: number; z: number; mode: string; armed: boolean; battery: number }[] = [];
  /** Confirmed tracks' ground positions, one sample per track per SERIES_STEP_S. */
  readonly trackPoints: { t: number; id: number; cls: string; x: number; y: number }[] = [];
  readonly frameSnapshots: FrameSnapshot[] = [];
  /** Latest vehicle state and track count (the console's status line). */
  last: { mode: string; armed: boolean; alt: number; battery: number; tracks: number; plan: string } = { mode: '-', armed: false, alt: NaN, battery: NaN, tracks: 0, plan: '-' };
  frames = 0;
  detections = 0;
  private readonly active = new Set<string>();
  private lastCommandKey = '';
  private subs: Subscription[] = [];
  private lastVehicleT = -Infinity;
  private readonly lastTrackT = new Map<number, number>();
  /** Recent frames by stamp, waiting for their detections. */
  private readonly pendingFrames = new Map<number, { t: number; img: { width: number; height: number; encoding: string; data: Uint8Array } }>();
  private nextFrameT = 0;

  constructor(
    private readonly bus: Bus,
    /** Origin of the run's time axis, ms on the pipeline clock. */
    readonly t0: number,
    private readonly onEvent: (e: MissionEvent) => void = () => {},
    private readonly opts: MonitorOptions = {},
  ) {}

  private t(stamp: Time): number {
    return (timeToMs(stamp) - this.t0) / 1000;
  }

  start(): void {
    const b = this.bus;
    this.subs.push(
      b.subscribe('/alerts', 'kestrel_msgs/msg/AlertArray').subscribe((a) => {
        const t = this.t(a.header.stamp);
        const now = new Map(a.alerts.filter((x) => x.active).map((x) => [x.rule_id, x]));
        for (const [id, al] of now) {
          if (this.active.has(id)) continue;
          this.active.add(id);
          this.alertSamples.push({ t, name: id, active: true });
          this.decisionLog.push(`${t.toFixed(3)} alert+ ${id} ${al.value}`);
          this.onEvent({ kind: 'alert', t, rule: id, active: true, message: al.message, reaction: al.reaction });
        }
        for (const id of [...this.active]) {
          if (now.has(id)) continue;
          this.active.delete(id);
          this.alertSamples.push({ t, name: id, active: false });
          this.decisionLog.push(`${t.toFixed(3)} alert- ${id}`);
          this.onEvent({ kind: 'alert', t, rule: id, active: false, message: '', reaction: '' });
        }
      }),
      b.subscribe('/sim/events', 'kestrel_msgs/msg/ScenarioEvent', { ...QOS_LATCHED, depth: 16 }).subscribe((e) => {
        const t = this.t(e.header.stamp);
        const last = [...this.truthSamples].reverse().find((s) => s.name === e.name);
        if (last?.active === e.active || (!last && !e.active)) return;
        this.truthSamples.push({ t, name: e.name, active: e.active });
        this.onEvent({ kind: 'truth', t, name: e.name, active: e.active });
      }),
      b.subscribe('/rules', 'kestrel_msgs/msg/RuleSet', QOS_LATCHED).subscribe((r) => {
        this.rules.splice(0, this.rules.length, ...r.rules);
        const t = this.t(r.header.stamp);
        this.decisionLog.push(`${t.toFixed(3)} rules v${r.version} ${r.rules.map((x) => `${x.id}:${x.kind}:${x.class_id}:${x.region}:${x.op}${x.threshold}`).join(',')}`);
        this.onEvent({ kind: 'rules', t, intent: r.intent, rules: r.rules.map((x) => `${x.id}: ${x.message || `${x.kind} ${x.class_id} ${x.region} ${x.op} ${x.threshold}`}`) });
      }),
      b.subscribe('/cmd', 'kestrel_msgs/msg/VehicleCommand').subscribe((c) => {
        const t = this.t(c.header.stamp);
        this.commandsBySource[c.source] = (this.commandsBySource[c.source] ?? 0) + 1;
        this.commands.push({ t, action: c.action, source: c.source, e2eMs: c.e2e_age_ms });
        if (Number.isFinite(c.e2e_age_ms)) this.e2eAgesMs.push(c.e2e_age_ms);
        const f = (n: number): string => n.toFixed(2);
        this.decisionLog.push(`${t.toFixed(3)} cmd ${c.seq} ${c.action} ${c.source} t=(${f(c.target.x)},${f(c.target.y)},${f(c.target.z)}) v=(${f(c.velocity.x)},${f(c.velocity.y)},${f(c.velocity.z)})`);
        const key = `${c.action}/${c.source}`;
        if (key !== this.lastCommandKey) {
          this.lastCommandKey = key;
          this.onEvent({ kind: 'command', t, action: c.action, source: c.source, reason: c.reason });
        }
      }),
      b.subscribe('/plan', 'kestrel_msgs/msg/Plan').subscribe((p) => {
        const t = this.t(p.header.stamp);
        this.plans.push({ t, action: p.action, reason: p.reason, tokens: p.completion_tokens, ttftMs: p.ttft_ms, genMs: p.generation_ms });
        this.decisionLog.push(`${t.toFixed(3)} plan ${p.action} (${p.target.x.toFixed(1)},${p.target.y.toFixed(1)}) tokens=${p.completion_tokens}`);
        this.last.plan = `${p.action} @${t.toFixed(1)} s`;
        this.onEvent({ kind: 'plan', t, action: p.action, reason: p.reason, tokens: p.completion_tokens, ttftMs: p.ttft_ms });
      }),
      b.subscribe('/detections', 'vision_msgs/msg/Detection2DArray').subscribe((d) => {
        this.frames++;
        this.detections += d.detections.length;
        this.keepFrame(d);
      }),
      b.subscribe('/fc/state', 'kestrel_msgs/msg/VehicleState').subscribe((v) => {
        this.last = { ...this.last, mode: v.mode || '-', armed: v.armed, alt: v.position.z, battery: v.battery_remaining };
        const t = this.t(v.header.stamp);
        if (t - this.lastVehicleT < SERIES_STEP_S) return;
        this.lastVehicleT = t;
        this.vehicle.push({ t, x: v.position.x, y: v.position.y, z: v.position.z, mode: v.mode, armed: v.armed, battery: v.battery_remaining });
      }),
      b.subscribe('/tracks', 'kestrel_msgs/msg/TrackArray').subscribe((a) => {
        this.last.tracks = a.tracks.length;
        const t = this.t(a.header.stamp);
        for (const k of a.tracks) {
          if (t - (this.lastTrackT.get(k.id) ?? -Infinity) < SERIES_STEP_S) continue;
          this.lastTrackT.set(k.id, t);
          this.trackPoints.push({ t, id: k.id, cls: k.class_id, x: k.position.x, y: k.position.y });
        }
      }),
    );
    if ((this.opts.keepFrames ?? 0) > 0) {
      this.subs.push(
        b.subscribe('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).subscribe((img) => {
          const t = this.t(img.header.stamp);
          if (t < this.nextFrameT || this.frameSnapshots.length >= (this.opts.keepFrames ?? 0)) return;
          this.pendingFrames.set(timeToMs(img.header.stamp), { t, img: { width: img.width, height: img.height, encoding: img.encoding, data: img.data.slice() } });
          // Frames the detector dropped never get detections: keep only the latest few.
          for (const k of [...this.pendingFrames.keys()].slice(0, -4)) this.pendingFrames.delete(k);
        }),
      );
    }
  }

  /** Keeps a frame with its detections once some are found, at most one every frameEveryS. */
  private keepFrame(d: vision_msgs.Detection2DArray): void {
    const f = this.pendingFrames.get(timeToMs(d.header.stamp));
    if (!f || d.detections.length === 0) return;
    this.pendingFrames.clear();
    this.nextFrameT = f.t + (this.opts.frameEveryS ?? 8);
    this.frameSnapshots.push({
      t: f.t,
      ...f.img,
      boxes: d.detections.map((x) => ({
        cls: x.results[0]?.hypothesis.class_id ?? '?',
        score: x.results[0]?.hypothesis.score ?? 0,
        x: x.bbox.center.position.x - x.bbox.size_x / 2,
        y: x.bbox.center.position.y - x.bbox.size_y / 2,
        w: x.bbox.size_x,
        h: x.bbox.size_y,
      })),
    });
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }
}
