/**
 * simulator: runs a scenario (sim/scenarios/*.yaml) on the node's clock and publishes what a
 * drone's sensors would: camera frames with ground-truth labels, IMU, GPS, the scenario's
 * ground-truth events, and the operator's intent text at start.
 *
 * One fixed-rate tick (imu.rate_hz) steps the world, wind, battery events and the vehicle;
 * GPS and camera messages go out on the ticks where they are due. Under SimClock the run is
 * deterministic. The camera rides on a ScriptedVehicle flying the scenario's mission, or on
 * a vehicle handed to `makeSimulatorNode` (sim/fc's SimVehicle, stepped by its flight controller).
 */
import type { Subscription } from 'rxjs';
import { makeMsg, type kestrel_msgs, type sensor_msgs } from '../../msgs/index.js';
import { every } from '../../runtime/clock.js';
import { defineNode, type NodeContext, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { qos, QOS_LATCHED } from '../../runtime/qos.js';
import type { Time } from '../../runtime/time.js';
import type { VehicleEffects, VehiclePoseSource, VehicleTruth } from '../../sim/mission.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';
import { enuToLatLon } from '../../sim/sensors.js';
import { Simulator, type SimulatorOptions, type TickOutput } from '../../sim/simulator.js';
import { SimFlightController, startPtyPair, type PtyPair, type SimLinkSpec, type SimVehicle } from '../../sim/fc/index.js';
import { simVehicleFor } from '../../sim/params.js';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SimulatorNodeOptions {
  /** Camera carrier; default: a ScriptedVehicle flying the scenario mission. */
  vehicle?: VehiclePoseSource & VehicleEffects;
  /** Called with the simulator once configured (tests, eval: to read ground truth directly). */
  onSimulator?: (sim: Simulator) => void;
}

const params = {
  scenario: p.string('passport-queue', 'Scenario name (sim/scenarios/<name>.yaml) or path to a scenario file'),
  seed: p.int(-1, "Random seed of the world, noise and frames; -1 = the scenario's seed", { min: -1 }),
  control: p.bool(false, "Run the scenario's control variant (its control: patch), in which no alert should fire"),
  duration_s: p.double(0, "Seconds of scenario to run, then stop publishing; 0 = the scenario's duration", { min: 0 }),
  'camera.rate_hz': p.double(0, "Camera frame rate; 0 = the scenario's", { min: 0, max: 60 }),
  'camera.width': p.int(0, "Image width, pixels; 0 = the scenario's", { min: 0, max: 4096 }),
  'camera.height': p.int(0, "Image height, pixels; 0 = the scenario's", { min: 0, max: 4096 }),
  'camera.hfov_deg': p.double(0, "Horizontal field of view, degrees; 0 = the scenario's", { min: 0, max: 150 }),
  'camera.frame_id': p.string('camera', 'frame_id of /camera/image_raw and /camera/labels'),
  'imu.rate_hz': p.double(50, 'IMU rate, which is also the world step rate', { min: 1, max: 1000 }),
  'imu.frame_id': p.string('base_link', 'frame_id of /imu/data'),
  'gps.rate_hz': p.double(5, 'GPS fix rate', { min: 0.1, max: 100 }),
  'gps.frame_id': p.string('gps', 'frame_id of /gps/fix'),
  publish_labels: p.bool(true, 'Publish ground-truth labels on /camera/labels'),
  publish_images: p.bool(true, 'Render and publish /camera/image_raw; false: labels only (perfect-perception runs, much faster)'),
  publish_vehicle_state: p.bool(false, 'Publish /fc/state and /battery from the simulated vehicle (when no MAVLink bridge does)'),
  'fc.link': p.string('none', "Simulated flight controller (PX4/ArduPilot over MAVLink) carrying the camera: none (scripted mission, no FC), memory (in-process wire `fc.port`), serial (a socat pty pair; the bridge opens `fc.port`), udp (FC on 127.0.0.1:`fc.udp_port`)", ['none', 'memory', 'serial', 'udp']),
  'fc.port': p.string('kestrel-sim-fc', 'memory: wire name; serial: path of the bridge end of the pty pair (e.g. /tmp/kestrel/ttyFC)'),
  'fc.udp_port': p.int(14580, 'udp: port the simulated FC listens on', { min: 1, max: 65535 }),
  'fc.udp_gcs_port': p.int(14550, 'udp: ground-station port the FC speaks to unsolicited, like PX4 SITL (QGroundControl listens here); 0 = off', { min: 0, max: 65535 }),
  'fc.udp_api_port': p.int(14540, 'udp: offboard/API port the FC speaks to unsolicited (MAVSDK udpin://0.0.0.0:14540, mavros); 0 = off', { min: 0, max: 65535 }),
  'fc.autopilot': p.string('px4', 'Flight-controller flavour (modes, takeoff semantics)', ['px4', 'ardupilot']),
};

function vehicleStateMsg(scn: Scenario, v: VehicleTruth, stamp: Time): kestrel_msgs.VehicleState {
  const g = enuToLatLon(scn.origin, v.x, v.y, v.z);
  return makeMsg('kestrel_msgs/msg/VehicleState', {
    header: { stamp, frame_id: 'map' },
    connected: true,
    armed: v.armed,
    mode: v.mode,
    autopilot: 'sim',
    position: { x: v.x, y: v.y, z: v.z },
    velocity: { x: v.vx, y: v.vy, z: v.vz },
    latitude: g.lat,
    longitude: g.lon,
    altitude_amsl: g.alt,
    heading: v.yaw,
    battery_voltage: v.battery_voltage,
    battery_remaining: v.battery_remaining,
  });
}

function batteryMsg(v: VehicleTruth, stamp: Time): sensor_msgs.BatteryState {
  return makeMsg('sensor_msgs/msg/BatteryState', {
    header: { stamp, frame_id: 'base_link' },
    voltage: v.battery_voltage,
    percentage: v.battery_remaining,
    present: true,
    // sensor_msgs/BatteryState: DISCHARGING = 2, GOOD = 1, LIPO = 3; unknowns as NaN per its docs.
    power_supply_status: 2,
    power_supply_health: 1,
    power_supply_technology: 3,
    temperature: Number.NaN,
    current: Number.NaN,
    charge: Number.NaN,
    capacity: Number.NaN,
    design_capacity: Number.NaN,
  });
}

/** The simulator node definition; `makeSimulatorNode({ vehicle })` rides the camera on a given vehicle. */
export function makeSimulatorNode(nodeOpts: SimulatorNodeOptions = {}) {
  return defineNode({
    name: 'simulator',
    description: 'Scenario simulator: world, drone camera with ground-truth labels, IMU, GPS, wind, battery events, ground-truth events, intent',
    params,
    publishes: [
      topicDoc('/camera/image_raw', 'rgb8 frames of the nadir camera'),
      topicDoc('/camera/labels', 'Ground-truth boxes and ids, same stamp as the frame', (p) => p.publish_labels === true),
      topicDoc('/imu/data', 'IMU (FLU body frame, ENU orientation) with noise and bias'),
      topicDoc('/gps/fix', 'GPS fix from the local ENU origin, with wandering error'),
      topicDoc('/sim/events', 'Ground-truth event states on change (all at start), latched'),
      topicDoc('/intent', "The scenario's operator intent, latched, at start"),
      topicDoc('/fc/state', 'Vehicle state (only with publish_vehicle_state)', (p) => p.publish_vehicle_state === true),
      topicDoc('/battery', 'Battery (only with publish_vehicle_state)', (p) => p.publish_vehicle_state === true),
    ],

    async create(ctx: NodeContext, prm) {
      const diag = ctx.diag;
      // Bad scenario files fail configure with file:line, before anything is published.
      const scenario = loadScenario(prm.scenario, { control: prm.control });
      const cam: Partial<Scenario['camera']> = {};
      if (prm['camera.rate_hz'] > 0) cam.rate_hz = prm['camera.rate_hz'];
      if (prm['camera.width'] > 0) cam.width = prm['camera.width'];
      if (prm['camera.height'] > 0) cam.height = prm['camera.height'];
      if (prm['camera.hfov_deg'] > 0) cam.hfov_deg = prm['camera.hfov_deg'];
      const simOpts: SimulatorOptions = {
        clock: ctx.clock,
        camera: cam,
        imu_rate_hz: prm['imu.rate_hz'],
        gps_rate_hz: prm['gps.rate_hz'],
        frames: { camera: prm['camera.frame_id'], imu: prm['imu.frame_id'], gps: prm['gps.frame_id'] },
        ...(prm.seed >= 0 ? { seed: prm.seed } : {}),
        ...(prm.publish_images ? {} : { render: 'labels' as const }),
        ...(nodeOpts.vehicle ? { vehicle: nodeOpts.vehicle } : {}),
      };
      // The flight controller flies the vehicle the camera rides on; the MAVLink bridge (another
      // node) talks to it over the chosen link, exactly as it would to a real PX4/ArduPilot.
      let fcStop: (() => Promise<void>) | undefined;
      if (!nodeOpts.vehicle && prm['fc.link'] !== 'none') {
        // On the FC path the vehicle starts on the ground: the mission arms and takes off through MAVLink.
        const vehicle = simVehicleFor(scenario, { start: { ...scenario.vehicle.start, z: 0 } });
        const fc = await startFlightController(ctx, vehicle, prm['fc.link'] as 'memory' | 'serial' | 'udp', prm['fc.port'], { port: prm['fc.udp_port'], gcsPort: prm['fc.udp_gcs_port'], apiPort: prm['fc.udp_api_port'] }, prm['fc.autopilot'] as 'px4' | 'ardupilot');
        fcStop = fc;
        simOpts.vehicle = vehicle;
        diag.values.fc_link = prm['fc.link'];
      }
      const sim = new Simulator(scenario, simOpts);
      nodeOpts.onSimulator?.(sim);
      const durationS = prm.duration_s > 0 ? prm.duration_s : scenario.duration_s;

      const image = ctx.advertise('/camera/image_raw');
      const labels = prm.publish_labels ? ctx.advertise('/camera/labels') : undefined;
      const imu = ctx.advertise('/imu/data');
      const gps = ctx.advertise('/gps/fix');
      // Latched with room for every event, so a late joiner learns the state of each.
      const events = ctx.advertise('/sim/events', qos({ depth: Math.max(1, scenario.events.length) }, QOS_LATCHED));
      const intent = ctx.advertise('/intent');
      const state = prm.publish_vehicle_state ? ctx.advertise('/fc/state') : undefined;
      const battery = prm.publish_vehicle_state ? ctx.advertise('/battery') : undefined;

      const tickStage = diag.stage('tick');
      diag.values.scenario = `${scenario.name}${scenario.control ? ' (control)' : ''}`;
      diag.values.source = scenario.source;
      let timer: Subscription | undefined;
      let ticksSinceState = 0;
      const statePeriod = Math.max(1, Math.round(prm['imu.rate_hz'] / 10));

      const report = (): void => {
        const s = sim.stats;
        diag.values.t_s = sim.t.toFixed(2);
        diag.values.frames = String(s.frames);
        diag.values.frames_skipped_low_altitude = String(s.frames_skipped_low);
        diag.values.frames_skipped_behind = String(s.frames_skipped_behind);
        diag.values.frames_bad_pose = String(s.frames_bad_pose);
        diag.values.event_changes = String(s.event_changes);
        diag.values.script_warnings = String(sim.world.warnings.length);
        if (sim.world.warnings.length > 0) diag.set('warn', `scenario script: ${sim.world.warnings[sim.world.warnings.length - 1]}`);
      };

      const publishTick = (out: TickOutput): void => {
        if (out.image) image.publish(out.image);
        if (out.labels) labels?.publish(out.labels);
        if (out.imu) imu.publish(out.imu);
        if (out.gps) gps.publish(out.gps);
        for (const e of out.events) events.publish(e);
        if (state && ++ticksSinceState >= statePeriod) {
          ticksSinceState = 0;
          const truth = sim.truth();
          const stamp = ctx.clock.stamp();
          state.publish(vehicleStateMsg(scenario, truth, stamp));
          battery?.publish(batteryMsg(truth, stamp));
        }
        if (out.labels) report();
      };

      let startMs = 0;
      let ticksDone = 0;
      const onTick = (): void => {
        // Ticks due by the clock: exactly one per timer under SimClock; under a busy live
        // clock, late timers catch up so scenario time keeps pace, rendering only the last frame.
        const due = Math.floor((ctx.clock.now() - startMs) / sim.tickMs + 1e-6);
        while (ticksDone < due) {
          if (sim.t >= durationS - 1e-9) {
            timer?.unsubscribe();
            timer = undefined;
            report();
            if (diag.level === 'ok') diag.set('ok', `scenario ${scenario.name} complete at ${sim.t.toFixed(1)} s`);
            ctx.log.info(`scenario ${scenario.name}${scenario.control ? ' (control)' : ''} complete at t=${sim.t.toFixed(1)} s, ${sim.stats.frames} frames`);
            return;
          }
          ticksDone++;
          try {
            publishTick(sim.tick({ skipCamera: ticksDone < due }));
          } catch (e) {
            // A bad tick (e.g. a vehicle reporting nonsense) is counted and reported; the clock goes on.
            tickStage.error(e);
            diag.set('error', `tick at t=${sim.t.toFixed(2)} s failed: ${(e as Error).message}`);
          }
        }
      };

      return {
        activate() {
          intent.publish(sim.intent());
          ctx.log.info(`scenario ${scenario.name}${scenario.control ? ' (control)' : ''} from ${scenario.source}: ${durationS} s, seed ${prm.seed >= 0 ? prm.seed : scenario.seed}`);
          startMs = ctx.clock.now();
          ticksDone = 0;
          timer = every(ctx.clock, sim.tickMs).subscribe(onTick);
          return timer;
        },
        deactivate() {
          timer = undefined;
        },
        async shutdown() {
          await fcStop?.();
        },
      };
    },
  });
}

/** Starts the simulated FC on `vehicle`; resolves to its stop function. */
async function startFlightController(ctx: NodeContext, vehicle: SimVehicle, link: 'memory' | 'serial' | 'udp', port: string, udp: { port: number; gcsPort: number; apiPort: number }, autopilot: 'px4' | 'ardupilot'): Promise<() => Promise<void>> {
  const udpPort = udp.port;
  let pty: PtyPair | undefined;
  let spec: SimLinkSpec;
  if (link === 'serial') {
    mkdirSync(dirname(port), { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-fc-'));
    pty = await startPtyPair({ a: join(dir, 'fc'), b: port, dir });
    spec = { kind: 'serial', path: pty.a, baudRate: 921600 };
  } else if (link === 'udp') {
    spec = { kind: 'udp', port: udpPort, gcsPort: udp.gcsPort, apiPort: udp.apiPort };
  } else {
    spec = { kind: 'memory', name: port };
  }
  const fc = new SimFlightController({ vehicle, clock: ctx.clock, link: spec, autopilot });
  try {
    await fc.start();
  } catch (e) {
    await pty?.close();
    throw e;
  }
  ctx.log.info(`simulated ${autopilot} flight controller on ${link === 'serial' ? `pty (bridge end ${port})` : link === 'udp' ? `udp 127.0.0.1:${udpPort} (speaking to ${[udp.gcsPort, udp.apiPort].filter((x) => x > 0).join(', ') || 'whoever sends'})` : `memory wire '${port}'`}`);
  return async () => {
    await fc.stop();
    await pty?.close();
  };
}

export const simulatorNode = makeSimulatorNode();
