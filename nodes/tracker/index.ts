/**
 * tracker: /detections → /tracks. Stable ids (ByteTrack-style association on Kalman-
 * predicted boxes), ground position and velocity in local ENU through the nadir camera
 * model, and membership of the named regions from params.
 *
 * The camera pose comes from /fc/state (drone) or fixed params (a mast camera). Without a
 * usable pose, tracks still carry ids and boxes; position/velocity are zero, regions empty,
 * header.frame_id is the image frame instead of the world frame, and the reason is counted.
 */
import { map, startWith, withLatestFrom, type Subscription } from 'rxjs';
import { makeMsg, type kestrel_msgs, type vision_msgs } from '../../msgs/index.js';
import { groundToPixel, intrinsicsFromFov, pixelToGround, type CameraIntrinsics, type CameraPose, type Vec2 } from '../../lib/geo/geometry.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { msToTime, timeToMs } from '../../runtime/time.js';
import { poseFromVehicle, regionsContaining, regionsFromParams, type PoseLookup } from './camera.js';
import { MultiTracker, type TrackerDetection, type TrackView } from './tracker.js';

/** Detection2DArray → tracker input; the best hypothesis of each detection is its class. */
export function detectionsFromMsg(msg: vision_msgs.Detection2DArray): { dets: TrackerDetection[]; dropped: number } {
  const dets: TrackerDetection[] = [];
  let dropped = 0;
  for (const d of msg.detections) {
    const best = d.results.reduce<vision_msgs.ObjectHypothesisWithPose | undefined>((a, r) => (!a || r.hypothesis.score > a.hypothesis.score ? r : a), undefined);
    const { x, y } = d.bbox.center.position;
    const w = d.bbox.size_x;
    const h = d.bbox.size_y;
    if (!best || ![x, y, w, h, best.hypothesis.score].every(Number.isFinite) || w <= 0 || h <= 0) {
      dropped++;
      continue;
    }
    dets.push({ x1: x - w / 2, y1: y - h / 2, x2: x + w / 2, y2: y + h / 2, score: best.hypothesis.score, classId: best.hypothesis.class_id });
  }
  return { dets, dropped };
}

