/**
 * Property test of decide(): 10,000 random plans, alerts, world and vehicle states (seeded), on a
 * concave (L-shaped) fence and a square one. Every command is checked by an independent oracle
 * (dense sampling, not the envelope's own geometry): 0 envelope violations allowed.
 */
import { describe, expect, it } from 'vitest';
import { pointInPolygon, polygonFromFlat, type Vec2 } from '../../lib/geo/geometry.js';
import { timeToMs } from '../../runtime/time.js';
import { rng, type Rng } from '../../test/support/fuzz.js';
import { alerts, plan, testEnvelope, testPolicy, vehicleState, world } from '../../test/support/arbiter.js';
import { decide, type DecideInputs } from './decide.js';
import { ORBIT_ENTRY_M } from './envelope.js';
import type { kestrel_msgs } from '../../msgs/index.js';

const NOW = 5_000_000;
const FENCES = {
  L: [0, 0, 100, 0, 100, 40, 40, 40, 40, 100, 0, 100],
  square: [-50, -50, 50, -50, 50, 50, -50, 50],
};
const MIN_Z = 2;
const MAX_Z = 60;
const MAX_SPEED = 5;
const SKEW = 250;
const pol = testPolicy({ maxFutureMs: SKEW, mission: { ...testPolicy().mission, mode: 'patrol', waypoints: [{ x: 10, y: 10, z: 10 }, { x: 90, y: 20, z: 10 }, { x: 20, y: 90, z: 10 }] } });
const ACTIONS = ['goto', 'orbit', 'arm', 'disarm', 'takeoff', 'land', 'rtl', 'hold', 'track', 'velocity', 'nonsense'];
const REACTIONS = ['hold', 'land', 'rtl', 'orbit', 'track', 'none', 'explode'];

function coord(r: Rng): number {
  const k = r.int(0, 9);
  if (k === 0) return (r.next() - 0.5) * 1e6;
  if (k === 1) return r.pick([Number.NaN, Number.POSITIVE_INFINITY, -0, 40, 39.999, 40.001, 100]);
  return r.next() * 120 - 10; // around both fences, the L's reflex corner included
}

/** A stamp relative to now: fresh, stale, slightly or far in the future, zero. */
function stamp(r: Rng, maxAge: number): number {
  const k = r.int(0, 9);
  if (k <= 5) return NOW - r.next() * maxAge * 0.9;
  if (k === 6) return NOW - maxAge * (1.1 + r.next() * 10);
  if (k === 7) return NOW + r.next() * SKEW * 0.9;
  if (k === 8) return NOW + SKEW * (1.1 + r.next() * 1e4);
  return NOW - maxAge * 0.5;
}

const fresh = (ms: number, maxAge: number): boolean => ms !== 0 && NOW - ms <= maxAge && ms - NOW <= SKEW;

function samplesInside(points: Vec2[], fence: Vec2[]): boolean {
  return points.every((q) => pointInPolygon(q, fence));
}

function segment(a: Vec2, b: Vec2, n = 200): Vec2[] {
  return Array.from({ length: n + 1 }, (_v, k) => ({ x: a.x + ((b.x - a.x) * k) / n, y: a.y + ((b.y - a.y) * k) / n }));
}

