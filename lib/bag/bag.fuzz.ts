/**
 * Fuzz targets for the bag readers (bag.fuzz.test.ts in the suite, `npm run fuzz` longer): a small
 * bag written by Kestrel's writer (MCAP with several chunks, the same bag as a db3, its
 * metadata.yaml), mutated with the harness of test/support/fuzz.ts, and opened and read in full
 * with every message decoded. A case passes when it throws a BagError that names the file, or reads
 * back; what is read back is checked:
 * - MCAP: every message is one of the bag (chunk CRCs guard the data; a chunk whose CRC the mutation
 *   set to 0, "not computed" in the spec, is unguarded and exempt), in time order;
 * - db3 (no checksums, so a flipped payload or stamp cannot be told): time order, known topics, and
 *   no more rows than the file can hold; a topic row renamed to another valid ROS 2 name cannot be told
 *   either in a lone db3 (no metadata.yaml): `noted`, counted apart, not passed as ok;
 * - metadata.yaml (the MCAP beside it is intact): every message is one of the bag, and every problem
 *   names a file of the bag.
 * Decode errors of damaged payloads are what replay reports per message: counted as a read, not a crash.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMsg } from '../../msgs/index.js';
import { mutate, mutateText, type FuzzTarget, type Verdict } from '../../test/support/fuzz.js';
import { convertBag } from './convert.js';
import { TOPIC_NAME, openBag } from './reader.js';
import { BagError, type BagMessage } from './types.js';
import { createBagWriter } from './writer.js';

export interface BagSeeds {
  dir: string;
  mcap: Uint8Array;
  db3: Uint8Array;
  metadata: string;
  /** topic|log time|payload hex of every message, and the topics. */
  keys: Set<string>;
  topics: Set<string>;
  count: number;
}

const T0 = 1_700_000_000_000_000_000n;
const key = (m: BagMessage): string => `${m.topic}|${m.logTimeNs}|${Buffer.from(m.data).toString('hex')}`;

/**
 * Writes the seed bag in a temporary directory: 60 Imu and 20 strings of growing size (up to 40
 * kB, so that db3 rows overflow into chained pages), 1 KiB chunks: about 60 kB, small enough for
 * a case to take a few ms, with every record kind and several chunks to damage.
 */
export async function bagSeeds(): Promise<BagSeeds> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-fuzz-bag-'));
  const src = join(dir, 'seed');
  const w = await createBagWriter(src, { compression: 'none', chunkSize: 1024 });
  for (let i = 0; i < 60; i++) {
    const t = T0 + BigInt(i) * 10_000_000n;
    void w.write('/imu/data', 'sensor_msgs/msg/Imu', t, makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 1 } }, linear_acceleration: { z: 9.81 } }));
    if (i % 3 === 0) void w.write('/chatter', 'std_msgs/msg/String', t, makeMsg('std_msgs/msg/String', { data: `hello ${i} ${'x'.repeat(i === 57 ? 40_000 : i * 10)}` }));
  }
  await w.close();
  await convertBag(src, join(dir, 'seeddb'), { storage: 'sqlite3' });
  const bag = await openBag(src);
  const msgs = [...bag.messagesSync()];
  return {
    dir,
    mcap: readFileSync(join(src, 'seed_0.mcap')),
    db3: readFileSync(join(dir, 'seeddb', 'seeddb_0.db3')),
    metadata: readFileSync(join(src, 'metadata.yaml'), 'utf8'),
    keys: new Set(msgs.map(key)),
    topics: new Set(msgs.map((m) => m.topic)),
    count: msgs.length,
  };
}

/** Whether a top-level Chunk record of `b` has its CRC set to 0 ("not computed"): its data is then unguarded. */
function uncheckedChunk(b: Uint8Array): boolean {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 8; at + 9 + 28 <= b.byteLength; ) {
    const len = v.getBigUint64(at + 1, true);
    if (b[at] === 0x06 && v.getUint32(at + 9 + 24, true) === 0) return true;
    if (len > BigInt(b.byteLength)) return false;
    at += 9 + Number(len);
  }
  return false;
}

interface Read {
  messages: BagMessage[];
  problemFiles: string[];
}

/** Opens and reads the bag at `path` in full, decoding every message; a BagError that does not name `names` is a wrong result. */
async function readAll(path: string): Promise<Read> {
  const bag = await openBag(path);
  // Closed whatever happens: 10^5 cases must not run out of descriptors (`npm run fuzz` checks none leak).
  try {
    const messages: BagMessage[] = [];
    for (const m of bag.messagesSync()) {
      messages.push(m);
      try {
        m.decode();
      } catch (e) {
        // A damaged payload fails to decode with a reason (CdrDecodeError, DefinitionMismatchError...):
        // replay counts it. A per-message decompression failure is a BagError, checked by the caller.
        if (e instanceof BagError) throw e;
      }
    }
    bag.info();
    return { messages, problemFiles: bag.problems().map((p) => p.file) };
  } finally {
    bag.close();
  }
}

function inOrder(ms: readonly BagMessage[]): Verdict {
  for (let i = 1; i < ms.length; i++) if (ms[i].logTimeNs < ms[i - 1].logTimeNs) return { wrong: `message ${i} (${ms[i].logTimeNs} ns) comes after a later one (${ms[i - 1].logTimeNs} ns)` };
  return 'ok';
}

