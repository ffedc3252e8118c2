import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readMcapFile } from './mcap-file.js';
import { parseMetadata } from './metadata.js';
import { DefinitionMismatchError, openBag, UnsupportedFormatError } from './reader.js';
import type { BagMessage } from './types.js';
import { describeFixtures, fixture, hasFixtures } from '../../test/support/fixtures.js';

const FIX = fixture();
const R2 = join(FIX, 'rosbag2');

const key = (m: BagMessage): string => `${m.topic}|${m.logTimeNs}|${Buffer.from(m.data).toString('hex')}`;

/** The same rosbag2 test bag stored both ways (bag_with_topics_and_service_events is two recordings, so not listed). */
const PAIRS = [
  'rosbag2_tests/resources/X/cdr_test',
  'rosbag2_tests/resources/X/wrong_rmw_test',
  'rosbag2_py/test/resources/X/convert_a',
  'rosbag2_py/test/resources/X/convert_b',
  'rosbag2_py/test/resources/X/talker',
  'rosbag2_py/test/resources/X/wbag',
  'rosbag2_py/test/resources/X/reindex_test_bags/multiple_files',
  'rosbag2_transport/test/resources/X/test_bag_for_seek',
  'rosbag2_transport/test/resources/X/rewriter_a',
  'rosbag2_transport/test/resources/X/rewriter_b',
];

describeFixtures('rosbag2 fixtures', ['rosbag2', 'rosbags-rs'], () => {
  it.each(PAIRS)('%s: MCAP and sqlite3 give identical messages in identical order', async (p) => {
    const a = await openBag(join(R2, p.replace('X', 'mcap')));
    const b = await openBag(join(R2, p.replace('X', 'sqlite3')));
    const A = [...a.messagesSync()].map(key);
    const B = [...b.messagesSync()].map(key);
    expect(A.length).toBeGreaterThan(0);
    expect(A).toEqual(B);
    expect(a.info().durationNs).toBe(b.info().durationNs);
  });

  it('counts and times match metadata.yaml exactly (versions 4 to 8)', async () => {
    const dirs: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name === 'metadata.yaml') dirs.push(d);
      }
    };
    walk(R2);
    walk(join(FIX, 'rosbags-rs'));
    const versions = new Set<number>();
    for (const d of dirs) {
      const meta = parseMetadata(readFileSync(join(d, 'metadata.yaml'), 'utf8'));
      versions.add(meta.version);
      const bag = await openBag(d);
      const info = bag.info();
      expect(info.messageCount, d).toBe(meta.messageCount);
      for (const t of meta.topics) expect(bag.topic(t.name)?.messageCount, `${d} ${t.name}`).toBe(t.messageCount);
      // 64-bit nanosecond stamps, exact (beyond 2^53). wbag's metadata is hand-made (start 2623, first message at 1000).
      if (meta.messageCount > 0 && !d.endsWith('wbag')) {
        expect(info.startNs, d).toBe(meta.startNs);
        expect(info.durationNs, d).toBe(meta.durationNs);
      }
      expect(bag.problems().filter((x) => x.kind !== 'reindexed'), d).toEqual([]);
    }
    expect([...versions].sort()).toEqual([4, 5, 6, 7, 8]);
  });

  it('decodes every message of the CDR bags that carry definitions', async () => {
    for (const p of ['rosbag2_py/test/resources/mcap/talker', 'rosbag2_tests/resources/mcap/cdr_test', 'rosbag2_tests/resources/sqlite3/bag_with_topics_and_service_events']) {
      const bag = await openBag(join(R2, p));
      for (const m of bag.messagesSync()) expect(() => m.decode(), `${p} ${m.topic}`).not.toThrow();
    }
    const bag = await openBag(join(R2, 'rosbag2_py/test/resources/mcap/talker'));
    const strings = [...bag.messagesSync({ topics: ['/topic'] })].map((m) => (m.decode() as { data: string }).data);
    expect(strings[0]).toBe('Hello, world! 0');
    expect(strings).toHaveLength(10);
  });

  it('a placeholder definition (talker.db3 stores `uint8 level` for Log) is refused, not decoded into garbage', async () => {
    const bag = await openBag(join(R2, 'rosbag2_py/test/resources/sqlite3/talker'));
    const [first, second] = [...bag.messagesSync({ topics: ['/rosout'] })];
    expect(() => first.decode()).toThrow(DefinitionMismatchError);
    expect(() => second.decode()).toThrow(/definition of rcl_interfaces\/msg\/Log does not match its data \(a 176-byte message decodes to 5 bytes\)/);
    for (const m of bag.messagesSync({ topics: ['/topic'] })) expect(m.decode()).toMatchObject({ data: expect.stringMatching(/^Hello, world! \d$/) });
  });

  it('rosbags-rs: both storages hold the same topics in the same order, and decode', async () => {
    const a = await openBag(join(FIX, 'rosbags-rs/tests/test_bags/test_bag_mcap'));
    const b = await openBag(join(FIX, 'rosbags-rs/tests/test_bags/test_bag_sqlite3'));
    expect([...a.messagesSync()].map((m) => m.topic)).toEqual([...b.messagesSync()].map((m) => m.topic));
    for (const m of [...a.messagesSync(), ...b.messagesSync()]) expect(() => m.decode(), m.topic).not.toThrow();
  });

  it('service-event topics (.srv schema text) decode as X_Event, from MCAP and db3', async () => {
    for (const f of ['topics_and_services.mcap', 'topics_and_services.db3']) {
      const bag = await openBag(join(R2, 'rosbag2_cpp/test/rosbag2_cpp/bags', f));
      const ev = [...bag.messagesSync({ topics: ['/add_two_ints/_service_event'] })];
      expect(ev).toHaveLength(6);
      const msgs = ev.map((m) => m.decode() as { info: { event_type: number }; request: { a: bigint; b: bigint }[]; response: { sum: bigint }[] });
      const req = msgs.find((m) => m.request.length === 1);
      const res = msgs.find((m) => m.response.length === 1);
      expect(req?.request[0].a).toBeTypeOf('bigint');
      expect(res?.response[0].sum).toBeTypeOf('bigint');
    }
  });

  it('wrong_rmw_test: info works, decoding says the format is not CDR', async () => {
    for (const s of ['mcap', 'sqlite3']) {
      const bag = await openBag(join(R2, `rosbag2_tests/resources/${s}/wrong_rmw_test`));
      expect(bag.info().topics.map((t) => t.serializationFormat)).toEqual(['wrong_format', 'wrong_format']);
      const m = bag.messagesSync().next().value as BagMessage;
      expect(() => m.decode()).toThrow(UnsupportedFormatError);
      expect(() => m.decode()).toThrow(/'wrong_format'.*only 'cdr'/);
    }
  });

  it('reindex_test_bags (no metadata.yaml) are reindexed from their files, in natural order', async () => {
    for (const s of ['mcap', 'sqlite3']) {
      const bag = await openBag(join(R2, `rosbag2_py/test/resources/${s}/reindex_test_bags/multiple_files`));
      expect(bag.info().version).toBeUndefined();
      expect(bag.info().files.map((f) => f.messageCount)).toEqual([1324, 1324, 529]);
      expect(bag.problems()[0]).toMatchObject({ kind: 'reindexed' });
      const times = [...bag.messagesSync()].map((m) => m.logTimeNs);
      expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    }
  });

  it('a WAL-mode db3 is read without creating -wal/-shm files beside it', async () => {
    const d = join(R2, 'rosbag2_py/test/resources/sqlite3/talker');
    const before = readdirSync(d).sort();
    await openBag(d);
    expect(readdirSync(d).sort()).toEqual(before);
  });

  it('single files open directly; names with and without /msg/ both decode', async () => {
    const bag = await openBag(join(R2, 'rosbag2_cpp/test/rosbag2_cpp/bags/only_topics.mcap'));
    expect(bag.info().storage).toBe('mcap');
    expect(bag.registry.has('rcl_interfaces/ParameterEvent')).toBe(true);
    expect(bag.info().files[0].library).toBe('libmcap 1.1.0');
  });

  it('a missing bag or an unknown file type gives a clear error', async () => {
    await expect(openBag('/nonexistent/bag')).rejects.toThrow(/no such file or directory/);
    await expect(openBag(join(R2, 'ros2bag/test/resources/qos_profile.yaml'))).rejects.toThrow(/unknown bag file type/);
  });
});

