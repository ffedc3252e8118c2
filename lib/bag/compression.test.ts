/**
 * lz4 and zstd outside MCAP chunks, on real bytes: frames from lz4js (the library the writer uses)
 * and from the lz4 / zstd command-line tools (the reference C libraries) when they are installed;
 * per-message and per-file compression in both storages, read back message for message; and the
 * LZ4 frame decoder on hostile frames (sizes bounded, errors precise).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, readdirSync, readSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zstd from '@foxglove/wasm-zstd';
import { compress as lz4js } from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMsg, msgs } from '../../msgs/index.js';
import { fixture, itFixtures } from '../../test/support/fixtures.js';
import { rng } from '../../test/support/fuzz.js';
import { unpackFile } from './compression.js';
import { lz4DecodeFrames, Lz4FormatError, Lz4FrameDecoder } from './lz4.js';
import { formatMetadata } from './metadata.js';
import { openBag } from './reader.js';
import { writeSqliteFile } from './sqlite-writer.js';
import { BagError } from './types.js';
import { createBagWriter, type ChunkCompression } from './writer.js';
import { ZstdStreamDecoder } from './zstd-stream.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bag-comp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A command-line tool of the reference library, or undefined (its tests then skip with a printed reason). */
function tool(name: string): string | undefined {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return name;
  } catch {
    console.warn(`[compression] '${name}' is not installed: the checks against its output are skipped`);
    return undefined;
  }
}
const LZ4 = tool('lz4');
const ZSTD = tool('zstd');

/** `lz4 <flags> file` → the frame bytes it writes (liblz4, the reference implementation). */
function lz4cli(data: Uint8Array, flags: string[]): Buffer {
  const f = join(tmp, `lz4in-${flags.join('')}`);
  writeFileSync(f, data);
  return execFileSync(LZ4 as string, [...flags, '-q', '-c', f], { maxBuffer: 1 << 28 });
}

/** Data with long and short repeats, incompressible stretches and runs: every LZ4 token shape. */
function sample(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const kind = r.int(0, 3);
    const len = Math.min(n - i, r.int(1, 3000));
    if (kind === 0) b.set(r.bytes(len), i);
    else if (kind === 1) b.fill(r.int(0, 255), i, i + len);
    else if (i > 70000) b.copyWithin(i, i - r.int(1, 65535), i - r.int(1, 65535) + len);
    else for (let k = 0; k < len; k++) b[i + k] = (i + k) % 251;
    i += len;
  }
  return b;
}

