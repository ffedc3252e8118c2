/**
 * The arbiter's decision, as one pure function of its inputs: fallback when the flight
 * controller is stale or a watched node is silent, then the envelope's own demands
 * (battery, fence breach), then active alert reactions, then a valid plan, then the mission.
 * Every candidate goes through the safety envelope; rejected ones are reported and the
 * next candidate is tried.
 */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { msToTime, timeToMs, isZeroTime, type Time } from '../../runtime/time.js';
import { applyEnvelope, insideFence, type Envelope, type Proposal, type Source, type Vec3 } from './envelope.js';
import { missionStep, type Mission } from './mission.js';

export interface DecideInputs {
  state?: kestrel_msgs.VehicleState;
  world?: kestrel_msgs.WorldState;
  plan?: kestrel_msgs.Plan;
  alerts?: kestrel_msgs.AlertArray;
  /** Watched topics that went silent (from the watchdog). */
  silent: readonly string[];
  /** Patrol waypoint index carried between ticks. */
  missionIndex: number;
  seq: number;
}

export interface Policy {
  periodMs: number;
  /** Inputs older than this count as missing. */
  maxAgeMs: number;
  /**
   * Inputs stamped more than this ahead of now are rejected (a clock skew or a forged stamp
   * must not count as fresh, nor keep a lost flight controller "connected"). Default 250 ms.
   */
  maxFutureMs?: number;
  /** A plan is built from a world snapshot seconds old (LLM time): its own age limit. */
  planMaxAgeMs: number;
  /** FC state stale this long: land instead of hold. */
  fcLostLandMs: number;
  /** valid_until = now + validityTicks × period. */
  validityTicks: number;
  /** Alert reactions the arbiter applies (others are ignored and reported). */
  reactions: ReadonlySet<string>;
  orbitRadiusM: number;
  mission: Mission;
  /**
   * Whether a plan's `hold` stops the mission. Default false: the planner's hold ("no alerts: holding")
   * means nothing better to do than the default behaviour, so the mission goes on; its other actions
   * (goto, orbit, track, land, rtl) override the mission as before.
   */
  planHoldStopsMission?: boolean;
}

export interface Rejection {
  source: Source;
  action: string;
  reason: string;
}

export interface Decision {
  command: kestrel_msgs.VehicleCommand;
  rejections: Rejection[];
  missionIndex: number;
  fallback: boolean;
  /** Inputs rejected this tick for a stamp more than maxFutureMs ahead of now. */
  future: InputName[];
}

export const DEFAULT_MAX_FUTURE_MS = 250;

export type InputName = 'fc_state' | 'world' | 'alerts' | 'plan';

interface InputView {
  age: kestrel_msgs.InputAge;
  fresh: boolean;
  /** Stamped more than the allowed skew ahead of now. */
  future: boolean;
}

function inputAge(name: InputName, stamp: Time | undefined, now: number, maxAgeMs: number, maxFutureMs: number): InputView {
  const s = stamp ?? { sec: 0, nanosec: 0 };
  const age = stamp === undefined || isZeroTime(s) ? Number.POSITIVE_INFINITY : now - timeToMs(s);
  const future = Number.isFinite(age) && age < -maxFutureMs;
  const fresh = Number.isFinite(age) && age <= maxAgeMs && !future;
  // A future stamp's age is unknown (-1), like a missing input's, so it never ages a command.
  const known = Number.isFinite(age) && !future;
  return { age: makeMsg('kestrel_msgs/msg/InputAge', { name, stamp: { ...s }, age_ms: known ? Math.max(0, age) : -1, stale: !fresh }), fresh, future };
}

/** Whether a message stamped `stampMs` is more than the allowed skew ahead of `now` (for rejecting it on arrival). */
export function stampedInFuture(stampMs: number, now: number, maxFutureMs = DEFAULT_MAX_FUTURE_MS): boolean {
  return stampMs - now > maxFutureMs;
}

