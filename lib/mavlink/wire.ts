/**
 * MAVLink 2 on the wire: framing of a byte stream into checked packets, decoding with the
 * mavlink-mappings registry, encoding with a per-link sequence number (node-mavlink's
 * `send()` shares one counter across every link of the process) and message signing.
 *
 * The framer is ours rather than node-mavlink's stream splitter so it runs synchronously
 * (one call per received chunk) and counts exactly what it drops. It checks a candidate
 * frame as the MAVLink C library does with MAVLINK_CHECK_MESSAGE_LENGTH: the message id
 * must be known (its CRC_EXTRA and payload length), the payload length must fit the message
 * (MAVLink 1: base fields to all extensions; MAVLink 2 truncates trailing zeros, so up to all
 * extensions), then the CRC. A rejected candidate drops only its start byte, so a real frame
 * inside a bogus one (a cut header's length spanning the next frames) is still found, and a
 * header that fails the id or length check is rejected at once instead of holding the
 * stream until its claimed length has arrived. At the end of a stream, `flush()` resolves
 * what is still held (a plausible header whose claimed length runs past the data).
 */
import { readFileSync } from 'node:fs';
import { NEW_STREAM_WINDOW, SIGNATURE_EPOCH_MS, SigningState, signingStateFileFor, streamKey } from './signing-state.js';
import {
  ardupilotmega,
  common,
  minimal,
  MavLinkPacketSignature,
  MavLinkProtocolV1,
  MavLinkProtocolV2,
  MSG_ID_MAGIC_NUMBER,
  type MavLinkData,
  type MavLinkDataConstructor,
} from 'node-mavlink';
import { common as mmCommon, minimal as mmMinimal, MSG_ID_MAGIC_NUMBER as MM_MAGIC } from 'mavlink-mappings';

export type { MavLinkData };

const STX_V1 = 0xfe;
const STX_V2 = 0xfd;
const HEADER_V1 = 6;
const HEADER_V2 = 10;
const CRC_LEN = 2;
const SIG_LEN = 13;
const IFLAG_SIGNED = 0x01;

/**
 * node-mavlink 2.3 bundles a mavlink-mappings whose common set lacks AUTOPILOT_VERSION (148)
 * and minimal lacks PROTOCOL_VERSION (300), both of which every ground station asks for; the
 * standalone mavlink-mappings package fills those ids in (and only ids the bundled one lacks).
 */
const FILL: Record<number, MavLinkDataConstructor<MavLinkData>> = {
  ...(mmMinimal.REGISTRY as unknown as Record<number, MavLinkDataConstructor<MavLinkData>>),
  ...(mmCommon.REGISTRY as unknown as Record<number, MavLinkDataConstructor<MavLinkData>>),
};

export const REGISTRY: Readonly<Record<number, MavLinkDataConstructor<MavLinkData>>> = {
  ...FILL,
  ...(minimal.REGISTRY as Record<number, MavLinkDataConstructor<MavLinkData>>),
  ...(common.REGISTRY as Record<number, MavLinkDataConstructor<MavLinkData>>),
  ...(ardupilotmega.REGISTRY as Record<number, MavLinkDataConstructor<MavLinkData>>),
};

const MAGIC = { ...(MM_MAGIC as Record<string, number | undefined>), ...(MSG_ID_MAGIC_NUMBER as Record<string, number | undefined>) };

/** One checked frame: CRC verified, not yet decoded. */
export interface RawFrame {
  buffer: Buffer;
  version: 1 | 2;
  msgid: number;
  sysid: number;
  compid: number;
  seq: number;
  signed: boolean;
}

export interface FramerStats {
  frames: number;
  crcErrors: number;
  /** Candidate frames whose payload length does not fit their message (bogus headers, mostly). */
  lengthErrors: number;
  /** Frames of a message id the framer has no definition for (skipped; they cannot be checked). */
  unknownIds: number;
  /** Bytes skipped while looking for a start byte (line noise, truncated frames, unknown ids). */
  noiseBytes: number;
}