export const tracker = defineNode({
  name: 'tracker',
  description: 'Multi-object tracking (ByteTrack-style IoU + Kalman) with ground positions, velocities and region membership',
  params: {
    track_high_thresh: p.double(0.5, 'Detections at or above this score are matched first and may start tracks', { min: 0, max: 1 }),
    track_low_thresh: p.double(0.1, 'Detections below this score are ignored; between low and high they only extend tracks', { min: 0, max: 1 }),
    new_track_thresh: p.double(0.6, 'Minimum score of a detection that starts a new track', { min: 0, max: 1 }),
    match_iou: p.double(0.2, 'Minimum buffered IoU between a predicted track box and a high-score detection', { min: 0, max: 1 }),
    low_match_iou: p.double(0.4, 'Minimum IoU for matching a low-score detection', { min: 0, max: 1 }),
    iou_buffer: p.double(0.3, 'Box sides grow by this fraction before IoU, so small fast objects still overlap between frames', { min: 0, max: 5 }),
    min_hits: p.int(2, 'Matches before a track is confirmed and published', { min: 1 }),
    low_start_hits: p.int(0, 'Confirmation by persistence: an unmatched detection between track_low_thresh and new_track_thresh starts a tentative track, confirmed after this many consecutive matches (0 = off: only detections >= new_track_thresh start tracks)', { min: 0 }),
    low_start_min_mean: p.double(0, 'Confirmation by persistence also needs the mean score of those matches to reach this', { min: 0, max: 1 }),
    low_start_min_mean_class: p.group('double', 'Per-class low_start_min_mean, `low_start_min_mean_class.<class>: 0.2`'),
    max_misses: p.int(30, 'Frames a confirmed track survives without a match (coasting on its prediction)', { min: 0 }),
    publish_coasting: p.int(5, 'Publish coasting tracks for up to this many missed frames (0 = matched tracks only)', { min: 0 }),
    match_class: p.bool(true, 'Only match detections to tracks of the same class; false: class-agnostic association, each track reports its majority class (score-weighted votes)'),
    class_decay: p.double(0.9, 'match_class false: weight old class votes keep at each match', { min: 0, max: 1 }),
    world_frame: p.string('map', 'frame_id of /tracks when ground positions are valid (local ENU)'),
    'camera.width': p.int(320, 'Image width the detections refer to, pixels', { min: 1 }),
    'camera.height': p.int(240, 'Image height, pixels', { min: 1 }),
    'camera.hfov_deg': p.double(60, 'Horizontal field of view, degrees', { min: 1, max: 179 }),
    'camera.pose_source': p.string('vehicle_state', "'vehicle_state': nadir camera at the /fc/state pose; 'fixed': the camera.x/y/altitude/yaw_deg params; 'none': image space only", ['vehicle_state', 'fixed', 'none']),
    'camera.x': p.double(0, 'Fixed camera position east, metres (pose_source fixed)'),
    'camera.y': p.double(0, 'Fixed camera position north, metres'),
    'camera.altitude': p.double(10, 'Fixed camera height above the ground, metres', { min: 0.1 }),
    'camera.yaw_deg': p.double(90, 'Fixed camera yaw, ENU degrees (0 = top of image faces east, 90 = north)'),
    'camera.max_state_age_ms': p.double(500, 'Largest gap between a frame stamp and the /fc/state stamp used for it', { min: 0 }),
    regions: p.group('double[]', 'Named ground polygons, `regions.<name>: [x0, y0, x1, y1, ...]` in local ENU metres'),
  },
  subscribes: [
    topicDoc('/detections', 'Detections in image pixels'),
    topicDoc('/fc/state', 'Vehicle pose for the nadir camera (pose_source vehicle_state)'),
  ],
  publishes: [topicDoc('/tracks', 'Confirmed tracks; header.stamp = the source image stamp')],

  create(ctx, params) {
    const regions = regionsFromParams(params.regions);
    const k: CameraIntrinsics = intrinsicsFromFov(params['camera.width'], params['camera.height'], (params['camera.hfov_deg'] * Math.PI) / 180);
    const source = params['camera.pose_source'];
    const fixedPose: CameraPose = { x: params['camera.x'], y: params['camera.y'], altitude: params['camera.altitude'], yaw: (params['camera.yaw_deg'] * Math.PI) / 180 };
    const mt = new MultiTracker({
      highThreshold: params.track_high_thresh,
      lowThreshold: params.track_low_thresh,
      newTrackThreshold: params.new_track_thresh,
      matchIou: params.match_iou,
      lowMatchIou: params.low_match_iou,
      iouBuffer: params.iou_buffer,
      minHits: params.min_hits,
      lowStartHits: params.low_start_hits,
      lowStartMinMean: params.low_start_min_mean,
      lowStartMinMeanByClass: params.low_start_min_mean_class,
      maxMisses: params.max_misses,
      matchClass: params.match_class,
      classDecay: params.class_decay,
    });
    const diag = ctx.diag;
    const stage = diag.stage('track');
    diag.values.regions = regions.map((r) => r.name).join(',');
    const counts = new Map<string, number>();
    const count = (key: string, n = 1): void => {
      if (n <= 0) return;
      const v = (counts.get(key) ?? 0) + n;
      counts.set(key, v);
      diag.values[key] = String(v);
    };
    const pub = ctx.advertise('/tracks');

    const lookup = (state: kestrel_msgs.VehicleState | undefined, tMs: number): PoseLookup | undefined => {
      if (source === 'none') return undefined;
      if (source === 'fixed') return { pose: fixedPose };
      return poseFromVehicle(state, tMs, params['camera.max_state_age_ms']);
    };

    const toMsg = (t: TrackView, grounded: boolean): kestrel_msgs.Track =>
      makeMsg('kestrel_msgs/msg/Track', {
        id: t.id,
        class_id: t.classId,
        score: t.score,
        bbox: { center: { position: { x: (t.box.x1 + t.box.x2) / 2, y: (t.box.y1 + t.box.y2) / 2 }, theta: 0 }, size_x: t.box.x2 - t.box.x1, size_y: t.box.y2 - t.box.y1 },
        position: grounded && t.position ? { x: t.position.x, y: t.position.y, z: 0 } : { x: 0, y: 0, z: 0 },
        velocity: grounded && t.velocity ? { x: t.velocity.x, y: t.velocity.y, z: 0 } : { x: 0, y: 0, z: 0 },
        regions: grounded && t.position ? regionsContaining(t.position, regions) : [],
        first_seen: msToTime(t.firstSeenMs),
        hits: t.hits,
        misses: t.misses,
      });

    const handle = (msg: vision_msgs.Detection2DArray, state: kestrel_msgs.VehicleState | undefined): void => {
      const t0 = ctx.clock.now();
      const tMs = timeToMs(msg.header.stamp);
      const { dets, dropped } = detectionsFromMsg(msg);
      count('dropped.invalid_detection', dropped);
      const look = lookup(state, tMs);
      const pose = look && 'pose' in look ? look.pose : undefined;
      if (look && 'missing' in look) count(`pose_missing.${look.missing}`);
      const toGround = pose ? (u: number, v: number) => pixelToGround(u, v, k, pose) : undefined;
      // With a pose for this frame and the last, boxes follow the camera's motion (tracker.ts).
      const toPixel = pose ? (g: Vec2) => groundToPixel(g, k, pose) : undefined;
      let views: TrackView[];
      try {
        views = mt.step(dets, tMs, toGround, toPixel);
      } catch (e) {
        // A stamp going back (bag loop, sim reset): start over rather than mix timelines.
        stage.error(e);
        count('resets.time_jump');
        mt.reset();
        views = mt.step(dets, tMs, toGround, toPixel);
      }
      const grounded = pose !== undefined;
      const out = views.filter((v) => v.misses <= params.publish_coasting);
      pub.publish(
        makeMsg('kestrel_msgs/msg/TrackArray', {
          header: ctx.header(msg.header.stamp, grounded ? params.world_frame : msg.header.frame_id),
          tracks: out.map((v) => toMsg(v, grounded)),
        }),
      );
      diag.values.tracks = String(out.length);
      stage.record(ctx.clock.now() - t0);
    };

    return {
      activate(): Subscription {
        const dets = ctx.subscribe('/detections');
        if (source !== 'vehicle_state') return dets.subscribe((m) => handle(m, undefined));
        const state = ctx.subscribe('/fc/state').pipe(
          map((s): kestrel_msgs.VehicleState | undefined => s),
          startWith(undefined),
        );
        // Each detection frame uses the newest state at its arrival; state alone triggers nothing.
        return dets.pipe(withLatestFrom(state)).subscribe(([m, s]) => handle(m, s));
      },
    };
  },
});
