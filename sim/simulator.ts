/**
 * A scenario run without the node machinery: world, vehicle (scripted, or any pose source
 * such as sim/fc's SimVehicle), wind, battery events, camera, IMU and GPS, advanced in
 * fixed ticks. `tick()` returns the messages due at that tick; the simulator node publishes
 * them, and tests or `kestrel eval` can call it directly. Deterministic: the same scenario,
 * seed and options give the same messages (stamps come from `clock` when given, else from
 * scenario time).
 */
import { makeMsg, type kestrel_msgs, type sensor_msgs, type std_msgs } from '../msgs/index.js';
import type { Clock } from '../runtime/clock.js';
import { intrinsicsFromFov, type CameraIntrinsics, type CameraPose } from '../lib/geo/geometry.js';
import { msToTime, type Time } from '../runtime/time.js';
import { FixedPoseSource, ScriptedVehicle, type VehicleEffects, type VehiclePoseSource, type VehicleTruth } from './mission.js';
import { labelObjects, renderFrame, type Background, type RenderOptions } from './render.js';
import { hash3, subSeed } from './rng.js';
import { loadScenario, type Scenario } from './scenario.js';
import { GpsModel, ImuModel, WindModel, type KinematicState } from './sensors.js';
import { World, type EventState } from './world.js';

export type { VehiclePoseSource, VehicleTruth } from './mission.js';

export interface SimulatorOptions {
  /** Stamps messages with this clock's time; without one, stamps are scenario time from `epochMs`. */
  clock?: Clock;
  epochMs?: number;
  /** Where the camera rides; default: a ScriptedVehicle flying the scenario's mission. Stepped here only if it is ours. */
  vehicle?: VehiclePoseSource & VehicleEffects;
  /** Overrides the scenario seed. */
  seed?: number;
  /** Apply the scenario's control patch (when loading by name). */
  control?: boolean;
  camera?: Partial<Scenario['camera']>;
  /** Sets the tick (world step), default 50 Hz. */
  imu_rate_hz?: number;
  gps_rate_hz?: number;
  /** false: no camera output (world, vehicle and events only); 'labels': labels at the camera rate but no image (perfect-perception runs). */
  render?: boolean | 'labels';
  /** Frame ids for the headers. */
  frames?: { camera?: string; imu?: string; gps?: string };
}

export interface TickOutput {
  /** Scenario time of this tick, s. */
  t: number;
  image?: sensor_msgs.Image;
  labels?: kestrel_msgs.LabelArray;
  imu?: sensor_msgs.Imu;
  gps?: sensor_msgs.NavSatFix;
  /** Ground-truth events whose state changed (all of them on the first tick). */
  events: kestrel_msgs.ScenarioEvent[];
}

export interface SimulatorStats {
  frames: number;
  /** Frames not rendered because the camera was too close to the ground (landed, taking off). */
  frames_skipped_low: number;
  /** Frames not rendered because the vehicle reported a non-finite pose. */
  frames_bad_pose: number;
  /** Frames not rendered because a live run fell behind the clock and caught up. */
  frames_skipped_behind: number;
  imu: number;
  gps: number;
  event_changes: number;
}

/** Lowest altitude the camera renders from; below it frames are skipped and counted. */
export const MIN_CAMERA_ALTITUDE_M = 1;
/** Height of the camera above the ground when the vehicle stands on it. */
export const CAMERA_MOUNT_HEIGHT_M = 1;

export class Simulator {
  readonly scenario: Scenario;
  readonly world: World;
  readonly k: CameraIntrinsics;
  readonly camera: Scenario['camera'];
  readonly tickMs: number;
  readonly stats: SimulatorStats = { frames: 0, frames_skipped_low: 0, frames_bad_pose: 0, frames_skipped_behind: 0, imu: 0, gps: 0, event_changes: 0 };
  private readonly vehicle: VehiclePoseSource & VehicleEffects;
  private readonly scripted: ScriptedVehicle | undefined;
  private readonly wind: WindModel;
  private readonly imuModel: ImuModel;
  private readonly gpsModel: GpsModel;
  private readonly background: Background;
  private readonly render: Omit<RenderOptions, 'seed'>;
  private readonly seed: number;
  private readonly frames: { camera: string; imu: string; gps: string };
  private ticks = 0;
  private nextCamMs = 0;
  private nextGpsMs = 0;
  private lastGpsMs = 0;
  private readonly gpsPeriodMs: number;
  private readonly camPeriodMs: number;
  private batteryIdx = 0;
  private lastEvents = new Map<string, EventState>();