/** What the framer checks a message id's frames against. */
export interface MessageSpec {
  crcExtra: number;
  /** Payload bytes of the base fields: the least a MAVLink 1 frame carries. */
  minLength: number;
  /** Payload bytes with every extension field: the most any frame carries. */
  maxLength: number;
}

export interface FramerOptions {
  /**
   * Messages beyond the registry (a private dialect): their frames are length- and CRC-checked
   * and come out, instead of being skipped as unknown ids.
   */
  messages?: Readonly<Record<number, MessageSpec>>;
}

const fieldBytes = (fields: readonly { size: number; length: number; extension: boolean }[], extensions: boolean): number =>
  fields.filter((f) => extensions || !f.extension).reduce((n, f) => n + f.size * Math.max(1, f.length), 0);

/**
 * Every registry message: its CRC_EXTRA and payload length bounds. The longest definition of the
 * two bundled mapping versions sets the maximum (extensions only grow; the base fields and
 * CRC_EXTRA do not change). Ids with a CRC_EXTRA but no class are left out: they cannot be decoded.
 */
const KNOWN: ReadonlyMap<number, MessageSpec> = new Map(
  Object.entries(REGISTRY).map(([id, cls]) => {
    const c = cls as unknown as { MAGIC_NUMBER: number; PAYLOAD_LENGTH: number; FIELDS: { size: number; length: number; extension: boolean }[] };
    const other = FILL[Number(id)] as unknown as { PAYLOAD_LENGTH: number } | undefined;
    const spec: MessageSpec = {
      crcExtra: MAGIC[id] ?? c.MAGIC_NUMBER,
      minLength: fieldBytes(c.FIELDS, false),
      maxLength: Math.max(c.PAYLOAD_LENGTH, fieldBytes(c.FIELDS, true), other?.PAYLOAD_LENGTH ?? 0),
    };
    return [Number(id), spec];
  }),
);

/** The definition the framer checks `msgid` against, if it has one. */
export function messageSpec(msgid: number): MessageSpec | undefined {
  return KNOWN.get(msgid);
}

function isStx(b: number): boolean {
  return b === STX_V1 || b === STX_V2;
}

type Probe =
  | { kind: 'need_more' }
  | { kind: 'noise' }
  | { kind: 'unknown'; msgid: number; total: number }
  | { kind: 'bad_length'; msgid: number }
  | { kind: 'crc_error'; msgid: number; total: number }
  | { kind: 'valid'; msgid: number; total: number };

/**
 * Whether a payload of `plen` bytes fits the message in a frame of this version. MAVLink 2 may be
 * truncated to nothing: the spec keeps the first byte, but node-mavlink (our encoder too) sends
 * an all-zero payload as length 0.
 */
function lengthFits(spec: MessageSpec, plen: number, v2: boolean): boolean {
  return plen <= spec.maxLength && (v2 || plen >= spec.minLength);
}

/** What starts at b[i]: a checked frame, a rejected candidate, noise, or too few bytes to tell. */
function probe(b: Buffer, i: number, specOf: (msgid: number) => MessageSpec | undefined): Probe {
  if (!isStx(b[i])) return { kind: 'noise' };
  const v2 = b[i] === STX_V2;
  const headerLen = v2 ? HEADER_V2 : HEADER_V1;
  if (b.length - i < headerLen) return { kind: 'need_more' };
  const plen = b[i + 1];
  const iflags = v2 ? b[i + 2] : 0;
  // Unknown incompatibility flags: the spec says drop; as a frame start it is noise.
  if ((iflags & ~IFLAG_SIGNED) !== 0) return { kind: 'noise' };
  const signed = (iflags & IFLAG_SIGNED) !== 0;
  const total = headerLen + plen + CRC_LEN + (signed ? SIG_LEN : 0);
  const msgid = v2 ? b[i + 7] | (b[i + 8] << 8) | (b[i + 9] << 16) : b[i + 5];
  // Decided from the header alone, so a bogus header does not hold the frames behind it.
  const spec = specOf(msgid);
  if (spec === undefined) return { kind: 'unknown', msgid, total };
  if (!lengthFits(spec, plen, v2)) return { kind: 'bad_length', msgid };
  if (b.length - i < total) return { kind: 'need_more' };
  const crcAt = i + headerLen + plen;
  const crc = b[crcAt] | (b[crcAt + 1] << 8);
  if (crcX25(b, i + 1, crcAt, spec.crcExtra) !== crc) return { kind: 'crc_error', msgid, total };
  return { kind: 'valid', msgid, total };
}

