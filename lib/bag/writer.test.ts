import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { convertBag } from './convert.js';
import { readMcapFile, readMcapSummary } from './mcap-file.js';
import { parseMetadata } from './metadata.js';
import { openBag } from './reader.js';
import type { BagMessage } from './types.js';
import { createBagWriter, type ChunkCompression } from './writer.js';
import { fixture, itFixtures } from '../../test/support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bag-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_123_456_789n; // beyond 2^53: must stay exact

async function writeImuBag(dir: string, n: number, o: { compression?: ChunkCompression; splitSeconds?: number; splitBytes?: number; chunkSize?: number } = {}): Promise<void> {
  const w = await createBagWriter(dir, { chunkSize: 2048, ...o });
  for (let i = 0; i < n; i++) {
    const t = T0 + BigInt(i) * 10_000_000n;
    void w.write('/imu/data', 'sensor_msgs/msg/Imu', t, makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 7 } }, linear_acceleration: { z: 9.81 } }));
    if (i % 10 === 0) void w.write('/gps/fix', 'sensor_msgs/msg/NavSatFix', t, makeMsg('sensor_msgs/msg/NavSatFix', { latitude: 47 + i * 1e-6 }));
  }
  await w.close();
}

describe('bag writer', () => {
  it.each(['zstd', 'lz4', 'none'] as const)('round-trips messages and exact times with %s chunks', async (compression) => {
    const dir = join(tmp, `rt_${compression}`);
    await writeImuBag(dir, 200, { compression });
    const bag = await openBag(dir);
    const info = bag.info();
    expect(info.messageCount).toBe(220);
    expect(info.startNs).toBe(T0);
    expect(info.files[0].chunkCompression).toEqual(compression === 'none' ? [] : [compression]);
    expect(bag.problems()).toEqual([]);
    const imu = [...bag.messagesSync({ topics: ['/imu/data'] })].map((m) => m.decode() as { header: { stamp: { sec: number } }; linear_acceleration: { z: number } });
    expect(imu.map((m) => m.header.stamp.sec)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(imu[5].linear_acceleration.z).toBe(9.81);
    // ros2 bag / Foxglove expectations: ros2 profile, ros2msg schemas with dependencies, cdr channels.
    const f = await readMcapFile(info.files[0].path);
    expect(f.profile).toBe('ros2');
    const ch = [...f.channels.values()].find((c) => c.topic === '/imu/data');
    expect(ch?.messageEncoding).toBe('cdr');
    expect(ch?.schema?.encoding).toBe('ros2msg');
    expect(ch?.schema?.name).toBe('sensor_msgs/msg/Imu');
    expect(ch?.schema?.text).toContain('MSG: std_msgs/Header');
    expect(ch?.schema?.text).toContain('MSG: builtin_interfaces/Time');
    // Channel ids from 1, as rosbag2 and rosbags write them (rosbags drops channel 0).
    expect([...f.channels.keys()].sort()).toEqual([1, 2]);
    const meta = parseMetadata(readFileSync(join(dir, 'metadata.yaml'), 'utf8'));
    expect(meta.version).toBe(9);
    expect(meta.storage).toBe('mcap');
    expect(meta.startNs).toBe(T0);
    expect(meta.topics.map((t) => [t.name, t.type, t.messageCount])).toEqual([['/imu/data', 'sensor_msgs/msg/Imu', 200], ['/gps/fix', 'sensor_msgs/msg/NavSatFix', 20]]);
    // RIHS01 hashes as ROS 2 Jazzy computes them (rosbags refuses a bag without them).
    expect(meta.topics.map((t) => t.typeDescriptionHash)).toEqual([
      'RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b',
      'RIHS01_62223ab3fe210a15976021da7afddc9e200dc9ec75231c1b6a557fc598a65404',
    ]);
  });

  it('a converted db3 is one SQLite itself accepts (integrity_check), with the same rows in time order', async () => {
    const src = join(tmp, 'ic_src');
    await writeImuBag(src, 3000, { chunkSize: 4096 });
    const dst = join(tmp, 'ic_db3');
    await convertBag(src, dst, { storage: 'sqlite3' });
    const SQL = await initSqlJs();
    const db = new SQL.Database(readFileSync(join(dst, 'ic_db3_0.db3')));
    try {
      expect(db.exec('PRAGMA integrity_check')[0].values).toEqual([['ok']]);
      const rows = db.exec('SELECT t.name, CAST(m.timestamp AS TEXT), hex(m.data) FROM messages m JOIN topics t ON t.id = m.topic_id ORDER BY m.timestamp, m.id')[0].values;
      const want = [...(await openBag(src)).messagesSync()].map((m) => [m.topic, m.logTimeNs.toString(), Buffer.from(m.data).toString('hex').toUpperCase()]);
      expect(rows).toEqual(want);
      expect(db.exec('SELECT schema_version FROM schema')[0].values).toEqual([[4]]);
      expect(String(db.exec('SELECT metadata FROM metadata')[0].values[0][0])).toMatch(/message_count: 3300/);
    } finally {
      db.close();
    }
  });

  it('a convert of per-message compressed data that does not decompress fails, naming file and message', async () => {
    const dir = join(tmp, 'msgzstd_bad');
    const w = await createBagWriter(dir, { compression: 'none' });
    void w.write('/imu/data', 'sensor_msgs/msg/Imu', T0, new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 1, 2, 3, 4]));
    await w.close();
    const meta = readFileSync(join(dir, 'metadata.yaml'), 'utf8').replace('compression_format: ""', 'compression_format: zstd').replace('compression_mode: ""', 'compression_mode: message');
    writeFileSync(join(dir, 'metadata.yaml'), meta);
    await expect(convertBag(dir, join(tmp, 'msgzstd_bad_out'), { storage: 'mcap' })).rejects.toThrow(/msgzstd_bad_0\.mcap: message on '\/imu\/data' at 1700000000123456789 ns: corrupt zstd frame/);
    await expect(convertBag(dir, join(tmp, 'msgzstd_bad_out2'), { storage: 'sqlite3' })).rejects.toThrow(/corrupt zstd frame/);
  });

  it('splits by duration and by size; metadata.yaml lists every file', async () => {
    const d1 = join(tmp, 'split_dur');
    await writeImuBag(d1, 300, { splitSeconds: 1 });
    const m1 = parseMetadata(readFileSync(join(d1, 'metadata.yaml'), 'utf8'));
    expect(m1.files.map((f) => f.path)).toEqual(['split_dur_0.mcap', 'split_dur_1.mcap', 'split_dur_2.mcap']);
    expect(m1.files.map((f) => f.messageCount)).toEqual([110, 110, 110]);
    const d2 = join(tmp, 'split_size');
    await writeImuBag(d2, 600, { splitBytes: 20_000, compression: 'none' });
    const files = readdirSync(d2).filter((f) => f.endsWith('.mcap'));
    expect(files.length).toBeGreaterThan(2);
    const bag = await openBag(d2);
    expect(bag.info().messageCount).toBe(660);
    const times = [...bag.messagesSync()].map((m) => m.logTimeNs);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
  });

  it('files that overlap in time are merged: log time, then file order, then position', async () => {
    const a = join(tmp, 'ov_a');
    const b = join(tmp, 'ov_b');
    for (const [dir, offset] of [[a, 0n], [b, 5n]] as const) {
      const w = await createBagWriter(dir);
      for (let i = 0n; i < 10n; i++) void w.write(dir === a ? '/a' : '/b', 'std_msgs/msg/String', 1000n + i * 10n + offset - (i % 2n) * offset, makeMsg('std_msgs/msg/String', { data: `${dir === a ? 'a' : 'b'}${i}` }));
      await w.close();
    }
    const d = join(tmp, 'ov');
    mkdirSync(d);
    copyFileSync(join(a, 'ov_a_0.mcap'), join(d, 'x_0.mcap'));
    copyFileSync(join(b, 'ov_b_0.mcap'), join(d, 'x_1.mcap'));
    const bag = await openBag(d);
    const seq = [...bag.messagesSync()].map((m) => [m.logTimeNs, (m.decode() as { data: string }).data]);
    expect(seq.length).toBe(20);
    for (let i = 1; i < seq.length; i++) expect(seq[i][0] >= seq[i - 1][0]).toBe(true);
    // Equal times (odd i): the first file's message comes first.
    expect(seq.slice(2, 4)).toEqual([[1010n, 'a1'], [1010n, 'b1']]);
    expect([...bag.messagesSync({ startNs: 1040n, endNs: 1060n })].length).toBe(4);
  });

  it('log times that go back inside chunks, or across them, come in time order from the summary as from a full scan', async () => {
    // chunkSize 2048: 3 Imu messages in the first chunk (after the schema and channel), then 6 a chunk.
    // Reversed in groups of 3, every chunk's range follows the last (only each chunk needs sorting);
    // in groups of 4, chunk ranges overlap (the file is sorted in memory).
    for (const [g, ordered] of [[3, true], [4, false]] as const) {
      const dir = join(tmp, `back_${g}`);
      const w = await createBagWriter(dir, { chunkSize: 2048 });
      for (let i = 0; i < 60; i++) {
        const t = 1000n + BigInt(g * Math.floor(i / g) + (g - 1 - (i % g)));
        void w.write('/imu/data', 'sensor_msgs/msg/Imu', t, makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 0 } } }));
      }
      await w.close();
      const file = join(dir, `back_${g}_0.mcap`);
      expect((await readMcapSummary(file))?.chunksOrdered).toBe(ordered);
      const key = (m: BagMessage): string => `${m.logTimeNs}/${(m.decode() as { header: { stamp: { sec: number } } }).header.stamp.sec}`;
      const fast = await openBag(file);
      const got = [...fast.messagesSync()].map(key);
      const want = [...(await openBag(file, { verify: true })).messagesSync()].map(key);
      expect(got).toEqual(want);
      expect(got.map((k) => BigInt(k.split('/')[0]))).toEqual(Array.from({ length: 60 }, (_, i) => 1000n + BigInt(i)));
      expect(fast.problems()).toEqual([]);
      // For info only: the same info, and no messages.
      const info = await openBag(file, { messages: false });
      expect(info.info()).toEqual(fast.info());
      expect(() => [...info.messagesSync()]).toThrow(/opened for its info only/);
    }
  });

  it('refuses to write into a non-empty directory', async () => {
    const d = join(tmp, 'busy');
    mkdirSync(d);
    writeFileSync(join(d, 'x'), '');
    await expect(createBagWriter(d)).rejects.toThrow(/not empty/);
  });
});

