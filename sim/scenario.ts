/**
 * Scenarios as data: a YAML (or JSON) file describes the site, the camera, the vehicle's
 * mission, the actors and their scripts, wind and battery events, the operator's intent,
 * the ground-truth events derived from the world and the alert expected of the pipeline,
 * plus a `control:` patch under which no alert should fire. This module loads and checks
 * such a file; every error names the file, line and field (`file.yaml:12: actors[2].kind: ...`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { Vec2 } from '../lib/geo/geometry.js';
import { PACKAGE_ROOT } from '../runtime/package-root.js';
import { CLUTTER_KINDS, GROUND_MATERIALS, type Clutter, type ClutterKind, type GroundMaterial, type RGB, type SimClass } from './render.js';

/** Bundled scenarios, from the package root (the compiled module lives under dist/, the YAML files do not). */
export const SCENARIO_DIR = join(PACKAGE_ROOT, 'sim', 'scenarios');

export interface RegionSpec {
  name: string;
  polygon: Vec2[];
  /** Ground paint that shows the region to the camera (queue lane, platform, lawn). */
  paint?: { color: RGB; alpha: number; outline?: RGB; outline_m?: number };
}

export type Step =
  | { op: 'walk_to'; to: Vec2; speed?: number }
  | { op: 'drive_to'; to: Vec2; speed?: number }
  | { op: 'wait'; s: number }
  | { op: 'wait_until'; t: number }
  | { op: 'join_queue'; queue: string }
  | { op: 'drop_bag'; bag?: number }
  | { op: 'pick_up'; bag: number }
  | { op: 'wander'; region: string; s: number }
  | { op: 'leave'; to: Vec2 };

export const STEP_OPS = ['walk_to', 'drive_to', 'wait', 'wait_until', 'join_queue', 'drop_bag', 'pick_up', 'wander', 'leave'] as const;

export interface PersonSpec {
  kind: 'person';
  id: number;
  name?: string;
  at: Vec2;
  yaw: number;
  /** Walking speed, m/s (default drawn around 1.3). */
  speed?: number;
  /** Appears at this time (s); absent before. */
  start_s: number;
  /** Free text for readers (e.g. intruder, traveller). */
  role?: string;
  script: Step[];
}

export interface BagSpec {
  kind: 'bag';
  id: number;
  name?: string;
  at?: Vec2;
  yaw: number;
  /** Person id carrying the bag at the start. */
  carried_by?: number;
}

export interface VehicleActorSpec {
  kind: 'vehicle';
  id: number;
  name?: string;
  at: Vec2;
  yaw: number;
  speed?: number;
  start_s: number;
  script: Step[];
}

export interface SpawnerSpec {
  kind: 'spawner';
  name?: string;
  at: Vec2;
  every_s: number;
  jitter_s: number;
  start_s: number;
  stop_s: number;
  /** Spawned ids are id_base, id_base + 1, ... */
  id_base: number;
  /** Fraction of spawned people who carry a bag (bags get ids from bag_id_base). */
  carry_bag: number;
  bag_id_base: number;
  template: { kind: 'person' | 'vehicle'; speed?: number; script: Step[] };
}

export type ActorSpec = PersonSpec | BagSpec | VehicleActorSpec | SpawnerSpec;
export const ACTOR_KINDS = ['person', 'bag', 'vehicle', 'spawner'] as const;

export interface QueueSpec {
  name: string;
  region: string;
  head: Vec2;
  /** Unit vector from the head along which the line grows. */
  dir: Vec2;
  spacing: number;
  service_s: number;
  /** Fractional spread of service times (seeded). */
  service_jitter: number;
}

export type CompareOp = '>' | '>=' | '<' | '<=' | '==';
export type EventSpec =
  | { name: string; kind: 'count'; class_id: SimClass; region: string; op: CompareOp; threshold: number }
  | { name: string; kind: 'unattended'; class_id: SimClass; companion_class: SimClass; radius_m: number; duration_s: number }
  | { name: string; kind: 'battery_below'; threshold: number };
export const EVENT_KINDS = ['count', 'unattended', 'battery_below'] as const;

export interface ExpectedAlert {
  /** Ground-truth event the alert reports. */
  event: string;
  /** The rule a correct intent compile gives (kestrel_msgs/Rule fields), or the component that reacts (e.g. arbiter). */
  rule?: Record<string, string | number>;
  by?: string;
  /**
   * Where the alert (or reaction) must first happen, in seconds from `from`: the scenario's start
   * (`window_s:`, absolute time, the original form) or the ground-truth onset of `event`
   * (`after_onset_s:`). An onset-relative window holds at every world seed, where the truth moves
   * by a second or two and a fixed window can open after it (stranded-bag at seed 101).
   */
  window: { from: 'start' | 'onset'; s: [number, number] };
}

export { absoluteWindow, describeWindow, windowCloseBound } from './window.js';

