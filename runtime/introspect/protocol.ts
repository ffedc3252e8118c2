/**
 * The live introspection protocol (`kestrel topic|node|param|lifecycle` against a running Kestrel): line-delimited
 * JSON over a unix socket, one request per line, each answered by lines carrying its `id`:
 *
 *   → {"id":1,"op":"topic.list"}
 *   ← {"id":1,"ok":true,"result":[...]}            one answer; or {"id":1,"ok":false,"error":"..."}
 *   → {"id":2,"op":"topic.echo","topic":"/chatter"}
 *   ← {"id":2,"event":{...}}                        streams: one line per message until the client closes
 *                                                   the connection or sends {"op":"cancel","target":2}
 *
 * Everything here is pure: parsing a request line (with an error naming the field) and making messages JSON-safe.
 */

export const PROTOCOL_VERSION = 1;

export type Request =
  | { id: number; op: 'hello' }
  | { id: number; op: 'topic.list' }
  | { id: number; op: 'topic.info'; topic: string }
  | { id: number; op: 'topic.echo'; topic: string; fullArrays: boolean }
  | { id: number; op: 'topic.hz'; topic: string }
  | { id: number; op: 'node.list' }
  | { id: number; op: 'node.info'; node: string }
  | { id: number; op: 'param.list'; node: string }
  | { id: number; op: 'param.get'; node: string; name: string }
  | { id: number; op: 'param.set'; node: string; name: string; value: string }
  | { id: number; op: 'lifecycle.get'; node: string }
  | { id: number; op: 'lifecycle.set'; node: string; transition: string }
  | { id: number; op: 'cancel'; target: number };

export type Op = Request['op'];

/** The fields each operation takes besides `id` and `op`, with their JSON types. */
const FIELDS: { [K in Op]: Record<string, 'string' | 'number' | 'boolean?'> } = {
  hello: {},
  'topic.list': {},
  'topic.info': { topic: 'string' },
  'topic.echo': { topic: 'string', fullArrays: 'boolean?' },
  'topic.hz': { topic: 'string' },
  'node.list': {},
  'node.info': { node: 'string' },
  'param.list': { node: 'string' },
  'param.get': { node: 'string', name: 'string' },
  'param.set': { node: 'string', name: 'string', value: 'string' },
  'lifecycle.get': { node: 'string' },
  'lifecycle.set': { node: 'string', transition: 'string' },
  cancel: { target: 'number' },
};

/** Operations whose answer is a stream of events. */
export const STREAMING: ReadonlySet<Op> = new Set(['topic.echo', 'topic.hz']);

export class ProtocolError extends Error {
  constructor(
    message: string,
    /** The request's id when it could be read, so the error can still be answered to it. */
    readonly id?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** One request line → a checked Request; ProtocolError names the field that is wrong. */
export function parseRequest(line: string): Request {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new ProtocolError(`request is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('request must be a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'number' || !Number.isSafeInteger(o.id)) throw new ProtocolError(`field 'id': expected an integer, got ${JSON.stringify(o.id)}`);
  const id = o.id;
  if (typeof o.op !== 'string' || !Object.hasOwn(FIELDS, o.op)) {
    throw new ProtocolError(`field 'op': expected one of ${Object.keys(FIELDS).join(', ')}, got ${JSON.stringify(o.op)}`, id);
  }
  const op = o.op as Op;
  const out: Record<string, unknown> = { id, op };
  for (const [k, t] of Object.entries(FIELDS[op])) {
    const x = o[k];
    if (t === 'boolean?') {
      if (x !== undefined && typeof x !== 'boolean') throw new ProtocolError(`${op}: field '${k}': expected a boolean, got ${JSON.stringify(x)}`, id);
      out[k] = x ?? false;
    } else if (typeof x !== t) {
      throw new ProtocolError(`${op}: field '${k}': expected a ${t}, got ${JSON.stringify(x) ?? 'nothing'}`, id);
    } else {
      out[k] = x;
    }
  }
  return out as Request;
}

/** Arrays longer than this are summarised (`<uint8[921600]>`) unless full arrays are asked for, as `ros2 topic echo` truncates. */
export const ARRAY_SUMMARY_OVER = 128;

/**
 * A message as plain JSON: typed arrays become arrays (or a summary when long), bigints decimal strings, non-finite
 * numbers the strings "nan", "inf", "-inf" (JSON has none; null would hide them).
 */
export function toJsonSafe(v: unknown, fullArrays = false): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) {
    const n = v instanceof DataView ? v.byteLength : (v as unknown as { length: number }).length;
    if (!fullArrays && n > ARRAY_SUMMARY_OVER) return `<${typedName(v)}[${n}]>`;
    return v instanceof DataView ? [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] : Array.from(v as unknown as ArrayLike<number | bigint>, (x) => toJsonSafe(x, fullArrays));
  }
  if (Array.isArray(v)) {
    if (!fullArrays && v.length > ARRAY_SUMMARY_OVER) return `<array[${v.length}]>`;
    return v.map((x) => toJsonSafe(x, fullArrays));
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toJsonSafe(x, fullArrays);
  return out;
}

function typedName(v: ArrayBufferView): string {
  const n = v.constructor.name; // Uint8Array → uint8, Float32Array → float32
  return n.endsWith('Array') ? n.slice(0, -5).toLowerCase() : n;
}

/** `ros2 topic hz` statistics over a window of arrival times (ms): rate, and min/max/std of the periods, in seconds. */
export interface HzStats {
  rate: number;
  min: number;
  max: number;
  std: number;
  window: number;
}

export function hzStats(arrivalsMs: readonly number[]): HzStats | undefined {
  if (arrivalsMs.length < 2) return undefined;
  const periods: number[] = [];
  for (let i = 1; i < arrivalsMs.length; i++) periods.push((arrivalsMs[i] - arrivalsMs[i - 1]) / 1000);
  const mean = periods.reduce((a, b) => a + b, 0) / periods.length;
  const std = Math.sqrt(periods.reduce((a, p) => a + (p - mean) ** 2, 0) / periods.length);
  return { rate: mean > 0 ? 1 / mean : Infinity, min: Math.min(...periods), max: Math.max(...periods), std, window: periods.length };
}