describe('damaged bags', () => {
  it('a truncated MCAP replays every complete message before the cut and says where data was lost', async () => {
    const dir = join(tmp, 'cut_src');
    await writeImuBag(dir, 400, { compression: 'zstd', chunkSize: 4096 });
    const src = join(dir, 'cut_src_0.mcap');
    const full = readFileSync(src);
    const all = [...(await openBag(src)).messagesSync()].map((m) => `${m.topic}${m.logTimeNs}`);
    let last = -1;
    for (const frac of [0.1, 0.35, 0.5, 0.77, 0.93, 0.999]) {
      const cutAt = Math.floor(full.length * frac);
      const d = join(tmp, `cut_${frac}`);
      mkdirSync(d);
      writeFileSync(join(d, 'cut.mcap'), full.subarray(0, cutAt));
      const bag = await openBag(join(d, 'cut.mcap'));
      const got = [...bag.messagesSync()].map((m) => `${m.topic}${m.logTimeNs}`);
      // A prefix of the complete bag: nothing invented, nothing reordered.
      expect(got).toEqual(all.slice(0, got.length));
      expect(got.length).toBeGreaterThanOrEqual(last);
      last = got.length;
      const p = bag.problems();
      expect(p).toHaveLength(1);
      expect(p[0].kind).toBe('truncated');
      expect(p[0].offset).toBeLessThanOrEqual(cutAt);
      expect(p[0].message).toMatch(/truncated at byte \d+|without the MCAP footer/);
    }
    expect(last).toBeGreaterThan(300);
  });

  it('a truncated db3 yields the messages before the damage and reports the loss', async () => {
    const src = join(tmp, 'db3_src');
    await writeImuBag(join(tmp, 'db3_mcap'), 2000);
    await convertBag(join(tmp, 'db3_mcap'), src, { storage: 'sqlite3' });
    const file = join(src, 'db3_src_0.db3');
    const full = readFileSync(file);
    const all = [...(await openBag(file)).messagesSync()].map((m) => `${m.topic}${m.logTimeNs}`);
    for (const frac of [0.05, 0.2, 0.3, 0.6, 0.9]) {
      const d = join(tmp, `dbcut_${frac}`);
      mkdirSync(d);
      const cut = join(d, 'cut.db3');
      writeFileSync(cut, full.subarray(0, Math.floor(full.length * frac)));
      const bag = await openBag(cut);
      const got = [...bag.messagesSync()].map((m) => `${m.topic}${m.logTimeNs}`);
      // Rows are stored in time order, so what survives is a prefix of the bag.
      expect(got).toEqual(all.slice(0, got.length));
      expect(got.length).toBeLessThan(all.length);
      expect(got.length).toBeGreaterThan(all.length * (frac - 0.25));
      if (frac >= 0.2) expect(got.length).toBeGreaterThan(0);
      expect(bag.problems().length).toBeGreaterThan(0);
      expect(bag.problems()[0].message).toMatch(/file is truncated: \d+ bytes, the header says \d+ pages/);
      expect(bag.problems()[0].file).toBe(cut);
      expect(readdirSync(d)).toEqual(['cut.db3']);
    }
  });

  it('a corrupted chunk is reported with its offset; messages before it are kept', async () => {
    const dir = join(tmp, 'crc_src');
    await writeImuBag(dir, 200, { compression: 'none', chunkSize: 4096 });
    const bytes = new Uint8Array(readFileSync(join(dir, 'crc_src_0.mcap')));
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] ^= 0xff;
    const d = join(tmp, 'crc');
    mkdirSync(d);
    writeFileSync(join(d, 'x.mcap'), bytes);
    // verify: every chunk is read at open, so info() counts only what can be read.
    const bag = await openBag(join(d, 'x.mcap'), { verify: true });
    expect(bag.info().messageCount).toBeGreaterThan(0);
    expect(bag.info().messageCount).toBeLessThan(220);
    expect(bag.problems()[0]).toMatchObject({ kind: 'corrupt' });
    expect(bag.problems()[0].message).toMatch(/corrupt data at byte \d+/);
    // By default the file opens from its (intact) summary; the damage is reported as the messages are read.
    const fast = await openBag(join(d, 'x.mcap'));
    expect(fast.info().messageCount).toBe(220);
    expect(fast.problems()).toEqual([]);
    const read = [...fast.messagesSync()].length;
    expect(read).toBe(bag.info().messageCount);
    expect(fast.problems()).toEqual(bag.problems());
    // A second read reports nothing twice.
    expect([...fast.messagesSync()].length).toBe(read);
    expect(fast.problems()).toEqual(bag.problems());
  });
});

