/**
 * The MCAP file layout that @mcap/core's McapWriter writes (chunks with their message indexes, then
 * a summary of schemas, channels, statistics and chunk indexes, summary offsets, footer), its header,
 * schema, channel and summary records built by @mcap/core's own McapRecordBuilder, and two differences:
 * chunk CRCs are computed by zlib's native crc32, and the data section CRC is written as 0, which
 * the MCAP specification defines as "not calculated" and which is what rosbag2 writes (the mcap
 * C++ writer's `enableDataCRC` is off by default). Why: McapWriter computes both in JavaScript,
 * over every chunk's bytes and again over the whole data section, which was as much CPU as the zstd
 * compression of a convert. Otherwise the bytes are McapWriter's, byte for byte (tested). A chunk's
 * messages and message indexes are encoded by ChunkRecords (mcap-chunk.ts), and a message costs no
 * promise unless it ends a chunk (`add`).
 */
import { crc32 } from 'node:zlib';
import { McapRecordBuilder, Opcode, type IWritable, type McapTypes } from '@mcap/core';
import { ChunkRecords, setUint64 } from './mcap-chunk.js';

export interface ChunkedMcapWriterOptions {
  writable: IWritable;
  /** A chunk is ended once its records exceed this many bytes (McapWriter's rule). */
  chunkSize: number;
  startChannelId: number;
  compressChunk?: (chunk: Uint8Array) => { compression: string; compressedData: Uint8Array };
}

type Schema = McapTypes.Schema;
type Channel = McapTypes.Channel;

/** McapWriter's interface, as the bag writer uses it: every call awaited before the next. */
export class ChunkedMcapWriter {
  private readonly out: IWritable;
  private readonly records = new McapRecordBuilder();
  private readonly chunk = new ChunkRecords();
  private readonly schemas = new Map<number, Schema>();
  private readonly channels = new Map<number, Channel>();
  private readonly writtenSchemas = new Set<number>();
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private nextSchemaId = 1;
  private nextChannelId: number;
  // Counted as numbers per message, made bigints once, for the summary. A channel with a count has
  // been written (in the chunk of its first message).
  private messageCount = 0;
  private readonly channelCounts = new Map<number, number>();
  private readonly statistics: McapTypes.Statistics = {
    messageCount: 0n,
    schemaCount: 0,
    channelCount: 0,
    attachmentCount: 0,
    metadataCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };

  constructor(private readonly o: ChunkedMcapWriterOptions) {
    this.out = o.writable;
    this.nextChannelId = o.startChannelId;
  }

  private async flushRecords(): Promise<void> {
    if (this.records.length === 0) return;
    await this.out.write(this.records.buffer);
    this.records.reset();
  }

  async start(header: McapTypes.Header): Promise<void> {
    this.records.writeMagic();
    this.records.writeHeader(header);
    await this.flushRecords();
  }

  async registerSchema(info: Omit<Schema, 'id'>): Promise<number> {
    const id = this.nextSchemaId++;
    this.schemas.set(id, { ...info, id });
    this.statistics.schemaCount++;
    return id;
  }

  async registerChannel(info: Omit<Channel, 'id'>): Promise<number> {
    const id = this.nextChannelId++;
    this.channels.set(id, { ...info, id });
    this.statistics.channelCount++;
    return id;
  }

  async addMessage(message: McapTypes.Message): Promise<void> {
    await this.add(message.channelId, message.sequence, message.logTime, message.publishTime, message.data);
  }

  /** addMessage without a message object; a promise only when the message ends a chunk. */
  add(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): Promise<void> | undefined {
    const count = this.channelCounts.get(channelId);
    // A channel (and its schema) goes in the chunk of its first message, as McapWriter does: before anything is
    // counted, so that a message on an unregistered channel throws, every time, and is not counted.
    if (count === undefined) this.writeChannel(channelId);
    this.channelCounts.set(channelId, (count ?? 0) + 1);
    const s = this.statistics;
    if (this.messageCount === 0 || logTime < s.messageStartTime) s.messageStartTime = logTime;
    if (this.messageCount === 0 || logTime > s.messageEndTime) s.messageEndTime = logTime;
    this.messageCount++;
    this.chunk.addMessage(channelId, sequence, logTime, publishTime, data);
    return this.chunk.byteLength > this.o.chunkSize ? this.endChunk() : undefined;
  }

