/**
 * MAVLink 2 on the wire: framing of a byte stream into checked packets, decoding with the
 * mavlink-mappings registry, encoding with a per-link sequence number (node-mavlink's
 * `send()` shares one counter across every link of the process) and message signing.
 *
 * The framer is ours rather than node-mavlink's stream splitter so it runs synchronously
 * (one call per received chunk) and counts exactly what it drops. Its resync rule: a
 * candidate frame whose CRC fails drops only its start byte; a frame with an unknown
 * message id (CRC cannot be checked) is skipped whole only when a valid frame follows it,
 * otherwise its start byte is treated as noise, so garbage cannot swallow valid frames.
 */
import { readFileSync } from 'node:fs';
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
  readonly stats: FramerStats = { frames: 0, crcErrors: 0, unknownIds: 0, noiseBytes: 0 };
  /** msgids of frames skipped as unknown, most recent last (for diagnostics). */
  readonly unknownSeen = new Set<number>();

  push(chunk: Buffer): RawFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RawFrame[] = [];
    let i = 0;
    const b = this.buf;
    while (i < b.length) {
      const r = probe(b, i);
      if (r.kind === 'need_more') break;
      if (r.kind === 'noise') {
        i++;
        this.stats.noiseBytes++;
        continue;
      }
      if (r.kind === 'unknown') {
        // Skip an unknown message whole only if a valid frame follows it; otherwise its start
        // byte was noise (or the header of a truncated frame) and skipping it whole could eat
        // the valid frames that follow.
        const next = r.total < b.length - i ? probe(b, i + r.total) : { kind: 'need_more' as const };
        if (next.kind === 'need_more') break;
        if (next.kind === 'valid') {
          this.stats.unknownIds++;
          this.unknownSeen.add(r.msgid);
          i += r.total;
        } else {
          i++;
          this.stats.noiseBytes++;
        }
        continue;
      }
      if (r.kind === 'crc_error') {
        this.stats.crcErrors++;
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
      i += r.total;
    }
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
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
}

const SIGNATURE_EPOCH_MS = Date.UTC(2015, 0, 1);

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
    throw new Error(`signing key file '${path}': cannot read (${(e as Error).message})`);
  }
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (raw.length === 32 && !/^[\x20-\x7e]*$/.test(raw.toString('latin1'))) return raw;
  if (text.length === 0) throw new Error(`signing key file '${path}': empty; expected 64 hex characters or a passphrase`);
  return MavLinkPacketSignature.key(text);
}

export interface EncoderOptions {
  sysid: number;
  compid: number;
  signing?: SigningOptions;
  /** Wall-clock ms for signature timestamps (monotonic increments are enforced on top). */
  now?: () => number;
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
    const wall = this.o.now ? this.o.now() : SIGNATURE_EPOCH_MS;
    // Timestamps must strictly increase per link, whatever the clock (sim time starts near 0).
    const ts = Math.max(this.lastSigTs + 1, Math.floor(Math.max(0, wall - SIGNATURE_EPOCH_MS) * 100));
    this.lastSigTs = ts;
    sig.linkId = s.linkId;
    sig.timestamp = ts;
    sig.signature = sig.calculate(s.key);
    return out;
  }
}

export type SignatureVerdict = 'ok' | 'unsigned' | 'bad_signature' | 'replayed';

/**
 * Incoming signature policy. With no key, everything passes. With a key, a frame must be
 * signed with it and carry a timestamp newer than the last one seen on its (sysid, compid, link).
 */
export class SignatureChecker {
  private readonly last = new Map<number, number>();
  constructor(private readonly key: Buffer | undefined) {}

  check(f: RawFrame): SignatureVerdict {
    if (!this.key) return 'ok';
    if (!f.signed) return 'unsigned';
    const sig = new MavLinkPacketSignature(f.buffer);
    if (!sig.matches(this.key)) return 'bad_signature';
    const stream = (f.sysid << 16) | (f.compid << 8) | sig.linkId;
    const ts = sig.timestamp;
    const prev = this.last.get(stream);
    if (prev !== undefined && ts <= prev) return 'replayed';
    this.last.set(stream, ts);
    return 'ok';
  }
}
