/**
 * rosbag2 MCAP writer: profile `ros2`, `ros2msg` schemas (rosbag2-style text with all
 * dependencies), CDR messages, zstd or lz4 chunks, and a metadata.yaml beside the files,
 * so `ros2 bag info/play` and Foxglove open the result. Splits by size or duration.
 * A chunk is written out at least every `flushMs` (1 s) of wall time, so a SIGKILL loses at most
 * that much. On SIGINT/SIGTERM an open writer finalizes itself only when nobody else handles the
 * signal; a process that does (a launch, `kestrel start`) closes its recorder after the
 * publishers have stopped, so nothing is written after close.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { IWritable } from '@mcap/core';
import { compress as lz4Compress } from 'lz4js';
import { msgs as kestrelMsgs, MsgRegistry, normalizeTypeName } from '../../msgs/codec.js';
import { ChunkedMcapWriter } from './mcap-writer.js';
import { formatMetadata, qosProfiles, qosText, type MetadataFileEntry, type QosProfile } from './metadata.js';
import { typeDescriptionHash } from './type-hash.js';
import type { ZstdCodec } from './zstd-stream.js';
import { loadChunkZstd } from './zstd-wasm.js';
import { BagError, type BagTopic } from './types.js';

export type ChunkCompression = 'zstd' | 'lz4' | 'none';

export interface BagWriterOptions {
  compression?: ChunkCompression;
  /** Start a new file once the current one reaches this many bytes (0 = never). */
  splitBytes?: number;
  /** Start a new file once the current one spans this many seconds of log time (0 = never). */
  splitSeconds?: number;
  /** Uncompressed chunk size; rosbag2's default is 768 KiB. */
  chunkSize?: number;
  /** Definitions used to encode messages and write schemas (default: Kestrel's msgs). */
  registry?: MsgRegistry;
  /**
   * On SIGINT/SIGTERM, when no other handler is installed, close this writer and exit with the
   * signal's code (default true). With another handler, that handler's shutdown closes it.
   */
  finalizeOnSignal?: boolean;
  /** Write the open chunk out after at most this many ms of wall time (default 1000; 0 = only when full). */
  flushMs?: number;
  rosDistro?: string;
}

export interface TopicOptions {
  /** Serialization format; only 'cdr' is encoded by Kestrel, others can be copied raw. */
  serializationFormat?: string;
  /** As stored anywhere (YAML text, a metadata v9 list); written as Jazzy does. */
  offeredQosProfiles?: unknown;
  /** RIHS01 hash to keep (e.g. from a source bag); else computed from the schema. */
  typeDescriptionHash?: string;
  /** Schema text to store instead of the registry's (e.g. from a source bag); null: schemaless channel. */
  schemaText?: string | null;
}

/** A serialized message, as a bag gives it (BagMessage fits). */
export interface EncodedMessage {
  topic: string;
  type: string;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  data: Uint8Array;
}

export interface BagWriter {
  readonly dir: string;
  addTopic(topic: string, type: string, opts?: TopicOptions): void;
  /** Queues one message (a message object to CDR-encode, or already-encoded bytes). */
  write(topic: string, type: string, timeNs: bigint, msg: unknown, publishTimeNs?: bigint): Promise<void>;
  /**
   * Writes already-encoded messages, in order, after what is queued; resolves with their count. What
   * write() does for each, without a promise chain per message (convert: one await a message).
   */
  writeMessages(messages: Iterable<EncodedMessage>, onProgress?: (written: number) => void): Promise<number>;
  /** Messages written so far. */
  count(): number;
  files(): string[];
  close(): Promise<void>;
}

/** Sequential file output: the MCAP writer needs only write() and position(). */
class FileWritable implements IWritable {
  private pos = 0n;
  constructor(private readonly fd: number) {}
  async write(buffer: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buffer.byteLength) off += writeSync(this.fd, buffer, off, buffer.byteLength - off);
    this.pos += BigInt(buffer.byteLength);
  }
  position(): bigint {
    return this.pos;
  }
}

