import { describe, expect, it } from 'vitest';
import { makeMsg, type MsgTypeName } from '../msgs/index.js';
import { TOPICS } from '../msgs/topics.js';
import { Bus, TopicTypeError } from './bus.js';
import { SimClock } from './clock.js';
import { Container } from './container.js';
import { defineNode, paramTopicDoc, topicDoc, type NodeContext } from './node.js';
import { p } from './params.js';
import { QOS_LATCHED, QOS_SENSOR_DATA, qos } from './qos.js';

/** A node whose context the test keeps, with a string parameter naming a topic. */
function contextIn(bus: Bus): Promise<NodeContext> {
  let ctx: NodeContext | undefined;
  const def = defineNode({ name: 'probe', description: 'test probe', params: { text_topic: p.string('/scene/text', 'a topic') }, create: (c) => ((ctx = c), {}) });
  const c = new Container({ registry: new Map([['probe', def]]), bus, clock: new SimClock(0), logSink: () => {} });
  return c.add({ package: 'kestrel', executable: 'probe', params: new Map(), remaps: [{ from: '/world', to: '/w2' }] }).then(() => ctx!);
}

describe('topics through the table (msgs/topics.ts)', () => {
  it('advertise/subscribe by name take type and QoS from the table, through remapping; qos overrides', async () => {
    const bus = new Bus();
    const ctx = await contextIn(bus);
    const got: number[] = [];
    ctx.subscribe('/imu/data').subscribe((m) => got.push(m.linear_acceleration.z));
    ctx.advertise('/imu/data').publish(makeMsg('sensor_msgs/msg/Imu', { linear_acceleration: { x: 0, y: 0, z: 9.8 } }));
    expect(got).toEqual([9.8]);
    expect(bus.offeredQos('/imu/data')).toEqual([QOS_SENSOR_DATA]);
    ctx.advertise('/world');
    expect(bus.typeOf('/w2')).toBe('kestrel_msgs/msg/WorldState');
    ctx.advertise('/sim/events', qos({ depth: 7 }, QOS_LATCHED));
    expect(bus.offeredQos('/sim/events')).toEqual([{ ...QOS_LATCHED, depth: 7 }]);
  });

  it('the string form is for names from parameters; a table name there must carry the table type', async () => {
    const ctx = await contextIn(new Bus());
    const topic: string = '/scene/text';
    ctx.subscribe(topic, 'std_msgs/msg/String').subscribe((m) => m.data);
    const wrong = 'kestrel_msgs/msg/Plan' as MsgTypeName;
    expect(() => ctx.advertise(topic, wrong)).toThrow(TopicTypeError);
    expect(() => ctx.advertise(topic, wrong)).toThrow("topic '/scene/text' carries 'std_msgs/msg/String', not 'kestrel_msgs/msg/Plan'");
    expect(() => ctx.subscribe('/nosuch' as '/world')).toThrow("topic '/nosuch' is not in msgs/topics.ts: name its message type");
  });

  it('a type that disagrees with the table fails tsc (checked by `npm run typecheck`)', () => {
    const check = (ctx: NodeContext): void => {
      // @ts-expect-error the table says /world carries WorldState
      ctx.advertise('/world', 'kestrel_msgs/msg/Plan');
      // @ts-expect-error the table says /fc/state carries VehicleState
      ctx.subscribe('/fc/state', 'std_msgs/msg/String');
      // @ts-expect-error a name outside the table needs its type
      ctx.subscribe('/nosuch');
      // @ts-expect-error VehicleState has no such field
      ctx.subscribe('/fc/state').subscribe((m) => m.nosuch);
      // @ts-expect-error a publisher of /plan takes Plans only
      ctx.advertise('/plan').publish(makeMsg('std_msgs/msg/String', { data: 'x' }));
    };
    expect(check).toBeTypeOf('function');
  });

  it('declared topic lists derive from the table; parameter-named and conditional topics say when and where', () => {
    expect(topicDoc('/world', 'my use')).toEqual({ topic: '/world', type: TOPICS['/world'].type, qos: TOPICS['/world'].qos, description: 'my use' });
    expect(topicDoc('/tracks').description).toBe(TOPICS['/tracks'].description);
    const cond = topicDoc('/cmd_vel', undefined, (q) => q.vehicle === 'ground');
    expect([cond.at!({ vehicle: 'ground' }), cond.at!({ vehicle: 'multirotor' })]).toEqual(['/cmd_vel', undefined]);
    const named = paramTopicDoc('text_topic', '/scene/text', 'std_msgs/msg/String', QOS_LATCHED, 'text');
    expect(named.at!({ text_topic: '/other' })).toBe('/other');
    expect(named).toMatchObject({ topic: '/scene/text', param: 'text_topic', qos: QOS_LATCHED });
  });
});
