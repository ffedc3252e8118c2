/**
 * Fuzz target for CDR decoding (codec.fuzz.test.ts in the suite, bench/fuzz.ts longer): valid
 * messages of several types, mutated (length prefixes set to huge values among others), decoded
 * from a view inside a larger buffer. Oracle: the same bytes decoded from an exact-size copy must
 * give the same result (or both fail): any difference means the decoder read outside its view.
 */
import type { FuzzTarget } from '../test/support/fuzz.js';
import { mutate } from '../test/support/fuzz.js';
import { CdrDecodeError, makeMsg, msgs } from './codec.js';

const SAMPLES: [string, Uint8Array][] = [
  [
    'kestrel_msgs/msg/WorldState',
    msgs.encode(
      'kestrel_msgs/msg/WorldState',
      makeMsg('kestrel_msgs/msg/WorldState', {
        header: { stamp: { sec: 5, nanosec: 7 }, frame_id: 'map' },
        tracks: [1, 2, 3].map((id) => makeMsg('kestrel_msgs/msg/Track', { id, class_id: 'person', position: { x: id, y: -id, z: 0 } })),
      }),
    ),
  ],
  ['kestrel_msgs/msg/Plan', msgs.encode('kestrel_msgs/msg/Plan', makeMsg('kestrel_msgs/msg/Plan', { action: 'orbit', reason: 'Zürich überflug', radius: 10, speed: 3 }))],
  ['kestrel_msgs/msg/VehicleState', msgs.encode('kestrel_msgs/msg/VehicleState', makeMsg('kestrel_msgs/msg/VehicleState', { mode: 'OFFBOARD', battery_remaining: 0.5 }))],
  [
    'sensor_msgs/msg/Image',
    msgs.encode('sensor_msgs/msg/Image', makeMsg('sensor_msgs/msg/Image', { width: 4, height: 4, step: 4, encoding: 'mono8', data: new Uint8Array(16).map((_v, i) => i) })),
  ],
  ['sensor_msgs/msg/Imu', msgs.encode('sensor_msgs/msg/Imu', makeMsg('sensor_msgs/msg/Imu', { orientation: { w: 1 } }))],
  [
    'kestrel_msgs/msg/AlertArray',
    msgs.encode(
      'kestrel_msgs/msg/AlertArray',
      makeMsg('kestrel_msgs/msg/AlertArray', { alerts: [makeMsg('kestrel_msgs/msg/Alert', { rule_id: 'r', track_ids: [1, 2], reaction: 'hold', active: true })] }),
    ),
  ],
];

interface Case {
  type: string;
  bytes: Buffer;
  pad: number;
}

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));

function decodeWith(type: string, bytes: Buffer, pad: number, fill: number): unknown {
  // The view sits inside a larger buffer (as a message inside a bag chunk does).
  const big = new Uint8Array(pad + bytes.length + pad).fill(fill);
  big.set(bytes, pad);
  return msgs.decode(type, big.subarray(pad, pad + bytes.length));
}

export const cdrTarget: FuzzTarget<Case> = {
  name: 'cdr',
  gen(r) {
    const [type, valid] = r.pick(SAMPLES);
    return { type, bytes: mutate(valid, r, 4), pad: r.int(1, 64) };
  },
  run(c) {
    const exact = (): unknown => msgs.decode(c.type, new Uint8Array(c.bytes));
    let a: string;
    try {
      a = canon(exact());
    } catch (e) {
      // It must fail the same way inside a larger buffer, whatever lies around it.
      try {
        decodeWith(c.type, c.bytes, c.pad, 0xab);
      } catch {
        throw e;
      }
      return { wrong: 'decodes inside a larger buffer but not from an exact copy: read past its view' };
    }
    for (const fill of [0x00, 0xab]) {
      const b = canon(decodeWith(c.type, c.bytes, c.pad, fill));
      if (b !== a) return { wrong: `result depends on the bytes around the view (fill 0x${fill.toString(16)})` };
    }
    return 'ok';
  },
  isClear: (e) => e instanceof CdrDecodeError,
  caseMs: 2000,
};