describe('decide(): property test, 10,000 random plans and world states', () => {
  it('0 envelope violations: fence (orbits and paths too), altitude, speed, arming, stale and future inputs', () => {
    const r = rng(20261201);
    const violations: string[] = [];
    const sources: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const fenceName = r.chance(0.6) ? 'L' : 'square';
      const env = testEnvelope({ geofence: FENCES[fenceName], min_altitude_m: MIN_Z, max_altitude_m: MAX_Z, max_speed_mps: MAX_SPEED });
      const fence = polygonFromFlat(FENCES[fenceName]);
      const armed = r.chance(0.8);
      const z = !armed ? 0 : r.chance(0.1) ? 60 + r.next() * 50 : r.chance(0.1) ? 0.2 : 10;
      const fcMs = stamp(r, pol.maxAgeMs);
      const battery = r.pick([0.9, 0.5, 0.26, 0.2, 0.05, -1, Number.NaN, 1.5, 0]);
      const here = { x: r.chance(0.9) ? r.next() * 100 : coord(r), y: r.chance(0.9) ? r.next() * 100 : coord(r), z };
      const state = vehicleState(fcMs, { armed, connected: r.chance(0.95), battery_remaining: battery, position: here });
      const worldMs = stamp(r, pol.maxAgeMs);
      const tracks = Array.from({ length: r.int(0, 3) }, (_v, k) => ({ id: k + 1, x: coord(r), y: coord(r) }));
      const planMs = stamp(r, pol.planMaxAgeMs);
      const validFor = r.chance(0.9) ? 3000 : -100;
      const p = r.chance(0.8)
        ? plan(planMs, {
            action: r.pick(ACTIONS),
            target: { x: coord(r), y: coord(r), z: r.chance(0.7) ? r.next() * 80 - 5 : coord(r) },
            speed: r.chance(0.1) ? Number.POSITIVE_INFINITY : r.next() * 20 - 2,
            radius: r.chance(0.1) ? -5 : r.next() * 40,
            track_id: r.int(0, 3),
          }, validFor)
        : undefined;
      const alertMs = stamp(r, pol.maxAgeMs);
      const a = r.chance(0.4)
        ? alerts(alertMs, Array.from({ length: r.int(1, 2) }, (_v, k) => ({ rule_id: `r${k}`, reaction: r.pick(REACTIONS), track_ids: r.chance(0.8) ? [r.int(1, 3)] : [], active: r.chance(0.9) })))
        : undefined;
      const inp: DecideInputs = { state: r.chance(0.97) ? state : undefined, world: world(worldMs, tracks), plan: p, alerts: a, silent: r.chance(0.05) ? ['/detections'] : [], missionIndex: r.int(0, 5), seq: i };
      const c: kestrel_msgs.VehicleCommand = decide(inp, env, NOW, pol).command;
      sources[c.source] = (sources[c.source] ?? 0) + 1;
      const bad = (why: string): void => {
        if (violations.length < 20) violations.push(`case ${i} (${fenceName}): ${why}: ${c.source} ${c.action} (${c.reason})`);
      };

      const fcLive = inp.state !== undefined && fresh(fcMs, pol.maxAgeMs) && state.connected;
      if (!fcLive && c.source !== 'fallback') bad('flight controller not live (stale, future or disconnected) but no fallback');
      if (!Number.isFinite(c.speed) || c.speed > MAX_SPEED + 1e-9 || c.speed < 0) bad(`speed ${c.speed}`);
      const vn = Math.hypot(c.velocity.x, c.velocity.y, c.velocity.z);
      if (!(vn <= MAX_SPEED + 1e-9)) bad(`velocity ${vn}`);
      if (c.action === 'disarm') bad('disarm commanded');
      if ((c.action === 'arm' || c.action === 'takeoff') && c.source !== 'mission') bad(`${c.action} not from the mission`);
      if (c.action === 'arm' && !(Number.isFinite(battery) && battery >= 0.25 && battery <= 1)) bad(`arm with battery ${battery}`);
      if (c.source === 'plan') {
        if (!p || !fresh(planMs, pol.planMaxAgeMs) || timeToMs(p.valid_until) <= NOW) bad('plan applied while stale, future or expired');
        if (!['hold', 'goto', 'orbit', 'land', 'rtl'].includes(c.action)) bad('plan action outside plan_actions');
      }
      if (c.source === 'alert' && !fresh(alertMs, pol.maxAgeMs)) bad('alert applied while stale or future');
      if ((c.source === 'alert' || c.source === 'plan') && /track/.test(c.reason.split(';')[0]) && c.action !== 'hold' && !fresh(worldMs, pol.maxAgeMs)) {
        if (c.action === 'goto' || c.action === 'orbit') bad('track target from a stale or future world');
      }
      if (fcLive && armed && z > MAX_Z && c.source !== 'envelope' && c.source !== 'fallback') bad(`above the ceiling at ${z.toFixed(1)} m and not descending`);
      if (c.action === 'goto' || c.action === 'orbit') {
        if (!(c.target.z >= MIN_Z - 1e-9 && c.target.z <= MAX_Z + 1e-9)) bad(`target altitude ${c.target.z}`);
        const hereInside = pointInPolygon(here, fence);
        if (!pointInPolygon(c.target, fence)) bad('target outside the fence');
        if (c.action === 'goto' && hereInside && !samplesInside(segment(here, c.target), fence)) bad('path leaves the fence');
        if (c.action === 'orbit') {
          const rad = c.radius * (1 - 1e-9);
          const circle = Array.from({ length: 180 }, (_v, k) => ({ x: c.target.x + rad * Math.cos((k * Math.PI) / 90), y: c.target.y + rad * Math.sin((k * Math.PI) / 90) }));
          if (!samplesInside(circle, fence)) bad('orbit circle leaves the fence');
          const d = Math.hypot(here.x - c.target.x, here.y - c.target.y);
          if (d > c.radius + ORBIT_ENTRY_M + 1e-9) bad(`orbit commanded from ${d.toFixed(1)} m away (not approached first)`);
          if (d > c.radius) {
            const spiral = Array.from({ length: 180 }, (_v, k) => ({ x: c.target.x + d * 0.999999 * Math.cos((k * Math.PI) / 90), y: c.target.y + d * 0.999999 * Math.sin((k * Math.PI) / 90) }));
            if (!samplesInside(spiral, fence)) bad('spiral onto the orbit leaves the fence');
          }
        }
      }
    }
    expect(violations).toEqual([]);
    // The generator reaches every branch, so 0 violations means something.
    for (const s of ['plan', 'alert', 'mission', 'envelope', 'fallback']) expect(sources[s] ?? 0).toBeGreaterThan(100);
  });
});