export interface MissionSpec {
  kind: 'hover' | 'patrol';
  /** hover: one point; patrol: the waypoints. */
  waypoints: Vec2[];
  altitude: number;
  speed: number;
  loop: boolean;
}

export interface GustSpec {
  at_s: number;
  duration_s: number;
  speed: number;
  /** Direction the wind blows towards, ENU radians. */
  dir: number;
}

export interface Scenario {
  name: string;
  description: string;
  /** Where it was loaded from (for messages). */
  source: string;
  seed: number;
  duration_s: number;
  intent: string;
  origin: { lat: number; lon: number; alt: number };
  camera: { width: number; height: number; hfov_deg: number; rate_hz: number };
  vehicle: { start: { x: number; y: number; z: number; yaw: number }; mission: MissionSpec; battery: number; drain_per_s: number };
  ground: { material: GroundMaterial; seed: number; tile_m?: number; tile_yaw: number; base?: RGB };
  regions: RegionSpec[];
  lines: { a: Vec2; b: Vec2; width_m: number; color: RGB; dash_m?: number }[];
  clutter: Clutter[];
  queues: QueueSpec[];
  actors: ActorSpec[];
  wind: { base: Vec2; turbulence: number; gusts: GustSpec[] };
  battery_events: { at_s: number; remaining: number }[];
  events: EventSpec[];
  expected: ExpectedAlert[];
  /** Region the vehicle must stay inside (the arbiter's geofence), if any. */
  geofence?: string;
  /** True when the control patch was applied. */
  control: boolean;
  control_description: string;
}

export class ScenarioError extends Error {
  constructor(readonly where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.name = 'ScenarioError';
  }
}

type Path = (string | number)[];
type Raw = Record<string, unknown>;

function pathText(p: Path): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s || '(top level)';
}

/** Validates plain data against the scenario schema, reporting `file:line: path: problem`. */
class Checker {
  constructor(
    private readonly file: string,
    private readonly lineOf: (p: Path) => number | undefined,
  ) {}

  fail(p: Path, detail: string): never {
    // The nearest ancestor with a position gives the line.
    for (let n = p.length; n >= 0; n--) {
      const line = this.lineOf(p.slice(0, n));
      if (line !== undefined) throw new ScenarioError(`${this.file}:${line}`, `${pathText(p)}: ${detail}`);
    }
    throw new ScenarioError(this.file, `${pathText(p)}: ${detail}`);
  }

  obj(v: unknown, p: Path): Raw {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(p, `expected a mapping, got ${describe(v)}`);
    return v as Raw;
  }

  keys(o: Raw, p: Path, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail([...p, k], `unknown field (expected one of ${allowed.join(', ')})`);
  }

  num(v: unknown, p: Path, o: { min?: number; max?: number; int?: boolean } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(p, `expected a number, got ${describe(v)}`);
    if (o.int && !Number.isInteger(v)) this.fail(p, `expected an integer, got ${v}`);
    if (o.min !== undefined && v < o.min) this.fail(p, `${v} is below the minimum ${o.min}`);
    if (o.max !== undefined && v > o.max) this.fail(p, `${v} is above the maximum ${o.max}`);
    return v;
  }

  optNum(v: unknown, p: Path, def: number, o: { min?: number; max?: number; int?: boolean } = {}): number {
    return v === undefined ? def : this.num(v, p, o);
  }

