import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { timeToMs } from '../runtime/time.js';
import { absoluteWindow, describeWindow, listScenarios, loadScenario, parseScenarioText, regionParams, ScenarioError } from './scenario.js';
import { createSimulator, FixedPoseSource } from './simulator.js';
import { GpsModel, ImuModel, WindModel } from './sensors.js';
import { makeMsg } from '../msgs/index.js';
import { simVehicleFor } from './params.js';

interface Episode {
  name: string;
  on: number;
  off?: number;
}

/** Runs a scenario world-only (no camera) and returns its ground-truth episodes. */
function groundTruth(name: string, control: boolean): { episodes: Episode[]; digest: string } {
  const sim = createSimulator(name, { control, render: false });
  const episodes: Episode[] = [];
  const hash = createHash('sha256');
  while (!sim.done) {
    const out = sim.tick();
    for (const e of out.events) {
      if (e.active) episodes.push({ name: e.name, on: out.t });
      else {
        const open = episodes.find((x) => x.name === e.name && x.off === undefined);
        if (open) open.off = out.t;
      }
    }
    if (Math.round(out.t * 50) % 50 === 0) hash.update(JSON.stringify([sim.world.objects(), sim.truth(), out.gps?.latitude]));
  }
  return { episodes, digest: hash.digest('hex') };
}

describe('scenarios (world only)', () => {
  it('ships the three reference scenarios', () => {
    expect(listScenarios()).toEqual(['passport-queue', 'stranded-bag', 'perimeter-patrol']);
  });

  for (const name of ['passport-queue', 'stranded-bag', 'perimeter-patrol']) {
    it(`${name}: each expected event starts inside its alert window; the control run raises none`, () => {
      const s = loadScenario(name);
      expect(s.intent.length).toBeGreaterThan(10);
      expect(s.expected.length).toBeGreaterThan(0);
      const run = groundTruth(name, false);
      for (const ex of s.expected) {
        const first = run.episodes.find((e) => e.name === ex.event);
        expect(first, `${name}: ${ex.event} never became active`).toBeDefined();
        const w = absoluteWindow(ex, first!.on)!;
        // The alert may come a moment before the truth (smoothing: 2 s, app/eval's EARLY_S), never
        // long before it ...
        expect(first!.on - w[0]).toBeLessThanOrEqual(2);
        // ... and the pipeline has time to notice: the truth starts well before the window closes,
        // which closes within the scenario.
        expect(first!.on).toBeLessThanOrEqual(w[1] - 5);
        expect(w[1]).toBeLessThanOrEqual(s.duration_s);
        // One clean episode of the expected event: no flicker around its onset.
        expect(run.episodes.filter((e) => e.name === ex.event && e.on < w[1])).toHaveLength(1);
      }
      const control = groundTruth(name, true);
      expect(control.episodes).toEqual([]);
    });
  }

  it('is deterministic: the same scenario and seed give the same world, vehicle and GPS, another seed differs', () => {
    const a = groundTruth('passport-queue', false);
    const b = groundTruth('passport-queue', false);
    expect(a.digest).toBe(b.digest);
    expect(a.episodes).toEqual(b.episodes);
    const sim = createSimulator('passport-queue', { render: false, seed: 99 });
    const other = createSimulator('passport-queue', { render: false });
    for (let i = 0; i < 500; i++) {
      sim.tick();
      other.tick();
    }
    expect(JSON.stringify(sim.world.objects())).not.toBe(JSON.stringify(other.world.objects()));
  });

  it('moves people through the queue: joins at the tail, advances, leaves when served', () => {
    const sim = createSimulator('passport-queue', { render: false });
    expect(sim.world.queueMembers('passport')).toEqual([]);
    sim.tick();
    expect(sim.world.queueMembers('passport')).toEqual([1, 2, 3, 4, 5]);
    while (sim.t < 12) sim.tick();
    const q = sim.world.queueMembers('passport');
    expect(q[0]).toBe(2); // person 1 was served after ~9 s
    expect(q).toContain(100); // the first arrival joined the tail
    const one = sim.world.objects().find((o) => o.id === 1);
    expect(one === undefined || one.x > 7).toBe(true); // gone, or walking away from the booth
    const inQueue = sim.world.objects().filter((o) => o.class_id === 'person' && o.regions?.includes('queue'));
    expect(inQueue.length).toBeGreaterThanOrEqual(4);
  });

  it('stranded-bag: the bag stays where it was dropped and is labelled in the platform region', () => {
    const sim = createSimulator('stranded-bag', { render: false });
    while (sim.t < 20) sim.tick();
    const bag = sim.world.objects().find((o) => o.id === 100);
    expect(bag).toBeDefined();
    while (sim.t < 60) sim.tick();
    const later = sim.world.objects().find((o) => o.id === 100);
    expect(later).toEqual(bag);
    expect(later!.regions).toContain('platform');
    expect(regionParams(sim.scenario).platform).toEqual([-14, -2.6, 14, -2.6, 14, 6, -14, 6]);
  });
});