/** MAVLink's CRC-16/MCRF4XX (X.25) over b[from, to) plus the message's CRC_EXTRA byte; in place, no slicing. */
export function crcX25(b: Buffer, from: number, to: number, crcExtra: number): number {
  let crc = 0xffff;
  for (let k = from; k <= to; k++) {
    let tmp = ((k < to ? b[k] : crcExtra) ^ crc) & 0xff;
    tmp = (tmp ^ (tmp << 4)) & 0xff;
    crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xffff;
  }
  return crc;
}

/** At most this many unknown-id headers wait between two valid frames to be told apart from noise. */
const MAX_UNKNOWN_CANDIDATES = 16;

/** Splits a byte stream into CRC-checked MAVLink 1/2 frames. */
export class MavFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Leading bytes of buf that are the signature of a frame already returned. */
  private shadow = 0;
  /**
   * Unknown-id headers since the last valid frame (stream offset where each would end). One that
   * ends exactly where the next valid frame starts, with no valid frame inside it, was a real
   * frame of an unknown message rather than noise; only the counters use this.
   */
  private unknown: { end: number; msgid: number }[] = [];
  private readonly specOf: (msgid: number) => MessageSpec | undefined;
  readonly stats: FramerStats = { frames: 0, crcErrors: 0, lengthErrors: 0, unknownIds: 0, noiseBytes: 0 };
  /** msgids of frames skipped as unknown, most recent last (for diagnostics). */
  readonly unknownSeen = new Set<number>();

  constructor(o: FramerOptions = {}) {
    const extra = o.messages ?? {};
    this.specOf = (msgid) => extra[msgid] ?? KNOWN.get(msgid);
  }

  push(chunk: Buffer): RawFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return this.scan(false);
  }

  /**
   * End of stream: what is held can no longer complete, so a start byte that still waits for
   * its claimed length is noise, and the valid frames behind it come out.
   */
  flush(): RawFrame[] {
    const out = this.scan(true);
    this.stats.noiseBytes += Math.max(0, this.buf.length - this.shadow);
    this.base += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.shadow = 0;
    this.unknown = [];
    return out;
  }

  private scan(end: boolean): RawFrame[] {
    const out: RawFrame[] = [];
    let i = 0;
    const b = this.buf;
    // Signature bytes of the last signed frame, scanned again (see below) but not counted as noise.
    let shadowEnd = this.shadow;
    const skipByte = (): void => {
      if (i >= shadowEnd) this.stats.noiseBytes++;
      i++;
    };
    while (i < b.length) {
      const r = probe(b, i, this.specOf);
      if (r.kind === 'need_more') {
        if (!end) break;
        skipByte();
        continue;
      }
      if (r.kind === 'noise') {
        skipByte();
        continue;
      }
      if (r.kind === 'unknown') {
        // Cannot be checked, so it is skipped byte by byte like noise: a bogus length would
        // otherwise eat the real frames it spans.
        this.noteUnknown(this.base + i + r.total, r.msgid);
        skipByte();
        continue;
      }
      if (r.kind === 'bad_length' || r.kind === 'crc_error') {
        if (i >= shadowEnd) this.stats[r.kind === 'crc_error' ? 'crcErrors' : 'lengthErrors']++;
        i++;
        continue;
      }
      this.confirmUnknown(this.base + i);
      this.stats.frames++;
      const v2 = b[i] === STX_V2;
      out.push({
        // A view, not a copy: the chunk it points into is not reused or mutated.
        buffer: b.subarray(i, i + r.total),
        version: v2 ? 2 : 1,
        msgid: r.msgid,
        seq: v2 ? b[i + 4] : b[i + 2],
        sysid: v2 ? b[i + 5] : b[i + 3],
        compid: v2 ? b[i + 6] : b[i + 4],
        signed: v2 && (b[i + 2] & IFLAG_SIGNED) !== 0,
      });
      // A frame cut inside its CRC or signature takes the start of the next frame as its last
      // bytes (the CRC's high byte matches it 1 time in 256; the CRC does not cover the signature
      // at all). So those bytes are scanned again: a real frame starting there still comes out.
      // The cut frame's content is intact; a garbage signature then fails the SignatureChecker.
      shadowEnd = i + r.total;
      i += (v2 ? HEADER_V2 : HEADER_V1) + b[i + 1];
    }
    this.shadow = Math.max(0, shadowEnd - i);
    this.base += i;
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  private noteUnknown(end: number, msgid: number): void {
    if (this.unknown.length >= MAX_UNKNOWN_CANDIDATES) this.unknown.shift();
    this.unknown.push({ end, msgid });
  }

  /** A valid frame starts at stream offset `at`: the unknown-id headers ending there were frames; the rest were not. */
  private confirmUnknown(at: number): void {
    for (const u of this.unknown) {
      if (u.end !== at) continue;
      this.stats.unknownIds++;
      this.unknownSeen.add(u.msgid);
    }
    this.unknown = [];
  }

  /** Bytes held waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.base += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.shadow = 0;
    this.unknown = [];
  }
}

const V1 = new MavLinkProtocolV1();
const V2 = new MavLinkProtocolV2();

/** Decodes a checked frame into its mavlink-mappings class (e.g. `common.CommandLong`). */
export function decodeFrame(f: RawFrame): MavLinkData {
  const cls = REGISTRY[f.msgid];
  if (!cls) throw new Error(`MAVLink msgid ${f.msgid} has a CRC magic but no class in the registry`);
  const proto = f.version === 2 ? V2 : V1;
  // Padded to 255 zero bytes, so MAVLink 2 truncated payloads and missing extensions read as
  // zeros (node-mavlink's payload() does the same with two extra allocations).
  const off = f.version === 2 ? HEADER_V2 : HEADER_V1;
  const plen = f.buffer[1];
  const padded = Buffer.alloc(255);
  f.buffer.copy(padded, 0, off, off + plen);
  return proto.data(padded, cls);
}

/** MAVLink 2 signing: 32-byte secret key, link id, 48-bit timestamp in 10 µs units since 2015-01-01. */
export interface SigningOptions {
  key: Buffer;
  linkId: number;
  /**
   * Where the signing timestamps persist across restarts (signing-state.ts). Default: beside
   * the key file when the key came from loadSigningKey, else in memory only.
   */
  stateFile?: string;
}

// Key buffers loadSigningKey returned → their file, so an endpoint can keep the timestamp state
// beside the key without every caller passing its path along.
const keyFiles = new WeakMap<Buffer, string>();

/** The state file for a key: the explicit one, else beside the file the key was loaded from. */
export function signingStateFile(s: SigningOptions): string | undefined {
  if (s.stateFile) return s.stateFile;
  const f = keyFiles.get(s.key);
  return f ? signingStateFileFor(f) : undefined;
}

/**
 * Reads a signing key file: 64 hex characters (the raw 32-byte key, as mavproxy's `signing
 * key` prints it), exactly 32 bytes of binary key, or else a passphrase hashed with SHA-256
 * (Mission Planner's convention).
 */
export function loadSigningKey(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new Error(`signing key file '${path}': cannot read (${(e as Error).message})`, { cause: e });
  }
  const text = raw.toString('utf8').trim();
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (raw.length === 32 && !/^[\x20-\x7e]*$/.test(raw.toString('latin1'))) key = raw;
  else if (text.length === 0) throw new Error(`signing key file '${path}': empty; expected 64 hex characters or a passphrase`);
  else key = MavLinkPacketSignature.key(text);
  keyFiles.set(key, path);
  return key;
}

