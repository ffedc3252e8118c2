/**
 * Watches a running pipeline from the bus and keeps what a run is judged by: alert
 * episodes, ground-truth episodes, the decision log (every /cmd, in order), plans and rules.
 * Only message contents and stamps go into the decision log, never wall time, so a run under
 * sim time with a latency model gives the same bytes every time.
 */
import type { Subscription } from 'rxjs';
import type { kestrel_msgs } from '../../msgs/index.js';
import type { Bus } from '../../runtime/bus.js';
import { QOS_LATCHED } from '../../runtime/qos.js';
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

export class MissionMonitor {
  /** Alert on/off samples by rule id (seconds since `t0`). */
  readonly alertSamples: Sample[] = [];
  readonly truthSamples: Sample[] = [];
  readonly rules: kestrel_msgs.Rule[] = [];
  readonly decisionLog: string[] = [];
  readonly commandsBySource: Record<string, number> = {};
  readonly e2eAgesMs: number[] = [];
  readonly plans: { t: number; action: string; tokens: number; ttftMs: number; genMs: number }[] = [];
  frames = 0;
  detections = 0;
  private readonly active = new Set<string>();
  private lastCommandKey = '';
  private subs: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    /** Origin of the run's time axis, ms on the pipeline clock. */
    readonly t0: number,
    private readonly onEvent: (e: MissionEvent) => void = () => {},
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
        this.plans.push({ t, action: p.action, tokens: p.completion_tokens, ttftMs: p.ttft_ms, genMs: p.generation_ms });
        this.decisionLog.push(`${t.toFixed(3)} plan ${p.action} (${p.target.x.toFixed(1)},${p.target.y.toFixed(1)}) tokens=${p.completion_tokens}`);
        this.onEvent({ kind: 'plan', t, action: p.action, reason: p.reason, tokens: p.completion_tokens, ttftMs: p.ttft_ms });
      }),
      b.subscribe('/detections', 'vision_msgs/msg/Detection2DArray').subscribe((d) => {
        this.frames++;
        this.detections += d.detections.length;
      }),
    );
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }
}