/** A battery fraction the envelope can trust: finite and within [0, 1] (-1 means unknown in VehicleState). */
export function batteryKnown(b: number): boolean {
  return Number.isFinite(b) && b >= 0 && b <= 1;
}

// Most protective first: when several alerts are active, the strongest reaction wins.
const REACTION_RANK: Record<string, number> = { land: 0, rtl: 1, hold: 2, orbit: 3, track: 4 };
const SEVERITY_RANK: Record<string, number> = { critical: 0, error: 1, high: 1, warn: 2, warning: 2, medium: 2, info: 3, low: 3 };

function trackPosition(world: kestrel_msgs.WorldState | undefined, id: number): Vec3 | undefined {
  const t = world?.tracks.find((x) => x.id === id);
  return t ? { x: t.position.x, y: t.position.y, z: t.position.z } : undefined;
}

function alertProposal(a: kestrel_msgs.Alert, here: Vec3, world: kestrel_msgs.WorldState | undefined, p: Policy): Proposal | string {
  const why = `alert ${a.rule_id}: ${a.message || a.reaction}`;
  switch (a.reaction) {
    case 'hold':
      return { action: 'hold', source: 'alert', reason: why, target: { ...here } };
    case 'land':
    case 'rtl':
      return { action: a.reaction, source: 'alert', reason: why };
    case 'track':
    case 'orbit': {
      const id = a.track_ids[0];
      const pos = id === undefined ? undefined : trackPosition(world, id);
      if (!pos) return `alert ${a.rule_id}: ${a.reaction} needs a fresh track${id === undefined ? ' (alert names none)' : ` (track ${id} not in a fresh /world)`}`;
      const target = { x: pos.x, y: pos.y, z: here.z };
      return a.reaction === 'track'
        ? { action: 'goto', source: 'alert', reason: why, target, speed: p.mission.speed }
        : { action: 'orbit', source: 'alert', reason: why, target, radius: p.orbitRadiusM, speed: p.mission.speed };
    }
    default:
      return `alert ${a.rule_id}: unknown reaction '${a.reaction}'`;
  }
}

function planProposal(plan: kestrel_msgs.Plan, here: Vec3, world: kestrel_msgs.WorldState | undefined): Proposal | string {
  const why = `plan: ${plan.reason || plan.action}`;
  const target = { x: plan.target.x, y: plan.target.y, z: plan.target.z };
  switch (plan.action) {
    case 'hold':
      return { action: 'hold', source: 'plan', reason: why, target: { ...here } };
    case 'goto':
      return { action: 'goto', source: 'plan', reason: why, target, speed: plan.speed };
    case 'orbit':
      return { action: 'orbit', source: 'plan', reason: why, target, radius: plan.radius, speed: plan.speed };
    case 'land':
    case 'rtl':
      return { action: plan.action, source: 'plan', reason: why };
    case 'track': {
      const pos = trackPosition(world, plan.track_id);
      if (!pos) return `plan: track ${plan.track_id} is not in a fresh /world`;
      return { action: 'goto', source: 'plan', reason: why, target: { x: pos.x, y: pos.y, z: here.z }, speed: plan.speed };
    }
    default:
      // arm, disarm, takeoff and anything else: the envelope reports it precisely.
      return { action: plan.action as Proposal['action'], source: 'plan', reason: why, target };
  }
}

