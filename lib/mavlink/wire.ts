/**
 * MAVLink 2 on the wire: framing of a byte stream into checked packets, decoding with the
 * mavlink-mappings registry, encoding with a per-link sequence number (node-mavlink's
 * `send()` shares one counter across every link of the process) and message signing.
 *
 * The framer is ours rather than node-mavlink's stream splitter so it runs synchronously
 * (one call per received chunk) and counts exactly what it drops. Its resync rule: a
 * candidate frame whose CRC fails drops only its start byte; a frame with an unknown
 * message id (CRC cannot be checked) is skipped whole only when a valid frame follows it
 * and no valid frame starts inside it, otherwise its start byte is treated as noise: a cut
 * header's bogus length can end exactly where a real frame begins, and skipping it whole
 * would eat the real frames it spans. At the end of a stream, `flush()` resolves what is
 * still held (a bogus header whose claimed length runs past the data).
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
  unknownIds: number;
  /** Bytes skipped while looking for a start byte (line noise, truncated frames). */
  noiseBytes: number;
}

function isStx(b: number): boolean {
  return b === STX_V1 || b === STX_V2;
}

type Probe =
  | { kind: 'need_more' }
  | { kind: 'noise' }
  | { kind: 'unknown'; msgid: number; total: number }
  | { kind: 'crc_error'; msgid: number; total: number }
  | { kind: 'valid'; msgid: number; total: number };

/** What starts at b[i]: a checked frame, a CRC failure, an unknown id, noise, or too few bytes to tell. */
function probe(b: Buffer, i: number): Probe {
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
  if (b.length - i < total) return { kind: 'need_more' };
  const msgid = v2 ? b[i + 7] | (b[i + 8] << 8) | (b[i + 9] << 16) : b[i + 5];
  const magic = MAGIC[msgid];
  if (magic === undefined) return { kind: 'unknown', msgid, total };
  const crcAt = i + headerLen + plen;
  const crc = b[crcAt] | (b[crcAt + 1] << 8);
  if (crcX25(b, i + 1, crcAt, magic) !== crc) return { kind: 'crc_error', msgid, total };
  return { kind: 'valid', msgid, total };
}

/** Whether a CRC-checked frame starts anywhere in b[from, to). */
function validInside(b: Buffer, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (isStx(b[j]) && probe(b, j).kind === 'valid') return true;
  return false;
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

/** Splits a byte stream into CRC-checked MAVLink 1/2 frames. */
export class MavFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Leading bytes of buf that are the signature of a frame already returned. */
  private shadow = 0;
  readonly stats: FramerStats = { frames: 0, crcErrors: 0, unknownIds: 0, noiseBytes: 0 };
  /** msgids of frames skipped as unknown, most recent last (for diagnostics). */
  readonly unknownSeen = new Set<number>();

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
    this.buf = Buffer.alloc(0);
    this.shadow = 0;
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
      const r = probe(b, i);
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
        // Skip an unknown message whole only if a valid frame follows it and none starts
        // inside it; otherwise its start byte was noise (or the header of a truncated frame)
        // and skipping it whole would eat the valid frames it spans.
        const spansValid = validInside(b, i + 1, i + r.total);
        const next = spansValid ? { kind: 'noise' as const } : r.total < b.length - i ? probe(b, i + r.total) : { kind: 'need_more' as const };
        if (next.kind === 'need_more' && !end) break;
        if (next.kind === 'valid') {
          this.stats.unknownIds++;
          this.unknownSeen.add(r.msgid);
          i += r.total;
        } else skipByte();
        continue;
      }
      if (r.kind === 'crc_error') {
        if (i >= shadowEnd) this.stats.crcErrors++;
        i++;
        continue;
      }
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
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.shadow = 0;
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
