/**
 * Bags written by rosbags 0.11 (the pure-Python rosbag2 library), with every message as rosbags
 * decoded it: info, read, play (virtual), the eval replay, convert both ways, and bags written
 * back by Kestrel must all give exactly those messages, QoS and type hashes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../cli/command.js';
import { bagCommand } from '../cli/commands/bag.js';
import { BAG_INPUT_TOPICS } from '../app/eval/bag-run.js';
import { convertBag } from '../lib/bag/convert.js';
import { qosProfiles } from '../lib/bag/metadata.js';
import { openBag, type Bag } from '../lib/bag/reader.js';
import { bagStartMs, replay } from '../lib/bag/replay.js';
import { createBagWriter } from '../lib/bag/writer.js';
import { Bus } from '../runtime/bus.js';
import { SimClock } from '../runtime/clock.js';

const DIR = join(import.meta.dirname, '../../shared/fixtures/peers/rosbags');
const present = existsSync(DIR);
if (!present) console.warn(`skipping rosbags peer tests: ${DIR} is absent`);
const BAGS = ['rb_mcap_v8', 'rb_mcap_v9', 'rb_mcap_v9_msgzstd', 'rb_sqlite3_v8', 'rb_sqlite3_v9', 'rb_sqlite3_v9_filezstd'];
const tmp = mkdtempSync(join(tmpdir(), 'kestrel-rosbags-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Expected {
  topic: string;
  t: string;
  msg: unknown;
}

/** rosbags' JSON writes Python floats: NaN and ±Infinity appear bare; they become strings here. */
function loadExpected(bag: string): Expected[] {
  return readFileSync(join(DIR, `${bag}.expected.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l.replace(/(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '"$1"')) as Expected);
}

/** Decoded message → the same plain JSON form (typed arrays as lists, non-finite floats as strings). */
function plain(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array, plain);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function readAll(bag: Bag): Expected[] {
  return [...bag.messagesSync()].map((m) => ({ topic: m.topic, t: m.logTimeNs.toString(), msg: plain(m.decode()) }));
}

const HASHES: Record<string, string> = {
  '/imu/data': 'RIHS01_7d9a00ff131080897a5ec7e26e315954b8eae3353c3f995c55faf71574000b5b',
  '/gps/fix': 'RIHS01_62223ab3fe210a15976021da7afddc9e200dc9ec75231c1b6a557fc598a65404',
  '/camera/image_raw': 'RIHS01_d31d41a9a4c4bc8eae9be757b0beed306564f7526c88ea6a4588fb9582527d47',
  '/chatter': 'RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18',
  '/cmd_vel': 'RIHS01_9c45bf16fe0983d80e3cfe750d6835843d265a9a6c46bd2e609fcddde6fb8d2a',
};

function expectSameTopics(bag: Bag): void {
  const topics = bag.info().topics;
  expect(topics.map((t) => t.name).sort()).toEqual(Object.keys(HASHES).sort());
  for (const t of topics) {
    expect(t.typeDescriptionHash, t.name).toBe(HASHES[t.name]);
    expect(qosProfiles(t.offeredQosProfiles), t.name).toEqual([
      expect.objectContaining({ history: 'keep_last', depth: 10, reliability: 'best_effort', durability: 'volatile', liveliness: 'automatic' }),
    ]);
  }
}

describe.skipIf(!present).each(BAGS)('rosbags bag %s', (name) => {
  const path = join(DIR, name);
  const expected = present ? loadExpected(name) : [];
  const storage = name.includes('mcap') ? 'mcap' : 'sqlite3';
  const other = storage === 'mcap' ? 'sqlite3' : 'mcap';

  it('reads every message as rosbags decoded it, with QoS and type hashes', async () => {
    const bag = await openBag(path);
    expect(bag.problems()).toEqual([]);
    expect(readAll(bag)).toEqual(expected);
    expectSameTopics(bag);
  });

  it('bag info lists the counts, and play --virtual plays every message', async () => {
    const info = await captureOutput(() => bagCommand.run(['info', path]));
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/Messages:\s+109/);
    expect(info.out).toMatch(/Topic: \/imu\/data\s+\| Type: sensor_msgs\/msg\/Imu \| Count: 50 \| Serialization Format: cdr/);
    const play = await captureOutput(() => bagCommand.run(['play', path, '--virtual']));
    expect(play.err).toBe('');
    expect(play.code).toBe(0);
    expect(play.out).toMatch(/played 109 message/);
  });

  it('replays on the bus (as play and eval do) every message in order', async () => {
    const bag = await openBag(path);
    const bus = new Bus();
    const got: Expected[] = [];
    const clock = new SimClock(bagStartMs(bag));
    for (const t of bag.info().topics) bus.subscribe(t.name, t.type as never).subscribe((m) => got.push({ topic: t.name, t: '', msg: plain(m) }));
    // eval plays its input topics only, as fast as possible under a SimClock at the bag's start.
    const topics = BAG_INPUT_TOPICS.filter((t) => bag.topic(t));
    const r = await replay(bag, { bus, clock, asFastAsPossible: true, topics });
    expect(r.decodeErrors).toBe(0);
    const want = expected.filter((e) => (topics as string[]).includes(e.topic)).map((e) => ({ ...e, t: '' }));
    expect(got).toEqual(want);
  });

  it.each([storage, other])('converts to %s with every message, QoS and type hash', async (to) => {
    const dst = join(tmp, `${name}_to_${to}`);
    const r = await convertBag(path, dst, { storage: to as 'mcap' | 'sqlite3' });
    expect(r.messages).toBe(109);
    if (name.includes('zstd')) expect(r.notes.join()).toMatch(/compression is not kept/);
    const out = await openBag(dst);
    expect(out.problems()).toEqual([]);
    expect(out.info().version).toBe(9);
    expect(readAll(out)).toEqual(expected);
    expectSameTopics(out);
  });

  it('written back by Kestrel from decoded messages, reads the same again', async () => {
    const bag = await openBag(path);
    const dst = join(tmp, `${name}_rewritten`);
    const w = await createBagWriter(dst, { registry: bag.registry });
    for (const t of bag.info().topics) w.addTopic(t.name, t.type, { offeredQosProfiles: t.offeredQosProfiles });
    for (const m of bag.messagesSync()) void w.write(m.topic, m.type, m.logTimeNs, m.decode(), m.publishTimeNs);
    await w.close();
    const out = await openBag(dst);
    expect(readAll(out)).toEqual(expected);
    // Computed by Kestrel's writer (the source's hashes are not passed on here).
    expectSameTopics(out);
  });
});
