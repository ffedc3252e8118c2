/**
 * CDR encode/decode for every type in msgs/, plus types met at run time (bag schemas).
 * Schema text is rosbag2 style: the type's own text, then each dependency after a
 * `=====` separator line and `MSG: pkg/Name`, with builtin_interfaces/Time (never ROS 1 `time`).
 */
import { createRequire } from 'node:module';
import type { MessageDefinition } from '@foxglove/message-definition';
import type * as Rosmsg from '@foxglove/rosmsg';
import type * as Cdr from '@foxglove/cdr';
import type * as Serialization from '@foxglove/rosmsg2-serialization';
import { MSG_DEFINITIONS, type MsgTypeMap, type MsgTypeName } from './generated/index.js';
import { parseMsg, PRIMITIVES, type MsgField } from './parse.js';

const SEPARATOR = '='.repeat(80);

export class CdrBoundsError extends Error {
  constructor(what: string, claimed: number, offset: number, left: number) {
    super(`${what} of ${claimed} at byte ${offset} exceeds the ${left} bytes left`);
    this.name = 'CdrBoundsError';
  }
}

interface ReaderInternals {
  view: DataView;
  offset: number;
  origin: number;
  uint32(): number;
  typedArray(ctor: { BYTES_PER_ELEMENT: number }, getter: string, count: number, alignment?: number): unknown;
}

/** Fixes @foxglove/cdr 3.5.0's string writer and its unchecked lengths (below), once. */
function patchCdr({ CdrReader, CdrWriter }: typeof Cdr): void {
  // @foxglove/cdr 3.5.0 writes a string's UTF-16 length as its byte length, so non-ASCII text
  // ('Zürich', an operator's intent in any language) is truncated on the wire. Fixed upstream
  // (foxglove/cdr#35, foxglove/ros-typescript#137) but not in a registry release yet: write the
  // UTF-8 byte length, through CdrWriter's public API (the buffer grows as needed).
  const utf8 = new TextEncoder();
  CdrWriter.prototype.string = function string(this: Cdr.CdrWriter, value: string, writeLength = true): Cdr.CdrWriter {
    const bytes = utf8.encode(value);
    if (writeLength) this.uint32(bytes.length + 1);
    this.uint8Array(bytes, false);
    return this.uint8(0);
  };

  // @foxglove/cdr 3.5.0 trusts length prefixes: a string or byte array is a view at the offset with
  // the claimed length, unchecked against the reader's DataView, so a message view inside a larger
  // buffer (a bag chunk) decodes bytes past its end; a sequence of 30,000,000 elements in a 288-byte
  // message is allocated (and looped over) before failing. Every length is checked against the
  // bytes left before anything is allocated: every element of every sequence takes at least one
  // byte (ROS 2 gives an empty struct a placeholder byte), so a count above the bytes left is corrupt.
  const R = CdrReader.prototype as unknown as ReaderInternals & Record<string, unknown>;
  const left = (r: ReaderInternals): number => r.view.byteLength - r.offset;
  const origSequenceLength = R.sequenceLength as (this: ReaderInternals) => number;
  R.sequenceLength = function sequenceLength(this: ReaderInternals): number {
    const n = origSequenceLength.call(this);
    // The prefix's own (aligned) offset, for the message.
    if (n > left(this)) throw new CdrBoundsError('sequence length', n, this.offset - 4, left(this));
    return n;
  };
  const origString = R.string as (this: ReaderInternals, prereadLength?: number) => string;
  R.string = function string(this: ReaderInternals, prereadLength?: number): string {
    const length = prereadLength ?? this.uint32();
    const at = prereadLength === undefined ? this.offset - 4 : this.offset;
    if (length > left(this)) throw new CdrBoundsError('string length', length, at, left(this));
    return origString.call(this, length);
  };
  for (const name of ['int8Array', 'uint8Array'] as const) {
    const orig = R[name] as (this: ReaderInternals, count?: number) => unknown;
    R[name] = function byteArray(this: ReaderInternals, count?: number): unknown {
      const n = count ?? (R.sequenceLength as (this: ReaderInternals) => number).call(this);
      if (n > left(this)) throw new CdrBoundsError(`${name} length`, n, this.offset, left(this));
      return orig.call(this, n);
    };
  }
  const origTypedArray = R.typedArray;
  R.typedArray = function typedArray(this: ReaderInternals, ctor: { BYTES_PER_ELEMENT: number }, getter: string, count: number, alignment = ctor.BYTES_PER_ELEMENT): unknown {
    if (count > 0) {
      const pad = (alignment - ((this.offset - this.origin) % alignment)) % alignment;
      const need = pad + count * ctor.BYTES_PER_ELEMENT;
      if (need > left(this)) throw new CdrBoundsError(`array of ${ctor.BYTES_PER_ELEMENT}-byte elements, count`, count, this.offset, left(this));
    }
    return origTypedArray.call(this, ctor, getter, count, alignment);
  };
}