  private writeChannel(channelId: number): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`addMessage: no channel ${channelId} registered`);
    if (channel.schemaId !== 0 && !this.writtenSchemas.has(channel.schemaId)) {
      const schema = this.schemas.get(channel.schemaId);
      if (!schema) throw new Error(`addMessage: no schema ${channel.schemaId} registered`);
      this.chunk.addSchema(schema);
      this.writtenSchemas.add(channel.schemaId);
    }
    this.chunk.addChannel(channel);
  }

  /** Writes the open chunk and its message indexes (nothing if it holds no message). */
  async endChunk(): Promise<void> {
    const c = this.chunk;
    if (c.numMessages === 0) return;
    this.statistics.chunkCount++;
    // A view of the chunk's buffer: written out before the reset below.
    const data = c.bytes;
    const { compression, compressedData } = this.o.compressChunk?.(data) ?? { compression: '', compressedData: data };
    const uncompressedSize = BigInt(data.byteLength);
    // The Chunk record's fields before its records (McapRecordBuilder.writeChunk's layout), then the records as they are.
    const name = new TextEncoder().encode(compression);
    const head = new Uint8Array(1 + 8 + 8 + 8 + 8 + 4 + 4 + name.byteLength + 8);
    const v = new DataView(head.buffer);
    head[0] = Opcode.CHUNK;
    setUint64(v, 1, head.byteLength - 9 + compressedData.byteLength);
    v.setBigUint64(9, c.messageStartTime, true);
    v.setBigUint64(17, c.messageEndTime, true);
    v.setBigUint64(25, uncompressedSize, true);
    v.setUint32(33, crc32(data), true);
    v.setUint32(37, name.byteLength, true);
    head.set(name, 41);
    setUint64(v, 41 + name.byteLength, compressedData.byteLength);
    const chunkStartOffset = this.out.position();
    await this.out.write(head);
    await this.out.write(compressedData);
    const chunkLength = BigInt(head.byteLength + compressedData.byteLength);
    const messageIndexStart = this.out.position();
    const { bytes, spans } = c.messageIndexes();
    const messageIndexOffsets = new Map<number, bigint>();
    for (const sp of spans) messageIndexOffsets.set(sp.channelId, messageIndexStart + BigInt(sp.offset));
    this.chunkIndexes.push({
      messageStartTime: c.messageStartTime,
      messageEndTime: c.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength: BigInt(bytes.byteLength),
      compression,
      compressedSize: BigInt(compressedData.byteLength),
      uncompressedSize,
    });
    c.reset();
    await this.out.write(bytes);
  }

  /** The last chunk, DataEnd, the summary (McapWriter's groups and order), its offsets and the footer. */
  async end(): Promise<void> {
    await this.endChunk();
    this.statistics.messageCount = BigInt(this.messageCount);
    for (const [id, n] of this.channelCounts) this.statistics.channelMessageCounts.set(id, BigInt(n));
    this.records.writeDataEnd({ dataSectionCrc: 0 });
    await this.flushRecords();
    const summaryStart = this.out.position();
    const r = this.records;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (groupOpcode: number, write: () => void): void => {
      const at = r.length;
      write();
      if (r.length > at) offsets.push({ groupOpcode, groupStart: summaryStart + BigInt(at), groupLength: BigInt(r.length - at) });
    };
    group(Opcode.SCHEMA, () => this.schemas.forEach((s) => r.writeSchema(s)));
    group(Opcode.CHANNEL, () => this.channels.forEach((ch) => r.writeChannel(ch)));
    group(Opcode.STATISTICS, () => r.writeStatistics(this.statistics));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.forEach((ci) => r.writeChunkIndex(ci)));
    const summaryLength = BigInt(r.length);
    const summaryOffsetStart = summaryStart + summaryLength;
    for (const so of offsets) r.writeSummaryOffset(so);
    // The footer's CRC covers the summary, its offsets and the footer up to the CRC field.
    const head = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    const footer = { summaryStart: summaryLength === 0n ? 0n : summaryStart, summaryOffsetStart, summaryCrc: 0 };
    head.setUint8(0, Opcode.FOOTER);
    head.setBigUint64(1, 8n + 8n + 4n, true);
    head.setBigUint64(9, footer.summaryStart, true);
    head.setBigUint64(17, footer.summaryOffsetStart, true);
    const summary = r.buffer;
    footer.summaryCrc = crc32(new Uint8Array(head.buffer), crc32(summary));
    r.reset();
    await this.out.write(summary);
    r.writeFooter(footer);
    r.writeMagic();
    await this.flushRecords();
  }
}
