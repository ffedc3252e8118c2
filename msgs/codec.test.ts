import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate, readMsgTree } from './gen.js';
import { CdrDecodeError, makeMsg, MSG_DEFINITIONS, msgs, MsgRegistry, normalizeTypeName, UnknownTypeError, type MsgTypeName } from './index.js';
import { PRIMITIVES, type MsgField } from './parse.js';

const here = dirname(fileURLToPath(import.meta.url));

const TYPED: Record<string, (n: number[]) => ArrayLike<number> | ArrayLike<bigint>> = {
  uint8: (n) => Uint8Array.from(n),
  byte: (n) => Uint8Array.from(n),
  char: (n) => Uint8Array.from(n),
  int8: (n) => Int8Array.from(n),
  int16: (n) => Int16Array.from(n),
  uint16: (n) => Uint16Array.from(n),
  int32: (n) => Int32Array.from(n),
  uint32: (n) => Uint32Array.from(n),
  int64: (n) => BigInt64Array.from(n.map(BigInt)),
  uint64: (n) => BigUint64Array.from(n.map(BigInt)),
  float32: (n) => Float32Array.from(n),
  float64: (n) => Float64Array.from(n),
};

/** A message with a distinct non-default value in every field (float32-exact numbers), in the shape the decoder returns. */
function sample(type: string, seed: number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let k = seed;
  const one = (f: MsgField): unknown => {
    k++;
    if (!PRIMITIVES.has(f.type)) return sample(f.type, k * 7, depth + 1);
    switch (f.type) {
      case 'bool':
        return k % 2 === 0;
      case 'string':
      case 'wstring':
        return `${f.name}-${k} ünï`;
      case 'int64':
      case 'uint64':
        return BigInt(k) * 1_000_000_007n;
      case 'float32':
      case 'float64':
        return k + 0.5;
      case 'int8':
      case 'int16':
      case 'int32':
        return -(k % 100);
      default:
        return k % 100;
    }
  };
  for (const f of msgs.fieldsOf(type)) {
    if (f.isConstant) continue;
    if (!f.isArray) {
      out[f.name] = one(f);
      continue;
    }
    const n = f.arrayLength ?? (depth > 2 ? 0 : 2);
    if (PRIMITIVES.has(f.type) && TYPED[f.type]) {
      out[f.name] = TYPED[f.type](Array.from({ length: n }, (_v, i) => (f.type.startsWith('int') ? -i - (k % 50) : i + (k % 50))));
    } else {
      out[f.name] = Array.from({ length: n }, () => one(f));
    }
  }
  return out;
}

function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('CDR codec', () => {
  const types = Object.keys(MSG_DEFINITIONS) as MsgTypeName[];

  it.each(types)('%s round-trips with every field set', (type) => {
    const m = sample(type, type.length);
    const bytes = msgs.encode(type, m);
    expect(bytes.byteLength).toBeGreaterThan(0);
    expect(msgs.decode(type, bytes)).toEqual(m);
  });

  it.each(types)('%s: makeMsg defaults encode and decode to the same defaults', (type) => {
    const m = makeMsg(type);
    // makeMsg fills numeric arrays with plain arrays, the decoder returns typed arrays: compare values.
    expect(plain(msgs.decode(type, msgs.encode(type, m)))).toEqual(plain(m));
  });

  it('makeMsg gives each message its own nested objects and arrays (the per-type factory shares only primitives)', () => {
    const a = makeMsg('kestrel_msgs/msg/VehicleCommand');
    const b = makeMsg('kestrel_msgs/msg/VehicleCommand');
    a.header.stamp.sec = 5;
    a.inputs.push(makeMsg('kestrel_msgs/msg/InputAge', { name: 'world' }));
    expect(b.header.stamp.sec).toBe(0);
    expect(b.inputs).toEqual([]);
    expect(a.header).not.toBe(b.header);
  });

  it('a schema added for a known type replaces its defaults too', () => {
    const r = new MsgRegistry({ 'demo_msgs/msg/A': 'int32 x 3' });
    expect(r.create('demo_msgs/msg/A')).toEqual({ x: 3 });
    r.addSchema('demo_msgs/msg/A', 'string y "hi"');
    expect(r.create('demo_msgs/msg/A')).toEqual({ y: 'hi' });
  });

  it('strings are UTF-8 on the wire, with their byte length (non-ASCII text is not truncated)', () => {
    const bytes = msgs.encode('std_msgs/msg/String', { data: 'Zürich 😀' });
    // 4-byte CDR header, uint32 length = 12 UTF-8 bytes + NUL, then the bytes.
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(13);
    expect(Buffer.from(bytes.subarray(8, 20)).toString('utf8')).toBe('Zürich 😀');
    expect(msgs.decode<{ data: string }>('std_msgs/msg/String', bytes).data).toBe('Zürich 😀');
  });

  it('rejects truncated bytes with a CdrDecodeError naming the type and length', () => {
    const bytes = msgs.encode('kestrel_msgs/msg/VehicleCommand', sample('kestrel_msgs/msg/VehicleCommand', 3));
    const cut = bytes.subarray(0, 20);
    expect(() => msgs.decode('kestrel_msgs/msg/VehicleCommand', cut)).toThrow(CdrDecodeError);
    expect(() => msgs.decode('kestrel_msgs/msg/VehicleCommand', cut)).toThrow(/20 bytes as CDR kestrel_msgs\/msg\/VehicleCommand/);
  });

  it('unknown types are a clear error; pkg/Name and pkg/msg/Name are the same type', () => {
    expect(() => msgs.encode('nope_msgs/msg/Nothing', {})).toThrow(UnknownTypeError);
    expect(normalizeTypeName('std_msgs/String')).toBe('std_msgs/msg/String');
    expect(msgs.has('std_msgs/String')).toBe(true);
  });

  it('schema text is rosbag2 style, with builtin_interfaces/Time and no ROS 1 time', () => {
    const s = msgs.schemaText('kestrel_msgs/msg/WorldState');
    expect(s).toContain('MSG: kestrel_msgs/VehicleState');
    expect(s).toContain('MSG: builtin_interfaces/Time');
    expect(s).not.toMatch(/^time /m);
    const r = new MsgRegistry({});
    r.addSchema('kestrel_msgs/msg/WorldState', s);
    const m = sample('kestrel_msgs/msg/WorldState', 11);
    expect(r.decode('kestrel_msgs/msg/WorldState', msgs.encode('kestrel_msgs/msg/WorldState', m))).toEqual(m);
  });
});

