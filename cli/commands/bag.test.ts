import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBag } from '../../lib/bag/reader.js';
import { createBagWriter } from '../../lib/bag/writer.js';
import { makeMsg } from '../../msgs/index.js';
import { captureOutput } from '../command.js';
import { fixture, itFixtures } from '../../test/support/fixtures.js';
import { bagCommand } from './bag.js';

const ROOT = join(import.meta.dirname, '../..');
const R2 = fixture('rosbag2');
const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bagcli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return captureOutput(() => bagCommand.run(argv));
}

describe('kestrel bag', () => {
  itFixtures('info prints duration, counts, types, storage and compression like ros2 bag info', 'rosbag2', async () => {
    const r = await run('info', join(R2, 'rosbag2_py/test/resources/mcap/talker'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Storage id:        mcap');
    expect(r.out).toContain('Duration:          4.531s');
    // ros2 bag info's date format: local time, milliseconds, then seconds since the epoch.
    expect(r.out).toMatch(/\nStart: {13}Apr {1,2}\d 2020 \d\d:\d3:55\.112 \(1585866235\.112\)\n/);
    expect(r.out).toContain('Messages:          20');
    expect(r.out).toContain('Service:           0\nService information: ');
    const v = await run('info', '-v', join(R2, 'rosbag2_py/test/resources/mcap/talker'));
    expect(v.out).toContain('Compression:       zstd (chunks)');
    expect(r.out).toMatch(/Topic: \/topic\s+\| Type: std_msgs\/msg\/String \| Count: 10 \| Serialization Format: cdr/);
    const j = await run('info', '--json', join(R2, 'rosbag2_py/test/resources/sqlite3/talker'));
    expect(JSON.parse(j.out)).toMatchObject({ storage: 'sqlite3', messageCount: 20, startNs: '1585866235112411371' });
  });

  itFixtures('info lists service-event topics in their own section, as ros2 bag info of Jazzy', 'rosbag2', async () => {
    const r = await run('info', join(R2, 'rosbag2_cpp/test/rosbag2_cpp/bags/topics_and_services.mcap'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nService: {11}2\nService information: Service: \/add_two_ints \| Type: example_interfaces\/srv\/AddTwoInts \| Event Count: 6 \| Serialization Format: cdr/);
    expect(r.out).not.toMatch(/Topic: \/add_two_ints\/_service_event/);
  });

  itFixtures('convert db3 → mcap, then play it on a virtual clock', 'rosbag2', async () => {
    const out = join(tmp, 'talker_mcap');
    const c = await run('convert', join(R2, 'rosbag2_py/test/resources/sqlite3/talker'), out);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/wrote 20 message\(s\)/);
    const p = await run('play', out, '--virtual', '--topics', '/topic');
    expect(p.code).toBe(0);
    expect(p.out).toContain('played 10 message(s)');
  });

  itFixtures('play --launch feeds a launch file\'s nodes; on --virtual their timers run on bag time', 'rosbag2', async () => {
    const r = await run('play', join(R2, 'rosbag2_py/test/resources/mcap/talker'), '--virtual', '--echo', '--topics', '/topic', '--launch', join(ROOT, 'launch/demo.launch.yaml'), 'rate_hz:=2.0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('played 10 message(s)');
    // 4.5 s of bag time at 2 Hz: the demo talker published about 9 times, on bag time, not wall time.
    const chatter = r.out.split('\n').filter((x) => x.startsWith('/demo/chatter'));
    expect(chatter.length).toBeGreaterThanOrEqual(8);
    expect(chatter.length).toBeLessThanOrEqual(10);
  });

  it('play reports corrupt payloads (topic, time) and exits 1, after playing the rest', async () => {
    const d = join(tmp, 'corrupt');
    const w = await createBagWriter(d);
    for (let i = 0; i < 5; i++) void w.write('/imu/data', 'sensor_msgs/msg/Imu', 1000n + BigInt(i), i === 2 ? new Uint8Array([1, 2, 3]) : makeMsg('sensor_msgs/msg/Imu', {}));
    await w.close();
    const r = await run('play', d, '--virtual');
    expect(r.code).toBe(1);
    expect(r.out).toContain('played 4 message(s)');
    expect(r.err).toMatch(/1 message\(s\) could not be decoded[\s\S]*\/imu\/data at 1002 ns: cannot decode 3 bytes/);
  });

  itFixtures('reindex writes a metadata.yaml that rosbag2 readers accept', 'rosbag2', async () => {
    const d = join(tmp, 'reindex');
    mkdirSync(d);
    for (const i of [0, 1, 2]) copyFileSync(join(R2, `rosbag2_py/test/resources/mcap/reindex_test_bags/multiple_files/multiple_files_${i}.mcap`), join(d, `multiple_files_${i}.mcap`));
    expect((await run('reindex', d)).code).toBe(0);
    expect(readFileSync(join(d, 'metadata.yaml'), 'utf8')).toContain('relative_file_paths:');
    const bag = await openBag(d);
    expect(bag.info().version).toBe(9);
    expect(bag.info().messageCount).toBe(3177);
    expect(bag.problems()).toEqual([]);
  });

  it('usage errors are clear', async () => {
    await expect(run('bogus')).rejects.toThrow(/unknown verb 'bogus'/);
    await expect(run('play', 'x', '--rate')).rejects.toThrow(/--rate needs a value/);
    await expect(run('convert', 'a', 'b', '--storage', 'rosbag')).rejects.toThrow(/--storage is mcap or sqlite3/);
    await expect(run('record', '-o', join(tmp, 'r'))).rejects.toThrow(/needs --launch/);
  });

  it('info reads an indexed MCAP from its summary; --verify reads every chunk and reports the damage in them', async () => {
    const dir = join(tmp, 'verify');
    const w = await createBagWriter(dir, { chunkSize: 2048, compression: 'none' });
    for (let i = 0; i < 100; i++) void w.write('/chatter', 'std_msgs/msg/String', 1_000_000_000n + BigInt(i) * 1_000_000n, makeMsg('std_msgs/msg/String', { data: `hello ${i}` }));
    await w.close();
    const file = join(dir, 'verify_0.mcap');
    const b = readFileSync(file);
    b[Math.floor(b.length / 2)] ^= 0xff;
    writeFileSync(file, b);
    const fast = await run('info', dir);
    expect(fast.out).toMatch(/\nMessages: +100\n/);
    expect(fast.err).toBe('');
    const full = await run('info', '--verify', dir);
    const n = Number(/\nMessages: +(\d+)\n/.exec(full.out)?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100);
    expect(full.err).toMatch(/^warning: .*verify_0\.mcap: corrupt data at byte \d+/m);
  });

  it('record runs a launch file and leaves a finalized, readable bag after SIGINT', async () => {
    const out = join(tmp, 'rec');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), 'bag', 'record', '-o', out, '-a', '--launch', join(ROOT, 'launch/demo.launch.yaml'), 'rate_hz:=50.0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    // Wait until recording has started, let some messages flow, then Ctrl-C.
    const started = Date.now();
    while (!log.includes('recording to') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 700));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(log).toContain('recording to');
    expect(code).toBe(0);
    const bag = await openBag(out);
    expect(bag.problems()).toEqual([]);
    expect(bag.info().messageCount).toBeGreaterThan(5);
    expect(bag.info().topics.map((t) => t.name)).toContain('/demo/chatter');
    for (const m of bag.messagesSync()) expect(() => m.decode()).not.toThrow();
  }, 30_000);
});