/** Runs `read` on a case; a BagError must name `where`, a problem must name a file under `dir`. */
async function guarded(where: string, dir: string, read: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof BagError && !e.message.includes(where)) return { wrong: `BagError does not name the file: ${e.message.slice(0, 200)}` };
    throw e;
  }
}

const isBagError = (e: unknown): boolean => e instanceof BagError;

export function bagTargets(seeds: BagSeeds): FuzzTarget<Buffer>[] {
  const caseDir = (name: string): string => {
    const d = join(seeds.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const mcapDir = caseDir('mcap');
  const dbDir = caseDir('db3');
  const metaDir = caseDir('metadata');
  writeFileSync(join(metaDir, 'seed_0.mcap'), seeds.mcap);
  const problemsUnder = (r: Read, dir: string): Verdict => {
    const bad = r.problemFiles.find((f) => !f.startsWith(dir));
    return bad === undefined ? 'ok' : { wrong: `a problem names ${bad}, not a file of the bag` };
  };

  const mcap: FuzzTarget<Buffer> = {
    name: 'bag-mcap',
    gen: (r) => mutate(seeds.mcap, r, 4),
    async run(b) {
      const file = join(mcapDir, 'case.mcap');
      writeFileSync(file, b);
      return guarded(file, mcapDir, async () => {
        const r = await readAll(file);
        const foreign = r.messages.find((m) => !seeds.keys.has(key(m)));
        if (foreign && !uncheckedChunk(b)) return { wrong: `message on ${foreign.topic} at ${foreign.logTimeNs} ns is not one of the bag` };
        const order = inOrder(r.messages);
        return order === 'ok' ? problemsUnder(r, mcapDir) : order;
      });
    },
    isClear: isBagError,
    caseMs: 2000,
  };

  const db3: FuzzTarget<Buffer> = {
    name: 'bag-db3',
    gen: (r) => mutate(seeds.db3, r, 4),
    async run(b) {
      const file = join(dbDir, 'case.db3');
      writeFileSync(file, b);
      return guarded(file, dbDir, async () => {
        const r = await readAll(file);
        const stranger = r.messages.find((m) => !seeds.topics.has(m.topic));
        if (stranger) {
          // A topic row renamed to another valid name: no reader can tell, a lone db3 has neither checksums nor
          // metadata.yaml to contradict it (the reader drops invalid names and, with metadata.yaml, unlisted ones).
          const renamed = TOPIC_NAME.test(stranger.topic) && b.includes(Buffer.from(stranger.topic)) && !Buffer.from(seeds.db3).includes(Buffer.from(stranger.topic));
          if (!renamed) return { wrong: `a message on '${stranger.topic}', a topic the bag does not have` };
          const order = inOrder(r.messages);
          return order === 'ok' ? { noted: `topic row renamed to '${stranger.topic}', a valid name: undetectable in a db3 without metadata.yaml` } : order;
        }
        // A duplicated 64-byte slice can repeat up to 32 cell pointers: rows read twice, no more.
        if (r.messages.length > seeds.count + 32) return { wrong: `${r.messages.length} messages read from a bag of ${seeds.count}` };
        const order = inOrder(r.messages);
        return order === 'ok' ? problemsUnder(r, dbDir) : order;
      });
    },
    isClear: isBagError,
    caseMs: 2000,
  };

  const TOKENS = [
    ': ', '- ', '\n', '\n  ', '"', "'", '{', '}', '[', ']', '#', '&a ', '*a', '!!binary ', '? ', '|\n', ' ~', ' null', ' .nan', ' -1', ' 1e999',
    'version: 9', 'version: 99', 'version: 4', 'compression_mode: message', 'compression_mode: file', 'compression_mode: bogus', 'compression_format: lz4',
    'compression_format: zstd', 'compression_format: bz2', 'storage_identifier: sqlite3', 'storage_identifier: mcap', 'path: ', '../', '/dev/zero', 'seed_0.mcap',
    'seed_0.mcap.zstd', 'seed_0.db3', 'nanoseconds: 18446744073709551616', 'nanoseconds_since_epoch: -5', 'message_count: 99999999999', 'relative_file_paths:', 'offered_qos_profiles: ',
    'topics_with_message_count:', 'type: sensor_msgs/msg/Imu', 'serialization_format: ros1', 'type_description_hash: ', 'files: ', 'reliability: 99', 'depth: -1',
  ];
  const metadata: FuzzTarget<Buffer> = {
    name: 'bag-metadata',
    gen: (r) => Buffer.from(mutateText(seeds.metadata, r, TOKENS, 4), 'utf8'),
    async run(b) {
      writeFileSync(join(metaDir, 'metadata.yaml'), b);
      return guarded(metaDir, metaDir, async () => {
        const r = await readAll(metaDir);
        const foreign = r.messages.find((m) => !seeds.keys.has(key(m)));
        if (foreign) return { wrong: `message on ${foreign.topic} at ${foreign.logTimeNs} ns is not one of the (intact) MCAP file` };
        const order = inOrder(r.messages);
        return order === 'ok' ? problemsUnder(r, metaDir) : order;
      });
    },
    isClear: isBagError,
    caseMs: 2000,
  };
  return [mcap, db3, metadata];
}