describe('msgs/generated', () => {
  it('is up to date with the .msg files (run `npm run gen:msgs` after editing one)', () => {
    const generated = generate(readMsgTree(here));
    for (const [file, text] of generated) {
      expect(readFileSync(join(here, 'generated', file), 'utf8'), `msgs/generated/${file} is out of date`).toBe(text);
    }
  });
});

describe('hostile length prefixes (issue 19)', () => {
  const world = (): Uint8Array =>
    msgs.encode(
      'kestrel_msgs/msg/WorldState',
      makeMsg('kestrel_msgs/msg/WorldState', { header: { frame_id: 'map' }, tracks: [makeMsg('kestrel_msgs/msg/Track', { id: 1, class_id: 'person' })] }),
    );

  it('a sequence length above the bytes left fails at once with the offset, before any allocation', () => {
    const b = Buffer.from(world());
    // With no tracks and no inputs the message ends with their two counts: the tracks count is 8 bytes before the end.
    const at = msgs.encode('kestrel_msgs/msg/WorldState', makeMsg('kestrel_msgs/msg/WorldState', { header: { frame_id: 'map' } })).length - 8;
    expect(b.readUInt32LE(at)).toBe(1);
    b.writeUInt32LE(30_000_000, at);
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    expect(() => msgs.decode('kestrel_msgs/msg/WorldState', b)).toThrow(
      new RegExp(`cannot decode ${b.length} bytes as CDR kestrel_msgs/msg/WorldState: sequence length of 30000000 at byte ${at} exceeds the ${b.length - at - 4} bytes left`),
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20e6);
  });

  it('a string or byte array never reads past the end of its view, even with bytes after it in the buffer', () => {
    const img = msgs.encode('sensor_msgs/msg/Image', makeMsg('sensor_msgs/msg/Image', { encoding: 'mono8', width: 2, height: 2, step: 2, data: new Uint8Array([1, 2, 3, 4]) }));
    const cut = img.length - 2; // the last two data bytes missing
    const big = new Uint8Array(img.length + 64);
    big.set(img);
    expect(() => msgs.decode('sensor_msgs/msg/Image', big.subarray(0, cut))).toThrow(/uint8Array length of 4 at byte \d+ exceeds the 2 bytes left|sequence length of 4 at byte \d+ exceeds the 2 bytes left/);
    const plan = Buffer.from(msgs.encode('kestrel_msgs/msg/Plan', makeMsg('kestrel_msgs/msg/Plan', { action: 'goto' })));
    const withTail = new Uint8Array(plan.length + 100).fill(0x41);
    withTail.set(plan);
    // action's length prefix (after header stamp and empty frame_id) claims 90 bytes: 0x41s lie beyond the view.
    const view = Buffer.from(withTail.buffer, 0, plan.length);
    view.writeUInt32LE(90, 4 + 8 + 4 + 4);
    expect(() => msgs.decode('kestrel_msgs/msg/Plan', view)).toThrow(/string length of 90 at byte 20 exceeds the \d+ bytes left/);
  });
});

describe('schema names (found by the bag-mcap fuzz target)', () => {
  it('a long field or constant name that breaks the naming rule at its end is refused by parseMsg, before @foxglove/rosmsg backtracks on it', () => {
    const r = new MsgRegistry({});
    const long = 'orientation_covariance_'.repeat(3) + 'x'.repeat(20);
    r.addSchema('pkg/msg/Bad', `float64 ${long}_\n`);
    expect(() => r.decode('pkg/msg/Bad', new Uint8Array(12))).toThrow(/pkg\/msg\/Bad:1: invalid field name 'orientation_covariance_orientation/);
    r.addSchema('pkg/msg/Bad2', 'uint8 A__B = 1\nuint8 ok\n');
    expect(() => r.decode('pkg/msg/Bad2', new Uint8Array(5))).toThrow(/invalid constant name 'A__B'/);
    r.addSchema('pkg/msg/Good', 'uint8 LEVEL_1 = 1\nuint8 a_b2\n');
    expect(r.decode('pkg/msg/Good', new Uint8Array([0, 1, 0, 0, 7]))).toEqual({ a_b2: 7 });
  });
});
