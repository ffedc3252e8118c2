/**
 * One MCAP file, read as a stream of records: works the same for chunked or not, zstd/lz4
 * chunks, indexed or unfinished (no summary) files. A cut or damaged file yields every
 * complete record before the damage, plus a problem saying where and what was lost.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { MCAP_MAGIC, McapIndexedReader, McapRecordBuilder, McapStreamReader, type DecompressHandlers, type IReadable, type McapTypes } from '@mcap/core';
import { zstdContentSize } from './compression.js';
import { lz4DecodeFrames } from './lz4.js';
import { BagError, type BagProblem, type Unpacked } from './types.js';
import { loadChunkZstd } from './zstd-wasm.js';
import type { ZstdCodec } from './zstd-stream.js';

export interface RawSchema {
  name: string;
  encoding: string;
  text: string;
}

export interface RawChannel {
  id: number;
  topic: string;
  messageEncoding: string;
  schema: RawSchema | undefined;
  metadata: Map<string, string>;
}

export interface RawMessage {
  /** Which Chunk record of the file holds it (0, 1, ... in file order); -1 outside any chunk. */
  chunk: number;
  channelId: number;
  sequence: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

export interface McapFileContents {
  profile: string;
  library: string;
  channels: Map<number, RawChannel>;
  messages: RawMessage[];
  /** Metadata records by name; for repeated names (rosbag2 C++ writes two `rosbag2`), the last. */
  metadata: Map<string, Map<string, string>>;
  chunkCompression: Set<string>;
  sizeBytes: number;
  /** True when the footer and closing magic were read. */
  complete: boolean;
  problems: BagProblem[];
}

/** Bound of one decompressed chunk (a chunk holds whole messages: a 4K RGBA frame is 33 MB). */
const MAX_CHUNK_BYTES = 1 << 30;

/** A chunk's declared uncompressed size, checked before anything is allocated for it. */
function chunkBytes(compression: string, declared: bigint): number {
  if (declared > BigInt(MAX_CHUNK_BYTES)) throw new Error(`${compression} chunk declares ${declared} bytes uncompressed, above the bound of ${MAX_CHUNK_BYTES}`);
  return Number(declared);
}
/** zstd expands a 4-byte block (3-byte header, one RLE byte) to at most 128 KiB: no frame expands more. */
const ZSTD_MAX_RATIO = 32 * 1024;

/**
 * MCAP chunk decoders, bounded: the declared uncompressed size is checked against a bound and
 * against the frame's own content size (zstd) before the output is allocated, and the output must
 * have exactly that size. zstd through libzstd (wasm-zstd without it), lz4 frames through lz4.ts; bz2, which is not one of
 * the MCAP specification's compressions and which rosbag2 never writes, is not loaded (a bz2 chunk is
 * reported as unsupported and skipped). @mcap/support's loader is not used: it loads protobufjs and
 * three WebAssembly modules, a third of `kestrel bag info`'s start-up.
 */
let chunkZstd: ZstdCodec | undefined;
const HANDLERS: DecompressHandlers = {
  zstd: (data, size) => {
    const n = chunkBytes('zstd', size);
    const framed = zstdContentSize(data, 'zstd chunk');
    if (framed !== undefined && framed !== n) throw new Error(`zstd chunk: its frame holds ${framed} bytes, the chunk header says ${n}`);
    if (n > data.byteLength * ZSTD_MAX_RATIO) throw new Error(`zstd chunk of ${data.byteLength} bytes cannot hold the ${n} bytes its header says`);
    if (!chunkZstd) throw new Error('zstd chunk decoder not loaded (decompressHandlers() loads it)');
    const out = chunkZstd.decompress(data, n);
    if (out.byteLength !== n) throw new Error(`zstd chunk decodes to ${out.byteLength} bytes, the chunk header says ${n}`);
    return out;
  },
  lz4: (data, size) => {
    const n = chunkBytes('lz4', size);
    const out = lz4DecodeFrames(data, n);
    if (out.byteLength !== n) throw new Error(`lz4 chunk decodes to ${out.byteLength} bytes, the chunk header says ${n}`);
    return out;
  },
};