interface Wire {
  parse: typeof Rosmsg.parse;
  MessageReader: typeof Serialization.MessageReader;
  MessageWriter: typeof Serialization.MessageWriter;
}
let wire: Wire | undefined;

/**
 * The definition parser and the CDR codec, required (they are CommonJS) on the first encode or decode
 * and patched then: a command that never decodes (`kestrel bag info`) starts without loading them.
 */
function wireLibs(): Wire {
  if (wire) return wire;
  const require = createRequire(import.meta.url);
  patchCdr(require('@foxglove/cdr') as typeof Cdr);
  const { MessageReader, MessageWriter } = require('@foxglove/rosmsg2-serialization') as typeof Serialization;
  wire = { parse: (require('@foxglove/rosmsg') as typeof Rosmsg).parse, MessageReader, MessageWriter };
  return wire;
}

/** service_msgs/msg/ServiceEventInfo, which service-event schemas in bags reference but do not carry. */
const SERVICE_EVENT_INFO = 'uint8 REQUEST_SENT = 0\nuint8 REQUEST_RECEIVED = 1\nuint8 RESPONSE_SENT = 2\nuint8 RESPONSE_RECEIVED = 3\nuint8 event_type\nbuiltin_interfaces/Time stamp\nchar[16] client_gid\nint64 sequence_number\n';

export class UnknownTypeError extends Error {
  constructor(readonly typeName: string, where = '') {
    super(`unknown message type '${typeName}'${where ? ` (${where})` : ''}: no .msg definition in msgs/ or in the bag`);
    this.name = 'UnknownTypeError';
  }
}