interface OpenFile {
  path: string;
  fd: number;
  out: FileWritable;
  mcap: ChunkedMcapWriter;
  channels: Map<string, number>;
  schemas: Map<string, number>;
  entry: MetadataFileEntry;
  endNs: bigint;
}

interface TopicState extends BagTopic {
  schemaText: string | undefined;
}

/**
 * zstd level of written chunks: 1, what rosbag2's MCAP plugin writes (the mcap C++ writer's
 * CompressionLevel::Default); level 3 took twice the compression time for a few percent of size.
 */
export const ZSTD_LEVEL = 1;

/** RIHS01 hash from the schema text; '' for a schemaless topic (nothing to hash). */
export function hashOf(type: string, schemaText: string | null | undefined): string {
  if (schemaText === undefined || schemaText === null) return '';
  try {
    return typeDescriptionHash(type, schemaText);
  } catch {
    return '';
  }
}

const open = new Set<McapBagWriter>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  // If someone else handles the signal (a launch, `kestrel start`), their shutdown closes the
  // writer once the publishers have stopped: closing it here, first, would fail every message
  // they still publish. Alone, we keep the default meaning of the signal: finalize, then exit.
  if (process.listenerCount(signal) > 1) return;
  const code = signal === 'SIGINT' ? 130 : 143;
  void Promise.allSettled([...open].filter((w) => w.finalizeOnSignal).map((w) => w.close())).then(() => process.exit(code));
}

function trackOpen(w: McapBagWriter): void {
  open.add(w);
  if (!handlersInstalled && w.finalizeOnSignal) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    handlersInstalled = true;
  }
}

function untrack(w: McapBagWriter): void {
  open.delete(w);
  if (handlersInstalled && ![...open].some((x) => x.finalizeOnSignal)) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    handlersInstalled = false;
  }
}

class McapBagWriter implements BagWriter {
  private readonly registry: MsgRegistry;
  private readonly topics = new Map<string, TopicState>();
  private readonly done: MetadataFileEntry[] = [];
  private cur: OpenFile | undefined;
  private tail: Promise<void> = Promise.resolve();
  private written = 0;
  private closed = false;
  private startNs: bigint | undefined;
  private endNs = 0n;
  private flushTimer: NodeJS.Timeout | undefined;
  readonly finalizeOnSignal: boolean;

  constructor(readonly dir: string, private readonly o: Required<Pick<BagWriterOptions, 'compression' | 'splitBytes' | 'splitSeconds' | 'chunkSize'>> & BagWriterOptions & { zstd: ZstdCodec | undefined }) {
    this.registry = o.registry ?? kestrelMsgs;
    this.finalizeOnSignal = o.finalizeOnSignal ?? true;
    const flushMs = o.flushMs ?? 1000;
    if (flushMs > 0) {
      // Wall time on purpose: this bounds what a crash loses, whatever clock stamps the messages.
      this.flushTimer = setInterval(() => {
        this.tail = this.tail.then(() => this.flush()).catch(() => undefined);
      }, flushMs);
      this.flushTimer.unref();
    }
  }

  /** Ends the open chunk now, so everything written so far is in the file. */
  private async flush(): Promise<void> {
    await this.cur?.mcap.endChunk();
  }

  addTopic(topic: string, type: string, opts: TopicOptions = {}): void {
    const existing = this.topics.get(topic);
    if (existing) {
      // (Called per message by write: the common case, the same spelling, costs no normalizing.)
      if (existing.type !== type && normalizeTypeName(existing.type) !== normalizeTypeName(type)) throw new BagError(this.dir, `topic '${topic}' already recorded as ${existing.type}, not ${type}`);
      return;
    }
    let schemaText = opts.schemaText ?? undefined;
    if (opts.schemaText === undefined && this.registry.has(type)) schemaText = this.registry.schemaText(type); // throws UnknownTypeError for a missing dependency
    this.topics.set(topic, {
      name: topic,
      type: normalizeTypeName(type),
      serializationFormat: opts.serializationFormat ?? 'cdr',
      offeredQosProfiles: qosProfiles(opts.offeredQosProfiles ?? '', this.dir),
      messageCount: 0,
      typeDescriptionHash: opts.typeDescriptionHash || hashOf(type, schemaText),
      schemaText,
    });
  }