/**
 * The chunk decoders for the compressions in `kinds` (default: every one), once what they need is
 * loaded: wasm-zstd only when zstd is among them, so that a file whose summary lists no zstd chunk
 * never loads it. A chunk of another compression is then reported as unsupported and skipped.
 */
export async function decompressHandlers(kinds: Iterable<string> = Object.keys(HANDLERS)): Promise<DecompressHandlers> {
  const out: DecompressHandlers = {};
  for (const k of kinds) {
    if (k === 'zstd') chunkZstd ??= await loadChunkZstd();
    if (Object.hasOwn(HANDLERS, k)) out[k] = HANDLERS[k];
  }
  return out;
}

const OPCODES: Record<number, string> = {
  0x01: 'Header', 0x02: 'Footer', 0x03: 'Schema', 0x04: 'Channel', 0x05: 'Message', 0x06: 'Chunk',
  0x07: 'MessageIndex', 0x08: 'ChunkIndex', 0x09: 'Attachment', 0x0a: 'AttachmentIndex', 0x0b: 'Statistics',
  0x0c: 'Metadata', 0x0d: 'MetadataIndex', 0x0e: 'SummaryOffset', 0x0f: 'DataEnd',
};

/** What sits at `offset` in a damaged file: the record the cut or corruption hit (`head`: bytes from there). */
function describeAt(head: Uint8Array, remaining: number): string {
  if (remaining <= 0 || head.length === 0) return 'end of file';
  const op = head[0];
  const name = OPCODES[op] ?? `unknown opcode 0x${op.toString(16)}`;
  if (remaining < 9 || head.length < 9) return `${name} record header (${remaining} of 9 bytes present)`;
  const len = new DataView(head.buffer, head.byteOffset + 1, 8).getBigUint64(0, true);
  return `${name} record of ${len} bytes (${remaining - 9} present)`;
}

/** The file's bytes in memory, or a decompressed copy of it (whole-file compression), or undefined: the file itself. */
export type McapBytes = Uint8Array | Unpacked | undefined;

export function mcapSize(path: string, bytes: McapBytes): number {
  return bytes === undefined ? statSync(path).size : bytes instanceof Uint8Array ? bytes.byteLength : bytes.size;
}

/** Random access to the file (or to `bytes`), for reading on and for resynchronizing after damage. */
class Source {
  private fd: number | undefined;
  readonly size: number;
  private readonly bytes: Uint8Array | undefined;
  /** A descriptor the caller owns (an unpacked file): used, never closed here. */
  private readonly borrowed: number | undefined;
  constructor(private readonly path: string, data: McapBytes) {
    this.size = mcapSize(path, data);
    this.bytes = data instanceof Uint8Array ? data : undefined;
    this.borrowed = data instanceof Uint8Array ? undefined : data?.fd;
  }
  /** `into`: a buffer to reuse (of at least `n` bytes), for a caller that copies what it gets. */
  read(pos: number, n: number, into?: Uint8Array): Uint8Array {
    const len = Math.max(0, Math.min(n, this.size - pos));
    if (this.bytes) return this.bytes.subarray(pos, pos + len);
    this.fd ??= this.borrowed ?? openSync(this.path, 'r');
    const buf = into && into.byteLength >= len ? into.subarray(0, len) : new Uint8Array(len);
    const got = readSync(this.fd, buf, 0, len, pos);
    return got === len ? buf : buf.subarray(0, got);
  }
  close(): void {
    if (this.fd !== undefined && this.fd !== this.borrowed) closeSync(this.fd);
    this.fd = undefined;
  }
}

const CHUNK = 0x06;
const COMPRESSIONS = new Set(['', 'zstd', 'lz4', 'bz2']);