export class CdrDecodeError extends Error {
  constructor(readonly typeName: string, readonly byteLength: number, cause: unknown) {
    super(`cannot decode ${byteLength} bytes as CDR ${typeName}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'CdrDecodeError';
  }
}

/** `pkg/Name` and `pkg/msg/Name` both name the same type. */
export function normalizeTypeName(type: string): string {
  const parts = type.split('/');
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

interface Codec {
  reader: Serialization.MessageReader;
  writer: Serialization.MessageWriter;
}

/** Message definitions by type, with lazily built codecs. */
export class MsgRegistry {
  private readonly texts = new Map<string, string>();
  private readonly codecs = new Map<string, Codec>();
  private readonly fields = new Map<string, MsgField[]>();

  constructor(defs: Readonly<Record<string, string>> = MSG_DEFINITIONS) {
    for (const [name, text] of Object.entries(defs)) this.texts.set(name, text);
  }

  has(type: string): boolean {
    return this.texts.has(normalizeTypeName(type));
  }

  types(): string[] {
    return [...this.texts.keys()].sort();
  }

  /** Adds the types found in a full rosbag2-style schema text (the first section names `type`). */
  addSchema(type: string, schemaText: string): void {
    const sections = schemaText.split(/\n?={10,}\n/);
    const srv = /^(\w+)\/srv\/(\w+)_Event$/.exec(type);
    if (srv && /^---\s*$/m.test(sections[0])) {
      // rosbag2 stores a service-event topic's schema as the `.srv` text: build the
      // X_Event message ROS 2 puts on the wire (info, request[<=1], response[<=1]).
      const [pkg, name] = [srv[1], srv[2]];
      const [req, res] = sections[0].split(/^---\s*$/m);
      sections[0] = `service_msgs/ServiceEventInfo info\n${pkg}/${name}_Request[<=1] request\n${pkg}/${name}_Response[<=1] response\n`;
      sections.push(`MSG: ${pkg}/${name}_Request\n${req}`, `MSG: ${pkg}/${name}_Response\n${res ?? ''}`);
      if (!this.texts.has('service_msgs/msg/ServiceEventInfo')) sections.push(`MSG: service_msgs/ServiceEventInfo\n${SERVICE_EVENT_INFO}`);
    }
    this.texts.set(normalizeTypeName(type), sections[0]);
    for (const section of sections.slice(1)) {
      const m = /^MSG:\s*(\S+)\s*\n?([\s\S]*)$/.exec(section);
      if (m && !this.texts.has(normalizeTypeName(m[1]))) this.texts.set(normalizeTypeName(m[1]), m[2]);
    }
    this.codecs.delete(normalizeTypeName(type));
    // Its field list and every default factory (a factory holds its nested types') are rebuilt from the new text.
    this.fields.delete(normalizeTypeName(type));
    this.makers.clear();
    this.spelled.clear();
  }

  fieldsOf(type: string): MsgField[] {
    const name = normalizeTypeName(type);
    let f = this.fields.get(name);
    if (!f) {
      const text = this.texts.get(name);
      if (text === undefined) throw new UnknownTypeError(name);
      f = parseMsg(name, text);
      this.fields.set(name, f);
    }
    return f;
  }

  /** Full schema text as rosbag2 writes it into MCAP `ros2msg` schemas. */
  schemaText(type: string): string {
    const root = normalizeTypeName(type);
    const order: string[] = [];
    const seen = new Set<string>([root]);
    const visit = (t: string): void => {
      for (const f of this.fieldsOf(t)) {
        if (PRIMITIVES.has(f.type) || seen.has(f.type)) continue;
        seen.add(f.type);
        order.push(f.type);
        visit(f.type);
      }
    };
    visit(root);
    const parts = [this.texts.get(root) as string];
    for (const dep of order) {
      const [pkg, , name] = dep.split('/');
      parts.push(`${SEPARATOR}\nMSG: ${pkg}/${name}\n${this.texts.get(dep) as string}`);
    }
    return parts.join('\n');
  }

  /** Codecs by the type name as callers spell it: decode is called per message, normalizing is not free. */
  private readonly spelled = new Map<string, Codec>();

  private codec(type: string): Codec {
    const known = this.spelled.get(type);
    if (known) return known;
    const name = normalizeTypeName(type);
    let c = this.codecs.get(name);
    if (!c) {
      const { parse, MessageReader: Reader, MessageWriter: Writer } = wireLibs();
      const defs: MessageDefinition[] = parse(this.schemaText(name), { ros2: true });
      c = { reader: new Reader(defs), writer: new Writer(defs) };
      this.codecs.set(name, c);
    }
    this.spelled.set(type, c);
    return c;
  }

  encode(type: string, msg: unknown): Uint8Array {
    return this.codec(type).writer.writeMessage(msg);
  }

  decode<T = unknown>(type: string, data: ArrayBufferView): T {
    const { reader } = this.codec(type);
    try {
      return reader.readMessage<T>(data);
    } catch (e) {
      throw new CdrDecodeError(normalizeTypeName(type), data.byteLength, e);
    }
  }

  /** A message with every field at its default (0, '', false, empty arrays, .msg default values). */
  create(type: string): Record<string, unknown> {
    return this.maker(type)();
  }

  // create() runs on hot paths (every tick, every detection): each type's field list is turned into a
  // factory once, so a call allocates the message and nothing else.
  private readonly makers = new Map<string, () => Record<string, unknown>>();

  private maker(type: string): () => Record<string, unknown> {
    let m = this.makers.get(type);
    if (m) return m;
    const fields = this.fieldsOf(type)
      .filter((f) => !f.isConstant)
      .map((f) => [f.name, this.defaultMaker(f)] as const);
    m = () => {
      const out: Record<string, unknown> = {};
      for (const [name, make] of fields) out[name] = make();
      return out;
    };
    this.makers.set(type, m);
    return m;
  }

  /** A field's default: primitives are shared (immutable), messages, arrays and byte arrays are made fresh. */
  private defaultMaker(f: MsgField): () => unknown {
    const one = PRIMITIVES.has(f.type) ? constant(primitiveDefault(f)) : this.maker(f.type);
    if (!f.isArray) return one;
    const n = f.arrayLength ?? 0;
    if (f.type === 'uint8' || f.type === 'byte' || f.type === 'char') return () => new Uint8Array(n);
    return () => Array.from({ length: n }, one);
  }
}

const constant = <T>(v: T): (() => T) => () => v;

function primitiveDefault(f: MsgField): unknown {
  if (f.type === 'bool') return f.value === 'true' || f.value === 'True';
  if (f.type === 'string' || f.type === 'wstring') return f.value !== undefined && !f.isArray ? f.value.replace(/^["']|["']$/g, '') : '';
  if (f.type === 'int64' || f.type === 'uint64') return f.value !== undefined && !f.isArray ? BigInt(f.value) : 0n;
  return f.value !== undefined && !f.isArray ? Number(f.value) : 0;
}

/** The process-wide registry of Kestrel's own types. */
export const msgs = new MsgRegistry();

type DeepPartial<T> = T extends Uint8Array | ArrayLike<number> | bigint ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A typed message with defaults filled in, merged with `init` (nested objects merged too). */
export function makeMsg<K extends MsgTypeName>(type: K, init?: DeepPartial<MsgTypeMap[K]>): MsgTypeMap[K] {
  return merge(msgs.create(type), init) as unknown as MsgTypeMap[K];
}

function merge(base: Record<string, unknown>, init: unknown): Record<string, unknown> {
  if (init === undefined || init === null) return base;
  const src = init as Record<string, unknown>;
  // for...in, not Object.entries: no array per field on a path that runs per message.
  for (const k in src) {
    if (!Object.prototype.hasOwnProperty.call(src, k)) continue;
    const v = src[k];
    const b = base[k];
    if (v !== undefined && b && typeof b === 'object' && !Array.isArray(b) && !ArrayBuffer.isView(b) && v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      merge(b as Record<string, unknown>, v);
    } else if (v !== undefined) {
      base[k] = v;
    }
  }
  return base;
}