const CONF = join(FIX, 'mcap/conformance');
interface ConfRecord {
  type: string;
  fields: [string, unknown][];
}

describeFixtures('MCAP conformance', 'mcap/conformance', () => {
  const cases: string[] = [];
  if (hasFixtures('mcap/conformance')) for (const d of readdirSync(CONF)) for (const f of readdirSync(join(CONF, d))) if (f.endsWith('.mcap')) cases.push(join(d, f));

  it(`every conformance file (${cases.length}) decodes to the schemas, channels and messages of its .json`, async () => {
    expect(cases.length).toBeGreaterThan(50);
    for (const c of cases) {
      const file = join(CONF, c);
      const expected = (JSON.parse(readFileSync(file.replace(/\.mcap$/, '.json'), 'utf8')) as { records: ConfRecord[] }).records;
      const f = (r: ConfRecord): Record<string, unknown> => Object.fromEntries(r.fields);
      const got = await readMcapFile(file);
      expect(got.problems, c).toEqual([]);
      expect(got.complete, c).toBe(true);
      const msgs = expected.filter((r) => r.type === 'Message').map(f);
      expect(got.messages.map((m) => ({ channel_id: String(m.channelId), data: [...m.data].map(String), log_time: String(m.logTime), publish_time: String(m.publishTime), sequence: String(m.sequence) })), c).toEqual(msgs);
      const channels = new Map(expected.filter((r) => r.type === 'Channel').map(f).map((ch) => [Number(ch.id), ch]));
      const schemas = new Map(expected.filter((r) => r.type === 'Schema').map(f).map((s) => [String(s.id), s]));
      expect(got.channels.size, c).toBe(channels.size);
      for (const [id, ch] of got.channels) {
        const e = channels.get(id) as Record<string, unknown>;
        expect(ch.topic, c).toBe(e.topic);
        expect(ch.messageEncoding, c).toBe(e.message_encoding);
        expect(Object.fromEntries(ch.metadata), c).toEqual(e.metadata);
        const s = schemas.get(String(e.schema_id));
        if (s) {
          expect(ch.schema?.name, c).toBe(s.name);
          expect(ch.schema?.encoding, c).toBe(s.encoding);
          expect([...new TextEncoder().encode(ch.schema?.text)].map(String), c).toEqual(s.data);
        } else expect(ch.schema, c).toBeUndefined();
      }
      const meta = expected.filter((r) => r.type === 'Metadata').map(f);
      for (const m of meta) expect(Object.fromEntries(got.metadata.get(String(m.name)) ?? []), c).toEqual(m.metadata);
    }
  });
});
