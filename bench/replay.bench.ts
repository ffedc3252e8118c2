/**
 * Bag replay:
 * - write: a 100k-message sensor_msgs/Imu bag (200 Hz, 500 s of bag time, zstd chunks) written
 *   through the bag writer, against CDR encoding + bare @mcap/core McapWriter (to memory);
 * - read: openBag + iterating every message, against a bare McapStreamReader pass over the file;
 * - replay: as fast as possible on a virtual clock (SimClock advanced per message, /clock at
 *   100 Hz) into a small non-model pipeline (an IMU integrator subscribed on the bus), against
 *   a bare loop that decodes every payload with the same CDR reader and calls the same integrator.
 *   Reported as messages/s, MB/s, and speed relative to bag time (goal: at least 50x real time).
 * Read+decode per storage, convert and peak RSS (issue 20's figures) are in bench/bag.bench.ts.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapStreamReader, McapWriter } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { decompressHandlers } from '../lib/bag/mcap-file.js';
import { openBag } from '../lib/bag/reader.js';
import { replay } from '../lib/bag/replay.js';
import { createBagWriter, ZSTD_LEVEL } from '../lib/bag/writer.js';
import { msgs, type sensor_msgs } from '../msgs/index.js';
import { Bus } from '../runtime/bus.js';
import { SimClock } from '../runtime/clock.js';
import { IMU_HZ, imuSample, NullWritable } from './imu-bag.js';
import { defineBench, timeMs } from './harness.js';

// KESTREL_BENCH_REPLAY_N shortens the run (default 100k, the figure).
const N = Number(process.env.KESTREL_BENCH_REPLAY_N ?? 100_000);
const HZ = IMU_HZ;
const T0 = 1_700_000_000_000_000_000n;
const PERIOD_NS = BigInt(1e9 / HZ);

/** The non-model pipeline stage: dead-reckoning integration of acceleration. */
class Integrator {
  v = 0;
  n = 0;
  step(m: sensor_msgs.Imu): void {
    this.v += m.linear_acceleration.x * 0.005;
    this.n++;
  }
}

export default defineBench({
  name: 'replay',
  description: 'rosbag2 MCAP write/read/replay throughput of a 100k-message Imu bag, vs bare @mcap/core and a bare decode loop',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-replay-bench-'));
    try {
      await zstd.isLoaded;
      const objects = Array.from({ length: N }, (_, i) => imuSample(i));
      let payloadBytes = 0;

      // Write: our writer (encodes, chunks, zstd, metadata.yaml) vs bare McapWriter with the same chunks.
      const bagDir = join(dir, 'imu');
      const writeMs = await timeMs(async () => {
        const w = await createBagWriter(bagDir, { compression: 'zstd', finalizeOnSignal: false });
        for (let i = 0; i < N; i++) void w.write('/imu/data', 'sensor_msgs/msg/Imu', T0 + BigInt(i) * PERIOD_NS, objects[i]);
        await w.close();
      });
      const bareWriteMs = await timeMs(async () => {
        const w = new McapWriter({ writable: new NullWritable(), chunkSize: 768 * 1024, compressChunk: (d) => ({ compression: 'zstd', compressedData: zstd.compress(d, ZSTD_LEVEL) }) });
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
      };
      return {
        figures,
        goals: [{ name: 'replay_x_realtime (bag time / wall time, virtual clock, non-model pipeline)', value: realtime, op: '>=', target: 50 }],
        details: { messages: N, rate_hz: HZ, bag_seconds: bagSeconds, payload_bytes: payloadBytes, file_bytes: fileBytes, write_ms: writeMs, bare_write_ms: bareWriteMs, read_ms: readMs, bare_read_ms: bareReadMs, replay_ms: replayMs, bare_decode_ms: bareDecodeMs },
        summary: `replay ${Math.round(figures.replay_msgs_per_s)} msg/s (${figures.replay_mb_per_s.toFixed(1)} MB/s), ${realtime.toFixed(0)}x real time; ${figures.replay_vs_bare_decode.toFixed(2)}x a bare decode loop; read ${figures.read_vs_bare_stream.toFixed(2)}x bare stream reader; write ${figures.write_vs_bare_mcap.toFixed(2)}x bare McapWriter`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