/** Decides one tick's command. Pure: same inputs, same command. */
export function decide(inp: DecideInputs, env: Envelope, now: number, p: Policy): Decision {
  const st = inp.state;
  const skew = p.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const fc = inputAge('fc_state', st?.header.stamp, now, p.maxAgeMs, skew);
  const world = inputAge('world', inp.world?.header.stamp, now, p.maxAgeMs, skew);
  const alerts = inputAge('alerts', inp.alerts?.header.stamp, now, p.maxAgeMs, skew);
  const plan = inputAge('plan', inp.plan?.header.stamp, now, p.planMaxAgeMs, skew);
  const views: InputView[] = [fc, world, alerts, plan];
  const future = views.filter((v) => v.future).map((v) => v.age.name as InputName);
  const freshWorld = world.fresh ? inp.world : undefined;
  const rejections: Rejection[] = [];
  let missionIndex = inp.missionIndex;

  const finish = (prop: Proposal, used: InputView[], fallback: boolean): Decision => {
    const usable = used.filter((u) => u.age.age_ms >= 0);
    const oldest = usable.reduce<InputView | undefined>((o, u) => (o === undefined || u.age.age_ms > o.age.age_ms ? u : o), undefined);
    const rejected = rejections.length > 0 ? `; rejected: ${rejections.map((r) => `${r.source} ${r.action} (${r.reason})`).join('; ')}` : '';
    const command = makeMsg('kestrel_msgs/msg/VehicleCommand', {
      header: { stamp: oldest ? { ...oldest.age.stamp } : msToTime(now), frame_id: 'map' },
      seq: inp.seq,
      action: prop.action,
      target: prop.target ?? { x: 0, y: 0, z: 0 },
      velocity: prop.velocity ?? { x: 0, y: 0, z: 0 },
      yaw: prop.yaw ?? 0,
      speed: prop.speed ?? 0,
      radius: prop.radius ?? 0,
      source: prop.source,
      reason: prop.reason + rejected,
      inputs: views.map((v) => v.age),
      // -1: the command depends on no sensor data at all (flight controller never heard).
      e2e_age_ms: oldest ? oldest.age.age_ms : -1,
      valid_until: msToTime(now + p.validityTicks * p.periodMs),
    });
    return { command, rejections, missionIndex, fallback, future };
  };

  // 1. No live flight controller: hold, and land if it stays lost.
  if (!st || !fc.fresh || !st.connected) {
    const lostFor = fc.age.age_ms;
    const why = !st
      ? 'no /fc/state received'
      : fc.future
        ? `/fc/state stamped ${(timeToMs(st.header.stamp) - now).toFixed(0)} ms in the future (skew limit ${skew} ms): rejected`
        : !st.connected
          ? 'flight controller disconnected'
          : `/fc/state stale (${lostFor.toFixed(0)} ms > ${p.maxAgeMs} ms)`;
    if (st && lostFor > p.fcLostLandMs) return finish({ action: 'land', source: 'fallback', reason: `${why}; lost for over ${p.fcLostLandMs} ms: land` }, [fc], true);
    return finish({ action: 'hold', source: 'fallback', reason: why, target: st ? { ...st.position } : undefined }, [fc], true);
  }
  const here: Vec3 = { x: st.position.x, y: st.position.y, z: st.position.z };
  const onGround = !st.armed;
  // Armed but still on the ground: only the mission may take off, so alerts and plans may not move it.
  const landed = onGround || (!env.ground && here.z < p.mission.groundAltitudeM);

  // 2. The envelope's own demands on the vehicle state: battery, fence breach.
  const battery = st.battery_remaining;
  // Arming needs a battery reading: unknown (-1, NaN, out of range) keeps the vehicle on the ground.
  if (onGround && !batteryKnown(battery)) {
    return finish({ action: 'hold', source: 'envelope', reason: `battery unknown (${battery}): stay on the ground, no arming`, target: here }, [fc], false);
  }
  if (env.minBattery > 0 && batteryKnown(battery) && battery < env.minBattery) {
    const why = `battery ${(battery * 100).toFixed(0)}% below min_battery ${(env.minBattery * 100).toFixed(0)}%`;
    if (onGround) return finish({ action: 'hold', source: 'envelope', reason: `${why}: stay on the ground`, target: here }, [fc], false);
    return finish({ action: env.lowBatteryAction, source: 'envelope', reason: why }, [fc], false);
  }
  if (!onGround && !insideFence(here, env.geofence)) {
    return finish({ action: 'rtl', source: 'envelope', reason: `vehicle at (${here.x.toFixed(1)}, ${here.y.toFixed(1)}) is outside the geofence` }, [fc], false);
  }
  // Above the ceiling: descend to it where it is (a breach is corrected, not held).
  if (!onGround && !env.ground && here.z > env.maxAltitudeM) {
    return finish(
      {
        action: 'goto',
        source: 'envelope',
        reason: `altitude ${here.z.toFixed(1)} m above max_altitude_m ${env.maxAltitudeM} m: descend`,
        target: { x: here.x, y: here.y, z: env.maxAltitudeM },
        speed: Math.min(p.mission.speed > 0 ? p.mission.speed : env.maxSpeedMps, env.maxSpeedMps),
      },
      [fc],
      false,
    );
  }

  // 3. A watched node went silent: fallback within this tick.
  if (inp.silent.length > 0) {
    return finish({ action: 'hold', source: 'fallback', reason: `silent: ${inp.silent.join(', ')}`, target: here }, [fc], true);
  }

  const tryProposal = (prop: Proposal | string, source: Source, action: string): Proposal | undefined => {
    if (typeof prop === 'string') {
      rejections.push({ source, action, reason: prop });
      return undefined;
    }
    const v = applyEnvelope(prop, env, here);
    if (!v.ok) {
      rejections.push({ source, action: prop.action, reason: v.reason });
      return undefined;
    }
    return v.clipped.length > 0 ? { ...v.proposal, reason: `${v.proposal.reason} (clipped: ${v.clipped.join(', ')})` } : v.proposal;
  };

  // 4. Active alerts with a configured reaction, strongest first.
  if (inp.alerts && alerts.fresh) {
    const active = inp.alerts.alerts
      .filter((a) => a.active && a.reaction !== '' && a.reaction !== 'none')
      .filter((a) => {
        if (p.reactions.has(a.reaction)) return true;
        rejections.push({ source: 'alert', action: a.reaction, reason: `alert ${a.rule_id}: reaction '${a.reaction}' is not in alert_reactions` });
        return false;
      })
      .sort((a, b) => (REACTION_RANK[a.reaction] ?? 9) - (REACTION_RANK[b.reaction] ?? 9) || (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9));
    for (const a of active) {
      if (landed && (a.reaction === 'track' || a.reaction === 'orbit')) {
        rejections.push({ source: 'alert', action: a.reaction, reason: `alert ${a.rule_id}: vehicle is on the ground; only the mission takes off` });
        continue;
      }
      const ok = tryProposal(alertProposal(a, here, freshWorld, p), 'alert', a.reaction);
      const needsWorld = a.reaction === 'track' || a.reaction === 'orbit';
      if (ok) return finish(ok, needsWorld ? [fc, alerts, world] : [fc, alerts], false);
    }
  }

  // 5. A valid plan (not expired, not too old), only while flying: the planner never arms or takes off.
  if (inp.plan) {
    const expired = timeToMs(inp.plan.valid_until) <= now;
    if (!expired && plan.fresh && !(inp.plan.action === 'hold' && !p.planHoldStopsMission)) {
      if (landed) rejections.push({ source: 'plan', action: inp.plan.action, reason: 'vehicle is on the ground; a plan cannot arm or take off' });
      else {
        const ok = tryProposal(planProposal(inp.plan, here, freshWorld), 'plan', inp.plan.action);
        if (ok) return finish(ok, inp.plan.action === 'track' ? [fc, plan, world] : [fc, plan], false);
      }
    }
  }

  // 6. The mission; if even that is outside the envelope, hold.
  const step = missionStep(p.mission, { armed: st.armed, position: here }, inp.missionIndex, env.ground);
  missionIndex = step.index;
  const ok = tryProposal(step.proposal, 'mission', step.proposal.action);
  if (ok) return finish(ok, [fc], false);
  return finish({ action: 'hold', source: 'envelope', reason: 'mission outside the envelope: hold', target: here }, [fc], false);
}