  count(): number {
    return this.written;
  }

  files(): string[] {
    return [...this.done.map((f) => join(this.dir, f.path)), ...(this.cur ? [this.cur.path] : [])];
  }

  write(topic: string, type: string, timeNs: bigint, msg: unknown, publishTimeNs = timeNs): Promise<void> {
    if (this.closed) return Promise.reject(new BagError(this.dir, `write to '${topic}' after close`));
    const t = this.count1(topic, type, timeNs);
    // Encode now, synchronously: the caller may reuse or mutate the message object.
    const data = msg instanceof Uint8Array ? msg : this.registry.encode(t.type, msg);
    const p = this.tail.then(() => this.append(t, timeNs, publishTimeNs, data));
    this.tail = p.catch(() => undefined);
    return p;
  }

  writeMessages(messages: Iterable<EncodedMessage>, onProgress?: (written: number) => void): Promise<number> {
    if (this.closed) return Promise.reject(new BagError(this.dir, 'write after close'));
    const run = async (): Promise<number> => {
      let n = 0;
      for (const m of messages) {
        if (this.closed) throw new BagError(this.dir, `write to '${m.topic}' after close`);
        const t = this.count1(m.topic, m.type, m.logTimeNs);
        const f = this.cur;
        const ch = f && !this.shouldSplit(f, m.logTimeNs) ? f.channels.get(t.name) : undefined;
        if (f === undefined || ch === undefined) await this.append(t, m.logTimeNs, m.publishTimeNs, m.data);
        else {
          // append()'s common case inline: the file is open and the channel registered.
          const ended = f.mcap.add(ch, this.sequence(f, m.logTimeNs), m.logTimeNs, m.publishTimeNs, m.data);
          if (ended) await ended;
        }
        if (++n % 1000 === 0) onProgress?.(n);
      }
      return n;
    };
    const p = this.tail.then(run);
    this.tail = p.then(() => undefined, () => undefined);
    return p;
  }

  /** Counts one message on `topic` (adding the topic on first use). */
  private count1(topic: string, type: string, timeNs: bigint): TopicState {
    this.addTopic(topic, type);
    const t = this.topics.get(topic) as TopicState;
    t.messageCount++;
    this.written++;
    if (this.startNs === undefined || timeNs < this.startNs) this.startNs = timeNs;
    if (timeNs > this.endNs) this.endNs = timeNs;
    return t;
  }

  /** The file's next message record (counted in its metadata entry). */
  /** Counts a message into file `f`; its sequence number there. */
  private sequence(f: OpenFile, timeNs: bigint): number {
    const seq = f.entry.messageCount;
    if (seq === 0 || timeNs < f.entry.startNs) f.entry.startNs = timeNs;
    if (timeNs > f.endNs) f.endNs = timeNs;
    f.entry.messageCount++;
    return seq;
  }

  private async append(t: TopicState, timeNs: bigint, publishTimeNs: bigint, data: Uint8Array): Promise<void> {
    let f = this.cur;
    if (f && this.shouldSplit(f, timeNs)) {
      await this.finishFile();
      f = undefined;
    }
    f ??= await this.openFile(timeNs);
    let ch = f.channels.get(t.name);
    if (ch === undefined) {
      let schemaId = 0;
      if (t.schemaText !== undefined) {
        schemaId = f.schemas.get(t.type) ?? (await f.mcap.registerSchema({ name: t.type, encoding: 'ros2msg', data: new TextEncoder().encode(t.schemaText) }));
        f.schemas.set(t.type, schemaId);
      }
      ch = await f.mcap.registerChannel({ topic: t.name, messageEncoding: t.serializationFormat, schemaId, metadata: new Map([['offered_qos_profiles', qosText(t.offeredQosProfiles as QosProfile[])]]) });
      f.channels.set(t.name, ch);
    }
    await f.mcap.add(ch, this.sequence(f, timeNs), timeNs, publishTimeNs, data);
  }