describe('convert', () => {
  it('mcap → db3 → mcap keeps every message, time and definition', async () => {
    const a = join(tmp, 'rt_lz4');
    const b = join(tmp, 'conv_db3');
    const c = join(tmp, 'conv_mcap');
    await convertBag(a, b, { storage: 'sqlite3' });
    await convertBag(b, c, { storage: 'mcap' });
    const key = (m: { topic: string; logTimeNs: bigint; data: Uint8Array }): string => `${m.topic}|${m.logTimeNs}|${Buffer.from(m.data).toString('hex')}`;
    const A = [...(await openBag(a)).messagesSync()].map(key);
    const B = await openBag(b);
    const C = await openBag(c);
    expect([...B.messagesSync()].map(key)).toEqual(A);
    expect([...C.messagesSync()].map(key)).toEqual(A);
    expect(B.info().storage).toBe('sqlite3');
    expect(() => [...C.messagesSync()].forEach((m) => m.decode())).not.toThrow();
    expect(statSync(join(b, 'metadata.yaml')).isFile()).toBe(true);
  });

  const SVC = 'rosbag2/rosbag2_tests/resources/sqlite3/bag_with_topics_and_service_events';
  itFixtures('copies bags whose types Kestrel does not know (definitions from the bag)', SVC, async () => {
    const src = fixture(SVC);
    const dst = join(tmp, 'svc');
    await convertBag(src, dst, { storage: 'mcap' });
    const bag = await openBag(dst);
    expect(bag.info().messageCount).toBe(10);
    for (const m of bag.messagesSync()) expect(() => m.decode()).not.toThrow();
  });
});

