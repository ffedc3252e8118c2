import { describe, expect, it } from 'vitest';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from '../qos.js';
import { createFakeRclnodejs, QoS } from '../../test/fakes/rclnodejs/index.js';
import { EchoFilter, sameMessage } from './echo-filter.js';
import { loadRclnodejs, ros2Sourced, Ros2EnvironmentError } from './load-rclnodejs.js';
import { MSG_DEFINITIONS, MsgRegistry } from '../../msgs/index.js';
import { fromRclQoS, toRclQoS } from './qos-map.js';
import { fromRclMessage, toRclMessage } from './rcl-convert.js';
import { argvForRcl } from './ros-argv.js';
import { createTransport, parseTransportChoice, resolveTransportKind, transportFromEnv } from './select.js';

describe('QoS mapping', () => {
  it('uses the rclnodejs profile strings for sensor data and default', () => {
    expect(toRclQoS(QOS_SENSOR_DATA, QoS)).toBe('qos_profile_sensor_data');
    expect(toRclQoS(QOS_DEFAULT, QoS)).toBe('qos_profile_default');
  });
  it('builds an explicit QoS for anything else and maps it back unchanged', () => {
    const q = toRclQoS(QOS_LATCHED, QoS);
    expect(q).toMatchObject({ history: 1, depth: 1, reliability: 1, durability: 1 });
    expect(fromRclQoS(q, QoS)).toEqual(QOS_LATCHED);
    const keepAll = { ...QOS_DEFAULT, history: 'keep_all' as const, reliability: 'best_effort' as const, depth: 3 };
    expect(fromRclQoS(toRclQoS(keepAll, QoS), QoS)).toEqual(keepAll);
    expect(fromRclQoS('qos_profile_sensor_data', QoS)).toEqual(QOS_SENSOR_DATA);
  });
});

describe('argv for rclnodejs.init', () => {
  it('keeps node remaps, params and files, drops topic remaps and non-ROS args', () => {
    const argv = ['--transport', 'ros2', '--ros-args', '-r', '__node:=cam', '-r', '/a:=/b', '--remap', 'cam:__ns:=/d1', '-r', 'cam:x:=y', '-p', 'rate:=5', '--params-file', 'f.yaml', '--', 'extra'];
    expect(argvForRcl(argv)).toEqual(['--ros-args', '-r', '__node:=cam', '--remap', 'cam:__ns:=/d1', '-p', 'rate:=5', '--params-file', 'f.yaml', '--']);
  });
});

describe('echo filter', () => {
  it('compares messages by value, typed arrays against plain arrays, bigint and NaN', () => {
    expect(sameMessage({ a: new Float64Array([1, 2]), t: { sec: 1, nanosec: 2 } }, { a: [1, 2], t: { sec: 1, nanosec: 2 } })).toBe(true);
    expect(sameMessage({ a: new Uint8Array([1, 2]) }, { a: new Uint8Array([1, 3]) })).toBe(false);
    expect(sameMessage({ n: 5n, f: NaN }, { n: 5n, f: NaN })).toBe(true);
    expect(sameMessage({ n: 5n }, { n: 6n })).toBe(false);
    // The installed distro's definition may add fields (b) or lack one (c): shared fields decide.
    expect(sameMessage({ a: 1 }, { a: 1, b: 2 })).toBe(true);
    expect(sameMessage({ a: 1, c: 'x' }, { a: 1, b: 2 })).toBe(true);
    expect(sameMessage({ a: 1, c: 'x' }, { a: 2, b: 2 })).toBe(false);
    expect(sameMessage({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'cam' } }, { header: { stamp: { sec: 1, nanosec: 0 } }, extra: 0 })).toBe(true);
    // Nothing shared: never an echo.
    expect(sameMessage({ a: 1 }, { b: 1 })).toBe(false);
    expect(sameMessage({}, {})).toBe(true);
    // An int64 sent as a number comes back from rclnodejs as a bigint.
    expect(sameMessage({ n: 42 }, { n: 42n })).toBe(true);
    expect(sameMessage({ n: 42.5 }, { n: 42n })).toBe(false);
  });
  it('drops each sent message once and forgets older ones lost on the way', () => {
    const f = new EchoFilter(4);
    f.noteSent({ d: 1 });
    f.noteSent({ d: 2 });
    f.noteSent({ d: 3 });
    expect(f.isEcho({ d: 2 })).toBe(true);
    expect(f.isEcho({ d: 1 })).toBe(false); // older than an echo already seen: lost (best effort)
    expect(f.isEcho({ d: 2 })).toBe(false); // only once
    expect(f.isEcho({ d: 3 })).toBe(true);
    expect(f.dropped).toBe(2);
  });
});

