/**
 * Contract suite of the ROS 2 transport. It runs against the in-memory rclnodejs of
 * test/fakes/rclnodejs and, when a ROS 2 environment is sourced (ROS_DISTRO set), against
 * the real rclnodejs with the same assertions. Each "process" is a BridgedBus with its own
 * rcl context and node, as two Kestrel executables would be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeMsg, MSG_DEFINITIONS, MsgRegistry, type MsgTypeName, type std_msgs } from '../../msgs/index.js';
import { SimClock } from '../clock.js';
import { DiagnosticsRegistry } from '../diagnostics.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from '../qos.js';
import { createFakeRclnodejs } from '../../test/fakes/rclnodejs/index.js';
import { BridgedBus } from './bridged-bus.js';
import { publishDiagnostics } from './diagnostics-publisher.js';
import { loadRclnodejs, Ros2TypeError } from './load-rclnodejs.js';
import type { Rclnodejs } from './rclnodejs-api.js';
import { Ros2Transport } from './ros2.js';
import { followClock } from './sim-time.js';

interface Impl {
  name: string;
  skip: string | undefined;
  load: () => Promise<Rclnodejs>;
}

const REAL_SKIP = process.env.ROS_DISTRO ? undefined : 'ROS_DISTRO is not set: no ROS 2 environment sourced, real rclnodejs contract skipped';
const IMPLS: Impl[] = [
  { name: 'fake rclnodejs (test/fakes/rclnodejs)', skip: undefined, load: async () => createFakeRclnodejs() },
  { name: 'real rclnodejs', skip: REAL_SKIP, load: () => loadRclnodejs() },
];
if (REAL_SKIP) console.info(`[ros2 contract] ${REAL_SKIP}`);

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000, poke?: () => void): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    poke?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Let pending deliveries run (the fake delivers on setImmediate, DDS a little later). */
const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

let seq = 0;
const uniq = (): string => `t${process.pid}_${++seq}`;

