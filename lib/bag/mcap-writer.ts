/**
 * The MCAP file layout that @mcap/core's McapWriter writes (chunks with their message indexes, then
 * a summary of schemas, channels, statistics and chunk indexes, summary offsets, footer), with its
 * records built by @mcap/core's own McapRecordBuilder and McapChunkBuilder, and two differences:
 * chunk CRCs are computed by zlib's native crc32, and the data section CRC is written as 0, which
 * the MCAP specification defines as "not calculated" and which is what rosbag2 writes (the mcap
 * C++ writer's `enableDataCRC` is off by default). Why: McapWriter computes both in JavaScript,
 * over every chunk's bytes and again over the whole data section, which was as much CPU as the zstd
 * compression of a convert. Otherwise the bytes are McapWriter's, byte for byte (tested).
 */
import { crc32 } from 'node:zlib';
import { McapChunkBuilder, McapRecordBuilder, Opcode, type IWritable, type McapTypes } from '@mcap/core';

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
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  private readonly schemas = new Map<number, Schema>();
  private readonly channels = new Map<number, Channel>();
  private readonly writtenSchemas = new Set<number>();
  private readonly writtenChannels = new Set<number>();
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private nextSchemaId = 1;
  private nextChannelId: number;
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
    const s = this.statistics;
    if (s.messageCount === 0n || message.logTime < s.messageStartTime) s.messageStartTime = message.logTime;
    if (s.messageCount === 0n || message.logTime > s.messageEndTime) s.messageEndTime = message.logTime;
    s.channelMessageCounts.set(message.channelId, (s.channelMessageCounts.get(message.channelId) ?? 0n) + 1n);
    s.messageCount++;
    // A channel (and its schema) goes in the chunk of its first message, as McapWriter does.
    if (!this.writtenChannels.has(message.channelId)) {
      const channel = this.channels.get(message.channelId);
      if (!channel) throw new Error(`addMessage: no channel ${message.channelId} registered`);
      if (channel.schemaId !== 0 && !this.writtenSchemas.has(channel.schemaId)) {
        const schema = this.schemas.get(channel.schemaId);
        if (!schema) throw new Error(`addMessage: no schema ${channel.schemaId} registered`);
        this.chunk.addSchema(schema);
        this.writtenSchemas.add(channel.schemaId);
      }
      this.chunk.addChannel(channel);
      this.writtenChannels.add(message.channelId);
    }
    this.chunk.addMessage(message);
    if (this.chunk.byteLength > this.o.chunkSize) await this.endChunk();
  }

  /** Writes the open chunk and its message indexes (nothing if it holds no message). */
  async endChunk(): Promise<void> {
    const c = this.chunk;
    if (c.numMessages === 0) return;
    this.statistics.chunkCount++;
    const data = c.buffer;
    const { compression, compressedData } = this.o.compressChunk?.(data) ?? { compression: '', compressedData: data };
    const record: McapTypes.Chunk = {
      messageStartTime: c.messageStartTime,
      messageEndTime: c.messageEndTime,
      uncompressedSize: BigInt(data.byteLength),
      uncompressedCrc: crc32(data),
      compression,
      records: compressedData,
    };
    const chunkStartOffset = this.out.position();
    const chunkLength = this.records.writeChunk(record);
    await this.flushRecords();
    const messageIndexStart = this.out.position();
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of c.indices) {
      messageIndexOffsets.set(index.channelId, messageIndexStart + messageIndexLength);
      messageIndexLength += this.records.writeMessageIndex(index);
    }
    this.chunkIndexes.push({
      messageStartTime: record.messageStartTime,
      messageEndTime: record.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(compressedData.byteLength),
      uncompressedSize: record.uncompressedSize,
    });
    c.reset();
    await this.flushRecords();
  }

  /** The last chunk, DataEnd, the summary (McapWriter's groups and order), its offsets and the footer. */
  async end(): Promise<void> {
    await this.endChunk();
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
