/**
 * `openBag(path)`: a rosbag2 bag (directory with metadata.yaml, a directory without one, which
 * is reindexed from its files, or a single .mcap/.db3 file) as one time-ordered message stream.
 * Order is deterministic: log time, then file index, then position in the file.
 */
import { closeSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path';
import { MsgRegistry, normalizeTypeName } from '../../msgs/codec.js';
import type { DecompressHandlers } from '@mcap/core';
import { decompressHandlers, emptyContents, mcapMessages, readMcapSummary, type McapFileContents, type RawChannel } from './mcap-file.js';
import { parseMetadata, type ParsedMetadata } from './metadata.js';
import { openSqliteFile, type SqliteBagFile } from './sqlite-file.js';
import { compressionFormat, compressionReady, decompress, unpackFile, type CompressionFormat } from './compression.js';
import { BagError, type BagFileInfo, type BagInfo, type BagMessage, type BagProblem, type BagTopic, type MessageFilter, type StorageId, type Unpacked } from './types.js';

export class UnsupportedFormatError extends Error {
  constructor(readonly topic: string, readonly format: string) {
    super(`topic '${topic}' is recorded with serialization format '${format}'; Kestrel decodes only 'cdr' (record it with a CDR rmw, e.g. rmw_fastrtps_cpp or rmw_cyclonedds_cpp)`);
    this.name = 'UnsupportedFormatError';
  }
}

export class DefinitionMismatchError extends Error {
  constructor(readonly topic: string, readonly typeName: string, readonly byteLength: number, decodedLength: number) {
    super(`topic '${topic}': the bag's definition of ${typeName} does not match its data (${decodedLength < 0 ? 'seen on earlier messages' : `a ${byteLength}-byte message decodes to ${decodedLength} bytes`}); the definition is incomplete or a placeholder`);
    this.name = 'DefinitionMismatchError';
  }
}

/** A message of the bag; decode() is lazy so that filtering and raw copying cost nothing. */
class Msg implements BagMessage {
  constructor(
    private readonly bag: Bag,
    readonly topic: string,
    readonly type: string,
    readonly logTimeNs: bigint,
    readonly publishTimeNs: bigint,
    private stored: Uint8Array,
    readonly fileIndex: number,
    readonly seq: number,
    private readonly format: string,
  ) {
    this.plain = bag.messageCompression === undefined;
  }
  private plain: boolean;
  /** The serialized message; per-message compression is undone here (throws BagError if corrupt). */
  get data(): Uint8Array {
    if (!this.plain) {
      this.stored = decompress(this.bag.messageCompression as CompressionFormat, this.stored, `${this.bag.fileOf(this.fileIndex)}: message on '${this.topic}' at ${this.logTimeNs} ns`, MAX_MESSAGE_BYTES);
      this.plain = true;
    }
    return this.stored;
  }
  decode(): unknown {
    if (this.format !== 'cdr') throw new UnsupportedFormatError(this.topic, this.format);
    return this.bag.decodeChecked(this.topic, this.type, this.data);
  }
}

/** Bound of one decompressed message (a 4K RGBA frame is 33 MB). */
const MAX_MESSAGE_BYTES = 1 << 30;
/** Bound of one decompressed whole file (streamed to a temporary file; the free disk space bounds it too). */
const MAX_FILE_BYTES = 2 ** 40;

/** Closes the descriptor of an unpacked file once its source is collected (a bag not closed). */
const unpackedFds = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

export function compareMessages(a: BagMessage, b: BagMessage): number {
  if (a.logTimeNs !== b.logTimeNs) return a.logTimeNs < b.logTimeNs ? -1 : 1;
  if (a.fileIndex !== b.fileIndex) return a.fileIndex - b.fileIndex;
  return a.seq - b.seq;
}

/** Natural order so that bag_10.mcap follows bag_9.mcap. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

/** `x.db3.zstd` → 'zstd' (rosbag2 file compression), else undefined. */
function fileCompressionOf(file: string): CompressionFormat | undefined {
  const ext = extname(file).toLowerCase();
  return ext === '.zstd' || ext === '.zst' ? 'zstd' : ext === '.lz4' ? 'lz4' : undefined;
}

function storageOf(file: string): StorageId | undefined {
  const ext = extname(fileCompressionOf(file) ? file.slice(0, -extname(file).length) : file).toLowerCase();
  if (ext === '.mcap') return 'mcap';
  if (ext === '.db3' || ext === '.sqlite3' || ext === '.db') return 'sqlite3';
  return undefined;
}

interface Located {
  dir: string;
  files: string[];
  metadata: ParsedMetadata | undefined;
  problems: BagProblem[];
}

function locate(path: string): Located {
  if (!existsSync(path)) throw new BagError(path, 'no such file or directory (expected a rosbag2 directory, a .mcap or a .db3 file)');
  const st = statSync(path);
  if (st.isFile() && basename(path) !== 'metadata.yaml') {
    if (!storageOf(path)) throw new BagError(path, `unknown bag file type '${extname(path)}' (expected .mcap or .db3)`);
    return { dir: dirname(path), files: [path], metadata: undefined, problems: [] };
  }
  const dir = st.isFile() ? dirname(path) : path;
  const metaPath = join(dir, 'metadata.yaml');
  if (existsSync(metaPath)) {
    const metadata = parseMetadata(readFileSync(metaPath, 'utf8'), metaPath);
    if (metadata.compressionFormat && metadata.compressionMode) compressionFormat(metadata.compressionFormat, metaPath);
    const mode = metadata.compressionMode.toLowerCase();
    if (mode && mode !== 'none' && mode !== 'file' && mode !== 'message') throw new BagError(metaPath, `unknown compression_mode '${metadata.compressionMode}' (file, message or none)`);
    const problems: BagProblem[] = [];
    const files: string[] = [];
    for (const f of metadata.files.length > 0 ? metadata.files : []) {
      const p = join(dir, f.path);
      // rosbag2 paths are relative to the bag folder: one that leaves it (or is absolute) is not read.
      const rel = relative(dir, p);
      if (isAbsolute(f.path) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
        problems.push({ kind: 'metadata', file: metaPath, message: `metadata.yaml lists '${f.path}', which is not a file inside the bag folder: not read` });
      } else if (!existsSync(p)) {
        problems.push({ kind: 'metadata', file: p, message: `metadata.yaml lists '${f.path}', which does not exist; its messages are missing` });
      } else if (!statSync(p).isFile()) {
        problems.push({ kind: 'metadata', file: p, message: `metadata.yaml lists '${f.path}', which is not a regular file: not read` });
      } else files.push(p);
    }
    return { dir, files, metadata, problems };
  }
  // No metadata.yaml: reindex from the storage files, as `ros2 bag reindex` does.
  const found = readdirSync(dir).filter((f) => storageOf(f) !== undefined).sort(naturalCompare);
  if (found.length === 0) throw new BagError(dir, 'no metadata.yaml and no .mcap or .db3 files: not a rosbag2 bag');
  const kinds = new Set(found.map((f) => storageOf(f)));
  if (kinds.size > 1) throw new BagError(dir, `no metadata.yaml, and both .mcap and .db3 files are present (${found.join(', ')}): cannot tell which make up the bag`);
  return {
    dir,
    files: found.map((f) => join(dir, f)),
    metadata: undefined,
    problems: [{ kind: 'reindexed', file: join(dir, 'metadata.yaml'), message: `no metadata.yaml: reindexed from ${found.length} file(s) (${found.join(', ')}); run 'kestrel bag reindex' or 'ros2 bag reindex' to write one` }],
  };
}

/**
 * A ROS 2 topic name (rcl's rules for a name after expansion: tokens of letters, digits and
 * underscores, not starting with a digit, separated by single slashes), absolute as rosbag2
 * records them or relative as its own test bags have them (`a_empty`).
 */
export const TOPIC_NAME = /^\/?[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Why a db3 topic row cannot be trusted, or undefined. db3 files have no checksums, so a damaged
 * row is found only by what it contradicts: a name no ROS 2 graph can have, or metadata.yaml
 * (when the bag has one listing topics) not naming it or giving it another type. A damaged name
 * that is still a valid one, in a file without metadata.yaml, cannot be told from a real topic.
 */
function topicRowDamage(name: string, type: string, listed: Map<string, string> | undefined): string | undefined {
  const shown = JSON.stringify(name.slice(0, 80));
  if (!TOPIC_NAME.test(name)) return `name ${shown} is not a valid ROS 2 topic name`;
  if (!listed) return undefined;
  const want = listed.get(name);
  if (want === undefined) return `name ${shown} is not among metadata.yaml's topics`;
  if (normalizeTypeName(want) !== normalizeTypeName(type)) return `type ${JSON.stringify(type.slice(0, 80))} on ${shown} is not metadata.yaml's ${want}`;
  return undefined;
}

interface ChannelTarget {
  topic: BagTopic;
  format: string;
}

export interface OpenOptions {
  /**
   * Read every chunk of an indexed MCAP file at open (CRCs, decompression), so that info() counts
   * only the messages that can be read and problems() lists damage before any message is read. By
   * default an indexed file opens from its summary, as `ros2 bag info` does, and damage inside its
   * chunks is reported as the messages are read.
   */
  verify?: boolean;
  /**
   * false: only info() and problems() will be used (`bag info`), so the chunk decoders of a file
   * read from its summary are not loaded (wasm-zstd); messagesSync() then throws.
   */
  messages?: boolean;
  /**
   * true: the messages will be read once, in one pass, each used before the next is read and none
   * kept (convert). A whole sqlite3 file with a usable `timestamp_idx` then opens from that index
   * without a scan of its table: info() has its row count and times but no per-topic counts (the
   * writer counts what it writes), damage is reported as the rows stream, and message data are
   * views of the pages read rather than copies.
   */
  once?: boolean;
}

/**
 * A sqlite3 file opened without per-topic counts: rows on topic ids that are not used (unknown,
 * or a damaged topic row), counted in the first pass as they stream rather than at open.
 */
interface UnknownRows {
  rejected: Map<number, string>;
  problems: Map<number, { problem: BagProblem; n: number }>;
  streamed: boolean;
}

/** One storage file: its messages in memory (sqlite3, or an MCAP file whose log times go back), or streamed again on demand. */
interface Source {
  fileIndex: number;
  path: string;
  /** A sqlite3 file: rows streamed in time order. */
  sqlite: { file: SqliteBagFile; topics: Map<number, BagTopic>; reported: number; unknown: UnknownRows | undefined } | undefined;
  /** The decompressed file (an unlinked temporary file), for whole-file compression. */
  bytes: Unpacked | undefined;
  eager: Msg[] | undefined;
  channels: Map<number, ChannelTarget>;
  /** MCAP opened from its summary: its chunks are read, and checked, only as its messages are streamed. */
  indexed: boolean;
  /** Indexed MCAP: chunk time ranges follow each other in file order (else the file is sorted in memory at open). */
  chunksOrdered: boolean;
  /** MCAP chunk decoders (for the compressions the summary lists, or every one); none when opened without messages. */
  handlers: DecompressHandlers | undefined;
  /**
   * Indexed MCAP: what the stream that reports damage found (the first one read through; one left
   * early hands the role to the next, which finds the same damage again from the start).
   */
  live: { contents: McapFileContents; state: 'reading' | 'done' | 'left' } | undefined;
  startNs: bigint | undefined;
  endNs: bigint | undefined;
}

export class Bag {
  readonly registry = new MsgRegistry();
  private readonly sources: Source[] = [];
  /** Set when files overlap in time: every message, merged and sorted, in memory. */
  private all: Msg[] | undefined;
  private readonly problemList: BagProblem[] = [];
  private bagInfo!: BagInfo;
  /** Set for `compression_mode: message`: each payload is one frame of this format. */
  messageCompression: CompressionFormat | undefined;
  /** @internal */
  fileOf(fileIndex: number): string {
    return this.sources[fileIndex]?.path ?? this.path;
  }

  private constructor(readonly path: string) {}
  private closed = false;
  /** Opened with { messages: false }. */
  private infoOnly = false;

  /**
   * Releases what the bag holds beyond its metadata: the descriptors of decompressed copies of
   * whole-file compressed files (and so their disk space). Also done when the bag is collected.
   */
  close(): void {
    this.closed = true;
    for (const src of this.sources) {
      if (src.bytes) {
        unpackedFds.unregister(src);
        closeSync(src.bytes.fd);
        src.bytes = undefined;
      }
      src.sqlite?.file.close();
    }
  }

  static async open(path: string, o: OpenOptions = {}): Promise<Bag> {
    const loc = locate(path);
    const bag = new Bag(path);
    bag.infoOnly = o.messages === false;
    const meta = loc.metadata;
    if (meta && meta.compressionMode.toLowerCase() === 'message' && meta.compressionFormat) bag.messageCompression = compressionFormat(meta.compressionFormat, join(loc.dir, 'metadata.yaml'));
    if (loc.files.some((f) => fileCompressionOf(f)) || bag.messageCompression) await compressionReady();
    bag.problemList.push(...loc.problems);
    const topics = new Map<string, BagTopic>();
    for (const t of loc.metadata?.topics ?? []) topics.set(t.name, { ...t, messageCount: 0 });
    const files: BagFileInfo[] = [];
    const addTopic = (t: Omit<BagTopic, 'messageCount'>): BagTopic => {
      let cur = topics.get(t.name);
      if (!cur) {
        cur = { ...t, messageCount: 0 };
        topics.set(t.name, cur);
      } else if (!cur.type && t.type) cur.type = t.type;
      return cur;
    };
    for (const [fileIndex, file] of loc.files.entries()) {
      const storage = storageOf(file) ?? 'mcap';
      // A whole-file compressed storage file (rosbag2 `compression_mode: file`) is streamed into an unlinked temporary file.
      const packed = fileCompressionOf(file);
      let bytes: Unpacked | undefined;
      try {
        bytes = packed ? unpackFile(packed, file, MAX_FILE_BYTES) : undefined;
      } catch (e) {
        bag.close();
        throw e;
      }
      const src: Source = { fileIndex, path: file, bytes, sqlite: undefined, eager: undefined, channels: new Map(), indexed: false, chunksOrdered: false, handlers: undefined, live: undefined, startNs: undefined, endNs: undefined };
      if (bytes) unpackedFds.register(src, bytes.fd, src);
      let library = '';
      let size = 0;
      let count = 0;
      const compression: string[] = [];
      const seen = (t: bigint): void => {
        if (src.startNs === undefined || t < src.startNs) src.startNs = t;
        if (src.endNs === undefined || t > src.endNs) src.endNs = t;
        count++;
      };
      if (storage === 'mcap') {
        // An indexed file opens from its summary (counts, times, channels); others are scanned once
        // here for them (message data is not kept), which also reports their damage.
        const summary = o.verify ? undefined : await readMcapSummary(file, bytes);
        let channels: Map<number, RawChannel>;
        let perChannel: Map<number, number>;
        let sorted = true;
        size = bytes ? bytes.size : statSync(file).size;
        if (summary) {
          src.indexed = true;
          if (o.messages !== false) src.handlers = await decompressHandlers(summary.chunkCompression);
          library = summary.library;
          compression.push(...summary.chunkCompression);
          ({ channels, counts: perChannel, chunksOrdered: sorted } = summary);
          src.chunksOrdered = sorted;
          for (const n of perChannel.values()) count += n;
          src.startNs = summary.startNs;
          src.endNs = summary.endNs;
        } else {
          const handlers = await decompressHandlers();
          src.handlers = handlers;
          const c = emptyContents(file, size);
          let prev = -1n;
          perChannel = new Map();
          let i = 0;
          for (const m of mcapMessages(file, handlers, c, bytes)) {
            if (!c.channels.has(m.channelId)) {
              bag.problemList.push({ kind: 'corrupt', file, timeNs: m.logTime, message: `message ${i} refers to unknown channel ${m.channelId}: dropped` });
            } else {
              perChannel.set(m.channelId, (perChannel.get(m.channelId) ?? 0) + 1);
              if (m.logTime < prev) sorted = false;
              prev = m.logTime;
              seen(m.logTime);
            }
            i++;
          }
          bag.problemList.push(...c.problems);
          library = c.library;
          compression.push(...c.chunkCompression);
          channels = c.channels;
        }
        for (const ch of channels.values()) {
          const type = ch.schema?.name ?? topics.get(ch.topic)?.type ?? '';
          // An empty ros2msg schema is a real empty message (test_msgs/msg/Empty), not a missing one.
          if (ch.schema && ch.schema.encoding === 'ros2msg') bag.addSchema(ch.schema.name, ch.schema.text, file);
          const topic = addTopic({ name: ch.topic, type, serializationFormat: ch.messageEncoding, offeredQosProfiles: ch.metadata.get('offered_qos_profiles') ?? '' });
          topic.messageCount += perChannel.get(ch.id) ?? 0;
          src.channels.set(ch.id, { topic, format: topic.serializationFormat || ch.messageEncoding });
        }
        // Log times that go back within a file (or chunks whose time ranges overlap): sort it in
        // memory (rare: hand-made or merged files).
        if (!sorted && !bag.infoOnly) src.eager = [...bag.streamSource(src)].sort(compareMessages);
      } else {
        const c = openSqliteFile(file, bytes, { once: o.once });
        bag.problemList.push(...c.problems);
        library = c.schemaVersion === undefined ? 'sqlite3' : `sqlite3 schema ${c.schemaVersion}${c.rosDistro ? ` (${c.rosDistro})` : ''}`;
        size = c.sizeBytes;
        const defs = new Map(c.definitions.filter((d) => d.encoding === 'ros2msg').map((d) => [d.type, d.text]));
        for (const [type, text] of defs) bag.addSchema(type, text, file);
        // Service-event topics (`pkg/srv/X_Event`) find their `.srv` text under `pkg/srv/X`.
        for (const t of c.topics) {
          const base = /^(.*\/srv\/\w+)_Event$/.exec(t.type)?.[1];
          const text = base === undefined || defs.has(t.type) ? undefined : defs.get(base);
          if (text !== undefined) bag.addSchema(t.type, text, file);
        }
        const byId = new Map<number, BagTopic>();
        const rejected = new Map<number, string>();
        const listed = loc.metadata && loc.metadata.topics.length > 0 ? new Map(loc.metadata.topics.map((t) => [t.name, t.type])) : undefined;
        for (const t of c.topics) {
          const why = topicRowDamage(t.name, t.type, listed);
          if (why) rejected.set(t.id, why);
          else byId.set(t.id, addTopic({ name: t.name, type: t.type, serializationFormat: t.serializationFormat, offeredQosProfiles: t.offeredQosProfiles, typeDescriptionHash: t.typeDescriptionHash || undefined }));
        }
        for (const [topicId, n] of c.counts ?? []) {
          const t = byId.get(topicId);
          const why = rejected.get(topicId);
          if (why) {
            bag.problemList.push({ kind: 'corrupt', file, message: `${n} message(s) on topic row ${topicId}, whose ${why}: dropped (a db3 has no checksums: a damaged row)` });
            continue;
          }
          if (!t) {
            bag.problemList.push({ kind: 'corrupt', file, message: `${n} message(s) refer to unknown topic id ${topicId}: dropped` });
            continue;
          }
          t.messageCount += n;
          count += n;
        }
        if (!c.counts) count = c.rowCount;
        src.sqlite = { file: c, topics: byId, reported: c.problems.length, unknown: c.counts ? undefined : { rejected, problems: new Map(), streamed: false } };
        src.startNs = c.startNs;
        src.endNs = c.endNs;
      }
      bag.sources.push(src);
      files.push({ path: file, storage, messageCount: count, startNs: src.startNs ?? 0n, endNs: src.endNs ?? 0n, sizeBytes: size, chunkCompression: compression, library });
    }
    // Files that follow each other in time stream one after the other; overlapping ones are merged in memory.
    let prevEnd: bigint | undefined;
    let disjoint = true;
    for (const src of bag.sources) {
      if (src.startNs === undefined) continue;
      if (prevEnd !== undefined && src.startNs < prevEnd) disjoint = false;
      prevEnd = src.endNs;
    }
    if (!disjoint && !bag.infoOnly) bag.all = bag.sources.flatMap((src) => src.eager ?? [...bag.streamSource(src)]).sort(compareMessages);
    const messageCount = files.reduce((n, f) => n + f.messageCount, 0);
    if (loc.metadata && loc.metadata.messageCount > messageCount) {
      bag.problemList.push({ kind: 'metadata', file: join(loc.dir, 'metadata.yaml'), message: `metadata.yaml counts ${loc.metadata.messageCount} messages, ${messageCount} could be read` });
    }
    const withData = files.filter((f) => f.messageCount > 0);
    const startNs = withData.length > 0 ? withData.reduce((m, f) => (f.startNs < m ? f.startNs : m), withData[0].startNs) : (loc.metadata?.startNs ?? 0n);
    const endNs = withData.length > 0 ? withData.reduce((m, f) => (f.endNs > m ? f.endNs : m), withData[0].endNs) : startNs;
    const storages = new Set(files.map((f) => f.storage));
    bag.bagInfo = {
      path,
      version: loc.metadata?.version,
      storage: storages.size === 1 ? files[0].storage : ((loc.metadata?.storage as StorageId | undefined) ?? 'mcap'),
      files,
      topics: [...topics.values()],
      messageCount,
      startNs,
      endNs,
      durationNs: endNs - startNs,
      sizeBytes: files.reduce((s, f) => s + f.sizeBytes, 0),
      compressionFormat: loc.metadata?.compressionFormat ?? '',
      compressionMode: loc.metadata?.compressionMode ?? '',
      rosDistro: loc.metadata?.rosDistro ?? '',
    };
    return bag;
  }

  /** Counts a row on an unused topic id (as the opening scan would have: one problem per topic id). */
  private unknownRow(file: string, u: UnknownRows, topicId: number): void {
    let p = u.problems.get(topicId);
    if (!p) {
      p = { problem: { kind: 'corrupt', file, message: '' }, n: 0 };
      u.problems.set(topicId, p);
      this.problemList.push(p.problem);
    }
    p.n++;
    const why = u.rejected.get(topicId);
    p.problem.message = why ? `${p.n} message(s) on topic row ${topicId}, whose ${why}: dropped (a db3 has no checksums: a damaged row)` : `${p.n} message(s) refer to unknown topic id ${topicId}: dropped`;
  }

  /** Reads a file again, in file order (MCAP) or time order (sqlite3), as bag messages (damage was reported by the first pass). */
  private *streamSource(src: Source): Generator<Msg> {
    if (src.sqlite) {
      const { file, topics, unknown } = src.sqlite;
      const counting = unknown !== undefined && !unknown.streamed;
      let i = 0;
      for (const r of file.rows()) {
        const t = topics.get(r.topicId);
        if (t) yield new Msg(this, t.name, t.type, r.timestamp, r.timestamp, r.data, src.fileIndex, i, t.serializationFormat);
        else if (counting) this.unknownRow(src.path, unknown, r.topicId);
        i++;
      }
      if (unknown) unknown.streamed = true;
      return;
    }
    if (!src.handlers) throw new BagError(src.path, 'no chunk decoders loaded');
    if (!src.indexed) {
      const scratch = emptyContents(src.path, 0);
      let i = 0;
      for (const m of mcapMessages(src.path, src.handlers, scratch, src.bytes)) {
        const ch = src.channels.get(m.channelId);
        if (ch) yield new Msg(this, ch.topic.name, ch.topic.type, m.logTime, m.publishTime, m.data, src.fileIndex, i, ch.format);
        i++;
      }
      return;
    }
    yield* this.streamIndexed(src, src.handlers, src.chunksOrdered);
  }

  /**
   * An indexed MCAP file (opened from its summary), read once: damage met is reported here rather
   * than at open. Each chunk's messages are held until the chunk ends and sorted if their times go
   * back (the summary proves only that chunks follow each other in time); a message that still lies
   * before one already given (chunk times in the summary that do not hold) is dropped and reported.
   * Not `ordered`: file order, for the caller to sort (chunks whose ranges overlap).
   */
  private *streamIndexed(src: Source, handlers: DecompressHandlers, ordered: boolean): Generator<Msg> {
    const out = emptyContents(src.path, 0);
    const own = src.live === undefined || src.live.state === 'left';
    const live: Source['live'] = own ? { contents: out, state: 'reading' } : undefined;
    if (live) src.live = live;
    let i = 0;
    let held: Msg[] = [];
    let heldChunk = -2;
    let heldSorted = true;
    let last: bigint | undefined;
    const release = (): Msg[] => {
      const ms = heldSorted ? held : held.sort(compareMessages);
      held = [];
      heldSorted = true;
      const kept: Msg[] = [];
      for (const m of ms) {
        if (last !== undefined && m.logTimeNs < last) {
          out.problems.push({ kind: 'corrupt', file: src.path, topic: m.topic, timeNs: m.logTimeNs, message: `message ${m.seq} on '${m.topic}' at ${m.logTimeNs} ns lies before messages already read (the summary's chunk times do not hold): dropped, to keep time order` });
          continue;
        }
        last = m.logTimeNs;
        kept.push(m);
      }
      return kept;
    };
    try {
      for (const m of mcapMessages(src.path, handlers, out, src.bytes)) {
        const ch = src.channels.get(m.channelId);
        if (!ch) {
          out.problems.push({ kind: 'corrupt', file: src.path, timeNs: m.logTime, message: `message ${i} refers to unknown channel ${m.channelId}: dropped` });
          i++;
          continue;
        }
        const msg = new Msg(this, ch.topic.name, ch.topic.type, m.logTime, m.publishTime, m.data, src.fileIndex, i, ch.format);
        i++;
        if (!ordered) {
          yield msg;
          continue;
        }
        if (m.chunk !== heldChunk) {
          yield* release();
          heldChunk = m.chunk;
        }
        if (held.length > 0 && m.logTime < held[held.length - 1].logTimeNs) heldSorted = false;
        held.push(msg);
      }
      yield* release();
      if (live) live.state = 'done';
    } finally {
      if (live && live.state === 'reading') live.state = 'left';
    }
  }

  private addSchema(type: string, text: string, file: string): void {
    try {
      this.registry.addSchema(type, text);
    } catch (e) {
      this.problemList.push({ kind: 'metadata', file, message: `cannot use the bag's definition of ${type}: ${(e as Error).message}` });
    }
  }

  info(): BagInfo {
    return this.bagInfo;
  }

  /** Per topic: -1 once the definition is seen to fit, else the count of misfits in a row so far. */
  private readonly misfits = new Map<string, number>();

  /**
   * Decodes with the bag's definition. The first messages of each topic are re-encoded: if that
   * does not give back their size, the definition is a placeholder (some rosbag2 test bags store
   * `uint8 level` for rcl_interfaces/Log), and the topic's messages fail with that reason rather
   * than decoding into plausible garbage. Two misfits in a row condemn the topic, so that one
   * damaged first message does not.
   * @internal
   */
  decodeChecked(topic: string, type: string, data: Uint8Array): unknown {
    const state = this.misfits.get(topic) ?? 0;
    const msg = state >= 2 ? undefined : this.registry.decode(type, data);
    if (state === -1) return msg;
    const size = state >= 2 ? -1 : this.registry.encode(type, msg).byteLength;
    // CDR writers may pad the end to 4 bytes; anything else means the definition is wrong.
    if (state < 2 && Math.abs(size - data.byteLength) <= 3) {
      this.misfits.set(topic, -1);
      return msg;
    }
    this.misfits.set(topic, Math.min(state + 1, 2));
    throw new DefinitionMismatchError(topic, type, data.byteLength, size);
  }

  problems(): BagProblem[] {
    // Plus damage met while streaming a sqlite3 file (e.g. a broken overflow chain of one row), and
    // inside the chunks of an indexed MCAP file (found as its messages are read).
    return [...this.problemList, ...this.sources.flatMap((s) => [...(s.sqlite?.file.problems.slice(s.sqlite.reported) ?? []), ...(s.live?.contents.problems ?? [])])];
  }

  topic(name: string): BagTopic | undefined {
    return this.bagInfo.topics.find((t) => t.name === name);
  }

  /**
   * Messages in deterministic time order (log time, file, position). MCAP files are streamed
   * from disk as they are iterated, so a bag larger than memory can be replayed.
   */
  *messagesSync(filter: MessageFilter = {}): IterableIterator<BagMessage> {
    if (this.closed) throw new BagError(this.path, 'the bag was closed');
    if (this.infoOnly) throw new BagError(this.path, 'the bag was opened for its info only ({ messages: false }): its messages cannot be read');
    const topics = filter.topics && filter.topics.length > 0 ? new Set(filter.topics) : undefined;
    const keep = (m: Msg): boolean => (filter.startNs === undefined || m.logTimeNs >= filter.startNs) && (!topics || topics.has(m.topic));
    if (this.all) {
      for (const m of this.all) {
        if (filter.endNs !== undefined && m.logTimeNs >= filter.endNs) return;
        if (keep(m)) yield m;
      }
      return;
    }
    for (const src of this.sources) {
      if (src.startNs === undefined) continue;
      if (filter.endNs !== undefined && src.startNs >= filter.endNs) return;
      if (filter.startNs !== undefined && src.endNs !== undefined && src.endNs < filter.startNs) continue;
      const carried = src.sqlite ? [...src.sqlite.topics.values()] : [...src.channels.values()].map((c) => c.topic);
      if (topics && !carried.some((t) => topics.has(t.name)) && !src.eager) continue;
      for (const m of src.eager ?? this.streamSource(src)) {
        if (filter.endNs !== undefined && m.logTimeNs >= filter.endNs) return;
        if (keep(m)) yield m;
      }
    }
  }

  async *messages(filter: MessageFilter = {}): AsyncIterableIterator<BagMessage> {
    yield* this.messagesSync(filter);
  }

  /** Type name as Kestrel's bus uses it (`pkg/msg/Name`). */
  static busType(type: string): string {
    return normalizeTypeName(type);
  }
}

export function openBag(path: string, o?: OpenOptions): Promise<Bag> {
  return Bag.open(path, o);
}
