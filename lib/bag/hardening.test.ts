/**
 * Hostile and damaged bag files: sizes in headers are bounded by the file, errors name the
 * file, a cut db3 keeps the rows before the cut, a corrupt MCAP chunk is skipped with what it
 * lost reported; and seeded fuzzing of both readers (a few seconds each).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { mutate, rng } from '../../test/support/bag-mutations.js';
import { convertBag } from './convert.js';
import { openBag } from './reader.js';
import { writeSqliteFile } from './sqlite-writer.js';
import { BagError } from './types.js';
import { createBagWriter } from './writer.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bag-hard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const T0 = 1_700_000_000_000_000_000n;
let mcap: Uint8Array;
let db3: Uint8Array;
let all: string[];
const key = (m: { topic: string; logTimeNs: bigint; data: Uint8Array }): string => `${m.topic}|${m.logTimeNs}|${Buffer.from(m.data).toString('hex')}`;

beforeAll(async () => {
  const w = await createBagWriter(join(tmp, 'src'), { compression: 'none', chunkSize: 2048 });
  for (let i = 0; i < 300; i++) {
    const t = T0 + BigInt(i) * 10_000_000n;
    void w.write('/imu/data', 'sensor_msgs/msg/Imu', t, makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 1 } } }));
    if (i % 3 === 0) void w.write('/chatter', 'std_msgs/msg/String', t, makeMsg('std_msgs/msg/String', { data: `hello ${i} ${'x'.repeat(i * 20)}` }));
  }
  await w.close();
  mcap = readFileSync(join(tmp, 'src', 'src_0.mcap'));
  await convertBag(join(tmp, 'src'), join(tmp, 'db'), { storage: 'sqlite3' });
  db3 = readFileSync(join(tmp, 'db', 'db_0.db3'));
  all = [...(await openBag(join(tmp, 'src'))).messagesSync()].map(key);
  expect(all.length).toBe(400);
});

let n = 0;
function file(bytes: Uint8Array, ext: string): string {
  const d = join(tmp, `case${n++}`);
  mkdirSync(d);
  const f = join(d, `bag.${ext}`);
  writeFileSync(f, bytes);
  return f;
}

describe('db3 hostile input', () => {
  it('a page count edited in the header allocates nothing and loses nothing, and says the header is damaged', async () => {
    for (const count of [65536, 0x7fffffff, 0xffffffff]) {
      const b = new Uint8Array(db3);
      new DataView(b.buffer).setUint32(28, count);
      const bag = await openBag(file(b, 'db3'));
      expect([...bag.messagesSync()].map(key)).toEqual(all);
      expect(bag.problems()).toEqual([expect.objectContaining({ kind: 'corrupt', message: expect.stringMatching(/header says \d+ pages, the file has \d+; every page the tables use is present/) })]);
    }
  });

  it('a db3 cut at 5%, 20%, 50% returns the rows stored before the cut, and the loss is reported with the file', async () => {
    for (const frac of [0.05, 0.2, 0.5]) {
      const f = file(db3.subarray(0, Math.floor(db3.length * frac)), 'db3');
      const bag = await openBag(f);
      const got = [...bag.messagesSync()].map(key);
      expect(got).toEqual(all.slice(0, got.length));
      if (frac >= 0.2) expect(got.length).toBeGreaterThan(all.length * (frac - 0.2));
      expect(bag.problems()[0]).toMatchObject({ kind: 'truncated', file: f });
    }
  });

  it('a row whose timestamp was damaged (found by the bag-db3 fuzz target) is dropped and reported, so that rows stay in time order', async () => {
    // The row's stamp no longer matches timestamp_idx, which still orders it where it was.
    const t = T0 + 150n * 10_000_000n;
    const be = Buffer.alloc(8);
    be.writeBigInt64BE(t);
    const b = Buffer.from(db3);
    const at = b.indexOf(be);
    expect(at).toBeGreaterThan(0);
    b[at] ^= 0x40;
    const f = file(b, 'db3');
    // Opened once (convert), the table is not scanned: each row is checked against its index entry as it streams.
    for (const once of [false, true]) {
      const bag = await openBag(f, { once });
      const got = [...bag.messagesSync()];
      for (let i = 1; i < got.length; i++) expect(got[i].logTimeNs >= got[i - 1].logTimeNs).toBe(true);
      expect(got.length).toBe(all.length - 1);
      expect(bag.problems()).toEqual([expect.objectContaining({ kind: 'corrupt', file: f, message: expect.stringMatching(/^1 row\(s\) whose timestamp disagrees with timestamp_idx .*dropped, to keep time order/) })]);
      // A second read reports nothing twice.
      expect([...bag.messagesSync()].length).toBe(all.length - 1);
      expect(bag.problems().length).toBe(1);
    }
  });

  it('a topic row renamed to an invalid name, or to one metadata.yaml does not list, has its rows dropped and counted (found by the bag-db3 fuzz target)', async () => {
    // Same length, so that the row still decodes: an invalid name in a lone db3, a valid but unlisted one beside metadata.yaml.
    for (const [to, why] of [['/ch.tter', /name "\/ch\.tter" is not a valid ROS 2 topic name/], ['/cjatter', /name "\/cjatter" is not among metadata.yaml's topics/]] as const) {
      const b = Buffer.from(db3);
      const at = b.indexOf(Buffer.from('/chatter'));
      expect(at).toBeGreaterThan(0);
      b.write(to, at, 'latin1');
      const d = join(tmp, `case${n++}`);
      mkdirSync(d);
      writeFileSync(join(d, 'db_0.db3'), b);
      if (to === '/cjatter') writeFileSync(join(d, 'metadata.yaml'), readFileSync(join(tmp, 'db', 'metadata.yaml')));
      // Opened once (convert), the rows are counted as they stream, not at open.
      for (const once of [false, true]) {
        const bag = await openBag(to === '/cjatter' ? d : join(d, 'db_0.db3'), { once });
        const got = [...bag.messagesSync()];
        expect(got.length).toBe(300);
        expect(got.every((m) => m.topic === '/imu/data')).toBe(true);
        expect(bag.problems()).toContainEqual(expect.objectContaining({ kind: 'corrupt', message: expect.stringMatching(new RegExp(`^100 message\\(s\\) on topic row \\d+, whose ${why.source}: dropped`)) }));
      }
    }
  });

  it('opened once, a db3 whose row order is not time order streams in time order, as a full open does (rows looked up by id from the first entry that goes back)', async () => {
    const d = join(tmp, `case${n++}`);
    mkdirSync(d);
    const f = join(d, 'unsorted.db3');
    // Rows 1-50 in order, then times that jump back and forth: row id order stops being time order at row 51.
    const times = Array.from({ length: 200 }, (_, i) => (i < 50 ? i : 50 + ((i * 37) % 150)));
    const topic = { name: '/t', type: 'std_msgs/msg/String', serializationFormat: 'cdr', offeredQosProfiles: '', typeDescriptionHash: '', definition: 'string data' };
    await writeSqliteFile(f, [topic], times.map((t, i) => ({ topic: '/t', logTimeNs: T0 + BigInt(t), data: new Uint8Array([i, i >> 8]) })));
    const full = [...(await openBag(f)).messagesSync()].map(key);
    const bag = await openBag(f, { once: true });
    expect(bag.info().messageCount).toBe(200);
    // Opened from the index (no per-topic counts at open): the path under test.
    expect(bag.info().topics[0].messageCount).toBe(0);
    const once = [...bag.messagesSync()].map(key);
    expect(once).toEqual(full);
    expect(once.length).toBe(200);
    expect(bag.problems()).toEqual([]);
  });

  it('a damaged or foreign file gives an error that names it', async () => {
    const zeroed = new Uint8Array(db3);
    zeroed.fill(0, 0, 100);
    for (const bytes of [zeroed, new TextEncoder().encode('not a database'), db3.subarray(0, 50)]) {
      const f = file(bytes, 'db3');
      const err = await openBag(f).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BagError);
      expect((err as Error).message).toContain(f);
    }
  });
});

describe('MCAP hostile input', () => {
  /** Byte offsets of the top-level Chunk records (opcode 0x06), walking the record lengths. */
  function chunks(b: Uint8Array): number[] {
    const v = new DataView(b.buffer, b.byteOffset);
    const out: number[] = [];
    for (let at = 8; at + 9 <= b.length; ) {
      if (b[at] === 0x06) out.push(at);
      if (b[at] === 0x02) break;
      at += 9 + Number(v.getBigUint64(at + 1, true));
    }
    return out;
  }

  it('a file that is not MCAP (another format named .mcap, an empty file) is refused naming it, not read as 0 messages', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('# a README saved as .mcap'), /not an MCAP file: it starts with 23 20 61 20 52 45 41 44, not the MCAP magic 89 4d 43 41 50 30 0d 0a/],
      [new Uint8Array(0), /empty file \(0 bytes\): not an MCAP file/],
    ];
    for (const [bytes, why] of cases) {
      const f = file(bytes, 'mcap');
      const err = await openBag(f)
        .then((bag) => [...bag.messagesSync()])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BagError);
      expect((err as Error).message).toContain(f);
      expect((err as Error).message).toMatch(why);
    }
    // Cut inside its magic: still a truncated MCAP, with what was lost reported.
    const bag = await openBag(file(mcap.subarray(0, 4), 'mcap'));
    expect([...bag.messagesSync()]).toEqual([]);
    expect(bag.problems()[0]).toMatchObject({ kind: 'truncated' });
  });

  it('one corrupt byte inside a chunk loses only that chunk; reading goes on and the loss is counted', async () => {
    const at = chunks(mcap);
    expect(at.length).toBeGreaterThan(10);
    const b = new Uint8Array(mcap);
    b[at[3] + 200] ^= 0xff;
    const bag = await openBag(file(b, 'mcap'));
    const got = [...bag.messagesSync()].map(key);
    const lost = all.length - got.length;
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThan(40);
    expect(got.every((k) => all.includes(k))).toBe(true);
    const p = bag.problems().find((x) => x.kind === 'corrupt');
    expect(p?.message).toMatch(new RegExp(`corrupt data at byte ${at[3]} .*skipped to byte \\d+; ${lost} message\\(s\\) in it are lost`));
  });

  it('a flipped chunk opcode is reported with the messages lost, not skipped silently', async () => {
    const at = chunks(mcap);
    const b = new Uint8Array(mcap);
    b[at[5]] = 0x46;
    const bag = await openBag(file(b, 'mcap'));
    const got = [...bag.messagesSync()].map(key);
    const lost = all.length - got.length;
    expect(lost).toBeGreaterThan(0);
    expect(bag.problems().map((p) => p.message).join('\n')).toMatch(new RegExp(`unknown opcode 0x46 .* at byte ${at[5]} skipped .*; ${lost} message\\(s\\) in it are lost`));
  });

  it('a MessageIndex whose opcode became Message is dropped and reported, not read as a message (found by the bag-mcap fuzz target)', async () => {
    const v = new DataView(mcap.buffer, mcap.byteOffset);
    const at = chunks(mcap)[4];
    const index = at + 9 + Number(v.getBigUint64(at + 1, true));
    expect(mcap[index]).toBe(0x07);
    const b = new Uint8Array(mcap);
    b[index] = 0x05;
    const bag = await openBag(file(b, 'mcap'));
    expect([...bag.messagesSync()].map(key)).toEqual(all);
    expect(bag.problems()).toEqual([expect.objectContaining({ kind: 'corrupt', offset: index, message: expect.stringMatching(/^Message record of \d+ bytes at byte \d+ lies outside the file's chunks .*: dropped$/) })]);
  });

  it('a chunk whose declared uncompressed size is huge is skipped without allocating it', async () => {
    const w = await createBagWriter(join(tmp, 'zsrc'), { compression: 'zstd', chunkSize: 2048 });
    for (let i = 0; i < 50; i++) void w.write('/imu/data', 'sensor_msgs/msg/Imu', T0 + BigInt(i) * 10_000_000n, makeMsg('sensor_msgs/msg/Imu', { header: { frame_id: 'imu', stamp: { sec: i, nanosec: 1 } } }));
    await w.close();
    const z = readFileSync(join(tmp, 'zsrc', 'zsrc_0.mcap'));
    const at = chunks(z)[1];
    const b = new Uint8Array(z);
    new DataView(b.buffer).setBigUint64(at + 9 + 16, 1n << 50n, true);
    const bag = await openBag(file(b, 'mcap'));
    const got = [...bag.messagesSync()];
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(50);
    expect(bag.problems().map((p) => p.message).join('\n')).toMatch(/zstd chunk declares 1125899906842624 bytes uncompressed, above the bound/);
  });

  it('a chunk length far beyond the file is not waited for: the next chunk is found', async () => {
    const at = chunks(mcap);
    const b = new Uint8Array(mcap);
    new DataView(b.buffer).setBigUint64(at[2] + 1, 1n << 40n, true);
    const bag = await openBag(file(b, 'mcap'));
    const got = [...bag.messagesSync()].map(key);
    expect(got.length).toBeGreaterThan(all.length - 40);
    expect(bag.problems()[0].message).toMatch(/longer than the file\), skipped to byte \d+/);
  });
});

/** Opens and reads a mutated bag; anything thrown must be a BagError naming the file. */
async function probe(bytes: Uint8Array, ext: string, once = false): Promise<{ keys: string[]; times: bigint[]; problems: number; error?: string }> {
  const f = file(bytes, ext);
  try {
    const bag = await openBag(f, { once });
    const keys: string[] = [];
    const times: bigint[] = [];
    for (const m of bag.messagesSync()) {
      keys.push(key(m));
      times.push(m.logTimeNs);
      try {
        m.decode();
      } catch {
        // a clear decode error, counted by replay
      }
    }
    bag.info();
    return { keys, times, problems: bag.problems().length };
  } catch (e) {
    if (!(e instanceof BagError) || !e.message.includes(f)) throw new Error(`${ext} case ${f}: unexpected ${(e as Error).stack}`, { cause: e });
    return { keys: [], times: [], problems: 0, error: e.message };
  } finally {
    rmSync(join(f, '..'), { recursive: true, force: true });
  }
}

describe('metadata.yaml hostile input (found by npm run fuzz: bag-metadata)', () => {
  const bagWith = (yaml: string): string => {
    const d = join(tmp, `meta${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'bag_0.mcap'), mcap);
    writeFileSync(join(d, 'metadata.yaml'), yaml);
    return d;
  };
  const head = 'rosbag2_bagfile_information:\n  version: 9\n  storage_identifier: mcap\n';

  it('a wrong shape holding a big integer, an alias before its anchor, a null files entry: a BagError naming metadata.yaml', async () => {
    for (const [yaml, re] of [
      ['rosbag2_bagfile_information: 18446744073709551616\n', /rosbag2_bagfile_information: expected a mapping, got "18446744073709551616"/],
      [`${head}  relative_file_paths: [*a]\n  x: &a 1\n`, /invalid YAML: Unresolved alias/],
      [`${head}  relative_file_paths: [bag_0.mcap]\n  files: [~]\n`, /files\[0\]: expected a mapping, got null/],
    ] as const) {
      const d = bagWith(yaml);
      const e = await openBag(d).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(BagError);
      expect((e as Error).message).toContain(join(d, 'metadata.yaml'));
      expect((e as Error).message).toMatch(re);
    }
  });

  it('a listed path outside the bag folder, or a folder, is reported and not read; the real file still is', async () => {
    const d = bagWith(`${head}  relative_file_paths: [../outside.mcap, '.', bag_0.mcap]\n`);
    mkdirSync(join(d, 'sub'));
    const bag = await openBag(d);
    try {
      expect([...bag.messagesSync()].length).toBe(400);
      const problems = bag.problems().map((p) => `${p.file}: ${p.message}`);
      expect(problems.some((p) => p.startsWith(join(d, 'metadata.yaml')) && /'\.\.\/outside\.mcap', which is not a file inside the bag folder/.test(p))).toBe(true);
      expect(problems.some((p) => /'\.', which is not a file inside the bag folder/.test(p))).toBe(true);
      for (const p of bag.problems()) expect(p.file.startsWith(d)).toBe(true);
    } finally {
      bag.close();
    }
  });
});

describe('fuzz (seeded)', () => {
  it('MCAP: 100 mutations never crash, and every message returned is one of the bag (CRCs guard the rest)', async () => {
    const r = rng(20);
    let errors = 0;
    for (let i = 0; i < 100; i++) {
      const { bytes, what } = mutate(mcap, r, 8);
      const res = await probe(bytes, 'mcap');
      if (res.error) errors++;
      const wrong = res.keys.filter((k) => !all.includes(k));
      expect(wrong, `case ${i}: ${what}`).toEqual([]);
    }
    expect(errors).toBeLessThan(100);
  });

  it('db3: 100 mutations never crash or hang; errors are BagErrors naming the file', async () => {
    const r = rng(19);
    let read = 0;
    for (let i = 0; i < 100; i++) {
      const { bytes } = mutate(db3, r, 100);
      const res = await probe(bytes, 'db3');
      read += res.keys.length;
      // sqlite has no checksums: a flipped payload byte is not detectable, so only counts are checked.
      expect(res.keys.length).toBeLessThanOrEqual(all.length + 1);
    }
    expect(read).toBeGreaterThan(100 * 100);
  });

  it('db3 opened once (convert: no scan at open, rows checked against timestamp_idx as they stream): the same mutations never crash; rows in time order; fewer rows than a full open only with a problem reported', async () => {
    const r = rng(19);
    let fewer = 0;
    for (let i = 0; i < 100; i++) {
      const { bytes, what } = mutate(db3, r, 100);
      const full = await probe(bytes, 'db3');
      const once = await probe(bytes, 'db3', true);
      expect(once.keys.length, `case ${i}: ${what}`).toBeLessThanOrEqual(all.length + 1);
      for (let k = 1; k < once.times.length; k++) expect(once.times[k] >= once.times[k - 1], `case ${i}: ${what}`).toBe(true);
      if (once.keys.length < full.keys.length) {
        fewer++;
        expect(once.problems, `case ${i}: ${what}`).toBeGreaterThan(0);
      }
      if (full.keys.length === all.length && full.problems === 0) expect(once.keys, `case ${i}: ${what}`).toEqual(full.keys);
    }
    expect(fewer).toBeLessThan(50);
  });
});
