/**
 * fusion: time-aligns /tracks with vehicle state (/fc/state, /imu/data, /gps/fix, /battery)
 * into /world, by approximate time (nearest stamp within `slop_ms`), with the age of every
 * input. /tracks drives publication; when tracks are late (perception busy or stalled) a
 * world is still published every `max_period_ms` from the newest of each input, so nothing
 * downstream ever waits for a slow input.
 */
import { Subscription } from 'rxjs';
import type { kestrel_msgs, sensor_msgs, std_msgs } from '../../msgs/index.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { isZeroTime, timeToMs } from '../../runtime/time.js';
import { fuseWorld, pick, StampBuffer, type FuseInputs } from './align.js';

export const fusionNode = defineNode({
  name: 'fusion',
  description: 'Approximate-time fusion of /tracks, /fc/state, /imu/data, /gps/fix and /battery into /world, with input ages',
  params: {
    slop_ms: p.double(50, 'Approximate-time slop: an input matches the tracks when its stamp is within this of theirs', { min: 0 }),
    max_age_ms: p.double(500, 'An input older than this is stale (reported, and left out)', { min: 1 }),
    max_period_ms: p.double(100, 'Longest time between two /world messages: published at least this often, with or without new tracks', { min: 1 }),
    history: p.int(50, 'Samples kept per input for alignment', { min: 1 }),
    frame_id: p.string('map', 'frame_id of /world'),
  },
  subscribes: [
    topicDoc('/tracks', 'Tracks; drives publication'),
    topicDoc('/fc/state', 'Flight-controller state (base of the vehicle estimate)'),
    topicDoc('/imu/data', 'Heading when FC state is missing'),
    topicDoc('/gps/fix', 'Global position when FC state is missing'),
    topicDoc('/battery', 'Battery figures (override the FC state)'),
  ],
  publishes: [topicDoc('/world', 'Fused snapshot; header.stamp = oldest fresh source stamp')],
  create(ctx, prm) {
    const pub = ctx.advertise('/world');
    const bufs = {
      state: new StampBuffer<kestrel_msgs.VehicleState>(prm.history),
      imu: new StampBuffer<sensor_msgs.Imu>(prm.history),
      gps: new StampBuffer<sensor_msgs.NavSatFix>(prm.history),
      battery: new StampBuffer<sensor_msgs.BatteryState>(prm.history),
    };
    let lastTracks: { stampMs: number; msg: kestrel_msgs.TrackArray } | undefined;
    const fuse = ctx.diag.stage('fuse');
    const input = ctx.diag.stage('input');
    let deadlineTimer: Subscription | undefined;
    let matched = 0;
    let unmatched = 0;
    let deadlinePublishes = 0;

    /** Bad stamps are dropped and counted: a zero stamp would make any input look fresh or infinitely old. */
    const stampOf = (topic: string, h: std_msgs.Header): number | undefined => {
      if (isZeroTime(h.stamp) || !Number.isFinite(timeToMs(h.stamp))) {
        input.drop();
        ctx.diag.values.last_drop = `${topic}: zero or invalid header.stamp`;
        return undefined;
      }
      return timeToMs(h.stamp);
    };

    const publish = (driverMs: number, byDeadline: boolean): void => {
      const now = ctx.clock.now();
      const picked: FuseInputs = { tracks: lastTracks };
      const st = pick(bufs.state, driverMs, prm.slop_ms);
      const imu = pick(bufs.imu, driverMs, prm.slop_ms);
      const gps = pick(bufs.gps, driverMs, prm.slop_ms);
      const bat = pick(bufs.battery, driverMs, prm.slop_ms);
      picked.state = st.sample;
      picked.imu = imu.sample;
      picked.gps = gps.sample;
      picked.battery = bat.sample;
      for (const x of [st, imu, gps, bat]) {
        if (x.sample && x.matched) matched++;
        else if (x.sample) unmatched++;
      }
      const world = fuseWorld(picked, { now, maxAgeMs: prm.max_age_ms, frameId: prm.frame_id });
      pub.publish(world);
      // The next world is due max_period_ms after this one, with or without new tracks.
      deadlineTimer?.unsubscribe();
      deadlineTimer = ctx.clock.scheduler.schedule(() => publish(ctx.clock.now(), true), prm.max_period_ms);
      if (byDeadline) deadlinePublishes++;
      fuse.record(now - timeToMs(world.header.stamp));
      ctx.diag.values.matched = String(matched);
      ctx.diag.values.unmatched = String(unmatched);
      ctx.diag.values.deadline_publishes = String(deadlinePublishes);
      const stale = world.inputs.filter((i) => i.stale).map((i) => i.name);
      ctx.diag.values.stale_inputs = stale.join(',');
    };

    return {
      activate() {
        const subs = new Subscription();
        subs.add(
          ctx.subscribe('/fc/state').subscribe((m) => {
            const s = stampOf('/fc/state', m.header);
            if (s !== undefined) bufs.state.push(s, m);
          }),
        );
        subs.add(
          ctx.subscribe('/imu/data').subscribe((m) => {
            const s = stampOf('/imu/data', m.header);
            if (s !== undefined) bufs.imu.push(s, m);
          }),
        );
        subs.add(
          ctx.subscribe('/gps/fix').subscribe((m) => {
            const s = stampOf('/gps/fix', m.header);
            if (s !== undefined) bufs.gps.push(s, m);
          }),
        );
        subs.add(
          ctx.subscribe('/battery').subscribe((m) => {
            const s = stampOf('/battery', m.header);
            if (s !== undefined) bufs.battery.push(s, m);
          }),
        );
        subs.add(
          ctx.subscribe('/tracks').subscribe((m) => {
            const s = stampOf('/tracks', m.header);
            if (s === undefined) return;
            lastTracks = { stampMs: s, msg: m };
            publish(s, false);
          }),
        );
        deadlineTimer = ctx.clock.scheduler.schedule(() => publish(ctx.clock.now(), true), prm.max_period_ms);
        subs.add(() => deadlineTimer?.unsubscribe());
        return subs;
      },
    };
  },
});

export default fusionNode;