export interface EncoderOptions {
  sysid: number;
  compid: number;
  signing?: SigningOptions;
  /** Wall-clock ms for signature timestamps (monotonic increments are enforced on top). */
  now?: () => number;
  /** Shared local signing timestamp (persisted); without it the encoder keeps its own counter. */
  timestamps?: SigningState;
}

/** Serializes messages as MAVLink 2 from one system/component, with its own sequence counter. */
export class MavEncoder {
  private seq = 0;
  private lastSigTs = 0;
  private readonly proto: MavLinkProtocolV2;

  constructor(private readonly o: EncoderOptions) {
    this.proto = new MavLinkProtocolV2(o.sysid, o.compid, o.signing ? IFLAG_SIGNED : 0);
  }

  encode(msg: MavLinkData): Buffer {
    const frame = this.proto.serialize(msg, this.seq);
    this.seq = (this.seq + 1) & 0xff;
    const s = this.o.signing;
    if (!s) return frame;
    const out = Buffer.concat([frame, Buffer.alloc(SIG_LEN)]);
    const sig = new MavLinkPacketSignature(out);
    let ts: number;
    if (this.o.timestamps) ts = this.o.timestamps.next();
    else {
      const wall = this.o.now ? this.o.now() : SIGNATURE_EPOCH_MS;
      // Timestamps must strictly increase per link, whatever the clock (sim time starts near 0).
      ts = Math.max(this.lastSigTs + 1, Math.floor(Math.max(0, wall - SIGNATURE_EPOCH_MS) * 100));
    }
    this.lastSigTs = ts;
    sig.linkId = s.linkId;
    sig.timestamp = ts;
    sig.signature = sig.calculate(s.key);
    return out;
  }
}