/** Whether a plausible Chunk record starts at `at` of `b` (fields consistent with its length and the file). */
function chunkAt(b: Uint8Array, at: number, filePos: number, size: number): boolean {
  if (b[at] !== CHUNK || at + 9 + 36 > b.byteLength) return false;
  const v = new DataView(b.buffer, b.byteOffset + at);
  const len = Number(v.getBigUint64(1, true));
  if (len < 36 || filePos + 9 + len > size) return false;
  if (v.getBigUint64(9, true) > v.getBigUint64(17, true)) return false;
  const clen = v.getUint32(37, true);
  if (clen > 8 || at + 41 + clen + 8 > b.byteLength) return false;
  const comp = new TextDecoder().decode(b.subarray(at + 41, at + 41 + clen));
  if (!COMPRESSIONS.has(comp)) return false;
  const records = Number(new DataView(b.buffer, b.byteOffset + at + 41 + clen, 8).getBigUint64(0, true));
  return 8 + 8 + 8 + 4 + 4 + clen + 8 + records === len;
}

/** The next position after `from` where a Chunk record plausibly starts, or undefined. */
function findChunk(src: Source, from: number): number | undefined {
  const WINDOW = 1 << 20;
  for (let pos = from; pos < src.size; pos += WINDOW) {
    const b = src.read(pos, WINDOW + 64);
    const end = Math.min(WINDOW, b.byteLength);
    for (let i = 0; i < end; i++) if (b[i] === CHUNK && chunkAt(b, i, pos + i, src.size)) return pos + i;
  }
  return undefined;
}

const hex = (b: Uint8Array | readonly number[]): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/**
 * Refuses a file that is not MCAP at all (another format, or named .mcap by mistake) instead of reading it as a
 * damaged bag of 0 messages. A file cut inside its magic (its bytes a prefix of it) is a truncated MCAP.
 */
function notMcap(path: string, head: Uint8Array, size: number): void {
  if (size === 0) throw new BagError(path, 'empty file (0 bytes): not an MCAP file');
  if (head.some((b, i) => b !== MCAP_MAGIC[i])) throw new BagError(path, `not an MCAP file: it starts with ${hex(head)}, not the MCAP magic ${hex(MCAP_MAGIC)}`);
}

export function emptyContents(path: string, sizeBytes: number): McapFileContents {
  return { profile: '', library: '', channels: new Map(), messages: [], metadata: new Map(), chunkCompression: new Set(), sizeBytes, complete: false, problems: [] };
}

/**
 * Streams the Message records of one file in file order, filling `out` (channels, metadata,
 * problems...) as it goes. Sync, so a bag can be iterated lazily without holding it in memory.
 * A damaged record (bad CRC, bad compressed data, a wrong length, an unknown opcode) is
 * skipped: reading goes on at the next chunk, and the problem says how many messages the
 * skipped chunk held (from the message index records after it, when the file has them).
 */