describe('finalization on signals', () => {
  it('SIGTERM during a recording closes the bag: footer, index and metadata.yaml are written', async () => {
    const dir = join(tmp, 'sig');
    const script = join(tmp, 'record-until-signal.mts');
    const lib = join(import.meta.dirname, 'writer.js');
    const m = join(import.meta.dirname, '../../msgs/index.js');
    writeFileSync(
      script,
      `import { createBagWriter } from ${JSON.stringify(lib)};
import { makeMsg } from ${JSON.stringify(m)};
const w = await createBagWriter(${JSON.stringify(dir)}, { chunkSize: 1024 });
let i = 0;
setInterval(() => {
  for (let k = 0; k < 20; k++, i++) void w.write('/imu/data', 'sensor_msgs/msg/Imu', 1000n + BigInt(i), makeMsg('sensor_msgs/msg/Imu', {}));
  if (i === 100) console.log('ready');
}, 5);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await Promise.race([new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve())), exited]);
    child.kill('SIGTERM');
    const code = await exited;
    expect(code).toBe(143);
    const f = await readMcapFile(join(dir, 'sig_0.mcap'));
    expect(f.complete).toBe(true);
    const bag = await openBag(dir);
    expect(bag.problems()).toEqual([]);
    expect(bag.info().version).toBe(9);
    expect(bag.info().messageCount).toBeGreaterThanOrEqual(100);
    expect(bag.info().messageCount % 20).toBe(0);
  }, 30_000);
});
