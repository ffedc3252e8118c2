/**
 * One MCAP chunk's records and its message indexes, encoded straight into one growing buffer: the
 * bytes @mcap/core's McapChunkBuilder and McapRecordBuilder write (tested, through ChunkedMcapWriter,
 * against McapWriter), without their per-field BufferBuilder calls, the `[logTime, BigInt(offset)]`
 * tuple kept per message and the copy made on every `.buffer` read, which were a third of a
 * sqlite3 → MCAP convert. Schema and channel records, a few per file, still come from
 * McapRecordBuilder. Layouts: https://mcap.dev/spec (Message op 0x05, Message Index op 0x04).
 */
import { McapRecordBuilder, Opcode, type McapTypes } from '@mcap/core';
import { uninitialized } from './bytes.js';

/** opcode, record length, channel id, sequence, log time, publish time. */
const MESSAGE_HEAD = 1 + 8 + 2 + 4 + 8 + 8;
/** opcode, record length, channel id, byte length of the (log time, offset) pairs. */
const INDEX_HEAD = 1 + 8 + 2 + 4;

interface ChannelIndex {
  channelId: number;
  times: bigint[];
  /** Offsets of each message record inside the chunk's records. */
  offsets: number[];
}

/** A Message Index record of the open chunk, and where it sits in `messageIndexes().bytes`. */
export interface IndexSpan {
  channelId: number;
  offset: number;
  length: number;
}

export class ChunkRecords {
  private buf: Uint8Array = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset);
  private len = 0;
  private readonly side = new McapRecordBuilder();
  // Channels in the order the chunk first met them (McapChunkBuilder's message index order).
  private readonly index = new Map<number, ChannelIndex>();
  numMessages = 0;
  messageStartTime = 0n;
  messageEndTime = 0n;

  get byteLength(): number {
    return this.len;
  }

  /** The records so far: a view, valid until the next add or reset. */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.len + n) size *= 2;
    // Only the first `len` bytes are ever read back (`bytes`): the rest is written before it is.
    const next = uninitialized(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset);
  }

  private append(b: Uint8Array): void {
    this.reserve(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
  }

  private channelIndex(channelId: number): ChannelIndex {
    let ix = this.index.get(channelId);
    if (!ix) {
      ix = { channelId, times: [], offsets: [] };
      this.index.set(channelId, ix);
    }
    return ix;
  }

  addSchema(schema: McapTypes.Schema): void {
    this.side.reset();
    this.side.writeSchema(schema);
    this.append(this.side.buffer);
  }

  addChannel(channel: McapTypes.Channel): void {
    this.channelIndex(channel.id);
    this.side.reset();
    this.side.writeChannel(channel);
    this.append(this.side.buffer);
  }

  addMessage(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    if (this.numMessages === 0 || logTime < this.messageStartTime) this.messageStartTime = logTime;
    if (this.numMessages === 0 || logTime > this.messageEndTime) this.messageEndTime = logTime;
    const ix = this.channelIndex(channelId);
    ix.times.push(logTime);
    ix.offsets.push(this.len);
    this.numMessages++;
    const n = data.byteLength;
    this.reserve(MESSAGE_HEAD + n);
    const v = this.view;
    const at = this.len;
    this.buf[at] = Opcode.MESSAGE;
    setUint64(v, at + 1, MESSAGE_HEAD - 9 + n);
    v.setUint16(at + 9, channelId, true);
    v.setUint32(at + 11, sequence >>> 0, true);
    v.setBigUint64(at + 15, logTime, true);
    v.setBigUint64(at + 23, publishTime, true);
    this.buf.set(data, at + MESSAGE_HEAD);
    this.len = at + MESSAGE_HEAD + n;
  }

  /** The chunk's Message Index records, one per channel it holds, in one buffer. */
  messageIndexes(): { bytes: Uint8Array; spans: IndexSpan[] } {
    let total = 0;
    for (const ix of this.index.values()) total += INDEX_HEAD + 16 * ix.times.length;
    const bytes = new Uint8Array(total);
    const v = new DataView(bytes.buffer);
    const spans: IndexSpan[] = [];
    let at = 0;
    for (const { channelId, times, offsets } of this.index.values()) {
      const length = INDEX_HEAD + 16 * times.length;
      bytes[at] = Opcode.MESSAGE_INDEX;
      setUint64(v, at + 1, length - 9);
      v.setUint16(at + 9, channelId, true);
      v.setUint32(at + 11, 16 * times.length, true);
      for (let i = 0, p = at + INDEX_HEAD; i < times.length; i++, p += 16) {
        v.setBigUint64(p, times[i], true);
        setUint64(v, p + 8, offsets[i]);
      }
      spans.push({ channelId, offset: at, length });
      at += length;
    }
    return { bytes, spans };
  }

  reset(): void {
    this.len = 0;
    this.numMessages = 0;
    this.messageStartTime = 0n;
    this.messageEndTime = 0n;
    this.index.clear();
  }
}

/** A little-endian u64 from a safe integer, without a BigInt per call. */
export function setUint64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
  v.setUint32(at + 4, Math.floor(x / 2 ** 32), true);
}