export function* mcapMessages(path: string, handlers: DecompressHandlers, out: McapFileContents, bytes?: McapBytes, blockSize = 8 << 20): Generator<RawMessage> {
  const src = new Source(path, bytes);
  notMcap(path, src.read(0, MCAP_MAGIC.length), src.size);
  const schemas = new Map<number, RawSchema>();
  const schemaRecs = new Map<number, McapTypes.Schema>();
  const channelRecs = new Map<number, McapTypes.Channel>();
  const decoder = new TextDecoder();
  let count = 0;
  /** The damage being accounted: messages lost are added from the message index records that follow it. */
  let lost: { problem: BagProblem; base: string; messages: number } | undefined;
  const closeLost = (): void => {
    if (lost) lost.problem.message = `${lost.base}; ${lost.messages > 0 ? `${lost.messages} message(s) in it are lost` : 'its messages (if any) are lost'}, reading went on after it`;
    lost = undefined;
  };
  /** A reader positioned at `pos`: after the first, it starts without magic and is told the schemas and channels seen so far. */
  // Chunk CRCs are checked here with zlib's native crc32 (a quarter of a read's time in @mcap/core's JS
  // one): on the decompressed bytes inside the handler, or at the Chunk record when it is uncompressed.
  // (@mcap/core's validateCrcs guards chunks and attachments only; rosbag2 writes no attachments.)
  let expectedCrc = 0;
  const crcError = (got: number): Error => new Error(`Incorrect chunk CRC ${got} (expected ${expectedCrc})`);
  const checked: DecompressHandlers = {};
  for (const [name, decode] of Object.entries(handlers)) {
    checked[name] = (data, size) => {
      const out = decode(data, size);
      const got = expectedCrc === 0 ? 0 : crc32(out);
      if (got !== expectedCrc) throw crcError(got);
      return out;
    };
  }
  const readerAt = (pos: number, first: boolean): { reader: McapStreamReader; appended: number } => {
    const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: checked, validateCrcs: false, noMagicPrefix: !first });
    if (!first) {
      const b = new McapRecordBuilder();
      for (const sc of schemaRecs.values()) b.writeSchema(sc);
      for (const ch of channelRecs.values()) b.writeChannel(ch);
      reader.append(b.buffer);
    }
    return { reader, appended: pos };
  };
  let { reader, appended } = readerAt(0, true);
  let cutAt: number | undefined;
  // Offset of the next unparsed top-level record, and where the last Chunk started and ended.
  let offset = 0;
  let chunkStart = -1;
  let chunkEnd = -1;
  let chunked = false;
  let chunkNo = -1;
  let blockBuf: Uint8Array | undefined;
  const resync = (damageAt: number, from: number, what: string, exact = false): boolean => {
    closeLost();
    const next = exact ? from : findChunk(src, from);
    const problem: BagProblem = { kind: 'corrupt', file: path, offset: damageAt, message: '' };
    out.problems.push(problem);
    if (next === undefined) {
      problem.message = `corrupt data at byte ${damageAt} (${what}); no intact chunk follows: reading stopped after ${count} messages, the rest of the file is lost`;
      return false;
    }
    const base = `corrupt data at byte ${damageAt} (${what}), skipped to byte ${next}`;
    lost = { problem, base, messages: 0 };
    closeLost(); // a message now; made exact by the message index records that follow
    lost = { problem, base, messages: 0 };
    ({ reader, appended } = readerAt(next, false));
    offset = next;
    chunkStart = chunkEnd = -1;
    return true;
  };
  try {
    for (;;) {
      let rec;
      try {
        rec = reader.nextRecord();
      } catch (e) {
        const inChunk = chunkEnd >= 0 && offset === chunkEnd;
        const at = inChunk ? chunkStart : offset;
        const what = `${describeAt(src.read(at, 9), src.size - at)}: ${(e as Error).message}`;
        // A chunk that fails whole is skipped exactly; a bad record elsewhere needs a search.
        if (resync(at, inChunk ? chunkEnd : at + 1, what, inChunk)) continue;
        return;
      }
      if (!rec) {
        if (reader.done()) break;
        // Needs more bytes: first check that the record waiting for them fits in the file.
        const pos = appended - reader.bytesRemaining();
        const head = src.read(pos, 9);
        // (Before the 8-byte magic is read, there is no record to check.)
        if (head.byteLength === 9 && pos >= 8) {
          const len = Number(new DataView(head.buffer, head.byteOffset + 1, 8).getBigUint64(0, true));
          if (pos + 9 + len > src.size) {
            // It cannot complete: a damaged length if an intact chunk follows, else the file is cut here.
            if (findChunk(src, pos + 1) !== undefined) {
              if (resync(pos, pos + 1, `${describeAt(head, src.size - pos)}, longer than the file`)) continue;
              return;
            }
            cutAt = pos;
            break;
          }
        }
        if (appended >= src.size) {
          if (pos < src.size) cutAt = pos;
          break;
        }
        // McapStreamReader.append copies the block: one buffer serves every read.
        blockBuf ??= new Uint8Array(Math.min(blockSize, src.size));
        const block = src.read(appended, blockSize, blockBuf);
        reader.append(block);
        appended += block.byteLength;
        continue;
      }
      const start = offset;
      offset = appended - reader.bytesRemaining();
      switch (rec.type) {
        case 'Header':
          out.profile = rec.profile;
          out.library = rec.library;
          break;
        case 'Schema':
          schemaRecs.set(rec.id, rec);
          schemas.set(rec.id, { name: rec.name, encoding: rec.encoding, text: decoder.decode(rec.data) });
          break;
        case 'Channel':
          channelRecs.set(rec.id, rec);
          out.channels.set(rec.id, { id: rec.id, topic: rec.topic, messageEncoding: rec.messageEncoding, schema: rec.schemaId === 0 ? undefined : schemas.get(rec.schemaId), metadata: rec.metadata });
          break;
        case 'Message':
          // A chunk's records do not move the file offset. A Message outside a chunk, in a file that has
          // chunks, is guarded by no CRC and written by no chunking writer: a damaged opcode (a MessageIndex
          // read as a Message) or a resync inside data. Dropped and reported rather than yielded.
          if (offset > start && chunked) {
            out.problems.push({ kind: 'corrupt', file: path, offset: start, timeNs: rec.logTime, message: `Message record of ${offset - start - 9} bytes at byte ${start} lies outside the file's chunks (no CRC guards it: most likely a damaged record): dropped` });
            break;
          }
          count++;
          yield { chunk: offset > start ? -1 : chunkNo, channelId: rec.channelId, sequence: rec.sequence, logTime: rec.logTime, publishTime: rec.publishTime, data: rec.data };
          break;
        case 'Chunk':
          closeLost();
          chunked = true;
          chunkNo++;
          chunkStart = start;
          chunkEnd = offset;
          if (rec.compression) out.chunkCompression.add(rec.compression);
          expectedCrc = rec.uncompressedCrc;
          if (expectedCrc !== 0 && (rec.compression === '' || rec.records.byteLength === 0)) {
            const got = crc32(rec.records);
            if (got !== expectedCrc) {
              if (resync(start, offset, `${describeAt(src.read(start, 9), src.size - start)}: ${crcError(got).message}`, true)) continue;
              return;
            }
          }
          break;
        case 'MessageIndex':
          if (lost) lost.messages += rec.records.length;
          break;
        case 'Metadata':
          out.metadata.set(rec.name, rec.metadata);
          break;
        case 'Unknown':
          // Allowed by the spec, but rosbag2 writes none: most likely a damaged opcode (e.g. of a chunk).
          closeLost();
          out.problems.push({ kind: 'corrupt', file: path, offset: start, message: '' });
          lost = { problem: out.problems[out.problems.length - 1], base: `record with unknown opcode 0x${rec.opcode.toString(16)} (${rec.data.byteLength} bytes) at byte ${start} skipped (a damaged chunk?)`, messages: 0 };
          break;
        default:
          closeLost();
          break;
      }
    }
  } finally {
    closeLost();
    src.close();
  }
  out.complete = reader.done();
  if (!out.complete) {
    // Read before the message is built, and closed again: a read after close() reopens the file (a descriptor
    // leaked per truncated file read, found by `npm run fuzz` running out of descriptors).
    const head = cutAt !== undefined ? src.read(cutAt, 9) : undefined;
    src.close();
    out.problems.push({
      kind: 'truncated',
      file: path,
      offset: cutAt ?? src.size,
      message:
        cutAt !== undefined
          ? `file is truncated at byte ${src.size}: incomplete ${describeAt(head ?? new Uint8Array(0), src.size - cutAt)} at byte ${cutAt}; messages in it are lost, ${count} complete messages before it were read`
          : `file ends at byte ${src.size} without the MCAP footer (recording not finalized); all ${count} messages before it were read`,
    });
  }
}

