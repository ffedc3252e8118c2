/**
 * The simulated world: people, bags and ground vehicles moving by their scenario scripts on
 * a flat ground with named regions, stepped at a fixed dt from seeded randomness, and the
 * ground-truth events derived from its state. Deterministic: the same scenario and seed
 * give the same states at the same times.
 */
import { pointInPolygon, type Vec2 } from '../lib/geo/geometry.js';
import type { SimObject } from './render.js';
import { Rng, subSeed } from './rng.js';
import type { EventSpec, QueueSpec, Scenario, Step } from './scenario.js';

interface Mover {
  id: number;
  x: number;
  y: number;
  yaw: number;
  speed: number;
  script: Step[];
  pc: number;
  /** State of the current step (reset when the step advances). */
  st: { until?: number; goal?: Vec2; pauseUntil?: number; queued?: boolean };
  appearAt: number;
  gone: boolean;
  rng: Rng;
  style: number;
}

interface Person extends Mover {
  kind: 'person';
  carrying: number[];
  /** Sideways offset in a queue, so the line is not ruler-straight. */
  lateral: number;
}

interface Vehicle extends Mover {
  kind: 'vehicle';
}

interface Bag {
  id: number;
  x: number;
  y: number;
  yaw: number;
  carriedBy?: number;
  style: number;
}

interface QueueState {
  spec: QueueSpec;
  members: number[];
  headSince?: number;
  serviceS: number;
  rng: Rng;
}

interface PendingSpawn {
  at: number;
  make: () => void;
}

export interface EventState {
  name: string;
  active: boolean;
  detail: string;
}

/** What the world needs to know of the vehicle to judge vehicle events (battery). */
export interface VehicleStatus {
  battery_remaining: number;
}

const ARRIVE_M = 0.05;
const PICKUP_M = 0.7;

export class World {
  /** Scenario time, seconds since the start. */
  t = 0;
  private readonly people = new Map<number, Person>();
  private readonly vehicles = new Map<number, Vehicle>();
  private readonly bags = new Map<number, Bag>();
  private readonly queues = new Map<string, QueueState>();
  private readonly regions: { name: string; polygon: Vec2[] }[];
  private readonly served = new Set<number>();
  private spawns: PendingSpawn[] = [];
  /** Per unattended event: bag id → last time a companion was near. */
  private readonly attended = new Map<string, Map<number, number>>();
  /** Script problems met while running (e.g. drop_bag with no bag): counted and reported, never thrown. */
  readonly warnings: string[] = [];

  constructor(readonly scenario: Scenario, readonly seed: number = scenario.seed) {
    this.regions = scenario.regions.map((r) => ({ name: r.name, polygon: r.polygon }));
    for (const q of scenario.queues) this.queues.set(q.name, { spec: q, members: [], serviceS: q.service_s, rng: new Rng(subSeed(seed, `queue:${q.name}`)) });
    for (const a of scenario.actors) {
      if (a.kind === 'person') this.addPerson(a.id, a.at, a.yaw, a.speed, a.script, a.start_s);
      else if (a.kind === 'vehicle') this.addVehicle(a.id, a.at, a.yaw, a.speed, a.script, a.start_s);
    }
    for (const a of scenario.actors) {
      if (a.kind !== 'bag') continue;
      const carrier = a.carried_by !== undefined ? this.people.get(a.carried_by) : undefined;
      this.bags.set(a.id, { id: a.id, x: a.at?.x ?? carrier?.x ?? 0, y: a.at?.y ?? carrier?.y ?? 0, yaw: a.yaw, carriedBy: a.carried_by, style: hashStyle(seed, a.id) });
      carrier?.carrying.push(a.id);
    }
    scenario.actors.forEach((a, i) => {
      if (a.kind !== 'spawner') return;
      const rng = new Rng(subSeed(seed, `spawner:${i}`));
      for (let k = 0; ; k++) {
        const base = a.start_s + k * a.every_s;
        if (base > a.stop_s || base > scenario.duration_s) break;
        const at = Math.max(0, base + rng.uniform(-a.jitter_s, a.jitter_s));
        const off = { x: rng.uniform(-0.6, 0.6), y: rng.uniform(-0.6, 0.6) };
        const carries = rng.next() < a.carry_bag;
        const id = a.id_base + k;
        const bagId = a.bag_id_base + k;
        this.spawns.push({
          at,
          make: () => {
            const p = { x: a.at.x + off.x, y: a.at.y + off.y };
            if (a.template.kind === 'vehicle') this.addVehicle(id, p, 0, a.template.speed, a.template.script, at);
            else {
              const person = this.addPerson(id, p, 0, a.template.speed, a.template.script, at);
              if (carries) {
                this.bags.set(bagId, { id: bagId, x: p.x, y: p.y, yaw: 0, carriedBy: id, style: hashStyle(seed, bagId) });
                person.carrying.push(bagId);
              }
            }
          },
        });
      }
    });
    this.spawns.sort((p, q) => p.at - q.at);
    this.spawnDue();
    this.placeCarried();
  }