  constructor(scenario: Scenario, private readonly opts: SimulatorOptions = {}) {
    this.scenario = scenario;
    this.seed = opts.seed ?? scenario.seed;
    this.world = new World(scenario, this.seed);
    this.camera = { ...scenario.camera, ...(opts.camera ?? {}) };
    this.k = intrinsicsFromFov(this.camera.width, this.camera.height, (this.camera.hfov_deg * Math.PI) / 180);
    const imuHz = opts.imu_rate_hz ?? 50;
    if (!(imuHz > 0 && imuHz <= 1000)) throw new RangeError(`Simulator: imu_rate_hz must be in (0, 1000], got ${imuHz}`);
    this.tickMs = 1000 / imuHz;
    this.camPeriodMs = 1000 / this.camera.rate_hz;
    this.gpsPeriodMs = 1000 / (opts.gps_rate_hz ?? 5);
    // The first frame and fix come on the first tick, then one every period.
    this.nextCamMs = this.tickMs;
    this.nextGpsMs = this.tickMs;
    this.frames = { camera: 'camera', imu: 'base_link', gps: 'gps', ...(opts.frames ?? {}) };
    if (opts.vehicle) {
      this.vehicle = opts.vehicle;
    } else {
      this.scripted = new ScriptedVehicle({ start: scenario.vehicle.start, mission: scenario.vehicle.mission, battery: scenario.vehicle.battery, drain_per_s: scenario.vehicle.drain_per_s });
      this.vehicle = this.scripted;
    }
    this.wind = new WindModel(scenario.wind, subSeed(this.seed, 'wind'));
    this.imuModel = new ImuModel(subSeed(this.seed, 'imu'));
    this.gpsModel = new GpsModel(scenario.origin, subSeed(this.seed, 'gps'));
    this.background = backgroundOf(scenario);
    this.render = { background: this.background, sun_yaw: (subSeed(this.seed, 'sun') / 4294967296) * 2 * Math.PI, shadow_len: 0.45, noise: 3 };
  }

  /** Scenario time, seconds. */
  get t(): number {
    return this.world.t;
  }

  get done(): boolean {
    return this.world.t >= this.scenario.duration_s - 1e-9;
  }

  truth(): VehicleTruth {
    return this.vehicle.truth();
  }

  cameraPose(): CameraPose {
    const v = this.vehicle.truth();
    return { x: v.x, y: v.y, altitude: v.z, yaw: v.yaw };
  }

  private stamp(): Time {
    return this.opts.clock ? this.opts.clock.stamp() : msToTime((this.opts.epochMs ?? 0) + this.world.t * 1000);
  }

  private header(frame: string, stamp: Time): std_msgs.Header {
    return makeMsg('std_msgs/msg/Header', { stamp, frame_id: frame });
  }

  /** The operator's intent text, for /intent. */
  intent(): std_msgs.String {
    return makeMsg('std_msgs/msg/String', { data: this.scenario.intent });
  }

  /**
   * Advances one tick (tickMs): world, wind, battery events, vehicle; returns the messages due now.
   * `skipCamera`: a frame due now is not rendered but counted (a live run catching up on late timers).
   */
  tick(o: { skipCamera?: boolean } = {}): TickOutput {
    const dt = this.tickMs / 1000;
    const first = this.ticks === 0;
    this.ticks++;
    this.world.step(dt);
    this.wind.step(dt);
    this.vehicle.setWind?.(this.wind.at(this.world.t));
    const be = this.scenario.battery_events;
    while (this.batteryIdx < be.length && be[this.batteryIdx].at_s <= this.world.t + 1e-9) {
      this.vehicle.setBatteryRemaining?.(be[this.batteryIdx].remaining);
      this.batteryIdx++;
    }
    this.scripted?.step(dt);
    const stamp = this.stamp();
    const truth = this.vehicle.truth();
    const kin: KinematicState = truth;
    const out: TickOutput = { t: this.world.t, events: [], imu: this.imuModel.sample(kin, dt, this.header(this.frames.imu, stamp)) };
    this.stats.imu++;
    const nowMs = this.ticks * this.tickMs;
    if (nowMs >= this.nextGpsMs - 1e-6) {
      out.gps = this.gpsModel.sample(kin, (nowMs - this.lastGpsMs) / 1000, this.header(this.frames.gps, stamp));
      this.lastGpsMs = nowMs;
      this.nextGpsMs += this.gpsPeriodMs;
      this.stats.gps++;
    }
    if (this.opts.render !== false && nowMs >= this.nextCamMs - 1e-6) {
      this.nextCamMs += this.camPeriodMs;
      if (o.skipCamera) this.stats.frames_skipped_behind++;
      else if (this.opts.render === 'labels') {
        out.labels = this.labelsNow(stamp);
        if (out.labels) this.stats.frames++;
      }
      else {
        const frame = this.renderNow(stamp);
        if (frame) {
          out.image = frame.image;
          out.labels = frame.labels;
        }
      }
    }
    for (const e of this.world.events(truth)) {
      const prev = this.lastEvents.get(e.name);
      if (first || !prev || prev.active !== e.active) {
        out.events.push(makeMsg('kestrel_msgs/msg/ScenarioEvent', { header: this.header('map', stamp), name: e.name, active: e.active, detail: e.detail }));
        if (!first) this.stats.event_changes++;
      }
      this.lastEvents.set(e.name, e);
    }
    return out;
  }

