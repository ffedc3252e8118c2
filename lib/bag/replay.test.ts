import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMsg, type rosgraph_msgs, type sensor_msgs } from '../../msgs/index.js';
import { Bus } from '../../runtime/bus.js';
import { SimClock, SystemClock } from '../../runtime/clock.js';
import { nsToMs, timeToNs } from '../../runtime/time.js';
import { openBag, type Bag } from './reader.js';
import { replay } from './replay.js';
import { createBagWriter } from './writer.js';
import { fixture, itFixtures } from '../../test/support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;
let bag: Bag;

beforeAll(async () => {
  const w = await createBagWriter(join(tmp, 'b'), { chunkSize: 4096 });
  for (let i = 0; i < 100; i++) {
    const t = T0 + BigInt(i) * 10n * MS;
    // Message 50 carries a payload that is not an Imu: counted, reported, skipped.
    const imu = i === 50 ? new Uint8Array([0, 1, 0, 0, 9, 9]) : makeMsg('sensor_msgs/msg/Imu', { header: { stamp: { sec: i, nanosec: 0 }, frame_id: 'imu' } });
    void w.write('/imu/data', 'sensor_msgs/msg/Imu', t, imu);
    // Same log time on two topics every 10th message: the tie is broken by file order (written first, played first).
    if (i % 10 === 0) void w.write('/gps/fix', 'sensor_msgs/msg/NavSatFix', t, makeMsg('sensor_msgs/msg/NavSatFix', { latitude: i }));
  }
  await w.close();
  bag = await openBag(join(tmp, 'b'));
});

interface Seen {
  topic: string;
  clockMs: number;
  key: number;
}

function watch(bus: Bus, clock: SimClock | SystemClock, imuTopic = '/imu/data'): { seen: Seen[]; clocks: bigint[] } {
  const seen: Seen[] = [];
  const clocks: bigint[] = [];
  bus.subscribe(imuTopic, 'sensor_msgs/msg/Imu').subscribe((m: sensor_msgs.Imu) => seen.push({ topic: imuTopic, clockMs: clock.now(), key: m.header.stamp.sec }));
  bus.subscribe('/gps/fix', 'sensor_msgs/msg/NavSatFix').subscribe((m: sensor_msgs.NavSatFix) => seen.push({ topic: '/gps/fix', clockMs: clock.now(), key: m.latitude }));
  bus.subscribe('/clock', 'rosgraph_msgs/msg/Clock').subscribe((c: rosgraph_msgs.Clock) => clocks.push(timeToNs(c.clock)));
  return { seen, clocks };
}

describe('replay', () => {
  it('as fast as possible: the SimClock reads each message time, /clock carries bag time, bad payloads are counted', async () => {
    const bus = new Bus();
    const clock = new SimClock();
    const { seen, clocks } = watch(bus, clock);
    const r = await replay(bag, { bus, clock, asFastAsPossible: true, clockHz: 0 });
    expect(r.published).toBe(109);
    expect(r.decodeErrors).toBe(1);
    expect(r.dropped[0]).toMatchObject({ topic: '/imu/data', timeNs: T0 + 500n * MS });
    expect(r.dropped[0].reason).toMatch(/cannot decode 6 bytes as CDR sensor_msgs\/msg\/Imu/);
    const imu = seen.filter((s) => s.topic === '/imu/data');
    expect(imu.map((s) => s.key)).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 50));
    for (const s of imu) expect(s.clockMs).toBe(nsToMs(T0 + BigInt(s.key) * 10n * MS));
    // Ties: at equal log time the GPS fix (written second) follows the IMU sample.
    const i10 = seen.findIndex((s) => s.topic === '/imu/data' && s.key === 10);
    expect(seen[i10 + 1]).toMatchObject({ topic: '/gps/fix', key: 10 });
    expect(clocks[0]).toBe(T0);
    expect(clocks.every((c, i) => i === 0 || c > clocks[i - 1])).toBe(true);
  });

  it('is deterministic: two runs give the same sequence', async () => {
    const run = async (): Promise<string> => {
      const bus = new Bus();
      const clock = new SimClock();
      const { seen } = watch(bus, clock);
      await replay(bag, { bus, clock, asFastAsPossible: true });
      return JSON.stringify(seen);
    };
    expect(await run()).toBe(await run());
  });

  it('filters, remaps, starts at an offset and loops; time never runs back', async () => {
    const bus = new Bus();
    const clock = new SimClock();
    const { seen } = watch(bus, clock, '/drone/imu');
    const r = await replay(bag, { bus, clock, asFastAsPossible: true, topics: ['/imu/data'], remap: { '/imu/data': '/drone/imu' }, startOffsetS: 0.5, loop: 2 });
    expect(r.loops).toBe(2);
    expect(seen.every((s) => s.topic === '/drone/imu')).toBe(true);
    expect(seen.map((s) => s.key)).toEqual([...Array.from({ length: 49 }, (_, i) => i + 51), ...Array.from({ length: 49 }, (_, i) => i + 51)]);
    expect(seen.every((s, i) => i === 0 || s.clockMs > seen[i - 1].clockMs)).toBe(true);
  });

  it('paced playback keeps order at a rate multiplier, with the system clock', async () => {
    const bus = new Bus();
    const clock = new SystemClock();
    const { seen, clocks } = watch(bus, clock);
    const r = await replay(bag, { bus, clock, rate: 20, topics: ['/imu/data'], startOffsetS: 0.8 });
    expect(r.published).toBe(20);
    expect(seen.map((s) => s.key)).toEqual(Array.from({ length: 20 }, (_, i) => i + 80));
    expect(clocks).toEqual([]); // /clock only under sim time unless asked
  });

  it('refuses as-fast-as-possible without sim time, and stops when aborted', async () => {
    await expect(replay(bag, { bus: new Bus(), clock: new SystemClock(), asFastAsPossible: true })).rejects.toThrow(/needs sim time/);
    const ac = new AbortController();
    ac.abort();
    const r = await replay(bag, { bus: new Bus(), clock: new SimClock(), asFastAsPossible: true, signal: ac.signal });
    expect(r).toMatchObject({ aborted: true, published: 0 });
  });

  const WRONG_RMW = 'rosbag2/rosbag2_tests/resources/mcap/wrong_rmw_test';
  itFixtures('wrong_rmw_test: topics with a non-CDR format are skipped with the reason', WRONG_RMW, async () => {
    const p = fixture(WRONG_RMW);
    const r = await replay(await openBag(p), { bus: new Bus(), clock: new SimClock(), asFastAsPossible: true });
    expect(r.published).toBe(0);
    expect(r.skippedTopics.map((s) => s.reason)).toEqual(["serialization format 'wrong_format' is not CDR", "serialization format 'wrong_format' is not CDR"]);
  });

  it('a truncated bag replays what precedes the cut and reports the loss', async () => {
    const { readFileSync, writeFileSync, mkdirSync } = await import('node:fs');
    const bytes = readFileSync(join(tmp, 'b', 'b_0.mcap'));
    mkdirSync(join(tmp, 'cut'));
    writeFileSync(join(tmp, 'cut', 'x.mcap'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = await replay(await openBag(join(tmp, 'cut', 'x.mcap')), { bus: new Bus(), clock: new SimClock(), asFastAsPossible: true });
    expect(r.published).toBeGreaterThan(0);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].message).toMatch(/truncated at byte/);
  });
});