  private mover(id: number, at: Vec2, yaw: number, speed: number, script: Step[], appearAt: number): Mover {
    const rng = new Rng(subSeed(this.seed, `actor:${id}`));
    return { id, x: at.x, y: at.y, yaw, speed, script, pc: 0, st: {}, appearAt, gone: false, rng, style: hashStyle(this.seed, id) };
  }

  private addPerson(id: number, at: Vec2, yaw: number, speed: number | undefined, script: Step[], appearAt: number): Person {
    const m = this.mover(id, at, yaw, 0, script, appearAt);
    const p: Person = { ...m, kind: 'person', speed: speed ?? m.rng.uniform(1.1, 1.5), carrying: [], lateral: m.rng.uniform(-0.12, 0.12) };
    this.people.set(id, p);
    return p;
  }

  private addVehicle(id: number, at: Vec2, yaw: number, speed: number | undefined, script: Step[], appearAt: number): void {
    const m = this.mover(id, at, yaw, 0, script, appearAt);
    this.vehicles.set(id, { ...m, kind: 'vehicle', speed: speed ?? 4 });
  }

  private spawnDue(): void {
    while (this.spawns.length > 0 && this.spawns[0].at <= this.t + 1e-9) (this.spawns.shift() as PendingSpawn).make();
  }

  /** Advances the world by dt seconds (call with a fixed dt for reproducible runs). */
  step(dt: number): void {
    if (!(dt > 0)) throw new RangeError(`World.step: dt must be > 0 s, got ${dt}`);
    // Rounded to the microsecond so summing a fixed dt does not drift off round times.
    this.t = Math.round((this.t + dt) * 1e6) / 1e6;
    this.spawnDue();
    for (const p of this.people.values()) if (this.isPresent(p)) this.run(p, dt);
    for (const v of this.vehicles.values()) if (this.isPresent(v)) this.run(v, dt);
    this.serveQueues();
    this.placeCarried();
    this.trackAttendance();
  }

  private isPresent(m: Mover): boolean {
    return !m.gone && this.t >= m.appearAt;
  }

  private moveToward(m: Mover, to: Vec2, speed: number, dt: number): boolean {
    const dx = to.x - m.x;
    const dy = to.y - m.y;
    const d = Math.hypot(dx, dy);
    const stepLen = speed * dt;
    if (d <= Math.max(stepLen, ARRIVE_M)) {
      m.x = to.x;
      m.y = to.y;
      if (d > 1e-6) m.yaw = Math.atan2(dy, dx);
      return true;
    }
    m.x += (dx / d) * stepLen;
    m.y += (dy / d) * stepLen;
    m.yaw = Math.atan2(dy, dx);
    return false;
  }

  private next(m: Mover): void {
    m.pc++;
    m.st = {};
  }