  /**
   * A camera never sees from below its mount: a drone standing on the ground (z = 0) still
   * streams frames, seen from the mount height, as a real camera would before take-off.
   */
  private groundedCameraPose(): ReturnType<Simulator['cameraPose']> {
    const pose = this.cameraPose();
    return pose.altitude >= 0 && pose.altitude < CAMERA_MOUNT_HEIGHT_M ? { ...pose, altitude: CAMERA_MOUNT_HEIGHT_M } : pose;
  }

  /** Renders the camera at the current state (undefined, and counted, when too low to render). */
  renderNow(stamp: Time = this.stamp()): { image: sensor_msgs.Image; labels: kestrel_msgs.LabelArray } | undefined {
    const pose = this.groundedCameraPose();
    if (![pose.x, pose.y, pose.altitude, pose.yaw].every(Number.isFinite)) {
      this.stats.frames_bad_pose++;
      return undefined;
    }
    if (!(pose.altitude >= MIN_CAMERA_ALTITUDE_M)) {
      this.stats.frames_skipped_low++;
      return undefined;
    }
    const n = this.stats.frames++;
    const header = this.header(this.frames.camera, stamp);
    const f = renderFrame(this.world.objects(), this.k, pose, { ...this.render, seed: hash3(this.seed, n, 0xca3) });
    return {
      image: makeMsg('sensor_msgs/msg/Image', { header, height: f.height, width: f.width, encoding: 'rgb8', is_bigendian: 0, step: f.width * 3, data: f.data }),
      labels: makeMsg('kestrel_msgs/msg/LabelArray', { header: { ...header }, labels: f.labels }),
    };
  }

  /** Ground-truth labels of the camera view now, without rendering (undefined when the camera cannot see). */
  labelsNow(stamp: Time = this.stamp()): kestrel_msgs.LabelArray | undefined {
    const pose = this.groundedCameraPose();
    if (![pose.x, pose.y, pose.altitude, pose.yaw].every(Number.isFinite) || !(pose.altitude >= MIN_CAMERA_ALTITUDE_M)) return undefined;
    return makeMsg('kestrel_msgs/msg/LabelArray', { header: this.header(this.frames.camera, stamp), labels: labelObjects(this.world.objects(), this.k, pose) });
  }

  /** Current ground-truth event states. */
  events(): EventState[] {
    return this.world.events(this.vehicle.truth());
  }
}

/** The ground the camera sees: material, region paint, lines and clutter from the scenario. */
export function backgroundOf(s: Scenario): Background {
  return {
    seed: s.ground.seed,
    material: s.ground.material,
    tile_yaw: s.ground.tile_yaw,
    ...(s.ground.tile_m !== undefined ? { tile_m: s.ground.tile_m } : {}),
    ...(s.ground.base ? { base: s.ground.base } : {}),
    paints: s.regions.filter((r) => r.paint).map((r) => ({ polygon: r.polygon, ...(r.paint as NonNullable<typeof r.paint>) })),
    lines: s.lines,
    clutter: s.clutter,
  };
}

/** Builds a simulator from a loaded scenario or a scenario name/path. */
export function createSimulator(scenario: Scenario | string, opts: SimulatorOptions = {}): Simulator {
  const s = typeof scenario === 'string' ? loadScenario(scenario, { control: opts.control }) : scenario;
  return new Simulator(s, opts);
}

export { FixedPoseSource, ScriptedVehicle };
