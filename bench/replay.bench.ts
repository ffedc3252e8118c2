/**
 * Bag replay:
 * - write: a 100k-message sensor_msgs/Imu bag (200 Hz, 500 s of bag time, zstd chunks) written
 *   through the bag writer, against CDR encoding + bare @mcap/core McapWriter (to memory);
 * - read: openBag + iterating every message, against a bare McapStreamReader pass over the file;
 * - replay: as fast as possible on a virtual clock (SimClock advanced per message, /clock at
 *   100 Hz) into a small non-model pipeline (an IMU integrator subscribed on the bus), against
 *   a bare loop that decodes every payload with the same CDR reader and calls the same integrator.
 *   Reported as messages/s, MB/s, and speed relative to bag time (goal: at least 50x real time);
 * - read+decode from MCAP and from sqlite3 (the same bag converted): openBag, then decode every
 *   message, against a bare McapStreamReader + CDR decode pass (MCAP) and a bare CDR decode loop
 *   over the same payloads in memory (both storages);
 * - convert msgs/s both ways (MCAP -> sqlite3 -> MCAP), against a bare copy (McapStreamReader
 *   into McapWriter, in memory);
 * - peak RSS of reading each file in a child process, less a child that only loads the reader,
 *   as a multiple of the file size.
 * rosbags' figures (Python, measured once on the device machine kind) are in bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapStreamReader, McapWriter, type IWritable } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { convertBag } from '../lib/bag/convert.js';
import { decompressHandlers } from '../lib/bag/mcap-file.js';
import { openBag } from '../lib/bag/reader.js';
import { replay } from '../lib/bag/replay.js';
import { createBagWriter } from '../lib/bag/writer.js';
import { makeMsg, msgs, type sensor_msgs } from '../msgs/index.js';
import { Bus } from '../runtime/bus.js';
import { SimClock } from '../runtime/clock.js';
import { defineBench, timeMs } from './harness.js';

/** Peak RSS of a child reading `path` (or only loading the reader), in bytes. */
function childRss(path: string, baseline: boolean): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bag-rss.ts'), path, ...(baseline ? ['--baseline'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return (JSON.parse(out) as { max_rss_bytes: number }).max_rss_bytes;
}

// KESTREL_BENCH_REPLAY_N shortens the run (default 100k, the figure).
const N = Number(process.env.KESTREL_BENCH_REPLAY_N ?? 100_000);
const HZ = 200;
const T0 = 1_700_000_000_000_000_000n;
const PERIOD_NS = BigInt(1e9 / HZ);

function imu(i: number): sensor_msgs.Imu {
  return makeMsg('sensor_msgs/msg/Imu', {
    header: { stamp: { sec: 1_700_000_000 + Math.floor(i / HZ), nanosec: (i % HZ) * 5_000_000 }, frame_id: 'imu_link' },
    angular_velocity: { x: Math.sin(i / 100), y: 0.01, z: 0.02 },
    linear_acceleration: { x: 0.1, y: Math.cos(i / 50), z: 9.81 },
  });
}

/** The non-model pipeline stage: dead-reckoning integration of acceleration. */
class Integrator {
  v = 0;
  n = 0;
  step(m: sensor_msgs.Imu): void {
    this.v += m.linear_acceleration.x * 0.005;
    this.n++;
  }
}

class NullWritable implements IWritable {
  private pos = 0n;
  async write(b: Uint8Array): Promise<void> {
    this.pos += BigInt(b.byteLength);
  }
  position(): bigint {
    return this.pos;
  }
}

