/**
 * One MCAP file, read as a stream of records: works the same for chunked or not, zstd/lz4
 * chunks, indexed or unfinished (no summary) files. A cut or damaged file yields every
 * complete record before the damage, plus a problem saying where and what was lost.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { McapStreamReader, type DecompressHandlers } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';
import type { BagProblem } from './types.js';

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

let handlers: Promise<DecompressHandlers> | undefined;
/** zstd/lz4/bz2 decoders (WebAssembly), loaded once per process. */
export function decompressHandlers(): Promise<DecompressHandlers> {
  handlers ??= loadDecompressHandlers();
  return handlers;
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

/** Reads `path` in blocks (files over 2 GiB cannot be read whole), or uses `bytes` when given. */
function* blocks(path: string, bytes: Uint8Array | undefined, size: number): Generator<Uint8Array> {
  if (bytes) {
    yield bytes;
    return;
  }
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const buf = new Uint8Array(size);
      const n = readSync(fd, buf, 0, size, null);
      if (n <= 0) return;
      yield n === size ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes at absolute `offset` (for describing damage), read again from the file. */
function peek(path: string, bytes: Uint8Array | undefined, offset: number): Uint8Array {
  if (bytes) return bytes.subarray(offset, offset + 9);
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(9);
    const n = readSync(fd, buf, 0, 9, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function emptyContents(path: string, sizeBytes: number): McapFileContents {
  return { profile: '', library: '', channels: new Map(), messages: [], metadata: new Map(), chunkCompression: new Set(), sizeBytes, complete: false, problems: [] };
}

/**
 * Streams the Message records of one file in file order, filling `out` (channels, metadata,
 * problems...) as it goes. Sync, so a bag can be iterated lazily without holding it in memory.
 */
export function* mcapMessages(path: string, handlers: DecompressHandlers, out: McapFileContents, bytes?: Uint8Array, blockSize = 8 << 20): Generator<RawMessage> {
  const schemas = new Map<number, RawSchema>();
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: handlers, validateCrcs: true });
  const decoder = new TextDecoder();
  let appended = 0;
  // Offset of the next unparsed top-level record (chunk contents do not move it).
  let offset = 0;
  let count = 0;
  for (const block of blocks(path, bytes, blockSize)) {
    reader.append(block);
    appended += block.byteLength;
    for (;;) {
      let rec;
      try {
        rec = reader.nextRecord();
      } catch (e) {
        out.problems.push({
          kind: 'corrupt',
          file: path,
          offset,
          message: `corrupt data at byte ${offset} (${describeAt(peek(path, bytes, offset), out.sizeBytes - offset)}): ${(e as Error).message}; reading stopped after ${count} messages, the rest of the file is lost`,
        });
        return;
      }
      if (!rec) break;
      offset = appended - reader.bytesRemaining();
      switch (rec.type) {
        case 'Header':
          out.profile = rec.profile;
          out.library = rec.library;
          break;
        case 'Schema':
          schemas.set(rec.id, { name: rec.name, encoding: rec.encoding, text: decoder.decode(rec.data) });
          break;
        case 'Channel':
          out.channels.set(rec.id, { id: rec.id, topic: rec.topic, messageEncoding: rec.messageEncoding, schema: rec.schemaId === 0 ? undefined : schemas.get(rec.schemaId), metadata: rec.metadata });
          break;
        case 'Message':
          count++;
          yield { channelId: rec.channelId, sequence: rec.sequence, logTime: rec.logTime, publishTime: rec.publishTime, data: rec.data };
          break;
        case 'Chunk':
          if (rec.compression) out.chunkCompression.add(rec.compression);
          break;
        case 'Metadata':
          out.metadata.set(rec.name, rec.metadata);
          break;
        default:
          break;
      }
    }
  }
  out.complete = reader.done();
  if (!out.complete) {
    const remaining = reader.bytesRemaining();
    const at = appended - remaining;
    out.problems.push({
      kind: 'truncated',
      file: path,
      offset: at,
      message:
        remaining > 0
          ? `file is truncated at byte ${appended}: incomplete ${describeAt(peek(path, bytes, at), remaining)} at byte ${at}; messages in it are lost, ${count} complete messages before it were read`
          : `file ends at byte ${at} without the MCAP footer (recording not finalized); all ${count} messages before it were read`,
    });
  }
}

/** The whole file in memory (messages in file order). */
export async function readMcapFile(path: string, bytes?: Uint8Array): Promise<McapFileContents> {
  const out = emptyContents(path, bytes ? bytes.byteLength : statSync(path).size);
  for (const m of mcapMessages(path, await decompressHandlers(), out, bytes)) out.messages.push(m);
  return out;
}