/** What an indexed file's summary section says, enough to open it without reading its chunks. */
export interface McapSummary {
  library: string;
  channels: Map<number, RawChannel>;
  /** Messages per channel id (the Statistics record). */
  counts: Map<number, number>;
  startNs: bigint | undefined;
  endNs: bigint | undefined;
  chunkCompression: Set<string>;
  /**
   * Chunks in file order cover time ranges that follow each other: then the file is in time order
   * once each chunk's own messages are (checked as each chunk is read).
   */
  chunksOrdered: boolean;
}

/** Compressions a summary may list for the file to be read from it (else the full scan says what is wrong). */
const SUMMARY_COMPRESSIONS = new Set(['', 'zstd', 'lz4']);

/**
 * The summary of an indexed, finished file (footer, summary CRC, Statistics and a ChunkIndex per
 * chunk, as rosbag2's and @mcap/core's writers write them), read with @mcap/core's indexed reader:
 * a few small reads at the end of the file instead of decompressing every chunk. Undefined when the
 * file has no usable summary (unfinished, not indexed, no statistics, unchunked, counts that do not
 * add up): the caller then scans the file, which also finds and reports what is wrong with it.
 */
export async function readMcapSummary(path: string, bytes?: McapBytes): Promise<McapSummary | undefined> {
  const src = new Source(path, bytes);
  let r: McapIndexedReader;
  try {
    const size = BigInt(src.size);
    const readable: IReadable = {
      size: async () => size,
      read: async (offset, n) => {
        if (offset < 0n || n < 0n || offset + n > size) throw new Error(`a read of ${n} bytes at byte ${offset} lies outside the file`);
        return src.read(Number(offset), Number(n));
      },
    };
    r = await McapIndexedReader.Initialize({ readable });
  } catch {
    return undefined;
  } finally {
    src.close();
  }
  const st = r.statistics;
  if (!st || st.chunkCount !== r.chunkIndexes.length || (st.messageCount > 0n && r.chunkIndexes.length === 0)) return undefined;
  let total = 0n;
  const counts = new Map<number, number>();
  for (const [id, n] of st.channelMessageCounts) {
    if (!r.channelsById.has(id)) return undefined;
    total += n;
    counts.set(id, Number(n));
  }
  if (total !== st.messageCount) return undefined;
  const chunks = [...r.chunkIndexes].sort((a, b) => (a.chunkStartOffset < b.chunkStartOffset ? -1 : 1));
  const chunkCompression = new Set<string>();
  let chunksOrdered = true;
  // The time range from the chunk indexes, not the Statistics record: the Go writer's statistics take
  // a log time of 0 for "unset" (rosbag2's convert_a test bag: statistics start at 1 ms, its chunk at 0).
  let start: bigint | undefined;
  let end: bigint | undefined;
  for (const c of chunks) {
    if (!SUMMARY_COMPRESSIONS.has(c.compression) || c.chunkStartOffset + c.chunkLength > r.footer.summaryStart) return undefined;
    if (c.compression) chunkCompression.add(c.compression);
    // A chunk without messages (no message index, times 0) says nothing about time.
    if (c.messageIndexOffsets.size === 0 && c.messageStartTime === 0n && c.messageEndTime === 0n) continue;
    if (end !== undefined && c.messageStartTime < end) chunksOrdered = false;
    if (start === undefined || c.messageStartTime < start) start = c.messageStartTime;
    if (end === undefined || c.messageEndTime > end) end = c.messageEndTime;
  }
  const decoder = new TextDecoder();
  const schemas = new Map<number, RawSchema>();
  for (const sc of r.schemasById.values()) schemas.set(sc.id, { name: sc.name, encoding: sc.encoding, text: decoder.decode(sc.data) });
  const channels = new Map<number, RawChannel>();
  for (const ch of r.channelsById.values()) {
    channels.set(ch.id, { id: ch.id, topic: ch.topic, messageEncoding: ch.messageEncoding, schema: ch.schemaId === 0 ? undefined : schemas.get(ch.schemaId), metadata: ch.metadata });
  }
  const some = st.messageCount > 0n;
  return { library: r.header.library, channels, counts, startNs: some ? start : undefined, endNs: some ? end : undefined, chunkCompression, chunksOrdered };
}

/** The whole file in memory (messages in file order). */
export async function readMcapFile(path: string, bytes?: McapBytes): Promise<McapFileContents> {
  const out = emptyContents(path, mcapSize(path, bytes));
  for (const m of mcapMessages(path, await decompressHandlers(), out, bytes)) out.messages.push(m);
  return out;
}
