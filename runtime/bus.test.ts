import { describe, expect, it } from 'vitest';
import { makeMsg } from '../msgs/index.js';
import { Bus, QosIncompatibleError, TopicNameError, TopicTypeError } from './bus.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, qos } from './qos.js';

const str = (data: string) => makeMsg('std_msgs/msg/String', { data });

describe('Bus', () => {
  it('delivers synchronously, by reference, to every subscriber, in publish order', () => {
    const bus = new Bus();
    const pub = bus.advertise('/chatter', 'std_msgs/msg/String');
    const a: string[] = [];
    const b: unknown[] = [];
    bus.subscribe('/chatter', 'std_msgs/msg/String').subscribe((m) => a.push(m.data));
    bus.subscribe('/chatter', 'std_msgs/msg/String').subscribe((m) => b.push(m));
    const m1 = str('one');
    pub.publish(m1);
    pub.publish(str('two'));
    expect(a).toEqual(['one', 'two']);
    expect(b[0]).toBe(m1); // zero copy
    expect(bus.topics()).toEqual([{ name: '/chatter', type: 'std_msgs/msg/String', publishers: 1, subscribers: 2, published: 2 }]);
  });

  it('a topic has one type: a second type is a TopicTypeError naming both', () => {
    const bus = new Bus();
    bus.advertise('/x', 'std_msgs/msg/String');
    expect(() => bus.subscribe('/x', 'sensor_msgs/msg/Imu')).toThrow(TopicTypeError);
    expect(() => bus.advertise('/x', 'sensor_msgs/msg/Imu')).toThrow(/topic '\/x' carries 'std_msgs\/msg\/String', not 'sensor_msgs\/msg\/Imu'/);
  });

  it('refuses names that are not absolute ROS 2 names', () => {
    const bus = new Bus();
    for (const bad of ['chatter', '/with space', '/9lives', '/a//b']) expect(() => bus.advertise(bad, 'std_msgs/msg/String')).toThrow(TopicNameError);
  });

  it('QoS: a reliable subscription does not match a best-effort publisher, in either order', () => {
    const bus = new Bus();
    bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
    expect(() => bus.subscribe('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_DEFAULT)).toThrow(QosIncompatibleError);
    expect(() => bus.subscribe('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA)).not.toThrow();
    const bus2 = new Bus();
    bus2.subscribe('/imu/data', 'sensor_msgs/msg/Imu', QOS_DEFAULT).subscribe(() => {});
    expect(() => bus2.advertise('/imu/data', 'sensor_msgs/msg/Imu', QOS_SENSOR_DATA)).toThrow(/RELIABLE but the publisher offers BEST_EFFORT/);
    // A best-effort subscription accepts a reliable publisher.
    expect(() => bus2.advertise('/imu/data', 'sensor_msgs/msg/Imu', QOS_DEFAULT)).not.toThrow();
  });

  it('QoS: a transient_local subscription needs a transient_local publisher', () => {
    const bus = new Bus();
    bus.advertise('/rules', 'kestrel_msgs/msg/RuleSet', QOS_DEFAULT);
    expect(() => bus.subscribe('/rules', 'kestrel_msgs/msg/RuleSet', QOS_LATCHED)).toThrow(/TRANSIENT_LOCAL but the publisher offers VOLATILE/);
  });

  it('transient_local: a late joiner gets the last `depth` messages, a volatile one gets none', () => {
    const bus = new Bus();
    const pub = bus.advertise('/intent', 'std_msgs/msg/String', qos({ depth: 2 }, QOS_LATCHED));
    pub.publish(str('a'));
    pub.publish(str('b'));
    pub.publish(str('c'));
    const late: string[] = [];
    bus.subscribe('/intent', 'std_msgs/msg/String', QOS_LATCHED).subscribe((m) => late.push(m.data));
    expect(late).toEqual(['c']); // subscription depth 1
    const late2: string[] = [];
    bus.subscribe('/intent', 'std_msgs/msg/String', qos({ depth: 5 }, QOS_LATCHED)).subscribe((m) => late2.push(m.data));
    expect(late2).toEqual(['b', 'c']); // publisher kept 2
    const vol: string[] = [];
    bus.subscribe('/intent', 'std_msgs/msg/String').subscribe((m) => vol.push(m.data));
    expect(vol).toEqual([]);
    pub.publish(str('d'));
    expect(vol).toEqual(['d']);
    expect(late).toEqual(['c', 'd']);
  });

  it('unsubscribing and closing update the graph; publish after close is an error', () => {
    const bus = new Bus();
    const pub = bus.advertise('/a', 'std_msgs/msg/String');
    let got = 0;
    const s = bus.subscribe('/a', 'std_msgs/msg/String').subscribe(() => got++);
    expect(bus.topics()[0].subscribers).toBe(1);
    pub.publish(str('1'));
    s.unsubscribe();
    pub.publish(str('2'));
    expect(got).toBe(1);
    expect(bus.topics()[0].subscribers).toBe(0);
    pub.close();
    expect(bus.topics()[0].publishers).toBe(0);
    expect(() => pub.publish(str('x'))).toThrow(/closed publisher/);
  });

  it('events(): every message on every topic while observed, nothing when not', () => {
    const bus = new Bus();
    const a = bus.advertise('/a', 'std_msgs/msg/String');
    const b = bus.advertise('/b', 'std_msgs/msg/String');
    a.publish(str('before'));
    const seen: string[] = [];
    const s = bus.events().subscribe((e) => seen.push(`${e.topic}:${(e.msg as { data: string }).data}`));
    a.publish(str('1'));
    b.publish(str('2'));
    s.unsubscribe();
    a.publish(str('after'));
    expect(seen).toEqual(['/a:1', '/b:2']);
  });
});