describe('LZ4 frames', () => {
  const data = sample(9 << 20, 1); // beyond two 4 MiB blocks

  it('decodes lz4js frames (linked 4 MiB blocks) whole and fed in pieces of any size', () => {
    const frame = lz4js(data);
    expect(Buffer.from(lz4DecodeFrames(frame, 1 << 30)).equals(Buffer.from(data))).toBe(true);
    const r = rng(2);
    const parts: Uint8Array[] = [];
    const d = new Lz4FrameDecoder(1 << 30, (b) => parts.push(b.slice()));
    for (let at = 0; at < frame.byteLength; ) {
      const n = r.chance(0.5) ? r.int(1, 9) : r.int(1, 300_000);
      d.push(frame.subarray(at, at + n));
      at += n;
    }
    d.end();
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
  });

  it.skipIf(!LZ4)('decodes what the lz4 tool writes: default, content size, block checksums, linked and 64 KiB blocks, concatenated frames', () => {
    const small = data.subarray(0, 700_000);
    for (const flags of [[], ['--content-size'], ['-BX'], ['-BD'], ['-B4'], ['-B4', '-BD', '-BX', '--content-size'], ['--no-frame-crc', '-B5'], ['-9']]) {
      const got = lz4DecodeFrames(lz4cli(small, flags), 1 << 30);
      expect(Buffer.from(got).equals(Buffer.from(small)), `lz4 ${flags.join(' ')}`).toBe(true);
    }
    const two = Buffer.concat([lz4cli(small.subarray(0, 1000), []), lz4cli(small.subarray(1000), ['-BD'])]);
    expect(Buffer.from(lz4DecodeFrames(two, 1 << 30)).equals(Buffer.from(small))).toBe(true);
  });

  it.skipIf(!LZ4)('what lz4js writes, the lz4 tool reads back (so bags Kestrel writes open elsewhere)', () => {
    const f = join(tmp, 'js.lz4');
    writeFileSync(f, lz4js(data.subarray(0, 5 << 20)));
    expect(execFileSync(LZ4 as string, ['-d', '-q', '-c', f], { maxBuffer: 1 << 28 }).equals(Buffer.from(data.subarray(0, 5 << 20)))).toBe(true);
  });

  it('hostile frames fail with a precise reason, before allocating what they declare', () => {
    const ok = lz4js(data.subarray(0, 100_000));
    const fail = (b: Uint8Array, max = 1 << 30): string => {
      try {
        lz4DecodeFrames(b, max);
      } catch (e) {
        expect(e).toBeInstanceOf(Lz4FormatError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fail(ok.subarray(0, ok.byteLength - 3))).toMatch(/input is cut: a frame is not finished/);
    expect(fail(ok, 50_000)).toMatch(/more than 50000 bytes once decompressed/);
    const badHc = new Uint8Array(ok);
    badHc[6] ^= 1;
    expect(fail(badHc)).toMatch(/descriptor checksum mismatch/);
    expect(fail(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toMatch(/not an LZ4 frame/);
    // A frame that declares 2^62 bytes of content: refused from its header.
    const header = (flg: number, bd: number, extra: number[]): number[] => {
      const h = new Uint8Array([0x04, 0x22, 0x4d, 0x18, flg, bd, ...extra, 0]);
      h[h.length - 1] = (xxh32(0, h, 4, h.length - 5) >>> 8) & 0xff; // the descriptor's checksum
      return [...h];
    };
    expect(fail(new Uint8Array([...header(0x48, 0x70, [0, 0, 0, 0, 0, 0, 0, 0x40]), 0, 0, 0, 0]))).toMatch(/frame declares 4611686018427387904 bytes, above the bound/);
    // Blocks whose tokens point outside the data or run past the block.
    const block = (payload: number[]): Uint8Array => new Uint8Array([...header(0x60, 0x40, []), payload.length, 0, 0, 0, ...payload, 0, 0, 0, 0]);
    expect(fail(block([0x14, 0x41, 0x05, 0x00]))).toMatch(/match offset 5 points before the start of the data/);
    expect(fail(block([0xf0, 0xff, 0xff, 0xff, 0x10]))).toMatch(/literal run of \d+ bytes runs past the block/);
    expect(fail(block([0x1f, 0x41, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]))).toMatch(/block ends inside a length/);
    expect(fail(new Uint8Array([...header(0x60, 0x40, []), 0xff, 0xff, 0x01, 0x00]))).toMatch(/a block of 131071 bytes exceeds the frame's maximum of 65536/);
  });
});

describe('streamed zstd (libzstd)', () => {
  beforeAll(() => zstd.isLoaded);

  it('decodes one frame or several, whole or in pieces, and says when the data is cut', () => {
    const data = sample(3 << 20, 3);
    const frames = Buffer.concat([zstd.compress(data.subarray(0, 1 << 20), 3), zstd.compress(data.subarray(1 << 20), 19)]);
    const parts: Uint8Array[] = [];
    const d = new ZstdStreamDecoder(1 << 30, (b) => parts.push(b.slice()));
    for (let at = 0; at < frames.byteLength; at += 77_777) d.push(frames.subarray(at, at + 77_777));
    d.end();
    d.close();
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
    const cut = new ZstdStreamDecoder(1 << 30, () => undefined);
    cut.push(frames.subarray(0, frames.byteLength - 10));
    expect(() => cut.end()).toThrow(/zstd data is cut/);
    cut.close();
    const bounded = new ZstdStreamDecoder(100_000, () => undefined);
    expect(() => bounded.push(frames)).toThrow(/more than 100000 bytes once decompressed/);
    bounded.close();
  });

  it.skipIf(!ZSTD)('decodes the streamed frame (no content size) that zstd writes from a pipe, as rosbag2 writes file compression', () => {
    const data = sample(2 << 20, 4);
    const z = execFileSync(ZSTD as string, ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 28 });
    expect(z[4] >> 6).toBe(0); // frame header without a content size
    const f = join(tmp, 'pipe.zst');
    writeFileSync(f, z);
    const u = unpackFile('zstd', f, 1 << 30);
    expect(u.size).toBe(data.byteLength);
    const back = Buffer.alloc(u.size);
    readSync(u.fd, back, 0, u.size, 0);
    closeSync(u.fd);
    expect(back.equals(Buffer.from(data))).toBe(true);
  });
});

const T0 = 1_700_000_000_123_456_789n;
type Row = [string, string, string];
const rowOf = (m: { topic: string; logTimeNs: bigint; data: Uint8Array }): Row => [m.topic, m.logTimeNs.toString(), Buffer.from(m.data).toString('hex')];

/** The messages of every variant: Imu at 100 Hz, and strings up to 150 kB (several lz4 blocks of 64 KiB). */
function messages(): { topic: string; type: string; timeNs: bigint; data: Uint8Array }[] {
  const out = [];
  for (let i = 0; i < 300; i++) {
    const timeNs = T0 + BigInt(i) * 10_000_000n;
    out.push({ topic: '/imu/data', type: 'sensor_msgs/msg/Imu', timeNs, data: msgs.encode('sensor_msgs/msg/Imu', makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 7 } }, linear_acceleration: { z: 9.81 + i } })) });
    if (i % 25 === 0) out.push({ topic: '/chatter', type: 'std_msgs/msg/String', timeNs, data: msgs.encode('std_msgs/msg/String', makeMsg('std_msgs/msg/String', { data: `${i}:`.repeat(1 + i * 150) })) });
  }
  return out;
}
const MESSAGES = messages();
const WANT: Row[] = MESSAGES.map((m) => [m.topic, m.timeNs.toString(), Buffer.from(m.data).toString('hex')]);