describe('simulator outputs', () => {
  it('emits frames at the camera rate with labels on the same stamp, IMU every tick and GPS at its rate', () => {
    const sim = createSimulator('stranded-bag', { epochMs: 1_000_000, camera: { width: 160, height: 120 } });
    let frames = 0;
    let imu = 0;
    let gps = 0;
    for (let i = 0; i < 50; i++) {
      const o = sim.tick();
      if (o.image) {
        frames++;
        expect(o.image.encoding).toBe('rgb8');
        expect(o.image.step).toBe(160 * 3);
        expect(o.image.data.length).toBe(160 * 120 * 3);
        expect(o.labels!.header.stamp).toEqual(o.image.header.stamp);
        expect(timeToMs(o.image.header.stamp)).toBeCloseTo(1_000_000 + o.t * 1000, 6);
      }
      if (o.imu) imu++;
      if (o.gps) gps++;
    }
    expect(frames).toBe(5); // 1 s at 5 Hz
    expect(imu).toBe(50);
    expect(gps).toBe(5);
    expect(sim.intent().data).toMatch(/unattended/);
  });

  it('counts frames it cannot render from a vehicle with a non-finite pose, and goes on', () => {
    const v = new FixedPoseSource({ x: Number.NaN, y: 0, z: 20, yaw: 0 });
    const sim = createSimulator('stranded-bag', { vehicle: v, camera: { width: 64, height: 48 } });
    for (let i = 0; i < 20; i++) expect(sim.tick().image).toBeUndefined();
    expect(sim.stats.frames_bad_pose).toBe(2);
    expect(sim.stats.imu).toBe(20);
  });

  it('skips and counts a due frame when asked to catch up', () => {
    const sim = createSimulator('stranded-bag', { camera: { width: 64, height: 48 } });
    const first = sim.tick({ skipCamera: true });
    expect(first.image).toBeUndefined();
    expect(first.imu).toBeDefined();
    expect(sim.stats.frames_skipped_behind).toBe(1);
    for (let i = 0; i < 9; i++) expect(sim.tick({ skipCamera: true }).image).toBeUndefined();
    expect(sim.stats.frames_skipped_behind).toBe(1);
    expect(sim.tick().image).toBeDefined(); // the next one, 200 ms later
  });

  it('renders identical frames for the same scenario and seed', () => {
    const a = createSimulator('passport-queue', { camera: { width: 160, height: 120 } });
    const b = createSimulator('passport-queue', { camera: { width: 160, height: 120 } });
    for (let i = 0; i < 20; i++) {
      const x = a.tick();
      const y = b.tick();
      if (x.image) {
        expect(Buffer.from(x.image.data).equals(Buffer.from(y.image!.data))).toBe(true);
        expect(x.labels).toEqual(y.labels);
      }
    }
  });

  it('applies wind and battery events to a provided vehicle; on the ground the camera sees from its mount height', () => {
    const v = new FixedPoseSource({ x: 0, y: 0, z: 0.2, yaw: 0 }, 0.6);
    const sim = createSimulator('perimeter-patrol', { vehicle: v });
    while (sim.t < 56) sim.tick();
    expect(v.truth().battery_remaining).toBe(0.18);
    expect(sim.events().find((e) => e.name === 'low_battery')?.active).toBe(true);
    // A drone standing on the ground still streams frames (from the camera's mount height), as a real one does.
    expect(sim.stats.frames).toBeGreaterThan(200);
    expect(sim.stats.frames_skipped_low).toBe(0);
    expect(sim.renderNow()?.image.width).toBeGreaterThan(0);
  });
});