  str(v: unknown, p: Path): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(p, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  bool(v: unknown, p: Path, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(p, `expected true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, p: Path, choices: readonly T[], what: string): T {
    if (typeof v !== 'string' || !choices.includes(v as T)) this.fail(p, `unknown ${what} ${describe(v)} (expected ${choices.join(', ')})`);
    return v as T;
  }

  arr(v: unknown, p: Path): unknown[] {
    if (!Array.isArray(v)) this.fail(p, `expected a list, got ${describe(v)}`);
    return v;
  }

  vec2(v: unknown, p: Path): Vec2 {
    if (Array.isArray(v)) {
      if (v.length !== 2) this.fail(p, `expected a point [x, y], got a list of ${v.length}`);
      return { x: this.num(v[0], [...p, 0]), y: this.num(v[1], [...p, 1]) };
    }
    const o = this.obj(v, p);
    this.keys(o, p, ['x', 'y']);
    return { x: this.num(o.x, [...p, 'x']), y: this.num(o.y, [...p, 'y']) };
  }

  rgb(v: unknown, p: Path): RGB {
    const a = this.arr(v, p);
    if (a.length !== 3) this.fail(p, `expected a colour [r, g, b] (0..255), got a list of ${a.length}`);
    return [this.num(a[0], [...p, 0], { min: 0, max: 255 }), this.num(a[1], [...p, 1], { min: 0, max: 255 }), this.num(a[2], [...p, 2], { min: 0, max: 255 })];
  }

  /** Degrees in the file, radians inside. */
  deg(v: unknown, p: Path, def = 0): number {
    return v === undefined ? def : (this.num(v, p) * Math.PI) / 180;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const TOP_KEYS = ['name', 'description', 'seed', 'duration_s', 'intent', 'origin', 'camera', 'vehicle', 'ground', 'regions', 'lines', 'clutter', 'queues', 'actors', 'wind', 'battery_events', 'events', 'expected', 'geofence', 'control'];

function parseSteps(c: Checker, v: unknown, p: Path): Step[] {
  return c.arr(v ?? [], p).map((raw, i) => {
    const sp = [...p, i];
    const o = c.obj(raw, sp);
    const ks = Object.keys(o).filter((k) => k !== 'speed');
    if (ks.length !== 1) c.fail(sp, `a step has exactly one action (${STEP_OPS.join(', ')}), got ${ks.length ? ks.join(', ') : 'none'}`);
    const op = c.oneOf(ks[0], [...sp, ks[0]], STEP_OPS, 'step');
    const val = o[op];
    const vp = [...sp, op];
    const speed = o.speed === undefined ? undefined : c.num(o.speed, [...sp, 'speed'], { min: 0.1, max: 30 });
    if (speed !== undefined && !['walk_to', 'drive_to'].includes(op)) c.fail([...sp, 'speed'], `speed applies to walk_to and drive_to only`);
    switch (op) {
      case 'walk_to':
      case 'drive_to':
        return { op, to: c.vec2(val, vp), ...(speed !== undefined ? { speed } : {}) };
      case 'leave':
        return { op, to: c.vec2(val, vp) };
      case 'wait':
        return { op, s: c.num(val, vp, { min: 0 }) };
      case 'wait_until':
        return { op, t: c.num(val, vp, { min: 0 }) };
      case 'join_queue':
        return { op, queue: c.str(val, vp) };
      case 'drop_bag':
        return val === null || val === true ? { op } : { op, bag: c.num(val, vp, { int: true, min: 0 }) };
      case 'pick_up':
        return { op, bag: c.num(val, vp, { int: true, min: 0 }) };
      case 'wander': {
        const w = c.obj(val, vp);
        c.keys(w, vp, ['region', 'duration_s']);
        return { op, region: c.str(w.region, [...vp, 'region']), s: c.num(w.duration_s, [...vp, 'duration_s'], { min: 0 }) };
      }
    }
  });
}

function parseActor(c: Checker, raw: unknown, p: Path): ActorSpec {
  const o = c.obj(raw, p);
  const kind = c.oneOf(o.kind, [...p, 'kind'], ACTOR_KINDS, 'actor kind');
  const name = o.name === undefined ? undefined : c.str(o.name, [...p, 'name']);
  const named = name !== undefined ? { name } : {};
  switch (kind) {
    case 'person':
      c.keys(o, p, ['kind', 'id', 'name', 'at', 'yaw_deg', 'speed', 'start_s', 'role', 'script']);
      return {
        kind, id: c.num(o.id, [...p, 'id'], { int: true, min: 0 }), ...named, at: c.vec2(o.at, [...p, 'at']), yaw: c.deg(o.yaw_deg, [...p, 'yaw_deg']),
        ...(o.speed !== undefined ? { speed: c.num(o.speed, [...p, 'speed'], { min: 0.1, max: 5 }) } : {}),
        start_s: c.optNum(o.start_s, [...p, 'start_s'], 0, { min: 0 }),
        ...(o.role !== undefined ? { role: c.str(o.role, [...p, 'role']) } : {}),
        script: parseSteps(c, o.script, [...p, 'script']),
      };
    case 'bag':
      c.keys(o, p, ['kind', 'id', 'name', 'at', 'yaw_deg', 'carried_by']);
      if ((o.at === undefined) === (o.carried_by === undefined)) c.fail(p, `a bag needs exactly one of 'at' (lying on the ground) or 'carried_by' (a person id)`);
      return {
        kind, id: c.num(o.id, [...p, 'id'], { int: true, min: 0 }), ...named, yaw: c.deg(o.yaw_deg, [...p, 'yaw_deg']),
        ...(o.at !== undefined ? { at: c.vec2(o.at, [...p, 'at']) } : {}),
        ...(o.carried_by !== undefined ? { carried_by: c.num(o.carried_by, [...p, 'carried_by'], { int: true, min: 0 }) } : {}),
      };
    case 'vehicle':
      c.keys(o, p, ['kind', 'id', 'name', 'at', 'yaw_deg', 'speed', 'start_s', 'script']);
      return {
        kind, id: c.num(o.id, [...p, 'id'], { int: true, min: 0 }), ...named, at: c.vec2(o.at, [...p, 'at']), yaw: c.deg(o.yaw_deg, [...p, 'yaw_deg']),
        ...(o.speed !== undefined ? { speed: c.num(o.speed, [...p, 'speed'], { min: 0.1, max: 30 }) } : {}),
        start_s: c.optNum(o.start_s, [...p, 'start_s'], 0, { min: 0 }),
        script: parseSteps(c, o.script, [...p, 'script']),
      };
    case 'spawner': {
      c.keys(o, p, ['kind', 'name', 'at', 'every_s', 'jitter_s', 'start_s', 'stop_s', 'id_base', 'carry_bag', 'bag_id_base', 'template']);
      const tp = [...p, 'template'];
      const t = c.obj(o.template, tp);
      c.keys(t, tp, ['kind', 'speed', 'script']);
      const every = c.num(o.every_s, [...p, 'every_s'], { min: 0.1 });
      return {
        kind, ...named, at: c.vec2(o.at, [...p, 'at']), every_s: every,
        jitter_s: c.optNum(o.jitter_s, [...p, 'jitter_s'], 0, { min: 0, max: every }),
        start_s: c.optNum(o.start_s, [...p, 'start_s'], 0, { min: 0 }),
        stop_s: c.optNum(o.stop_s, [...p, 'stop_s'], Infinity, { min: 0 }),
        id_base: c.num(o.id_base, [...p, 'id_base'], { int: true, min: 0 }),
        carry_bag: c.optNum(o.carry_bag, [...p, 'carry_bag'], 0, { min: 0, max: 1 }),
        bag_id_base: c.optNum(o.bag_id_base, [...p, 'bag_id_base'], 0, { int: true, min: 0 }),
        template: {
          kind: c.oneOf(t.kind ?? 'person', [...tp, 'kind'], ['person', 'vehicle'] as const, 'spawned kind'),
          ...(t.speed !== undefined ? { speed: c.num(t.speed, [...tp, 'speed'], { min: 0.1, max: 30 }) } : {}),
          script: parseSteps(c, t.script, [...tp, 'script']),
        },
      };
    }
  }
}

const CLASSES: readonly SimClass[] = ['person', 'bag', 'vehicle'];
const OPS: readonly CompareOp[] = ['>', '>=', '<', '<=', '=='];

function parseEvent(c: Checker, raw: unknown, p: Path): EventSpec {
  const o = c.obj(raw, p);
  const name = c.str(o.name, [...p, 'name']);
  const kind = c.oneOf(o.kind, [...p, 'kind'], EVENT_KINDS, 'event kind');
  switch (kind) {
    case 'count':
      c.keys(o, p, ['name', 'kind', 'class_id', 'region', 'op', 'threshold']);
      return { name, kind, class_id: c.oneOf(o.class_id, [...p, 'class_id'], CLASSES, 'class'), region: c.str(o.region, [...p, 'region']), op: c.oneOf(o.op, [...p, 'op'], OPS, 'comparison'), threshold: c.num(o.threshold, [...p, 'threshold']) };
    case 'unattended':
      c.keys(o, p, ['name', 'kind', 'class_id', 'companion_class', 'radius_m', 'duration_s']);
      return {
        name, kind, class_id: c.oneOf(o.class_id, [...p, 'class_id'], CLASSES, 'class'), companion_class: c.oneOf(o.companion_class, [...p, 'companion_class'], CLASSES, 'class'),
        radius_m: c.num(o.radius_m, [...p, 'radius_m'], { min: 0 }), duration_s: c.num(o.duration_s, [...p, 'duration_s'], { min: 0 }),
      };
    case 'battery_below':
      c.keys(o, p, ['name', 'kind', 'threshold']);
      return { name, kind, threshold: c.num(o.threshold, [...p, 'threshold'], { min: 0, max: 1 }) };
  }
}

/** Applies the `control:` patch: top-level keys replace; `actors` entries are merged into the actor of the same `name`. */
function applyControl(c: Checker, doc: Raw, patchRaw: unknown): { data: Raw; description: string } {
  const patch = c.obj(patchRaw, ['control']);
  const out: Raw = { ...doc };
  let description = '';
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'description') {
      description = c.str(v, ['control', 'description']);
    } else if (k === 'actors') {
      const byName = c.obj(v, ['control', 'actors']);
      const actors = c.arr(doc.actors ?? [], ['actors']).map((a) => ({ ...(a as Raw) }));
      for (const [name, change] of Object.entries(byName)) {
        const i = actors.findIndex((a) => a.name === name);
        if (i < 0) c.fail(['control', 'actors', name], `no actor named '${name}' (actors are patched by their 'name')`);
        if (change === null) actors.splice(i, 1);
        else Object.assign(actors[i], c.obj(change, ['control', 'actors', name]));
      }
      out.actors = actors;
    } else if (k === 'control' || !TOP_KEYS.includes(k)) {
      c.fail(['control', k], `unknown field (a control patch replaces top-level fields: ${TOP_KEYS.filter((t) => t !== 'control').join(', ')})`);
    } else {
      out[k] = v;
    }
  }
  return { data: out, description };
}

/** Checks and normalises parsed scenario data. `lineOf` maps a path to its source line, for messages. */
export function parseScenario(data: unknown, source: string, opts: { control?: boolean; lineOf?: (p: Path) => number | undefined } = {}): Scenario {
  const c: Checker = new Checker(source, opts.lineOf ?? (() => undefined));
  let d = c.obj(data, []);
  c.keys(d, [], TOP_KEYS);
  let controlDescription = '';
  if (opts.control) {
    if (d.control === undefined) c.fail(['control'], 'a control run was requested but the scenario has no control: section');
    const patched = applyControl(c, d, d.control);
    d = patched.data;
    controlDescription = patched.description;
  }
  const cam = c.obj(d.camera ?? {}, ['camera']);
  c.keys(cam, ['camera'], ['width', 'height', 'hfov_deg', 'rate_hz']);
  const veh = c.obj(d.vehicle, ['vehicle']);
  c.keys(veh, ['vehicle'], ['start', 'mission', 'battery', 'drain_per_s']);
  const start = c.obj(veh.start, ['vehicle', 'start']);
  c.keys(start, ['vehicle', 'start'], ['x', 'y', 'z', 'yaw_deg']);
  const mis = c.obj(veh.mission, ['vehicle', 'mission']);
  const mp: Path = ['vehicle', 'mission'];
  const mkind = c.oneOf(mis.kind, [...mp, 'kind'], ['hover', 'patrol'] as const, 'mission kind');
  c.keys(mis, mp, mkind === 'hover' ? ['kind', 'at', 'altitude'] : ['kind', 'waypoints', 'altitude', 'speed', 'loop']);
  const waypoints = mkind === 'hover' ? [c.vec2(mis.at, [...mp, 'at'])] : c.arr(mis.waypoints, [...mp, 'waypoints']).map((w, i) => c.vec2(w, [...mp, 'waypoints', i]));
  if (waypoints.length === 0) c.fail([...mp, 'waypoints'], 'a patrol needs at least one waypoint');

  const ground = c.obj(d.ground ?? {}, ['ground']);
  c.keys(ground, ['ground'], ['material', 'seed', 'tile_m', 'tile_yaw_deg', 'base']);

  const { regions, needRegion } = parseRegions(c, d);

  const lines = parseLines(c, d);

  const clutter = parseClutter(c, d);

  const queues = parseQueues(c, d, needRegion);
  const queueNames = new Set(queues.map((q) => q.name));

  const actors = parseActors(c, d, queueNames, needRegion);

  const wind = c.obj(d.wind ?? {}, ['wind']);
  c.keys(wind, ['wind'], ['base', 'turbulence', 'gusts']);
  const gusts = c.arr(wind.gusts ?? [], ['wind', 'gusts']).map((raw, i) => {
    const p: Path = ['wind', 'gusts', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['at_s', 'duration_s', 'speed', 'direction_deg']);
    return { at_s: c.num(o.at_s, [...p, 'at_s'], { min: 0 }), duration_s: c.num(o.duration_s, [...p, 'duration_s'], { min: 0.1 }), speed: c.num(o.speed, [...p, 'speed'], { min: 0, max: 40 }), dir: c.deg(o.direction_deg, [...p, 'direction_deg']) };
  });
  const battery_events = c.arr(d.battery_events ?? [], ['battery_events']).map((raw, i) => {
    const p: Path = ['battery_events', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['at_s', 'remaining']);
    return { at_s: c.num(o.at_s, [...p, 'at_s'], { min: 0 }), remaining: c.num(o.remaining, [...p, 'remaining'], { min: 0, max: 1 }) };
  });

  const events = c.arr(d.events ?? [], ['events']).map((e, i) => parseEvent(c, e, ['events', i]));
  events.forEach((e, i) => {
    if (e.kind === 'count') needRegion(e.region, ['events', i, 'region']);
  });
  const eventNames = new Set(events.map((e) => e.name));
  const expected = parseExpected(c, d, eventNames);

  let geofence: string | undefined;
  if (d.geofence !== undefined) {
    geofence = c.str(d.geofence, ['geofence']);
    needRegion(geofence, ['geofence']);
  }
  const origin = c.obj(d.origin ?? { lat: 47.397742, lon: 8.545594, alt: 488 }, ['origin']);
  c.keys(origin, ['origin'], ['lat', 'lon', 'alt']);
  const name = c.str(d.name, ['name']);
  return {
    name,
    description: d.description === undefined ? '' : c.str(d.description, ['description']),
    source,
    seed: c.num(d.seed, ['seed'], { int: true, min: 0 }),
    duration_s: c.num(d.duration_s, ['duration_s'], { min: 1 }),
    intent: c.str(d.intent, ['intent']),
    origin: { lat: c.num(origin.lat, ['origin', 'lat'], { min: -90, max: 90 }), lon: c.num(origin.lon, ['origin', 'lon'], { min: -180, max: 180 }), alt: c.num(origin.alt, ['origin', 'alt']) },
    camera: {
      width: c.optNum(cam.width, ['camera', 'width'], 320, { int: true, min: 16, max: 4096 }),
      height: c.optNum(cam.height, ['camera', 'height'], 240, { int: true, min: 16, max: 4096 }),
      hfov_deg: c.optNum(cam.hfov_deg, ['camera', 'hfov_deg'], 60, { min: 5, max: 150 }),
      rate_hz: c.optNum(cam.rate_hz, ['camera', 'rate_hz'], 5, { min: 0.1, max: 60 }),
    },
    vehicle: {
      start: { x: c.num(start.x, ['vehicle', 'start', 'x']), y: c.num(start.y, ['vehicle', 'start', 'y']), z: c.optNum(start.z, ['vehicle', 'start', 'z'], 0, { min: 0 }), yaw: c.deg(start.yaw_deg, ['vehicle', 'start', 'yaw_deg'], Math.PI / 2) },
      mission: { kind: mkind, waypoints, altitude: c.num(mis.altitude, [...mp, 'altitude'], { min: 2, max: 500 }), speed: c.optNum(mis.speed, [...mp, 'speed'], 3, { min: 0.1, max: 30 }), loop: c.bool(mis.loop, [...mp, 'loop'], true) },
      battery: c.optNum(veh.battery, ['vehicle', 'battery'], 1, { min: 0, max: 1 }),
      drain_per_s: c.optNum(veh.drain_per_s, ['vehicle', 'drain_per_s'], 0.0005, { min: 0, max: 1 }),
    },
    ground: {
      material: ground.material === undefined ? 'concrete' : c.oneOf(ground.material, ['ground', 'material'], GROUND_MATERIALS, 'ground material'),
      seed: c.optNum(ground.seed, ['ground', 'seed'], 1, { int: true, min: 0 }),
      ...(ground.tile_m !== undefined ? { tile_m: c.num(ground.tile_m, ['ground', 'tile_m'], { min: 0 }) } : {}),
      tile_yaw: c.deg(ground.tile_yaw_deg, ['ground', 'tile_yaw_deg']),
      ...(ground.base !== undefined ? { base: c.rgb(ground.base, ['ground', 'base']) } : {}),
    },
    regions,
    lines,
    clutter,
    queues,
    actors,
    wind: {
      base: wind.base === undefined ? { x: 0, y: 0 } : c.vec2(wind.base, ['wind', 'base']),
      turbulence: c.optNum(wind.turbulence, ['wind', 'turbulence'], 0, { min: 0, max: 20 }),
      gusts,
    },
    battery_events,
    events,
    expected,
    ...(geofence !== undefined ? { geofence } : {}),
    control: opts.control === true,
    control_description: controlDescription,
  };
}

type NeedRegion = (name: string, p: Path) => void;

/** `regions:` (names unique), and the check other sections use to name one. */
function parseRegions(c: Checker, d: Raw): { regions: RegionSpec[]; needRegion: NeedRegion } {
  const regions: RegionSpec[] = c.arr(d.regions ?? [], ['regions']).map((raw, i) => {
    const p: Path = ['regions', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['name', 'polygon', 'paint']);
    const poly = c.arr(o.polygon, [...p, 'polygon']).map((q, j) => c.vec2(q, [...p, 'polygon', j]));
    if (poly.length < 3) c.fail([...p, 'polygon'], `a region needs at least 3 points, got ${poly.length}`);
    let paint: RegionSpec['paint'];
    if (o.paint !== undefined) {
      const pp = [...p, 'paint'];
      const po = c.obj(o.paint, pp);
      c.keys(po, pp, ['color', 'alpha', 'outline', 'outline_m']);
      paint = {
        color: c.rgb(po.color, [...pp, 'color']), alpha: c.optNum(po.alpha, [...pp, 'alpha'], 1, { min: 0, max: 1 }),
        ...(po.outline !== undefined ? { outline: c.rgb(po.outline, [...pp, 'outline']) } : {}),
        ...(po.outline_m !== undefined ? { outline_m: c.num(po.outline_m, [...pp, 'outline_m'], { min: 0.01 }) } : {}),
      };
    }
    return { name: c.str(o.name, [...p, 'name']), polygon: poly, ...(paint ? { paint } : {}) };
  });
  const regionNames = new Set<string>();
  regions.forEach((r, i) => {
    if (regionNames.has(r.name)) c.fail(['regions', i, 'name'], `duplicate region name '${r.name}'`);
    regionNames.add(r.name);
  });
  const needRegion = (name: string, p: Path): void => {
    if (!regionNames.has(name)) c.fail(p, `unknown region '${name}' (regions: ${[...regionNames].join(', ') || 'none'})`);
  };
  return { regions, needRegion };
}

/** `lines:` painted on the ground. */
function parseLines(c: Checker, d: Raw): Scenario['lines'] {
  return c.arr(d.lines ?? [], ['lines']).map((raw, i) => {
    const p: Path = ['lines', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['from', 'to', 'width_m', 'color', 'dash_m']);
    return {
      a: c.vec2(o.from, [...p, 'from']), b: c.vec2(o.to, [...p, 'to']), width_m: c.optNum(o.width_m, [...p, 'width_m'], 0.12, { min: 0.01 }),
      color: o.color === undefined ? ([240, 240, 235] as RGB) : c.rgb(o.color, [...p, 'color']),
      ...(o.dash_m !== undefined ? { dash_m: c.num(o.dash_m, [...p, 'dash_m'], { min: 0.05 }) } : {}),
    };
  });
}

/** `clutter:` single items (`at`) and rows (`from`/`to`/`count`). */
function parseClutter(c: Checker, d: Raw): Clutter[] {
  const clutter: Clutter[] = [];
  c.arr(d.clutter ?? [], ['clutter']).forEach((raw, i) => {
    const p: Path = ['clutter', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['kind', 'at', 'from', 'to', 'count', 'yaw_deg', 'scale']);
    const kind: ClutterKind = c.oneOf(o.kind, [...p, 'kind'], CLUTTER_KINDS, 'clutter kind');
    const yaw = c.deg(o.yaw_deg, [...p, 'yaw_deg']);
    const scaleV = o.scale === undefined ? {} : { scale: c.num(o.scale, [...p, 'scale'], { min: 0.1, max: 5 }) };
    if (o.at !== undefined) {
      const at = c.vec2(o.at, [...p, 'at']);
      clutter.push({ kind, x: at.x, y: at.y, yaw, ...scaleV });
    } else {
      // A row: `count` items evenly from `from` to `to` (bollards, benches, fence posts).
      const a = c.vec2(o.from, [...p, 'from']);
      const b = c.vec2(o.to, [...p, 'to']);
      const n = c.num(o.count, [...p, 'count'], { int: true, min: 1, max: 500 });
      for (let j = 0; j < n; j++) {
        const f = n === 1 ? 0.5 : j / (n - 1);
        clutter.push({ kind, x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f, yaw, ...scaleV });
      }
    }
  });
  return clutter;
}

/** `queues:` service lines inside regions. */
function parseQueues(c: Checker, d: Raw, needRegion: NeedRegion): QueueSpec[] {
  return c.arr(d.queues ?? [], ['queues']).map((raw, i) => {
    const p: Path = ['queues', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['name', 'region', 'head', 'toward', 'spacing', 'service_s', 'service_jitter']);
    const head = c.vec2(o.head, [...p, 'head']);
    const toward = c.vec2(o.toward, [...p, 'toward']);
    const len = Math.hypot(toward.x - head.x, toward.y - head.y);
    if (len < 0.1) c.fail([...p, 'toward'], 'must differ from head (it gives the direction the line grows)');
    const region = c.str(o.region, [...p, 'region']);
    needRegion(region, [...p, 'region']);
    return {
      name: c.str(o.name, [...p, 'name']), region, head, dir: { x: (toward.x - head.x) / len, y: (toward.y - head.y) / len },
      spacing: c.optNum(o.spacing, [...p, 'spacing'], 0.8, { min: 0.3, max: 5 }), service_s: c.num(o.service_s, [...p, 'service_s'], { min: 0.1 }),
      service_jitter: c.optNum(o.service_jitter, [...p, 'service_jitter'], 0.2, { min: 0, max: 0.9 }),
    };
  });
}

/** `actors:`, with their cross-references (unique ids; the queues, regions and bags their scripts name). */
function parseActors(c: Checker, d: Raw, queueNames: ReadonlySet<string>, needRegion: NeedRegion): ActorSpec[] {
  const actors = c.arr(d.actors ?? [], ['actors']).map((a, i) => parseActor(c, a, ['actors', i]));
  // Cross-references: ids unique, queues/regions/bags exist.
  const ids = new Map<number, ActorSpec['kind']>();
  actors.forEach((a, i) => {
    if (a.kind === 'spawner') return;
    if (ids.has(a.id)) c.fail(['actors', i, 'id'], `duplicate actor id ${a.id}`);
    ids.set(a.id, a.kind);
  });
  const checkSteps = (steps: Step[], p: Path): void =>
    steps.forEach((s, j) => {
      const sp = [...p, j, s.op];
      if (s.op === 'join_queue' && !queueNames.has(s.queue)) c.fail(sp, `unknown queue '${s.queue}' (queues: ${[...queueNames].join(', ') || 'none'})`);
      if (s.op === 'wander') needRegion(s.region, [...sp, 'region']);
      if ((s.op === 'pick_up' || (s.op === 'drop_bag' && s.bag !== undefined)) && ids.get(s.bag as number) !== 'bag') c.fail(sp, `no bag with id ${String(s.bag)}`);
    });
  actors.forEach((a, i) => {
    if (a.kind === 'person' || a.kind === 'vehicle') checkSteps(a.script, ['actors', i, 'script']);
    if (a.kind === 'spawner') checkSteps(a.template.script, ['actors', i, 'template', 'script']);
    if (a.kind === 'bag' && a.carried_by !== undefined && ids.get(a.carried_by) !== 'person') c.fail(['actors', i, 'carried_by'], `no person with id ${a.carried_by}`);
  });
  return actors;
}

/** `expected:` alerts, each for a known event, inside a window. */
function parseExpected(c: Checker, d: Raw, eventNames: ReadonlySet<string>): ExpectedAlert[] {
  return c.arr(d.expected ?? [], ['expected']).map((raw, i) => {
    const p: Path = ['expected', i];
    const o = c.obj(raw, p);
    c.keys(o, p, ['event', 'rule', 'by', 'window_s', 'after_onset_s']);
    const event = c.str(o.event, [...p, 'event']);
    if (!eventNames.has(event)) c.fail([...p, 'event'], `unknown event '${event}' (events: ${[...eventNames].join(', ') || 'none'})`);
    // Exactly one window: absolute (window_s, scenario seconds >= 0) or relative to the truth
    // onset (after_onset_s, may start before it: smoothing can raise an alert a moment early).
    if ((o.window_s === undefined) === (o.after_onset_s === undefined))
      c.fail(p, o.window_s === undefined ? 'expected a window: window_s [from_s, to_s] (scenario time) or after_onset_s [from_s, to_s] (from the truth onset)' : 'give window_s or after_onset_s, not both');
    const key = o.window_s !== undefined ? 'window_s' : 'after_onset_s';
    const w = c.arr(o[key], [...p, key]);
    if (w.length !== 2) c.fail([...p, key], `expected [from_s, to_s]`);
    const bound = key === 'window_s' ? { min: 0 } : {};
    const win: [number, number] = [c.num(w[0], [...p, key, 0], bound), c.num(w[1], [...p, key, 1], bound)];
    if (win[1] < win[0]) c.fail([...p, key], `the window ends (${win[1]}) before it starts (${win[0]})`);
    let rule: Record<string, string | number> | undefined;
    if (o.rule !== undefined) {
      rule = {};
      for (const [k, v] of Object.entries(c.obj(o.rule, [...p, 'rule']))) {
        if (typeof v !== 'string' && typeof v !== 'number') c.fail([...p, 'rule', k], `expected a string or number, got ${describe(v)}`);
        rule[k] = v;
      }
    }
    return { event, window: { from: key === 'window_s' ? 'start' : 'onset', s: win }, ...(rule ? { rule } : {}), ...(o.by !== undefined ? { by: c.str(o.by, [...p, 'by']) } : {}) };
  });
}

function lineFinder(doc: Document, lc: LineCounter): (p: Path) => number | undefined {
  return (p) => {
    const node = p.length === 0 ? doc.contents : doc.getIn(p, true);
    if (!isNode(node) || !node.range) return undefined;
    return lc.linePos(node.range[0]).line;
  };
}

/** Parses scenario text (YAML, of which JSON is a subset). `source` names it in errors. */
export function parseScenarioText(text: string, source: string, opts: { control?: boolean } = {}): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
    throw new ScenarioError(line !== undefined ? `${source}:${line}` : source, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  // With a control patch, paths of patched fields still find a line in the unpatched document, which is near enough.
  return parseScenario(doc.toJS(), source, { ...opts, lineOf: lineFinder(doc, lc) });
}

/** Resolves a scenario name (`passport-queue`) or a path to a file. */
export function resolveScenarioPath(nameOrPath: string): string {
  if (/[\\/]|\.(ya?ml|json)$/.test(nameOrPath)) {
    const p = resolve(nameOrPath);
    if (!existsSync(p)) throw new ScenarioError(nameOrPath, 'no such scenario file');
    return p;
  }
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(SCENARIO_DIR, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  throw new ScenarioError(nameOrPath, `unknown scenario (built in: ${listScenarios().join(', ')}; or give a path to a .yaml file)`);
}

export function listScenarios(): string[] {
  return ['passport-queue', 'stranded-bag', 'perimeter-patrol'].filter((n) => existsSync(join(SCENARIO_DIR, `${n}.yaml`)));
}

/** Loads a scenario by name or path; `control: true` applies its control patch. */
export function loadScenario(nameOrPath: string, opts: { control?: boolean } = {}): Scenario {
  const path = resolveScenarioPath(nameOrPath);
  const rel = path.startsWith(process.cwd()) ? path.slice(process.cwd().length + 1) : path;
  return parseScenarioText(readFileSync(path, 'utf8'), rel, opts);
}

/** Region polygons as ROS 2 params (`regions.<name>: [x0, y0, x1, y1, ...]`), for the tracker and rules. */
export function regionParams(s: Scenario): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of s.regions) out[r.name] = r.polygon.flatMap((q) => [q.x, q.y]);
  return out;
}