/** A bag of MESSAGES: MCAP through the writer, sqlite3 through the db3 writer; payloads through `payload`. */
async function writeBag(dir: string, storage: 'mcap' | 'sqlite3', payload: (b: Uint8Array) => Uint8Array, chunk: ChunkCompression = 'none'): Promise<string> {
  const name = `${dir.split('/').pop() ?? 'bag'}_0.${storage === 'mcap' ? 'mcap' : 'db3'}`;
  if (storage === 'mcap') {
    const w = await createBagWriter(dir, { compression: chunk, chunkSize: 4096 });
    w.addTopic('/imu/data', 'sensor_msgs/msg/Imu');
    w.addTopic('/chatter', 'std_msgs/msg/String');
    for (const m of MESSAGES) void w.write(m.topic, m.type, m.timeNs, payload(m.data));
    await w.close();
    return join(dir, name);
  }
  mkdirSync(dir, { recursive: true });
  const topics = ['sensor_msgs/msg/Imu', 'std_msgs/msg/String'].map((type, i) => ({ name: ['/imu/data', '/chatter'][i], type, serializationFormat: 'cdr', offeredQosProfiles: '', typeDescriptionHash: '', definition: msgs.schemaText(type) }));
  await writeSqliteFile(join(dir, name), topics, MESSAGES.map((m) => ({ topic: m.topic, logTimeNs: m.timeNs, data: payload(m.data) })));
  return join(dir, name);
}

/** metadata.yaml for a bag of MESSAGES with the given rosbag2 compression. */
function writeMetadata(dir: string, storage: 'mcap' | 'sqlite3', file: string, format: string, mode: string): void {
  const endNs = MESSAGES[MESSAGES.length - 1].timeNs;
  const count = (t: string): number => MESSAGES.filter((m) => m.topic === t).length;
  writeFileSync(
    join(dir, 'metadata.yaml'),
    formatMetadata({
      storage,
      files: [{ path: file, startNs: T0, durationNs: endNs - T0, messageCount: MESSAGES.length }],
      topics: [
        { name: '/imu/data', type: 'sensor_msgs/msg/Imu', serializationFormat: 'cdr', offeredQosProfiles: '', messageCount: count('/imu/data') },
        { name: '/chatter', type: 'std_msgs/msg/String', serializationFormat: 'cdr', offeredQosProfiles: '', messageCount: count('/chatter') },
      ],
      startNs: T0,
      durationNs: endNs - T0,
      messageCount: MESSAGES.length,
      compressionFormat: format,
      compressionMode: mode,
    }),
  );
}

async function expectBag(dir: string, mode: string): Promise<void> {
  const bag = await openBag(dir);
  expect(bag.problems()).toEqual([]);
  expect(bag.info().compressionMode).toBe(mode);
  const got = [...bag.messagesSync()];
  expect(got.map(rowOf)).toEqual(WANT);
  expect((got[7].decode() as { linear_acceleration: { z: number } }).linear_acceleration.z).toBeCloseTo(9.81 + 6);
  bag.close();
}

/** Every payload through `lz4 -m` at once (one process, a file per payload), looked up by content. */
function lz4CliPayloads(): (b: Uint8Array) => Uint8Array {
  const dir = join(tmp, 'payloads');
  mkdirSync(dir, { recursive: true });
  const files = MESSAGES.map((m, i) => {
    const f = join(dir, `p${i}`);
    writeFileSync(f, m.data);
    return f;
  });
  execFileSync(LZ4 as string, ['-m', '-q', '-f', '-BD', '-B4', ...files]);
  const packed = new Map(MESSAGES.map((m, i) => [Buffer.from(m.data).toString('hex'), readFileSync(`${files[i]}.lz4`)]));
  return (b) => packed.get(Buffer.from(b).toString('hex')) as Uint8Array;
}
const PER_MESSAGE: [string, () => (b: Uint8Array) => Uint8Array, boolean][] = [
  ['lz4js', () => (b) => lz4js(b), true],
  ['the lz4 tool', lz4CliPayloads, LZ4 !== undefined],
];