for (const impl of IMPLS) {
  describe.skipIf(impl.skip !== undefined)(`ROS 2 transport contract on ${impl.name}`, () => {
    const opened: Ros2Transport[] = [];
    afterEach(async () => {
      for (const t of opened.splice(0)) await t.close();
    });

    async function proc(rcl: Rclnodejs, nodeName: string, namespace = '/', argv: string[] = []): Promise<{ bus: BridgedBus; t: Ros2Transport }> {
      const t = await Ros2Transport.create({ rcl, nodeName, namespace, argv });
      opened.push(t);
      const bus = new BridgedBus();
      bus.attach(t);
      return { bus, t };
    }

    it('carries messages between two processes and shows the topic in the ROS graph', async () => {
      const rcl = await impl.load();
      const a = await proc(rcl, 'talker');
      const b = await proc(rcl, 'listener');
      const topic = `/${uniq()}/chatter`;
      const got: string[] = [];
      b.bus.subscribe(topic, 'std_msgs/msg/String').subscribe((m) => got.push(m.data));
      const pub = a.bus.advertise(topic, 'std_msgs/msg/String');
      let n = 0;
      await waitFor(() => got.length > 0, 'first message', 5000, () => pub.publish(makeMsg('std_msgs/msg/String', { data: `hello ${n++}` })));
      expect(got[0]).toMatch(/^hello \d+$/);
      const graph = b.t.node.getTopicNamesAndTypes();
      expect(graph).toContainEqual({ name: topic, types: ['std_msgs/msg/String'] });
      const pubsInfo = b.t.node.getPublishersInfoByTopic(topic);
      expect(pubsInfo.map((i) => i.node_name)).toContain('talker');
      // Every rcl node publishes these on its own; a graph query always shows them.
      const names = graph.map((g) => g.name);
      expect(names).toContain('/rosout');
      expect(names).toContain('/parameter_events');
      expect(b.t.node.getPublishersInfoByTopic('/rosout').map((i) => i.node_name)).toEqual(expect.arrayContaining(['talker', 'listener']));
    });

    it('does not echo: a process that publishes and subscribes a topic gets each local message once, and remote ones too', async () => {
      const rcl = await impl.load();
      const a = await proc(rcl, 'both');
      const b = await proc(rcl, 'remote');
      const topic = `/${uniq()}/loop`;
      const got: string[] = [];
      a.bus.subscribe(topic, 'std_msgs/msg/String').subscribe((m) => got.push(m.data));
      const localPub = a.bus.advertise(topic, 'std_msgs/msg/String');
      const remotePub = b.bus.advertise(topic, 'std_msgs/msg/String');
      await waitFor(() => got.includes('remote'), 'remote message', 5000, () => remotePub.publish(makeMsg('std_msgs/msg/String', { data: 'remote' })));
      got.length = 0;
      for (let i = 0; i < 5; i++) localPub.publish(makeMsg('std_msgs/msg/String', { data: `local ${i}` }));
      await settle(200);
      expect(got).toEqual(['local 0', 'local 1', 'local 2', 'local 3', 'local 4']);
      expect(a.t.stats.echoesDropped).toBe(5);
    });

    it('maps QoS: sensor data is best effort, and a reliable subscriber does not match it', async () => {
      const rcl = await impl.load();
      const cam = await proc(rcl, 'camera');
      const b = await proc(rcl, 'perception');
      const topic = `/${uniq()}/image_raw`;
      const img = cam.bus.advertise(topic, 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
      const info = b.t.node.getPublishersInfoByTopic(topic);
      expect(info).toHaveLength(1);
      expect(info[0].topic_type).toBe('sensor_msgs/msg/Image');
      expect(info[0].qos_profile.reliability).toBe(rcl.QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT);
      // Only what every middleware reports for a discovered endpoint: reliability and durability.
      // History and depth are not in DDS discovery data (Fast DDS reports unknown / 0).
      expect(info[0].qos_profile.durability).toBe(rcl.QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE);
      const reliableGot: number[] = [];
      const sensorGot: number[] = [];
      b.bus.subscribe(topic, 'sensor_msgs/msg/Image', QOS_DEFAULT).subscribe((m) => reliableGot.push(m.width));
      const data = new Uint8Array(4 * 2 * 3).map((_, i) => i);
      const frame = makeMsg('sensor_msgs/msg/Image', { width: 4, height: 2, encoding: 'rgb8', step: 12, data });
      // The reliable request is refused by the best-effort offer (ROS 2 rule); a sensor-data one matches.
      const b2 = await proc(rcl, 'perception2');
      b2.bus.subscribe(topic, 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).subscribe((m) => {
        sensorGot.push(m.width);
        expect(Array.from(m.data)).toEqual(Array.from(data));
      });
      await waitFor(() => sensorGot.length > 0, 'sensor-data frame', 5000, () => img.publish(frame));
      await settle(100);
      expect(reliableGot).toEqual([]);
      const subInfo = cam.t.node.getSubscriptionsInfoByTopic(topic);
      expect(subInfo.map((i) => i.qos_profile.reliability).sort()).toEqual(
        [rcl.QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE, rcl.QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT].sort(),
      );
    });

    it('latched topics reach late joiners (transient local)', async () => {
      const rcl = await impl.load();
      const a = await proc(rcl, 'intent');
      const topic = `/${uniq()}/rules`;
      const pub = a.bus.advertise(topic, 'std_msgs/msg/String', QOS_LATCHED);
      pub.publish(makeMsg('std_msgs/msg/String', { data: 'rule v1' }));
      const late = await proc(rcl, 'rules');
      const got: string[] = [];
      late.bus.subscribe(topic, 'std_msgs/msg/String', QOS_LATCHED).subscribe((m) => got.push(m.data));
      await waitFor(() => got.length > 0, 'latched message');
      expect(got).toEqual(['rule v1']);
    });

    it('applies node remaps once and topic remaps exactly once (Kestrel resolves, rcl does not re-remap)', async () => {
      const rcl = await impl.load();
      const id = uniq();
      // As `ros2 launch` would pass them; Kestrel has already resolved /a → /b and the node name.
      const argv = ['--ros-args', '-r', '__node:=cam_driver', '-r', '__ns:=/drone1', '-r', `/${id}/a:=/${id}/b`, '-r', `/${id}/b:=/${id}/c`];
      const a = await proc(rcl, 'cam_driver', '/drone1', argv);
      expect(a.t.node.name()).toBe('cam_driver');
      expect(a.t.node.namespace()).toBe('/drone1');
      const b = await proc(rcl, 'listener');
      const onB: string[] = [];
      const onC: string[] = [];
      b.bus.subscribe(`/${id}/b`, 'std_msgs/msg/String').subscribe((m) => onB.push(m.data));
      b.bus.subscribe(`/${id}/c`, 'std_msgs/msg/String').subscribe((m) => onC.push(m.data));
      const pub = a.bus.advertise(`/${id}/b`, 'std_msgs/msg/String');
      await waitFor(() => onB.length > 0, 'message on the remapped topic', 5000, () => pub.publish(makeMsg('std_msgs/msg/String', { data: 'x' })));
      expect(onC).toEqual([]);
    });

    it('use_sim_time: the clock follows /clock from another process', async () => {
      const rcl = await impl.load();
      const sim = await proc(rcl, 'sim');
      const node = await proc(rcl, 'fusion');
      const clock = new SimClock(0);
      const topic = `/${uniq()}/clock`;
      followClock(node.bus, clock, topic);
      const pub = sim.bus.advertise(topic, 'rosgraph_msgs/msg/Clock');
      let t = 1000;
      await waitFor(() => clock.now() > 0, '/clock', 5000, () => pub.publish(makeMsg('rosgraph_msgs/msg/Clock', { clock: { sec: t++, nanosec: 500_000_000 } })));
      expect(clock.now()).toBeGreaterThanOrEqual(1_000_500);
      const before = clock.now();
      pub.publish(makeMsg('rosgraph_msgs/msg/Clock', { clock: { sec: 5000, nanosec: 0 } }));
      await waitFor(() => clock.now() === 5_000_000, 'clock to advance to 5000 s');
      expect(before).toBeLessThan(5_000_000);
    });

    it('publishes /diagnostics as diagnostic_msgs/DiagnosticArray', async () => {
      const rcl = await impl.load();
      const a = await proc(rcl, 'perception');
      const mon = await proc(rcl, 'monitor');
      const topic = `/${uniq()}/diagnostics`;
      const reg = new DiagnosticsRegistry();
      const d = reg.forNode('/perception');
      d.state = 'active';
      d.stage('infer').record(12);
      d.stage('infer').drop(3);
      const clock = new SimClock(0);
      publishDiagnostics(a.bus, () => reg.all(), clock, 1000, topic);
      const got: Array<{ name: string; values: Record<string, string> }> = [];
      mon.bus.subscribe(topic, 'diagnostic_msgs/msg/DiagnosticArray').subscribe((m) => {
        for (const s of m.status) got.push({ name: s.name, values: Object.fromEntries(s.values.map((kv) => [kv.key, kv.value])) });
      });
      await waitFor(() => got.length > 0, '/diagnostics', 5000, () => clock.advanceBy(1000));
      expect(got[0].name).toBe('/perception');
      expect(got[0].values.state).toBe('active');
      expect(got[0].values['infer.drops']).toBe('3');
      expect(got[0].values['infer.latency_max_ms']).toBe('12.000');
    });

    it('sends a typed array that is a view into a larger buffer with its own bytes (rclnodejs ignores byteOffset)', async () => {
      const rcl = await impl.load();
      const a = await proc(rcl, 'encoder');
      const b = await proc(rcl, 'viewer');
      const topic = `/${uniq()}/image/compressed`;
      // A JPEG cut out of a larger frame buffer, as the camera nodes produce it.
      const frame = new Uint8Array(64).map((_, i) => i);
      const jpeg = frame.subarray(10, 20);
      const got: number[][] = [];
      b.bus.subscribe(topic, 'sensor_msgs/msg/CompressedImage').subscribe((m) => got.push(Array.from(m.data)));
      const pub = a.bus.advertise(topic, 'sensor_msgs/msg/CompressedImage');
      const msg = makeMsg('sensor_msgs/msg/CompressedImage', { format: 'jpeg', data: jpeg });
      await waitFor(() => got.length > 0, 'compressed image', 5000, () => pub.publish(msg));
      expect(got[0]).toEqual(Array.from(jpeg));
      expect(msg.data).toBe(jpeg); // the caller's message is not modified
    });

    it('refuses at startup a message type the ROS 2 install does not have, naming type and package', async () => {
      const rcl = impl.skip === undefined && impl.name.startsWith('fake') ? createFakeRclnodejs({ packages: ['std_msgs', 'builtin_interfaces', 'sensor_msgs'] }) : await impl.load();
      let installed = true;
      try {
        rcl.require('kestrel_msgs/msg/TrackArray');
      } catch {
        installed = false;
      }
      if (installed) return; // a real install where kestrel_msgs was built: nothing to refuse
      const a = await proc(rcl, 'tracker');
      const err = (() => {
        try {
          a.bus.advertise('/tracks', 'kestrel_msgs/msg/TrackArray');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(Ros2TypeError);
      expect((err as Error).message).toContain("'kestrel_msgs/msg/TrackArray'");
      expect((err as Error).message).toContain("package 'kestrel_msgs'");
      expect((err as Error).message).toContain('colcon build');
      expect(() => a.bus.subscribe('/tracks', 'kestrel_msgs/msg/TrackArray')).toThrow(Ros2TypeError);
    });
  });
}

describe('int64 / uint64 through rclnodejs (fake, which behaves like the real setters and callbacks)', () => {
  // Kestrel's msgs/ has no int64 fields; these are the std_msgs definitions every ROS 2 install has.
  const registry = new MsgRegistry({
    ...MSG_DEFINITIONS,
    'std_msgs/msg/Int64': 'int64 data\n',
    'std_msgs/msg/UInt64MultiArray': 'std_msgs/MultiArrayLayout layout\nuint64[] data\n',
    'std_msgs/msg/Int64MultiArray': 'std_msgs/MultiArrayLayout layout\nint64[] data\n',
    'std_msgs/msg/MultiArrayLayout': 'std_msgs/MultiArrayDimension[] dim\nuint32 data_offset\n',
    'std_msgs/msg/MultiArrayDimension': 'string label\nuint32 size\nuint32 stride\n',
  });

  it('the fake refuses a number for an int64 scalar, as rclnodejs does', () => {
    const rcl = createFakeRclnodejs({ registry });
    return (async () => {
      const ctx = new rcl.Context();
      await rcl.init(ctx, ['x']);
      const node = new rcl.Node('raw', '/', ctx);
      const pub = node.createPublisher('std_msgs/msg/Int64', '/raw_int');
      expect(() => pub.publish({ data: 5 })).toThrow(TypeError);
      expect(() => pub.publish({ data: 5n })).not.toThrow();
      rcl.shutdown(ctx);
    })();
  });

  it('a number in an int64 field is sent as bigint, and int64 arrays arrive as BigInt64Array / BigUint64Array', async () => {
    const rcl = createFakeRclnodejs({ registry });
    const a = await Ros2Transport.create({ rcl, nodeName: 'a', registry });
    const b = await Ros2Transport.create({ rcl, nodeName: 'b', registry });
    try {
      const scalars: unknown[] = [];
      const arrays: unknown[] = [];
      const uarrays: unknown[] = [];
      b.bridgeIn('/i64', 'std_msgs/msg/Int64' as MsgTypeName, QOS_DEFAULT, (m) => scalars.push((m as { data: unknown }).data));
      b.bridgeIn('/i64a', 'std_msgs/msg/Int64MultiArray' as MsgTypeName, QOS_DEFAULT, (m) => arrays.push((m as { data: unknown }).data));
      b.bridgeIn('/u64a', 'std_msgs/msg/UInt64MultiArray' as MsgTypeName, QOS_DEFAULT, (m) => uarrays.push((m as { data: unknown }).data));
      const layout = { dim: [], data_offset: 0 };
      // A value from YAML/JSON is a number; rclnodejs would throw on it.
      a.bridgeOut('/i64', 'std_msgs/msg/Int64' as MsgTypeName, QOS_DEFAULT).publish({ data: 42 });
      a.bridgeOut('/i64a', 'std_msgs/msg/Int64MultiArray' as MsgTypeName, QOS_DEFAULT).publish({ layout, data: BigInt64Array.from([-3n, 7n]) });
      a.bridgeOut('/u64a', 'std_msgs/msg/UInt64MultiArray' as MsgTypeName, QOS_DEFAULT).publish({ layout, data: [1n, 2] });
      await waitFor(() => scalars.length > 0 && arrays.length > 0 && uarrays.length > 0, 'int64 messages');
      expect(a.stats.errors).toBe(0);
      expect(scalars).toEqual([42n]);
      expect(arrays[0]).toBeInstanceOf(BigInt64Array);
      expect(Array.from(arrays[0] as BigInt64Array)).toEqual([-3n, 7n]);
      expect(uarrays[0]).toBeInstanceOf(BigUint64Array);
      expect(Array.from(uarrays[0] as BigUint64Array)).toEqual([1n, 2n]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('echo filter across message-definition differences', () => {
  it('drops our own messages when the installed definition has a field Kestrel does not', async () => {
    // The "installed distro" String has one more field than Kestrel's msgs/ (as across distros).
    const installed = new MsgRegistry({ ...MSG_DEFINITIONS, 'std_msgs/msg/String': 'string data\nint32 revision\n' });
    const rcl = createFakeRclnodejs({ registry: installed });
    const t = await Ros2Transport.create({ rcl, nodeName: 'both' });
    try {
      const bus = new BridgedBus();
      bus.attach(t);
      const got: string[] = [];
      bus.subscribe('/defs', 'std_msgs/msg/String').subscribe((m) => got.push(m.data));
      const pub = bus.advertise('/defs', 'std_msgs/msg/String');
      for (let i = 0; i < 3; i++) pub.publish(makeMsg('std_msgs/msg/String', { data: `m${i}` }));
      await waitFor(() => t.stats.echoesDropped + t.stats.received >= 3, 'the three echoes');
      expect(got).toEqual(['m0', 'm1', 'm2']);
      expect(t.stats.echoesDropped).toBe(3);
    } finally {
      await t.close();
    }
  });
});

describe('fake rclnodejs lifecycle, as the real one', () => {
  it('shutdown is idempotent, and closing a transport after rclnodejs shut its context down is fine', async () => {
    const rcl = createFakeRclnodejs();
    const t = await Ros2Transport.create({ rcl, nodeName: 'n' });
    rcl.shutdown(t.context); // as rclnodejs's SIGINT handler does
    expect(() => rcl.shutdown(t.context)).not.toThrow();
    expect(rcl.isShutdown(t.context)).toBe(true);
    await t.close();
    expect(rcl.nodeNames()).toEqual([]);
  });
});

describe('local delivery through a BridgedBus is unchanged', () => {
  it('delivers synchronously to local subscribers before the transport sees the message', async () => {
    const rcl = createFakeRclnodejs();
    const t = await Ros2Transport.create({ rcl, nodeName: 'n' });
    const bus = new BridgedBus();
    bus.attach(t);
    const got: std_msgs.String[] = [];
    bus.subscribe('/x', 'std_msgs/msg/String').subscribe((m) => got.push(m));
    const msg = makeMsg('std_msgs/msg/String', { data: 'same object' });
    bus.advertise('/x', 'std_msgs/msg/String').publish(msg);
    expect(got).toHaveLength(1);
    expect(got[0]).toBe(msg);
    await settle(20);
    expect(got).toHaveLength(1);
    await t.close();
  });

  it('accepts a later transient-local local subscriber after a volatile one on a bridged topic', async () => {
    const rcl = createFakeRclnodejs();
    const t = await Ros2Transport.create({ rcl, nodeName: 'n' });
    const bus = new BridgedBus();
    bus.attach(t);
    bus.advertise('/rules_x', 'std_msgs/msg/String', QOS_LATCHED);
    bus.subscribe('/rules_x', 'std_msgs/msg/String').subscribe();
    expect(() => bus.subscribe('/rules_x', 'std_msgs/msg/String', QOS_LATCHED).subscribe()).not.toThrow();
    await t.close();
  });

  it('a message rcl refuses is counted in diagnostics and logged once, never thrown at the publisher', async () => {
    const rcl = createFakeRclnodejs();
    const reg = new DiagnosticsRegistry();
    const diag = reg.forNode('/n');
    const logged: string[] = [];
    const { Logger } = await import('../log.js');
    const log = new Logger('/n', () => 0, (r) => logged.push(r.message));
    const t = await Ros2Transport.create({ rcl, nodeName: 'n', diag, log });
    const bus = new BridgedBus();
    bus.attach(t);
    const pub = bus.advertise('/bad', 'std_msgs/msg/Int32');
    const local: unknown[] = [];
    bus.subscribe('/bad', 'std_msgs/msg/Int32').subscribe((m) => local.push(m));
    const bad = { data: 'not a number' } as unknown as std_msgs.Int32;
    expect(() => pub.publish(bad)).not.toThrow();
    expect(() => pub.publish(bad)).not.toThrow();
    expect(local).toHaveLength(2); // local delivery is unaffected
    expect(t.stats.errors).toBe(2);
    expect(diag.values.ros2_bridge_errors).toBe('2');
    expect(logged.filter((m) => m.includes("publish on '/bad'"))).toHaveLength(1);
    await t.close();
  });
});
