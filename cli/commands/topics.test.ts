import { describe, expect, it } from 'vitest';
import { Container } from '../../runtime/container.js';
import { defineNode, paramTopicDoc, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { QOS_DEFAULT } from '../../runtime/qos.js';
import { RecordingBus } from './topics.js';

// A consumer that subscribes only on activation, as most nodes do: `kestrel topics` counts it from its declarations.
const consumer = defineNode({
  name: 'consumer',
  description: 'subscribes on activate',
  params: { text_topic: p.string('/scene/text', 'text topic'), ground: p.bool(false, 'also /cmd_vel') },
  subscribes: [topicDoc('/world'), paramTopicDoc('text_topic', '/scene/text', 'std_msgs/msg/String', QOS_DEFAULT, 'text')],
  publishes: [topicDoc('/cmd_vel', undefined, (q) => q.ground === true)],
  create: (ctx) => ({ activate: () => ctx.subscribe('/world').subscribe() }),
});
const producer = defineNode({
  name: 'producer',
  description: 'advertises on configure',
  params: {},
  publishes: [topicDoc('/world')],
  create: (ctx) => (ctx.advertise('/world'), {}),
});

describe('kestrel topics: RecordingBus', () => {
  it('counts declared subscriptions made on activation, under parameter-chosen names and remaps, once per node', async () => {
    const bus = new RecordingBus();
    const c = new Container({ registry: new Map([['consumer', consumer], ['producer', producer]] as const), bus, logSink: () => {} });
    bus.owner = '/producer';
    await c.add({ package: 'kestrel', executable: 'producer', params: new Map(), remaps: [] });
    bus.owner = '/consumer';
    await c.add({ package: 'kestrel', executable: 'consumer', params: new Map([['text_topic', { value: '/ocr', type: 'string', source: 'test' }]]), remaps: [{ from: '/world', to: '/fused' }] });
    for (const n of c.nodes) bus.noteDeclared(n);
    const summary = [...bus.endpoints].map(([name, t]) => [name, t.list.map((e) => `${e.kind} ${e.node}`)]);
    expect(summary).toEqual([
      ['/world', ['pub /producer']],
      ['/fused', ['sub /consumer']],
      ['/ocr', ['sub /consumer']],
    ]);
    await c.shutdownAll();
  });
});