describe('with the flight controller\'s SimVehicle', () => {
  it('rides the camera on it, pushes wind gusts into it and applies battery events', () => {
    const scn = loadScenario('perimeter-patrol');
    const v = simVehicleFor(scn);
    expect(v.truth()).toMatchObject({ x: -12, y: -8, z: 22, battery_remaining: 0.6 });
    expect(v.geodetic().lat).toBeCloseTo(scn.origin.lat, 3);
    v.setArmed(true);
    v.setTarget({ kind: 'hold' });
    const sim = createSimulator(scn, { vehicle: v, camera: { width: 96, height: 72 } });
    let frames = 0;
    while (sim.t < 56) {
      const out = sim.tick();
      // The flight controller steps the physics on its own timer; here the test does.
      v.step(sim.tickMs);
      if (out.image) frames++;
    }
    expect(frames).toBe(Math.ceil(56 * 5));
    const truth = v.truth();
    expect(truth.battery_remaining).toBeLessThan(0.2);
    expect(sim.events().find((e) => e.name === 'low_battery')?.active).toBe(true);
    // Gusts (20 s, 48 s) pushed it off its hold point, and it flew back.
    expect(Math.hypot(truth.x + 12, truth.y + 8)).toBeLessThan(3);
    expect(sim.cameraPose().altitude).toBeCloseTo(truth.z, 6);
  });
});

describe('sensors', () => {
  const header = makeMsg('std_msgs/msg/Header', {});
  it('IMU at hover reads gravity on body z and the heading in its orientation', () => {
    const imu = new ImuModel(1);
    const s = { x: 0, y: 0, z: 20, vx: 0, vy: 0, vz: 0, yaw: 0.7 };
    let az = 0;
    let m = imu.sample(s, 0.02, header);
    for (let i = 0; i < 200; i++) {
      m = imu.sample(s, 0.02, header);
      az += m.linear_acceleration.z / 200;
    }
    expect(az).toBeCloseTo(9.80665, 1);
    const q = m.orientation;
    const yaw = Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
    expect(yaw).toBeCloseTo(0.7, 1);
  });

  it('GPS scatters around the true position by about its stated error', () => {
    const origin = { lat: 47.0, lon: 8.0, alt: 400 };
    const gps = new GpsModel(origin, 5);
    const s = { x: 100, y: -50, z: 20, vx: 0, vy: 0, vz: 0, yaw: 0 };
    const fix = gps.sample(s, 0.2, header);
    const north = ((fix.latitude - 47) * Math.PI * 6378137) / 180;
    const east = ((fix.longitude - 8) * Math.PI * 6378137 * Math.cos((47 * Math.PI) / 180)) / 180;
    expect(Math.abs(north - -50)).toBeLessThan(4);
    expect(Math.abs(east - 100)).toBeLessThan(4);
    expect(fix.altitude).toBeGreaterThan(412);
    expect(fix.altitude).toBeLessThan(428);
    expect(fix.position_covariance_type).toBe(2);
  });

  it('wind gusts rise and fall around their peak', () => {
    const w = new WindModel({ base: { x: 1, y: 0 }, turbulence: 0, gusts: [{ at_s: 10, duration_s: 4, speed: 6, dir: Math.PI / 2 }] }, 1);
    expect(w.at(5)).toEqual({ x: 1, y: 0 });
    expect(w.at(12).y).toBeCloseTo(6, 6);
    expect(w.at(15).y).toBe(0);
  });
});