  /** Runs the actor's script for dt; instantaneous steps (drop_bag, a finished wait) fall through to the next. */
  private run(m: Person | Vehicle, dt: number): void {
    for (let guard = 0; guard < 8; guard++) {
      const s = m.script[m.pc];
      if (!s) return;
      switch (s.op) {
        case 'walk_to':
        case 'drive_to':
          if (!this.moveToward(m, s.to, s.speed ?? m.speed, dt)) return;
          this.next(m);
          return;
        case 'leave':
          if (!this.moveToward(m, s.to, m.speed, dt)) return;
          m.gone = true;
          if (m.kind === 'person') for (const b of m.carrying) this.bags.delete(b);
          return;
        case 'wait':
          m.st.until ??= this.t - dt + s.s;
          if (this.t < m.st.until - 1e-9) return;
          this.next(m);
          continue;
        case 'wait_until':
          if (this.t < s.t - 1e-9) return;
          this.next(m);
          continue;
        case 'join_queue': {
          if (m.kind !== 'person') return this.warn(`vehicle ${m.id}: join_queue is for people`, m);
          const q = this.queues.get(s.queue) as QueueState;
          if (!m.st.queued) {
            q.members.push(m.id);
            m.st.queued = true;
          }
          if (this.served.has(m.id)) {
            this.served.delete(m.id);
            this.next(m);
            continue;
          }
          const slot = this.slot(q, m);
          if (this.moveToward(m, slot, m.speed, dt)) m.yaw = Math.atan2(-q.spec.dir.y, -q.spec.dir.x);
          return;
        }
        case 'drop_bag': {
          if (m.kind !== 'person') return this.warn(`vehicle ${m.id}: drop_bag is for people`, m);
          const id = s.bag ?? m.carrying[0];
          const i = id === undefined ? -1 : m.carrying.indexOf(id);
          if (i < 0) return this.warn(`person ${m.id} at t=${this.t.toFixed(1)}s: drop_bag ${id ?? ''} but carries no such bag`, m);
          m.carrying.splice(i, 1);
          const bag = this.bags.get(id as number) as Bag;
          bag.carriedBy = undefined;
          this.next(m);
          continue;
        }
        case 'pick_up': {
          if (m.kind !== 'person') return this.warn(`vehicle ${m.id}: pick_up is for people`, m);
          const bag = this.bags.get(s.bag);
          if (!bag || bag.carriedBy !== undefined) return this.warn(`person ${m.id} at t=${this.t.toFixed(1)}s: pick_up ${s.bag}, but that bag is not on the ground`, m);
          const d = Math.hypot(bag.x - m.x, bag.y - m.y);
          if (d > PICKUP_M) {
            this.moveToward(m, { x: bag.x + ((m.x - bag.x) / d) * 0.4, y: bag.y + ((m.y - bag.y) / d) * 0.4 }, m.speed, dt);
            return;
          }
          bag.carriedBy = m.id;
          m.carrying.push(bag.id);
          this.next(m);
          continue;
        }
        case 'wander': {
          m.st.until ??= this.t - dt + s.s;
          if (this.t >= m.st.until - 1e-9) {
            this.next(m);
            continue;
          }
          if (m.st.pauseUntil !== undefined && this.t < m.st.pauseUntil) return;
          m.st.goal ??= this.pointIn(s.region, m.rng);
          if (this.moveToward(m, m.st.goal, m.speed * 0.8, dt)) {
            m.st.goal = undefined;
            m.st.pauseUntil = this.t + m.rng.uniform(0, 4);
          }
          return;
        }
      }
    }
  }

  private warn(msg: string, m: Mover): void {
    this.warnings.push(msg);
    // Skip the bad step so the script goes on; the warning says what was skipped.
    this.next(m);
  }

  private slot(q: QueueState, p: Person): Vec2 {
    const i = q.members.indexOf(p.id);
    const d = q.spec.dir;
    return { x: q.spec.head.x + d.x * q.spec.spacing * i - d.y * p.lateral, y: q.spec.head.y + d.y * q.spec.spacing * i + d.x * p.lateral };
  }

  private serveQueues(): void {
    for (const q of this.queues.values()) {
      const headId = q.members[0];
      if (headId === undefined) continue;
      const head = this.people.get(headId) as Person;
      const slot = this.slot(q, head);
      if (q.headSince === undefined) {
        if (Math.hypot(head.x - slot.x, head.y - slot.y) > 0.3) continue;
        q.headSince = this.t;
        q.serviceS = q.spec.service_s * (1 + q.spec.service_jitter * (q.rng.next() * 2 - 1));
      }
      if (this.t - q.headSince >= q.serviceS - 1e-9) {
        q.members.shift();
        q.headSince = undefined;
        this.served.add(headId);
      }
    }
  }