export default defineBench({
  name: 'replay',
  description: 'rosbag2 MCAP write/read/replay throughput of a 100k-message Imu bag, vs bare @mcap/core and a bare decode loop',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-replay-bench-'));
    try {
      await zstd.isLoaded;
      const objects = Array.from({ length: N }, (_, i) => imu(i));
      let payloadBytes = 0;

      // Write: our writer (encodes, chunks, zstd, metadata.yaml) vs bare McapWriter with the same chunks.
      const bagDir = join(dir, 'imu');
      const writeMs = await timeMs(async () => {
        const w = await createBagWriter(bagDir, { compression: 'zstd', finalizeOnSignal: false });
        for (let i = 0; i < N; i++) void w.write('/imu/data', 'sensor_msgs/msg/Imu', T0 + BigInt(i) * PERIOD_NS, objects[i]);
        await w.close();
      });
      const bareWriteMs = await timeMs(async () => {
        const w = new McapWriter({ writable: new NullWritable(), chunkSize: 768 * 1024, compressChunk: (d) => ({ compression: 'zstd', compressedData: zstd.compress(d, 3) }) });
        await w.start({ profile: 'ros2', library: 'bare' });
        const s = await w.registerSchema({ name: 'sensor_msgs/msg/Imu', encoding: 'ros2msg', data: new TextEncoder().encode(msgs.schemaText('sensor_msgs/msg/Imu')) });
        const c = await w.registerChannel({ topic: '/imu/data', messageEncoding: 'cdr', schemaId: s, metadata: new Map() });
        // Same work as the bag writer minus its bookkeeping: CDR-encode, then McapWriter.
        for (let i = 0; i < N; i++) {
          const data = msgs.encode('sensor_msgs/msg/Imu', objects[i]);
          payloadBytes += data.byteLength;
          await w.addMessage({ channelId: c, sequence: i, logTime: T0 + BigInt(i) * PERIOD_NS, publishTime: T0 + BigInt(i) * PERIOD_NS, data });
        }
        await w.end();
      });
      const file = join(bagDir, 'imu_0.mcap');
      const fileBytes = statSync(file).size;

      // Read: openBag + iterate vs a bare stream-reader pass.
      let count = 0;
      const readMs = await timeMs(async () => {
        const bag = await openBag(bagDir);
        for await (const _m of bag.messages()) count++;
      });
      const handlers = await decompressHandlers();
      let bareCount = 0;
      const bareReadMs = await timeMs(() => {
        const r = new McapStreamReader({ decompressHandlers: handlers });
        r.append(new Uint8Array(readFileSync(file)));
        for (let rec; (rec = r.nextRecord()); ) if (rec.type === 'Message') bareCount++;
      });
      if (count !== N || bareCount !== N) throw new Error(`read ${count} / ${bareCount} messages, expected ${N}`);

      // Replay into the pipeline on a virtual clock vs a bare decode + integrate loop.
      const bag = await openBag(bagDir);
      const bus = new Bus();
      const clock = new SimClock();
      const integ = new Integrator();
      bus.subscribe('/imu/data', 'sensor_msgs/msg/Imu').subscribe((m) => integ.step(m));
      let published = 0;
      const replayMs = await timeMs(async () => {
        const r = await replay(bag, { bus, clock, asFastAsPossible: true, clockHz: 100 });
        published = r.published;
      });
      if (published !== N || integ.n !== N) throw new Error(`replayed ${published}, pipeline saw ${integ.n}, expected ${N}`);
      const bareInteg = new Integrator();
      const bareDecodeMs = await timeMs(() => {
        for (const m of bag.messagesSync()) bareInteg.step(msgs.decode<sensor_msgs.Imu>('sensor_msgs/msg/Imu', m.data));
      });

      // Read + decode, both storages, vs bare passes in the same run.
      const dbDir = join(dir, 'imu_db3');
      const toSqliteMs = await timeMs(() => convertBag(bagDir, dbDir, { storage: 'sqlite3' }));
      const backDir = join(dir, 'imu_back');
      const toMcapMs = await timeMs(() => convertBag(dbDir, backDir, { storage: 'mcap' }));
      const dbFile = join(dbDir, 'imu_db3_0.db3');
      const dbBytes = statSync(dbFile).size;
      const readDecode = async (p: string): Promise<number> =>
        timeMs(async () => {
          const b = await openBag(p);
          let k = 0;
          for (const m of b.messagesSync()) {
            m.decode();
            k++;
          }
          if (k !== N) throw new Error(`${p}: decoded ${k} messages, expected ${N}`);
        });
      const mcapDecodeMs = await readDecode(bagDir);
      const sqliteDecodeMs = await readDecode(dbDir);
      const bareMcapDecodeMs = await timeMs(() => {
        const r = new McapStreamReader({ decompressHandlers: handlers });
        r.append(new Uint8Array(readFileSync(file)));
        for (let rec; (rec = r.nextRecord()); ) if (rec.type === 'Message') msgs.decode('sensor_msgs/msg/Imu', rec.data);
      });
      const payloads = [...bag.messagesSync()].map((m) => m.data);
      const bareCdrMs = await timeMs(() => {
        for (const d of payloads) msgs.decode('sensor_msgs/msg/Imu', d);
      });
      // Bare copy: stream reader into McapWriter (memory), the least a convert must do.
      const bareCopyMs = await timeMs(async () => {
        const r = new McapStreamReader({ decompressHandlers: handlers });
        r.append(new Uint8Array(readFileSync(file)));
        const w = new McapWriter({ writable: new NullWritable(), chunkSize: 768 * 1024, startChannelId: 1, compressChunk: (d) => ({ compression: 'zstd', compressedData: zstd.compress(d, 3) }) });
        await w.start({ profile: 'ros2', library: 'bare' });
        const schemaIds = new Map<number, number>();
        const channelIds = new Map<number, number>();
        for (let rec; (rec = r.nextRecord()); ) {
          if (rec.type === 'Schema' && !schemaIds.has(rec.id)) schemaIds.set(rec.id, await w.registerSchema(rec));
          else if (rec.type === 'Channel' && !channelIds.has(rec.id)) channelIds.set(rec.id, await w.registerChannel({ ...rec, schemaId: schemaIds.get(rec.schemaId) ?? 0 }));
          else if (rec.type === 'Message') await w.addMessage({ ...rec, channelId: channelIds.get(rec.channelId) as number });
        }
        await w.end();
      });
      const rssBase = childRss(file, true);
      const rssMcap = childRss(bagDir, false) - rssBase;
      const rssSqlite = childRss(dbDir, false) - rssBase;

      const bagSeconds = Number(bag.info().durationNs) / 1e9;
      const realtime = bagSeconds / (replayMs / 1000);
      const figures = {
        replay_msgs_per_s: N / (replayMs / 1000),
        replay_mb_per_s: payloadBytes / 1e6 / (replayMs / 1000),
        replay_x_realtime: realtime,
        replay_vs_bare_decode: replayMs / bareDecodeMs,
        read_vs_bare_stream: readMs / bareReadMs,
        write_vs_bare_mcap: writeMs / bareWriteMs,
        read_msgs_per_s: N / (readMs / 1000),
        write_msgs_per_s: N / (writeMs / 1000),
        mcap_read_decode_msgs_per_s: N / (mcapDecodeMs / 1000),
        sqlite_read_decode_msgs_per_s: N / (sqliteDecodeMs / 1000),
        mcap_read_decode_vs_bare_mcap_core_decode: mcapDecodeMs / bareMcapDecodeMs,
        mcap_read_decode_vs_bare_cdr_loop: mcapDecodeMs / bareCdrMs,
        sqlite_read_decode_vs_bare_cdr_loop: sqliteDecodeMs / bareCdrMs,
        convert_to_sqlite_msgs_per_s: N / (toSqliteMs / 1000),
        convert_to_mcap_msgs_per_s: N / (toMcapMs / 1000),
        convert_to_mcap_vs_bare_copy: toMcapMs / bareCopyMs,
        convert_to_sqlite_vs_bare_copy: toSqliteMs / bareCopyMs,
        peak_rss_vs_file_mcap: rssMcap / fileBytes,
        peak_rss_vs_file_sqlite: rssSqlite / dbBytes,
      };
      return {
        figures,
        goals: [{ name: 'replay_x_realtime (bag time / wall time, virtual clock, non-model pipeline)', value: realtime, op: '>=', target: 50 }],
        details: { mcap_decode_ms: mcapDecodeMs, sqlite_decode_ms: sqliteDecodeMs, bare_mcap_decode_ms: bareMcapDecodeMs, bare_cdr_ms: bareCdrMs, to_sqlite_ms: toSqliteMs, to_mcap_ms: toMcapMs, bare_copy_ms: bareCopyMs, db3_bytes: dbBytes, rss_baseline_bytes: rssBase, rss_mcap_bytes: rssMcap, rss_sqlite_bytes: rssSqlite, messages: N, rate_hz: HZ, bag_seconds: bagSeconds, payload_bytes: payloadBytes, file_bytes: fileBytes, write_ms: writeMs, bare_write_ms: bareWriteMs, read_ms: readMs, bare_read_ms: bareReadMs, replay_ms: replayMs, bare_decode_ms: bareDecodeMs },
        summary: `replay ${Math.round(figures.replay_msgs_per_s)} msg/s (${figures.replay_mb_per_s.toFixed(1)} MB/s), ${realtime.toFixed(0)}x real time; ${figures.replay_vs_bare_decode.toFixed(2)}x a bare decode loop; read ${figures.read_vs_bare_stream.toFixed(2)}x bare stream reader; write ${figures.write_vs_bare_mcap.toFixed(2)}x bare McapWriter; read+decode ${Math.round(figures.mcap_read_decode_msgs_per_s)} msg/s MCAP (${figures.mcap_read_decode_vs_bare_mcap_core_decode.toFixed(2)}x bare @mcap/core+decode), ${Math.round(figures.sqlite_read_decode_msgs_per_s)} msg/s sqlite3 (${figures.sqlite_read_decode_vs_bare_cdr_loop.toFixed(2)}x a bare decode loop); convert ${Math.round(figures.convert_to_sqlite_msgs_per_s)} / ${Math.round(figures.convert_to_mcap_msgs_per_s)} msg/s to sqlite3 / MCAP; peak RSS ${figures.peak_rss_vs_file_mcap.toFixed(2)}x / ${figures.peak_rss_vs_file_sqlite.toFixed(2)}x the file (MCAP / sqlite3)`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