describe('lz4 bags, both storages', () => {
  it.each(['lz4', 'zstd'] as const)('MCAP %s chunks from our writer read back exactly', async (chunk) => {
    const dir = join(tmp, `chunk_${chunk}`);
    await writeBag(dir, 'mcap', (b) => b, chunk);
    const bag = await openBag(dir);
    expect(bag.info().files[0].chunkCompression).toEqual([chunk]);
    expect([...bag.messagesSync()].map(rowOf)).toEqual(WANT);
  });

  for (const storage of ['mcap', 'sqlite3'] as const) {
    for (const [who, codec, available] of PER_MESSAGE) {
      it.skipIf(!available)(`per-message lz4 (${storage}, frames from ${who}): every payload decompresses to the original`, async () => {
        const dir = join(tmp, `msg_${storage}_${who.replace(/\W/g, '')}`);
        const file = await writeBag(dir, storage, codec());
        writeMetadata(dir, storage, file.split('/').pop() as string, 'lz4', 'message');
        await expectBag(dir, 'message');
      });
    }

    for (const [format, who, pack, available] of [
      ['lz4', 'lz4js', (f: string) => writeFileSync(`${f}.lz4`, lz4js(readFileSync(f))), true],
      ['lz4', 'the lz4 tool', (f: string) => writeFileSync(`${f}.lz4`, lz4cli(readFileSync(f), ['-B4'])), LZ4 !== undefined],
      ['zstd', 'wasm-zstd', (f: string) => writeFileSync(`${f}.zstd`, zstd.compress(readFileSync(f), 3)), true],
      ['zstd', 'the zstd tool from a pipe', (f: string) => writeFileSync(`${f}.zstd`, execFileSync(ZSTD as string, ['-q', '-c'], { input: readFileSync(f), maxBuffer: 1 << 28 })), ZSTD !== undefined],
    ] as const) {
      it.skipIf(!available)(`per-file ${format} (${storage}, from ${who}): streamed, every message read back`, async () => {
        await zstd.isLoaded;
        const dir = join(tmp, `file_${storage}_${format}_${who.replace(/\W/g, '')}`);
        const file = await writeBag(dir, storage, (b) => b);
        pack(file);
        rmSync(file);
        writeMetadata(dir, storage, `${file.split('/').pop() as string}.${format}`, format, 'file');
        await expectBag(dir, 'file');
      });
    }
  }

  it('a cut or corrupt whole-file lz4 gives a BagError naming the file; no temporary file is left behind', async () => {
    const dir = join(tmp, 'file_bad');
    const file = await writeBag(dir, 'sqlite3', (b) => b);
    const packed = lz4js(readFileSync(file));
    rmSync(file);
    const name = `${file.split('/').pop() as string}.lz4`;
    writeMetadata(dir, 'sqlite3', name, 'lz4', 'file');
    for (const bytes of [packed.subarray(0, packed.byteLength >> 1), Buffer.concat([packed.subarray(0, 20), Buffer.alloc(64, 0xff), packed.subarray(84)])]) {
      writeFileSync(join(dir, name), bytes);
      const err = await openBag(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BagError);
      expect((err as Error).message).toMatch(new RegExp(`${name}: whole-file lz4 compression: `));
    }
    // The temporary copy is unlinked as soon as it is created: nothing to clean up, even after SIGKILL.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('kestrel-unpacked-'))).toEqual([]);
  });

  itFixtures('the rosbags file-compressed db3 (one zstd frame without a content size) streams and reads every message', 'peers/rosbags/rb_sqlite3_v9_filezstd', async () => {
    const bag = await openBag(fixture('peers/rosbags/rb_sqlite3_v9_filezstd'));
    const want = readFileSync(fixture('peers/rosbags/rb_sqlite3_v9_filezstd.expected.jsonl'), 'utf8').trim().split('\n').length;
    let n = 0;
    for (const m of bag.messagesSync()) {
      m.decode();
      n++;
    }
    expect(n).toBe(want);
    expect(bag.problems()).toEqual([]);
    bag.close();
    expect(() => [...bag.messagesSync()]).toThrow(/the bag was closed/);
  });
});