/** `stale`: a new stream whose timestamp is more than a minute behind the local timestamp. */
export type SignatureVerdict = 'ok' | 'unsigned' | 'bad_signature' | 'replayed' | 'stale';

export interface CheckerOptions {
  /** Local timestamp and per-stream state (persisted when it has a file); default: in memory. */
  state?: SigningState;
  /** Wall-clock ms, for an in-memory state's local timestamp. */
  now?: () => number;
}

/**
 * Incoming signature policy (the spec's): with no key, everything passes. With a key, a frame
 * must be signed with it; on a known (sysid, compid, link) stream its timestamp must be newer
 * than the last one accepted there, and a new stream's must be at most one minute behind the
 * local timestamp (else an old capture would open a "new" stream after a restart).
 */
export class SignatureChecker {
  readonly state: SigningState;
  constructor(
    private readonly key: Buffer | undefined,
    o: CheckerOptions = {},
  ) {
    this.state = o.state ?? new SigningState({ now: o.now });
  }

  check(f: RawFrame): SignatureVerdict {
    if (!this.key) return 'ok';
    if (!f.signed) return 'unsigned';
    const sig = new MavLinkPacketSignature(f.buffer);
    if (!sig.matches(this.key)) return 'bad_signature';
    const stream = streamKey(f.sysid, f.compid, sig.linkId);
    const ts = sig.timestamp;
    const prev = this.state.last(stream);
    if (prev !== undefined) {
      if (ts <= prev) return 'replayed';
    } else if (ts + NEW_STREAM_WINDOW < this.state.local()) return 'stale';
    this.state.accept(stream, ts);
    return 'ok';
  }
}