  private pointIn(region: string, rng: Rng): Vec2 {
    const poly = (this.regions.find((r) => r.name === region) as { polygon: Vec2[] }).polygon;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const q of poly) {
      x0 = Math.min(x0, q.x); y0 = Math.min(y0, q.y); x1 = Math.max(x1, q.x); y1 = Math.max(y1, q.y);
    }
    for (let i = 0; i < 100; i++) {
      const p = { x: rng.uniform(x0, x1), y: rng.uniform(y0, y1) };
      if (pointInPolygon(p, poly)) return p;
    }
    return poly[0];
  }

  private placeCarried(): void {
    for (const b of this.bags.values()) {
      if (b.carriedBy === undefined) continue;
      const p = this.people.get(b.carriedBy);
      if (!p) continue;
      // Carried at the right hand, along the walking direction.
      b.x = p.x + Math.sin(p.yaw) * 0.42;
      b.y = p.y - Math.cos(p.yaw) * 0.42;
      b.yaw = p.yaw;
    }
  }

  private trackAttendance(): void {
    for (const e of this.scenario.events) {
      if (e.kind !== 'unattended') continue;
      let m = this.attended.get(e.name);
      if (!m) this.attended.set(e.name, (m = new Map()));
      const companions = this.positionsOf(e.companion_class);
      for (const o of this.positionsOf(e.class_id)) {
        const near = o.carried || companions.some((c) => c.id !== o.id && Math.hypot(c.x - o.x, c.y - o.y) <= e.radius_m);
        if (near || !m.has(o.id)) m.set(o.id, this.t);
      }
    }
  }

  private positionsOf(cls: SimObject['class_id']): { id: number; x: number; y: number; carried: boolean }[] {
    const out: { id: number; x: number; y: number; carried: boolean }[] = [];
    if (cls === 'person') for (const p of this.people.values()) if (this.isPresent(p)) out.push({ id: p.id, x: p.x, y: p.y, carried: false });
    if (cls === 'vehicle') for (const v of this.vehicles.values()) if (this.isPresent(v)) out.push({ id: v.id, x: v.x, y: v.y, carried: false });
    if (cls === 'bag') for (const b of this.bags.values()) if (this.bagPresent(b)) out.push({ id: b.id, x: b.x, y: b.y, carried: b.carriedBy !== undefined });
    return out;
  }

  private bagPresent(b: Bag): boolean {
    if (b.carriedBy === undefined) return true;
    const p = this.people.get(b.carriedBy);
    return p !== undefined && this.isPresent(p);
  }

  regionsAt(p: Vec2): string[] {
    return this.regions.filter((r) => pointInPolygon(p, r.polygon)).map((r) => r.name);
  }

  /** Everything the camera can see, with the regions each object stands in. */
  objects(): SimObject[] {
    const out: SimObject[] = [];
    for (const v of this.vehicles.values()) if (this.isPresent(v)) out.push({ id: v.id, class_id: 'vehicle', x: v.x, y: v.y, yaw: v.yaw, style: v.style, regions: this.regionsAt(v) });
    for (const b of this.bags.values()) if (this.bagPresent(b)) out.push({ id: b.id, class_id: 'bag', x: b.x, y: b.y, yaw: b.yaw, style: b.style, regions: this.regionsAt(b) });
    for (const p of this.people.values()) if (this.isPresent(p)) out.push({ id: p.id, class_id: 'person', x: p.x, y: p.y, yaw: p.yaw, style: p.style, regions: this.regionsAt(p) });
    return out;
  }

  /** Members of a queue, head first (for tests and reports). */
  queueMembers(name: string): number[] {
    return [...(this.queues.get(name)?.members ?? [])];
  }

  /** The ground-truth events at the current time. */
  events(vehicle?: VehicleStatus): EventState[] {
    return this.scenario.events.map((e) => this.evaluate(e, vehicle));
  }

  private evaluate(e: EventSpec, vehicle: VehicleStatus | undefined): EventState {
    switch (e.kind) {
      case 'count': {
        const poly = (this.regions.find((r) => r.name === e.region) as { polygon: Vec2[] }).polygon;
        const ids = this.positionsOf(e.class_id).filter((o) => pointInPolygon(o, poly)).map((o) => o.id);
        const active = compare(ids.length, e.op, e.threshold);
        return { name: e.name, active, detail: `${ids.length} ${e.class_id} in ${e.region} (${e.op} ${e.threshold})${active ? `: ids ${ids.join(',')}` : ''}` };
      }
      case 'unattended': {
        const m = this.attended.get(e.name) ?? new Map<number, number>();
        const present = new Set(this.positionsOf(e.class_id).map((o) => o.id));
        const alone = [...m.entries()].filter(([id, since]) => present.has(id) && this.t - since >= e.duration_s - 1e-9).map(([id]) => id);
        return { name: e.name, active: alone.length > 0, detail: alone.length > 0 ? `${e.class_id} ${alone.join(',')} without ${e.companion_class} within ${e.radius_m} m for ${e.duration_s} s` : '' };
      }
      case 'battery_below': {
        const b = vehicle?.battery_remaining;
        const active = b !== undefined && b < e.threshold;
        return { name: e.name, active, detail: b === undefined ? 'battery unknown' : `battery ${(b * 100).toFixed(0)}% (below ${(e.threshold * 100).toFixed(0)}%: ${active})` };
      }
    }
  }
}

function compare(v: number, op: string, t: number): boolean {
  switch (op) {
    case '>': return v > t;
    case '>=': return v >= t;
    case '<': return v < t;
    case '<=': return v <= t;
    default: return v === t;
  }
}

function hashStyle(seed: number, id: number): number {
  return subSeed(seed, `style:${id}`);
}