  private shouldSplit(f: OpenFile, timeNs: bigint): boolean {
    if (f.entry.messageCount === 0) return false;
    if (this.o.splitBytes > 0 && Number(f.out.position()) >= this.o.splitBytes) return true;
    return this.o.splitSeconds > 0 && timeNs - f.entry.startNs >= BigInt(Math.round(this.o.splitSeconds * 1e9));
  }

  private async openFile(timeNs: bigint): Promise<OpenFile> {
    const name = `${basename(this.dir)}_${this.done.length}.mcap`;
    const path = join(this.dir, name);
    const fd = openSync(path, 'wx');
    const out = new FileWritable(fd);
    const compression = this.o.compression;
    const mcap = new ChunkedMcapWriter({
      writable: out,
      chunkSize: this.o.chunkSize,
      // Channel ids from 1, as the C++ and Python writers: some readers drop channel 0.
      startChannelId: 1,
      compressChunk:
        compression === 'none'
          ? undefined
          : (chunk: Uint8Array) =>
              compression === 'zstd'
                ? { compression: 'zstd', compressedData: (this.o.zstd as ZstdCodec).compress(chunk, ZSTD_LEVEL) }
                : { compression: 'lz4', compressedData: lz4Compress(chunk) as Uint8Array },
    });
    await mcap.start({ profile: 'ros2', library: 'kestrel' });
    this.cur = { path, fd, out, mcap, channels: new Map(), schemas: new Map(), entry: { path: name, startNs: timeNs, durationNs: 0n, messageCount: 0 }, endNs: timeNs };
    return this.cur;
  }

  private async finishFile(): Promise<void> {
    const f = this.cur;
    if (!f) return;
    this.cur = undefined;
    await f.mcap.end();
    closeSync(f.fd);
    f.entry.durationNs = f.endNs - f.entry.startNs;
    this.done.push(f.entry);
    this.writeMetadata();
  }

  private writeMetadata(): void {
    const start = this.startNs ?? 0n;
    const text = formatMetadata({
      storage: 'mcap',
      files: this.done,
      topics: [...this.topics.values()].map(({ schemaText: _s, ...t }) => t),
      startNs: start,
      durationNs: this.endNs - start,
      messageCount: this.done.reduce((s, f) => s + f.messageCount, 0),
      rosDistro: this.o.rosDistro,
    });
    // Write-then-rename: a crash never leaves a half-written metadata.yaml.
    const tmp = join(this.dir, '.metadata.yaml.tmp');
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.dir, 'metadata.yaml'));
  }

  async close(): Promise<void> {
    if (this.closed) return this.tail;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.tail;
    await this.finishFile();
    if (this.done.length === 0) this.writeMetadata();
    untrack(this);
  }
}

/** Creates `dir` (which must not exist or be empty) and returns a writer into it. */
export async function createBagWriter(dir: string, opts: BagWriterOptions = {}): Promise<BagWriter> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new BagError(dir, 'output directory exists and is not empty (rosbag2 never overwrites a bag)');
  mkdirSync(dir, { recursive: true });
  const compression = opts.compression ?? 'zstd';
  // libzstd, else wasm-zstd (loaded only now: a writer of lz4 or plain chunks never compiles it).
  const codec = compression === 'zstd' ? await loadChunkZstd() : undefined;
  const w = new McapBagWriter(dir, {
    ...opts,
    compression,
    splitBytes: opts.splitBytes ?? 0,
    splitSeconds: opts.splitSeconds ?? 0,
    chunkSize: opts.chunkSize ?? 768 * 1024,
    zstd: codec,
  });
  trackOpen(w);
  return w;
}