describe('scenario loader errors', () => {
  const base = [
    'name: t',
    'seed: 1',
    'duration_s: 10',
    'intent: watch the square',
    'vehicle:',
    '  start: { x: 0, y: 0, z: 10 }',
    '  mission: { kind: hover, at: [0, 0], altitude: 10 }',
    'regions:',
    '  - { name: square, polygon: [[0, 0], [5, 0], [5, 5]] }',
  ];
  const parse = (lines: string[], control = false) => parseScenarioText([...base, ...lines].join('\n'), 'test.yaml', { control });

  it('accepts a minimal scenario', () => {
    const s = parse(['actors:', '  - { kind: person, id: 1, at: [1, 1], script: [{ wander: { region: square, duration_s: 5 } }] }']);
    expect(s.actors).toHaveLength(1);
    expect(s.camera).toEqual({ width: 320, height: 240, hfov_deg: 60, rate_hz: 5 });
  });

  it('names file and line for bad YAML', () => {
    expect(() => parse(['actors: [', '  - { kind: person'])).toThrow(/^test\.yaml:1[01]: invalid YAML/);
  });

  it('names file, line and field for an unknown actor kind', () => {
    expect(() => parse(['actors:', '  - { kind: person, id: 1, at: [1, 1] }', '  - { kind: dog, id: 2, at: [1, 1] }'])).toThrow(
      "test.yaml:12: actors[1].kind: unknown actor kind string \"dog\" (expected person, bag, vehicle, spawner)",
    );
  });

  it('reports unknown regions, queues, steps, bags, fields and duplicate ids', () => {
    expect(() => parse(['events:', '  - { name: e, kind: count, class_id: person, region: lobby, op: ">", threshold: 1 }'])).toThrow(/test\.yaml:11: events\[0\]\.region: unknown region 'lobby' \(regions: square\)/);
    expect(() => parse(['actors:', '  - { kind: person, id: 1, at: [1, 1], script: [{ join_queue: nope }] }'])).toThrow(/actors\[0\]\.script\[0\]\.join_queue: unknown queue 'nope'/);
    expect(() => parse(['actors:', '  - { kind: person, id: 1, at: [1, 1], script: [{ fly_to: [1, 2] }] }'])).toThrow(/actors\[0\]\.script\[0\]\.fly_to: unknown step string "fly_to"/);
    expect(() => parse(['actors:', '  - { kind: person, id: 1, at: [1, 1], script: [{ pick_up: 9 }] }'])).toThrow(/no bag with id 9/);
    expect(() => parse(['actors:', '  - { kind: person, id: 1, at: [1, 1] }', '  - { kind: person, id: 1, at: [2, 1] }'])).toThrow(/test\.yaml:12: actors\[1\]\.id: duplicate actor id 1/);
    expect(() => parse(['colour: red'])).toThrow(/test\.yaml:10: colour: unknown field/);
    expect(() => parse(['camera: { hfov_deg: 400 }'])).toThrow(/test\.yaml:10: camera\.hfov_deg: 400 is above the maximum 150/);
  });

  it('takes an expected window in scenario time (window_s) or from the truth onset (after_onset_s), exactly one', () => {
    const ev = ['events:', '  - { name: e, kind: count, class_id: person, region: square, op: ">", threshold: 0 }', 'expected:'];
    const abs = parse([...ev, '  - { event: e, window_s: [3, 8] }']).expected[0];
    expect(abs.window).toEqual({ from: 'start', s: [3, 8] });
    expect(absoluteWindow(abs, 5)).toEqual([3, 8]);
    expect(absoluteWindow(abs, null)).toEqual([3, 8]);
    expect(describeWindow(abs)).toBe('3–8 s');
    const rel = parse([...ev, '  - { event: e, after_onset_s: [-2, 6] }']).expected[0];
    expect(rel.window).toEqual({ from: 'onset', s: [-2, 6] });
    expect(absoluteWindow(rel, 4.5)).toEqual([2.5, 10.5]);
    // The event never started: there is no window to meet.
    expect(absoluteWindow(rel, null)).toBeNull();
    expect(describeWindow(rel)).toBe('onset −2…+6 s');
    expect(() => parse([...ev, '  - { event: e }'])).toThrow(/test\.yaml:13: expected\[0\]: expected a window: window_s .* or after_onset_s/);
    expect(() => parse([...ev, '  - { event: e, window_s: [1, 2], after_onset_s: [0, 2] }'])).toThrow(/expected\[0\]: give window_s or after_onset_s, not both/);
    expect(() => parse([...ev, '  - { event: e, window_s: [-1, 2] }'])).toThrow(/expected\[0\]\.window_s\[0\]: -1 is below the minimum 0/);
    expect(() => parse([...ev, '  - { event: e, after_onset_s: [4, 2] }'])).toThrow(/expected\[0\]\.after_onset_s: the window ends \(2\) before it starts \(4\)/);
  });

  it('requires a control section for a control run and patches actors by name', () => {
    expect(() => parse([], true)).toThrow(/control: a control run was requested but the scenario has no control: section/);
    const s = parse(
      ['actors:', '  - { kind: person, id: 1, name: walker, at: [1, 1], script: [{ walk_to: [3, 3] }] }', 'control:', '  actors:', '    walker: { at: [9, 9] }'],
      true,
    );
    expect(s.control).toBe(true);
    expect(s.actors[0]).toMatchObject({ kind: 'person', at: { x: 9, y: 9 } });
    expect(() => parse(['control:', '  actors:', '    ghost: { at: [1, 1] }'], true)).toThrow(/no actor named 'ghost'/);
  });

  it('rejects unknown scenario names with the list of built-in ones', () => {
    expect(() => loadScenario('no-such-scenario')).toThrow(ScenarioError);
    expect(() => loadScenario('no-such-scenario')).toThrow(/passport-queue, stranded-bag, perimeter-patrol/);
  });
});
