/** `kestrel bag convert`: rewrites a bag into MCAP or sqlite3, keeping every message, time and definition. */
import { mkdirSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatMetadata, qosProfiles, qosText } from './metadata.js';
import { openBag } from './reader.js';
import { writeSqliteFile } from './sqlite-writer.js';
import { BagError, type BagProblem, type StorageId } from './types.js';
import { createBagWriter, hashOf, type ChunkCompression } from './writer.js';

export interface ConvertOptions {
  storage: StorageId;
  compression?: ChunkCompression;
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertResult {
  messages: number;
  files: string[];
  /** What the output keeps differently from the input (e.g. compression), for the user. */
  notes: string[];
}

/** What convert does with the source's rosbag2 compression (it never writes it back: stated). */
function compressionNotes(format: string, mode: string, out: string): string[] {
  const m = mode.toLowerCase();
  if (!format || !m || m === 'none') return [];
  return [`the source's ${m === 'file' ? 'whole-file' : 'per-message'} ${format} compression is not kept: the output is written ${out}`];
}

/** The source's damage (what was not copied), for the user. */
function problemNotes(problems: readonly BagProblem[]): string[] {
  return problems.filter((p) => p.kind !== 'reindexed').map((p) => `the source has a problem (what it lost is not in the output): ${p.file}: ${p.message}`);
}

export async function convertBag(src: string, dst: string, o: ConvertOptions): Promise<ConvertResult> {
  // Read once: a db3 is not scanned at open for per-topic counts (the writers count what they write).
  const bag = await openBag(src, { once: true });
  const info = bag.info();
  const total = info.messageCount;
  // A bag's incomplete definitions (placeholders, missing dependencies) become schemaless channels.
  const definition = (type: string): string | null => {
    try {
      return bag.registry.has(type) ? bag.registry.schemaText(type) : null;
    } catch {
      return null;
    }
  };
  if (o.storage === 'mcap') {
    const w = await createBagWriter(dst, { compression: o.compression ?? 'zstd', registry: bag.registry, rosDistro: info.rosDistro });
    for (const t of info.topics) {
      w.addTopic(t.name, t.type, { serializationFormat: t.serializationFormat, offeredQosProfiles: t.offeredQosProfiles, typeDescriptionHash: t.typeDescriptionHash, schemaText: definition(t.type) });
    }
    const n = await w.writeMessages(bag.messagesSync(), (done) => o.onProgress?.(done, total));
    await w.close();
    o.onProgress?.(n, total);
    return { messages: n, files: w.files(), notes: [...compressionNotes(info.compressionFormat, info.compressionMode, `with ${o.compression ?? 'zstd'} MCAP chunk compression`), ...problemNotes(bag.problems())] };
  }
  if (existsSync(dst) && readdirSync(dst).length > 0) throw new BagError(dst, 'output directory exists and is not empty (rosbag2 never overwrites a bag)');
  mkdirSync(dst, { recursive: true });
  const name = `${basename(dst)}_0.db3`;
  const topics = info.topics.map((t) => {
    const def = definition(t.type);
    return {
      name: t.name,
      type: t.type,
      serializationFormat: t.serializationFormat,
      offeredQosProfiles: qosText(qosProfiles(t.offeredQosProfiles, src)),
      typeDescriptionHash: t.typeDescriptionHash || hashOf(t.type, def),
      definition: def,
    };
  });
  // Counts as written: a source read from its summary may turn out to have lost messages to damage.
  let written: ReadonlyMap<string, number> = new Map();
  const metadata = (count: number, perTopic: ReadonlyMap<string, number>): string => {
    written = perTopic;
    return formatMetadata({
      storage: 'sqlite3',
      files: [{ path: name, startNs: info.startNs, durationNs: info.durationNs, messageCount: count }],
      topics: info.topics.map((t, i) => ({ ...t, messageCount: perTopic.get(t.name) ?? 0, typeDescriptionHash: topics[i].typeDescriptionHash })),
      startNs: info.startNs,
      durationNs: info.durationNs,
      messageCount: count,
      rosDistro: info.rosDistro,
    });
  };
  const n = await writeSqliteFile(join(dst, name), topics, bag.messagesSync(), info.rosDistro, metadata, (done) => o.onProgress?.(done, total));
  o.onProgress?.(n, total);
  writeFileSync(join(dst, 'metadata.yaml'), metadata(n, written));
  return { messages: n, files: [join(dst, name)], notes: [...compressionNotes(info.compressionFormat, info.compressionMode, 'uncompressed'), ...problemNotes(bag.problems())] };
}
