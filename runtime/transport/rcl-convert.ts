/**
 * Where Kestrel's message values and rclnodejs's differ, checked against the rclnodejs 1.9 / 2.2
 * sources:
 * - rclnodejs serializes a typed array as `new Uint8Array(arr.buffer)`, ignoring `byteOffset` and
 *   `byteLength`, so a view into a larger buffer (a CompressedImage payload cut out of a frame,
 *   a CDR-decoded array) would be sent with the wrong bytes. Such views are copied to offset 0.
 * - int64/uint64 setters take only `bigint`: a number there throws a TypeError. Kestrel's types
 *   use bigint already; integral numbers (from YAML, JSON) are converted, anything else is left
 *   for rclnodejs to refuse, naming the field.
 * - Received int64/uint64 *arrays* arrive as `number[]`; Kestrel's types use BigInt64Array /
 *   BigUint64Array. (Values beyond 2^53 have already lost precision inside rclnodejs.)
 * Both directions copy on change only: a message that needs nothing is returned as is, and the
 * caller's object is never mutated (local subscribers hold it).
 */
import type { MsgRegistry } from '../../msgs/index.js';
import { PRIMITIVES } from '../../msgs/parse.js';

const is64 = (t: string): boolean => t === 'int64' || t === 'uint64';

/** A typed array that starts at offset 0 and covers its whole buffer, as rclnodejs requires. */
function wholeBuffer(v: ArrayBufferView): ArrayBufferView {
  if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) return v;
  // slice() copies into a fresh buffer of exactly this view's bytes.
  return v instanceof DataView ? new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) : (v as Uint8Array).slice();
}

const toBig = (x: unknown): unknown => (typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : x);

/** Applies `conv` to each field of `msg` (a `type`); returns `msg` itself when no field changed. */
function mapFields(registry: MsgRegistry, type: string, msg: unknown, conv: (f: { type: string; isArray: boolean }, v: unknown, sub: (t: string, x: unknown) => unknown) => unknown, sub: (t: string, x: unknown) => unknown): unknown {
  if (msg === null || typeof msg !== 'object' || ArrayBuffer.isView(msg) || Array.isArray(msg)) return msg;
  let out: Record<string, unknown> | undefined;
  for (const f of registry.fieldsOf(type)) {
    if (f.isConstant) continue;
    const v = (msg as Record<string, unknown>)[f.name];
    if (v === undefined) continue;
    const w = conv(f, v, sub);
    if (w !== v) {
      out ??= { ...(msg as Record<string, unknown>) };
      out[f.name] = w;
    }
  }
  return out ?? msg;
}

/** Maps each element of an array, returning the same array when nothing changed. */
function mapArray(v: unknown[], fn: (x: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const w = fn(v[i]);
    if (w !== v[i]) {
      out ??= v.slice();
      out[i] = w;
    }
  }
  return out ?? v;
}

/** Kestrel message → what rclnodejs's setters and serializer handle correctly. */
export function toRclMessage(registry: MsgRegistry, type: string, msg: unknown): unknown {
  const sub = (t: string, x: unknown): unknown => toRclMessage(registry, t, x);
  return mapFields(
    registry,
    type,
    msg,
    (f, v) => {
      const prim = PRIMITIVES.has(f.type);
      if (!f.isArray) return !prim ? sub(f.type, v) : is64(f.type) ? toBig(v) : v;
      if (ArrayBuffer.isView(v)) {
        // A BigInt64Array goes as plain bigints: each element then passes the bigint setter.
        if (prim && is64(f.type)) return Array.from(v as BigInt64Array);
        return wholeBuffer(v);
      }
      if (!Array.isArray(v)) return v;
      if (!prim) return mapArray(v, (x) => sub(f.type, x));
      return is64(f.type) ? mapArray(v, toBig) : v;
    },
    sub,
  );
}

/** rclnodejs message → Kestrel's shapes (int64 arrays as BigInt64Array / BigUint64Array). */
export function fromRclMessage(registry: MsgRegistry, type: string, msg: unknown): unknown {
  const sub = (t: string, x: unknown): unknown => fromRclMessage(registry, t, x);
  return mapFields(
    registry,
    type,
    msg,
    (f, v) => {
      const prim = PRIMITIVES.has(f.type);
      if (!prim) return f.isArray && Array.isArray(v) ? mapArray(v, (x) => sub(f.type, x)) : f.isArray ? v : sub(f.type, v);
      if (!is64(f.type)) return v;
      if (!f.isArray) return toBig(v);
      if (!Array.isArray(v)) return v;
      const big = v.map((x) => (typeof x === 'bigint' ? x : BigInt(x as number)));
      return f.type === 'int64' ? BigInt64Array.from(big) : BigUint64Array.from(big);
    },
    sub,
  );
}
