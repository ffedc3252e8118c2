import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qosProfiles } from '../../lib/bag/metadata.js';
import { openBag } from '../../lib/bag/reader.js';
import { createBagWriter } from '../../lib/bag/writer.js';
import { makeMsg } from '../../msgs/index.js';
import { SimClock } from '../../runtime/clock.js';
import { QOS_LATCHED } from '../../runtime/qos.js';
import { Container } from '../../runtime/container.js';
import type { ParamOverride, ParamType, ParamValue } from '../../runtime/params.js';
import { playbackFinished, playerNode, recorderNode } from './index.js';
import { parseRemaps } from './player.js';
import { defaultBagName } from './recorder.js';
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls } from '../../runtime/params.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bagnodes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const registry = new Map<string, NodeDefinition<ParamDecls>>([
  ['player', playerNode as unknown as NodeDefinition<ParamDecls>],
  ['recorder', recorderNode as unknown as NodeDefinition<ParamDecls>],
]);

function params(o: Record<string, [ParamValue, ParamType]>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([k, [value, type]]) => [k, { value, type, source: 'test' }]));
}

describe('player and recorder nodes', () => {
  it('player → bus → recorder under sim time reproduces the bag (times, order, payloads)', async () => {
    const src = join(tmp, 'src');
    const w = await createBagWriter(src);
    const T0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 50; i++) {
      void w.write('/imu/data', 'sensor_msgs/msg/Imu', T0 + BigInt(i) * 5_000_000n, makeMsg('sensor_msgs/msg/Imu', { header: { stamp: { sec: i, nanosec: 0 } } }));
      if (i % 5 === 0) void w.write('/battery', 'sensor_msgs/msg/BatteryState', T0 + BigInt(i) * 5_000_000n, makeMsg('sensor_msgs/msg/BatteryState', { percentage: i / 50 }));
    }
    await w.close();

    const c = new Container({ registry, clock: new SimClock(), logSink: () => {} });
    const player = await c.add({ package: 'kestrel', executable: 'player', params: params({ 'storage.uri': [src, 'string'], 'play.as_fast_as_possible': [true, 'bool'], 'play.remap': [['/battery:=/fc/battery'], 'string[]'] }), remaps: [] });
    const out = join(tmp, 'rec');
    await c.add({ package: 'kestrel', executable: 'recorder', params: params({ 'storage.uri': [out, 'string'], 'record.exclude_topics': [['/clock'], 'string[]'] }), remaps: [] });
    // Recorder first, so it hears everything the player publishes.
    await c.nodes[1].activate();
    await c.nodes[0].activate();
    const report = await playbackFinished(player.ctx);
    expect(report.published).toBe(60);
    await c.shutdownAll();

    const a = await openBag(src);
    const b = await openBag(out);
    expect(b.info().topics.map((t) => t.name).sort()).toEqual(['/fc/battery', '/imu/data']);
    const A = [...a.messagesSync()].map((m) => [m.topic.replace('/battery', '/fc/battery'), m.logTimeNs, Buffer.from(m.data).toString('hex')]);
    const B = [...b.messagesSync()].map((m) => [m.topic, m.logTimeNs, Buffer.from(m.data).toString('hex')]);
    expect(B).toEqual(A);
    expect(c.diagnostics.all().find((d) => d.node === '/player')?.message).toBe('played 60 messages');
  });

  it('records latched messages published before it started, with their QoS, so a replay latches them again', async () => {
    const c = new Container({ registry, clock: new SimClock(1_000_000), logSink: () => {} });
    const intent = c.bus.advertise('/intent', 'std_msgs/msg/String', QOS_LATCHED);
    intent.publish(makeMsg('std_msgs/msg/String', { data: 'alert if more than 10 people are in the queue' }));
    const out = join(tmp, 'latched');
    await c.add({ package: 'kestrel', executable: 'recorder', params: params({ 'storage.uri': [out, 'string'] }), remaps: [] });
    await c.activateAll();
    await c.shutdownAll();
    const bag = await openBag(out);
    const topic = bag.info().topics.find((t) => t.name === '/intent');
    expect(qosProfiles(topic?.offeredQosProfiles)).toEqual([expect.objectContaining({ durability: 'transient_local' })]);
    const msgs = [...bag.messagesSync()].map((m) => (m.decode() as { data: string }).data);
    expect(msgs).toEqual(['alert if more than 10 people are in the queue']);
  });

  it('gives clear errors for missing or bad parameters', async () => {
    const c = new Container({ registry, clock: new SimClock(), logSink: () => {} });
    await expect(c.add({ package: 'kestrel', executable: 'player', params: new Map(), remaps: [] })).rejects.toThrow(/'storage.uri' is required/);
    expect(() => parseRemaps(['/a=/b'])).toThrow(/expected 'from:=to', got '\/a=\/b'/);
    await expect(c.add({ package: 'kestrel', executable: 'recorder', params: params({ 'record.all_topics': [false, 'bool'] }), remaps: [] })).rejects.toThrow(/nothing to record/);
    expect(defaultBagName(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('rosbag2_2024_01_02-03_04_05');
  });
});