describe('loading rclnodejs', () => {
  it('half-sourced environments are clear errors', async () => {
    await expect(loadRclnodejs({ ROS_DISTRO: 'jazzy' })).rejects.toThrow(/half-sourced: ROS_DISTRO=jazzy but AMENT_PREFIX_PATH is empty/);
    await expect(loadRclnodejs({ AMENT_PREFIX_PATH: '/opt/ros/jazzy' })).rejects.toThrow(/half-sourced: AMENT_PREFIX_PATH is set .* but ROS_DISTRO is not/);
    expect(() => ros2Sourced({ ROS_DISTRO: 'humble' })).toThrow(Ros2EnvironmentError);
    expect(() => resolveTransportKind('auto', { AMENT_PREFIX_PATH: '/x' })).toThrow(Ros2EnvironmentError);
  });
  it('an unsourced environment refuses the ros2 transport and auto picks inproc', async () => {
    await expect(loadRclnodejs({})).rejects.toThrow(/needs a sourced ROS 2 environment .* --transport inproc/);
    expect(resolveTransportKind('auto', {})).toBe('inproc');
    expect((await createTransport('auto', { nodeName: 'n', env: {} })).kind).toBe('inproc');
  });
  it('sourced but rclnodejs missing: names the package and how to install it', async () => {
    const env = { ROS_DISTRO: 'jazzy', AMENT_PREFIX_PATH: '/opt/ros/jazzy' };
    const missing = async (): Promise<unknown> => {
      throw new Error("Cannot find package 'rclnodejs'");
    };
    await expect(loadRclnodejs(env, missing)).rejects.toThrow(/ROS 2 \(jazzy\) is sourced but rclnodejs cannot be loaded: Cannot find package 'rclnodejs'.*npm install rclnodejs/);
    await expect(loadRclnodejs(env, async () => ({ default: {} }))).rejects.toThrow(/does not look like rclnodejs/);
  });
  it('loads the module by dynamic import when sourced (ESM namespace with a default export)', async () => {
    const fake = createFakeRclnodejs();
    const env = { ROS_DISTRO: 'jazzy', AMENT_PREFIX_PATH: '/opt/ros/jazzy' };
    const seen: string[] = [];
    const rcl = await loadRclnodejs(env, async (s) => {
      seen.push(s);
      return { default: fake };
    });
    expect(seen).toEqual(['rclnodejs']);
    expect(rcl).toBe(fake);
    const t = await createTransport('auto', { nodeName: 'n', env, importer: async () => ({ default: fake }) });
    expect(t.kind).toBe('ros2');
    await t.close();
  });
  it('parses --transport', () => {
    expect(parseTransportChoice('ros2')).toBe('ros2');
    expect(parseTransportChoice('dds')).toBe('dds');
    expect(() => parseTransportChoice('zenoh')).toThrow(/'zenoh' is not a transport; expected one of inproc, ros2, dds, auto/);
    expect(resolveTransportKind('auto', {})).toBe('inproc'); // dds is asked for, never picked by auto
    expect(transportFromEnv({ KESTREL_TRANSPORT: 'inproc' })).toBe('inproc');
    expect(transportFromEnv({})).toBeUndefined();
    expect(() => transportFromEnv({ KESTREL_TRANSPORT: 'zenoh' })).toThrow(/KESTREL_TRANSPORT: 'zenoh' is not a transport/);
  });
});

describe('rclnodejs message conversion (rcl-convert.ts)', () => {
  const reg = new MsgRegistry({
    ...MSG_DEFINITIONS,
    'test_msgs/msg/Wide': 'int64 i\nuint64 u\nint64[] ia\nuint64[2] ua\nsensor_msgs/BatteryState[] packs\n',
  });

  it('copies typed-array views to offset 0, nested too, and leaves the caller message alone', () => {
    const buf = new Float32Array(8).map((_, i) => i);
    const view = buf.subarray(2, 5);
    const msg = { cell_voltage: view, cell_temperature: new Float32Array([1, 2]) };
    const out = toRclMessage(reg, 'sensor_msgs/msg/BatteryState', msg) as typeof msg;
    expect(out).not.toBe(msg);
    expect(msg.cell_voltage).toBe(view);
    expect(out.cell_voltage.byteOffset).toBe(0);
    expect(out.cell_voltage.buffer.byteLength).toBe(12);
    expect(Array.from(out.cell_voltage)).toEqual([2, 3, 4]);
    expect(out.cell_temperature).toBe(msg.cell_temperature); // a whole-buffer array is not copied
    const nested = toRclMessage(reg, 'test_msgs/msg/Wide', { packs: [msg] }) as { packs: Array<typeof msg> };
    expect(nested.packs[0].cell_voltage.byteOffset).toBe(0);
  });

  it('returns a message that needs nothing as is', () => {
    const msg = { cell_voltage: new Float32Array([1]) };
    expect(toRclMessage(reg, 'sensor_msgs/msg/BatteryState', msg)).toBe(msg);
  });

  it('int64: numbers to bigint going out, number[] arrays to BigInt64Array / BigUint64Array coming in', () => {
    const out = toRclMessage(reg, 'test_msgs/msg/Wide', { i: 3, u: 4n, ia: BigInt64Array.from([1n]), ua: [1, 2n] }) as Record<string, unknown>;
    expect(out).toEqual({ i: 3n, u: 4n, ia: [1n], ua: [1n, 2n] });
    // A non-integer is left as is, for rclnodejs to refuse naming the field.
    expect((toRclMessage(reg, 'test_msgs/msg/Wide', { i: 1.5 }) as { i: unknown }).i).toBe(1.5);
    const back = fromRclMessage(reg, 'test_msgs/msg/Wide', { i: 5n, u: 6n, ia: [-1, 2], ua: [3, 4] }) as Record<string, unknown>;
    expect(back.ia).toBeInstanceOf(BigInt64Array);
    expect(Array.from(back.ia as BigInt64Array)).toEqual([-1n, 2n]);
    expect(back.ua).toBeInstanceOf(BigUint64Array);
    expect(Array.from(back.ua as BigUint64Array)).toEqual([3n, 4n]);
  });
});
