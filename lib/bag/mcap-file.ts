/**
 * One MCAP file, read as a stream of records: works the same for chunked or not, zstd/lz4
 * chunks, indexed or unfinished (no summary) files. A cut or damaged file yields every
 * complete record before the damage, plus a problem saying where and what was lost.
 */
import { readFileSync, statSync } from 'node:fs';
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

/** What sits at `offset` in a damaged file: the record the cut or corruption hit. */
function describeAt(bytes: Uint8Array, offset: number): string {
  if (offset >= bytes.length) return 'end of file';
  const op = bytes[offset];
  const name = OPCODES[op] ?? `unknown opcode 0x${op.toString(16)}`;
  if (offset + 9 > bytes.length) return `${name} record header (${bytes.length - offset} of 9 bytes present)`;
  const len = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 8).getBigUint64(0, true);
  return `${name} record of ${len} bytes (${bytes.length - offset - 9} present)`;
}

export async function readMcapFile(path: string, bytes?: Uint8Array): Promise<McapFileContents> {
  const data = bytes ?? new Uint8Array(readFileSync(path));
  const out: McapFileContents = {
    profile: '',
    library: '',
    channels: new Map(),
    messages: [],
    metadata: new Map(),
    chunkCompression: new Set(),
    sizeBytes: bytes ? bytes.byteLength : statSync(path).size,
    complete: false,
    problems: [],
  };
  const schemas = new Map<number, RawSchema>();
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers: await decompressHandlers(), validateCrcs: true });
  reader.append(data);
  // Offset of the next unparsed top-level record (chunk contents do not move it).
  let offset = 0;
  let messagesBeforeChunk = 0;
  const decoder = new TextDecoder();
  for (;;) {
    let rec;
    try {
      rec = reader.nextRecord();
    } catch (e) {
      out.problems.push({
        kind: 'corrupt',
        file: path,
        offset,
        message: `corrupt data at byte ${offset} (${describeAt(data, offset)}): ${(e as Error).message}; ${out.messages.length - messagesBeforeChunk > 0 ? '' : ''}reading stopped, the rest of the file is lost`,
      });
      return out;
    }
    if (!rec) break;
    offset = data.byteLength - reader.bytesRemaining();
    switch (rec.type) {
      case 'Header':
        out.profile = rec.profile;
        out.library = rec.library;
        break;
      case 'Schema':
        schemas.set(rec.id, { name: rec.name, encoding: rec.encoding, text: decoder.decode(rec.data) });
        break;
      case 'Channel':
        out.channels.set(rec.id, {
          id: rec.id,
          topic: rec.topic,
          messageEncoding: rec.messageEncoding,
          schema: rec.schemaId === 0 ? undefined : schemas.get(rec.schemaId),
          metadata: rec.metadata,
        });
        break;
      case 'Message':
        out.messages.push({ channelId: rec.channelId, sequence: rec.sequence, logTime: rec.logTime, publishTime: rec.publishTime, data: rec.data });
        break;
      case 'Chunk':
        messagesBeforeChunk = out.messages.length;
        if (rec.compression) out.chunkCompression.add(rec.compression);
        break;
      case 'Metadata':
        out.metadata.set(rec.name, rec.metadata);
        break;
      default:
        break;
    }
  }
  out.complete = reader.done();
  if (!out.complete) {
    const remaining = reader.bytesRemaining();
    const at = data.byteLength - remaining;
    out.problems.push({
      kind: 'truncated',
      file: path,
      offset: at,
      message:
        remaining > 0
          ? `file is truncated at byte ${data.byteLength}: incomplete ${describeAt(data, at)} at byte ${at}; messages in it are lost, ${out.messages.length} complete messages before it were read`
          : `file ends at byte ${at} without the MCAP footer (recording not finalized); all ${out.messages.length} messages before it were read`,
    });
  }
  return out;
}
