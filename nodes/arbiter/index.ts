/**
 * arbiter: the fixed-rate control tick. Each tick it decides one command from the freshest
 * inputs (never waiting for any), enforces the safety envelope, and publishes /cmd (and
 * /cmd_vel for ground robots). A watchdog on the topics of upstream nodes turns silence
 * into the fallback within one tick.
 */
import { Subscription } from 'rxjs';
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { msToTime, timeToMs, type Time } from '../../runtime/time.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { fixedRate, watchSpecs, watchTopics, type FixedRateTick } from '../../runtime/operators.js';
import { p } from '../../runtime/params.js';
import { lowerComputeThreads } from '../../lib/process/priority.js';
import { SLICE_MAX_US, SLICE_MIN_US, setThreadSlice } from '../../lib/process/sched.js';
import { decide, stampedInFuture, type DecideInputs, type Policy, type Rejection } from './decide.js';
import { ACTIONS, envelopeFromParams } from './envelope.js';
import { pointFromFlat, waypointsFromFlat, type MissionMode } from './mission.js';
import { stopTwist, twistFor } from './twist.js';

export const arbiterNode = defineNode({
  name: 'arbiter',
  description: 'Fixed-rate control tick: chooses plan / alert reaction / mission / fallback, enforces the safety envelope, publishes /cmd and /cmd_vel',
  params: {
    rate_hz: p.double(20, 'Control tick rate', { min: 1, max: 500 }),
    max_age_ms: p.double(500, 'Inputs (/fc/state, /world, /alerts) older than this count as missing', { min: 1 }),
    plan_max_age_ms: p.double(5000, 'A plan whose source stamp is older than this is ignored (LLM plans are seconds old)', { min: 1 }),
    max_future_ms: p.double(250, 'Inputs stamped more than this ahead of the clock are rejected and counted (future_rejected)', { min: 0 }),
    fc_lost_land_ms: p.double(5000, 'Flight-controller state stale this long: land instead of hold', { min: 0 }),
    validity_ticks: p.int(3, 'valid_until of each command = now + this many ticks', { min: 1 }),
    vehicle: p.string('multirotor', 'Vehicle kind; ground robots also get /cmd_vel', ['multirotor', 'ground']),
    geofence: p.doubleArray([], 'Geofence polygon, local ENU [x0, y0, x1, y1, ...] metres; empty = none'),
    min_altitude_m: p.double(2, 'Lowest target altitude (local z) for goto/orbit'),
    max_altitude_m: p.double(120, 'Highest target altitude (local z)'),
    max_speed_mps: p.double(5, 'Speed limit for every command', { min: 0 }),
    allowed_actions: p.stringArray(['hold', 'goto', 'velocity', 'orbit', 'takeoff', 'land', 'rtl', 'arm'], 'Actions any source may command (hold, land always allowed)', ACTIONS),
    plan_actions: p.stringArray(['hold', 'goto', 'orbit', 'land', 'rtl'], 'Actions a plan may propose (arm, disarm, takeoff are never accepted from a plan)', ACTIONS),
    min_battery: p.double(0.25, 'Minimum battery fraction for the mission; below it: low_battery_action, and no arming', { min: 0, max: 1 }),
    low_battery_action: p.string('rtl', 'What to do below min_battery while flying', ['rtl', 'land']),
    alert_reactions: p.stringArray(['hold', 'track', 'orbit', 'rtl', 'land'], 'Alert reactions the arbiter applies', ['hold', 'track', 'orbit', 'rtl', 'land']),
    orbit_radius_m: p.double(10, 'Radius of orbit reactions', { min: 0 }),
    plan_hold_stops_mission: p.bool(false, "A plan's hold stops the mission (false: the mission goes on; the planner's other actions override it)"),
    mission_mode: p.string('hold', 'Default behaviour: idle (stay on ground), hold, hover (at mission_point), patrol (mission_waypoints)', ['idle', 'hold', 'hover', 'patrol']),
    mission_point: p.doubleArray([0, 0, 10], 'hover: [x, y, z] local ENU'),
    mission_waypoints: p.doubleArray([], 'patrol: [x0, y0, z0, x1, y1, z1, ...] local ENU'),
    mission_loop: p.bool(true, 'patrol: start again from the first waypoint after the last (false: stay at the last)'),
    mission_speed: p.double(3, 'Mission cruise speed (m/s)', { min: 0 }),
    mission_accept_radius_m: p.double(1.5, 'Waypoint reached within this distance', { min: 0 }),
    auto_takeoff: p.bool(false, 'Mission arms and takes off when disarmed on the ground (never the planner)'),
    takeoff_altitude_m: p.double(10, 'Takeoff altitude (local z)'),
    ground_altitude_m: p.double(0.5, 'Below this local z the vehicle counts as on the ground'),
    watch_topics: p.stringArray(['/detections'], 'Topics of upstream nodes that must keep publishing; silence means fallback'),
    watch_periods_ms: p.doubleArray([200], 'Expected period of each watched topic'),
    watch_k: p.double(3, 'A watched topic is silent after period × k without a message', { min: 1 }),
    max_yaw_rate_rps: p.double(1, '/cmd_vel yaw-rate limit', { min: 0 }),
    k_distance: p.double(0.5, '/cmd_vel speed per metre to the target', { min: 0 }),
    k_heading: p.double(1.5, '/cmd_vel yaw rate per radian of heading error', { min: 0 }),
    control_slice_us: p.int(0, `Live (system clock, Linux 6.12+): time slice of the event-loop thread (the tick's) in µs, ${SLICE_MIN_US}..${SLICE_MAX_US}; shorter than the running thread's, the waking tick preempts it at once instead of waiting out that thread's protected slice (the kernel default is 0.7 ms × (1 + log2 cores)). Threads and children started afterwards keep the default; 0 = the kernel default. Refused or ignored by the kernel → activation fails`, { min: 0, max: SLICE_MAX_US }),
    tick_spin_us: p.int(0, 'Live (system clock): wake this many µs before each tick is due and busy-wait to it, so getting a core back and the whole-ms timer (which otherwise fires up to 1 ms early or late) cost no lateness; costs that much CPU per period and more (nodes/arbiter/README.md has the measured effect). At most half the period; 0 = off. Not applied under sim time', { min: 0 }),
    compute_nice: p.int(10, 'Live (system clock, Linux): every second, lower all threads of the process but the event loop to this nice value, so inference never delays a tick; 0 = off', { min: 0, max: 19 }),
  },
  subscribes: [
    topicDoc('/fc/state', 'Flight-controller state (stale or disconnected → fallback)'),
    topicDoc('/world', 'Fused tracks for track/orbit reactions'),
    topicDoc('/alerts', 'Active alerts and their reactions'),
    topicDoc('/plan', 'Advisory plan from the LLM planner'),
  ],
  publishes: [
    topicDoc('/cmd', 'One command per tick, with input stamps, e2e age and valid_until'),
    topicDoc('/cmd_vel', 'Body-frame velocity for ground robots (zero on fallback)', (p) => p.vehicle === 'ground'),
  ],
  create(ctx, prm) {
    if (prm.control_slice_us !== 0 && prm.control_slice_us < SLICE_MIN_US) throw new Error(`arbiter: control_slice_us must be 0 (the kernel default) or ${SLICE_MIN_US}..${SLICE_MAX_US}, got ${prm.control_slice_us}`);
    const ground = prm.vehicle === 'ground';
    const env = envelopeFromParams({ ...prm, ground });
    const periodMs = 1000 / prm.rate_hz;
    // A spin of more than half the period would spend most of a core waiting.
    if (prm.tick_spin_us / 1000 > periodMs / 2) throw new Error(`arbiter: tick_spin_us ${prm.tick_spin_us} must be at most half the tick period (${Math.round(periodMs * 1000)} µs at rate_hz ${prm.rate_hz}); lower it, or 0 for off`);
    const policy: Policy = {
      periodMs,
      maxAgeMs: prm.max_age_ms,
      planMaxAgeMs: prm.plan_max_age_ms,
      maxFutureMs: prm.max_future_ms,
      fcLostLandMs: prm.fc_lost_land_ms,
      validityTicks: prm.validity_ticks,
      reactions: new Set(prm.alert_reactions),
      orbitRadiusM: prm.orbit_radius_m,
      planHoldStopsMission: prm.plan_hold_stops_mission,
      mission: {
        mode: prm.mission_mode as MissionMode,
        point: pointFromFlat(prm.mission_point, 'mission_point'),
        waypoints: waypointsFromFlat(prm.mission_waypoints),
        loop: prm.mission_loop,
        speed: prm.mission_speed,
        acceptRadiusM: prm.mission_accept_radius_m,
        autoTakeoff: prm.auto_takeoff,
        takeoffAltitudeM: prm.takeoff_altitude_m,
        groundAltitudeM: prm.ground_altitude_m,
      },
    };
    const watched = watchSpecs(prm.watch_topics.map((t) => ctx.resolve(t)), prm.watch_periods_ms, prm.watch_k);
    const limits = { maxSpeedMps: prm.max_speed_mps, maxYawRateRps: prm.max_yaw_rate_rps, kDistance: prm.k_distance, kHeading: prm.k_heading, arriveM: prm.mission_accept_radius_m };

    const cmdPub = ctx.advertise('/cmd');
    const velPub = ground ? ctx.advertise('/cmd_vel') : undefined;
    const tick = ctx.diag.stage('tick');
    const e2e = ctx.diag.stage('e2e');
    const inputs: DecideInputs = { silent: [], missionIndex: 0, seq: 0 };
    let silent: string[] = [];
    let rejections = 0;
    let lastRejection = '';
    let fallbacks = 0;
    let futureRejected = 0;
    const futureByTopic = new Map<string, number>();

    // A message stamped ahead of the clock is dropped on arrival, so the last good one keeps
    // ageing (an /fc/state from the future must not keep a lost flight controller "connected").
    const accept = (topic: string, m: { header?: { stamp?: Time } }): boolean => {
      // A message without a stamp is kept: decide() reports it (tick error, hold) as before.
      const stamp = m.header?.stamp;
      if (stamp === undefined) return true;
      const now = ctx.clock.now();
      const at = timeToMs(stamp);
      if (!stampedInFuture(at, now, prm.max_future_ms)) return true;
      futureRejected++;
      const n = (futureByTopic.get(topic) ?? 0) + 1;
      futureByTopic.set(topic, n);
      if (n === 1) ctx.log.warn(`${topic}: message stamped ${(at - now).toFixed(0)} ms in the future (limit ${prm.max_future_ms} ms): rejected; further ones are counted in future_rejected`);
      ctx.diag.values.future_rejected = String(futureRejected);
      ctx.diag.values.last_future = `${topic} +${(at - now).toFixed(0)} ms`;
      return false;
    };

    const report = (r: Rejection[]): void => {
      rejections += r.length;
      ctx.diag.values.rejections = String(rejections);
      const text = r.map((x) => `${x.source} ${x.action}: ${x.reason}`).join('; ');
      // Log on change only: a rejected plan stays rejected for many ticks.
      if (text !== '' && text !== lastRejection) ctx.log.warn(`rejected ${text}`);
      if (text !== '') ctx.diag.values.last_rejection = text;
      lastRejection = text;
    };

    const onTick = (t: FixedRateTick): void => {
      const t0 = ctx.clock.now();
      // Ticks overrun by a late process are misses (the fixed-rate timer skips, never bursts).
      for (let i = 0; i < t.skipped; i++) tick.miss();
      inputs.seq++;
      inputs.silent = silent;
      let cmd: kestrel_msgs.VehicleCommand;
      try {
        const d = decide(inputs, env, t0, policy);
        inputs.missionIndex = d.missionIndex;
        cmd = d.command;
        report(d.rejections);
        // Accepted on arrival but ahead now: only if the clock stepped back (sim reset, NTP).
        if (d.future.length > 0) ctx.diag.values.future_in_tick = d.future.join(',');
        if (d.fallback) fallbacks++;
      } catch (e) {
        // A bug or a malformed input must not stop the control loop: hold, and report it
        // (the tick stage's error count makes /diagnostics ERROR for that window).
        tick.error(e);
        ctx.log.error(`decide failed, holding: ${(e as Error).message}`);
        fallbacks++;
        cmd = makeMsg('kestrel_msgs/msg/VehicleCommand', {
          header: { stamp: ctx.clock.stamp(), frame_id: 'map' },
          seq: inputs.seq,
          action: 'hold',
          source: 'fallback',
          reason: `arbiter error: ${(e as Error).message}`,
          e2e_age_ms: -1,
          valid_until: msToTime(t0 + policy.validityTicks * periodMs),
        });
      }
      cmdPub.publish(cmd);
      if (velPub) velPub.publish(cmd.source === 'fallback' ? stopTwist() : twistFor(cmd, inputs.state, limits));
      ctx.diag.values.fallbacks = String(fallbacks);
      ctx.diag.values.last_source = cmd.source;
      ctx.diag.values.last_action = cmd.action;
      ctx.diag.values.e2e_age_ms = cmd.e2e_age_ms.toFixed(1);
      if (cmd.e2e_age_ms >= 0) e2e.record(cmd.e2e_age_ms);
      // Tick-to-command latency: from when the tick was due (timer lateness included) to /cmd out.
      tick.record(ctx.clock.now() - t.dueMs);
    };

    return {
      activate() {
        const subs = new Subscription();
        subs.add(ctx.subscribe('/fc/state').subscribe((m) => accept('/fc/state', m) && (inputs.state = m)));
        subs.add(ctx.subscribe('/world').subscribe((m) => accept('/world', m) && (inputs.world = m)));
        subs.add(ctx.subscribe('/alerts').subscribe((m) => accept('/alerts', m) && (inputs.alerts = m)));
        subs.add(ctx.subscribe('/plan').subscribe((m) => accept('/plan', m) && (inputs.plan = m)));
        if (watched.length > 0) {
          subs.add(
            watchTopics(ctx.bus.events(), ctx.clock.scheduler, watched, (s, change) => {
              silent = [...s].sort();
              const spec = watched.find((w) => w.topic === change.topic);
              if (change.silent) ctx.log.error(`${change.topic} silent: no message for ${(spec ? spec.periodMs * spec.k : 0).toFixed(0)} ms; fallback`);
              else ctx.log.info(`${change.topic} publishing again`);
              ctx.diag.values.silent = silent.join(',');
              if (silent.length > 0) ctx.diag.set('error', `silent: ${silent.join(', ')}`);
              else ctx.diag.set('ok', '');
            }),
          );
        }
        if (prm.control_slice_us > 0 && ctx.clock.kind === 'system') {
          // The calling thread: the event loop that runs the tick (and the other nodes of this container).
          setThreadSlice(0, prm.control_slice_us);
          ctx.diag.values.control_slice_us = String(prm.control_slice_us);
        }
        const live = ctx.clock.kind === 'system';
        // Under sim time ticks are exact and a spin would never end (virtual time stands still inside it).
        ctx.diag.values.tick_spin_us = live ? String(prm.tick_spin_us) : 'off (sim time)';
        subs.add(fixedRate(ctx.clock, periodMs, { spinMs: live ? prm.tick_spin_us / 1000 : 0 }).subscribe(onTick));
        if (prm.compute_nice > 0 && ctx.clock.kind === 'system') {
          // Model threads come and go (new contexts, thread pools): re-apply every second.
          const renice = (): void => {
            const r = lowerComputeThreads(prm.compute_nice);
            ctx.diag.values.compute_threads_lowered = String(r.lowered);
          };
          renice();
          subs.add(fixedRate(ctx.clock, 1000).subscribe(renice));
        }
        return subs;
      },
    };
  },
});

export default arbiterNode;
