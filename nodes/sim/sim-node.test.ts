import { afterEach, describe, expect, it } from 'vitest';
import type { kestrel_msgs, sensor_msgs, std_msgs } from '../../msgs/index.js';
import { SimClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import type { ParamOverride, ParamType, ParamValue } from '../../runtime/params.js';
import { QOS_LATCHED, QOS_SENSOR_DATA, qos } from '../../runtime/qos.js';
import { timeToMs } from '../../runtime/time.js';
import type { Simulator } from '../../sim/simulator.js';
import { makeSimulatorNode, simulatorNode } from './index.js';

function params(o: Record<string, [ParamValue, ParamType]>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([k, [value, type]]) => [k, { value, type, source: 'test' }]));
}

let c: Container | undefined;
afterEach(async () => {
  await c?.shutdownAll();
  c = undefined;
});

async function start(extra: Record<string, [ParamValue, ParamType]>, def = simulatorNode) {
  const clock = new SimClock(5_000);
  c = new Container({ clock, registry: new Map([['simulator', def]]), logSink: () => undefined });
  await c.add({ package: 'kestrel', executable: 'simulator', params: params(extra), remaps: [] });
  const bus = c.bus;
  const got = {
    images: [] as sensor_msgs.Image[],
    labels: [] as kestrel_msgs.LabelArray[],
    imu: [] as sensor_msgs.Imu[],
    gps: [] as sensor_msgs.NavSatFix[],
    events: [] as kestrel_msgs.ScenarioEvent[],
    state: [] as kestrel_msgs.VehicleState[],
  };
  bus.subscribe('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).subscribe((m) => got.images.push(m));
  bus.subscribe('/camera/labels', 'kestrel_msgs/msg/LabelArray', QOS_SENSOR_DATA).subscribe((m) => got.labels.push(m));
  bus.subscribe('/imu/data', 'sensor_msgs/msg/Imu', QOS_SENSOR_DATA).subscribe((m) => got.imu.push(m));
  bus.subscribe('/gps/fix', 'sensor_msgs/msg/NavSatFix', QOS_SENSOR_DATA).subscribe((m) => got.gps.push(m));
  bus.subscribe('/sim/events', 'kestrel_msgs/msg/ScenarioEvent', qos({ depth: 4 }, QOS_LATCHED)).subscribe((m) => got.events.push(m));
  bus.subscribe('/fc/state', 'kestrel_msgs/msg/VehicleState').subscribe((m) => got.state.push(m));
  await c.activateAll();
  return { clock, got, bus };
}

describe('simulator node', () => {
  it('publishes camera, labels, IMU, GPS, events and the latched intent on the sim clock, then stops at duration_s', async () => {
    const { clock, got, bus } = await start({
      scenario: ['stranded-bag', 'string'],
      duration_s: [2.0, 'double'],
      'camera.width': [160, 'int'],
      'camera.height': [120, 'int'],
      publish_vehicle_state: [true, 'bool'],
    });
    // A late joiner still gets the intent (transient local).
    const intents: std_msgs.String[] = [];
    bus.subscribe('/intent', 'std_msgs/msg/String', QOS_LATCHED).subscribe((m) => intents.push(m));
    expect(intents.map((m) => m.data)).toEqual(['Alert when a bag is left unattended, with no person within 3 m, for 30 s.']);

    clock.advanceTo(5_000 + 3_000);
    expect(got.images).toHaveLength(10); // 2 s at 5 Hz, nothing after duration_s
    expect(got.labels).toHaveLength(10);
    expect(got.imu).toHaveLength(100);
    expect(got.gps).toHaveLength(10);
    expect(got.state).toHaveLength(20);
    for (let i = 0; i < got.images.length; i++) {
      expect(got.labels[i].header.stamp).toEqual(got.images[i].header.stamp);
      expect(got.images[i].header.frame_id).toBe('camera');
      expect(got.images[i].width).toBe(160);
    }
    expect(timeToMs(got.images[1].header.stamp) - timeToMs(got.images[0].header.stamp)).toBeCloseTo(200, 6);
    expect(got.labels[9].labels.some((l) => l.class_id === 'person')).toBe(true);
    expect(got.events.map((e) => [e.name, e.active])).toEqual([['bag_unattended_30s', false]]);
    expect(got.state[0].position.z).toBeCloseTo(18, 0);
    const diag = c!.diagnostics.all()[0];
    expect(diag.values.frames).toBe('10');
    expect(diag.message).toMatch(/complete/);
  });

  it('runs the same scenario to the same bytes twice (deterministic under SimClock)', async () => {
    const run = async () => {
      const { clock, got } = await start({ scenario: ['passport-queue', 'string'], duration_s: [1.0, 'double'], 'camera.width': [96, 'int'], 'camera.height': [72, 'int'] });
      clock.advanceTo(7_000);
      await c!.shutdownAll();
      c = undefined;
      return got;
    };
    const a = await run();
    const b = await run();
    expect(a.images.length).toBe(5);
    expect(a.images.map((m) => Buffer.from(m.data).toString('base64'))).toEqual(b.images.map((m) => Buffer.from(m.data).toString('base64')));
    expect(a.imu).toEqual(b.imu);
    expect(a.gps).toEqual(b.gps);
    expect(a.labels).toEqual(b.labels);
  });

  it('runs the control variant and hands its Simulator to makeSimulatorNode callers', async () => {
    let sim: Simulator | undefined;
    const def = makeSimulatorNode({ onSimulator: (s) => (sim = s) });
    const { clock } = await start({ scenario: ['perimeter-patrol', 'string'], control: [true, 'bool'], duration_s: [0.5, 'double'], 'camera.rate_hz': [2, 'double'] }, def);
    clock.advanceTo(6_000);
    expect(sim?.scenario.control).toBe(true);
    expect(sim?.scenario.battery_events).toEqual([]);
    expect(sim?.stats.frames).toBe(1);
  });

  it('publishes labels without images when publish_images is false', async () => {
    const { clock, got } = await start({ scenario: ['passport-queue', 'string'], duration_s: [1.0, 'double'], publish_images: [false, 'bool'] });
    clock.advanceTo(7_000);
    expect(got.images).toHaveLength(0);
    expect(got.labels).toHaveLength(5);
    expect(got.labels[0].labels.filter((l) => l.class_id === 'person').length).toBeGreaterThanOrEqual(5);
  });

  it('fails configure with a clear error for an unknown scenario', async () => {
    c = new Container({ clock: new SimClock(0), registry: new Map([['simulator', simulatorNode]]), logSink: () => undefined });
    await expect(c.add({ package: 'kestrel', executable: 'simulator', params: params({ scenario: ['moon-landing', 'string'] }), remaps: [] })).rejects.toThrow(
      /moon-landing: unknown scenario \(built in: passport-queue, stranded-bag, perimeter-patrol/,
    );
  });
});
