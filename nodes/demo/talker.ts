/** The classic ROS 2 demo talker: publishes `<message>: <count>` on `chatter` at `rate_hz`. */
import { makeMsg } from '../../msgs/index.js';
import { every } from '../../runtime/clock.js';
import { defineNode, paramTopicDoc } from '../../runtime/node.js';
import { QOS_DEFAULT } from '../../runtime/qos.js';
import { p } from '../../runtime/params.js';

export const talker = defineNode({
  name: 'talker',
  description: 'Demo: publishes std_msgs/String "<message>: <n>" on chatter at a fixed rate',
  params: {
    rate_hz: p.double(1, 'Messages per second', { min: 0.01, max: 1000 }),
    message: p.dynamic(p.string('Hello World', 'Text before the counter')),
    topic: p.string('chatter', 'Topic to publish on (relative names follow the namespace)'),
  },
  publishes: [paramTopicDoc('topic', 'chatter', 'std_msgs/msg/String', QOS_DEFAULT, 'the greeting')],
  create(ctx, params) {
    const pub = ctx.advertise(params.topic, 'std_msgs/msg/String');
    let count = 0;
    return {
      activate: () =>
        every(ctx.clock, 1000 / params.rate_hz).subscribe(() => {
          count++;
          const msg = makeMsg('std_msgs/msg/String', { data: `${params.message}: ${count}` });
          ctx.log.info(`Publishing: '${msg.data}'`);
          pub.publish(msg);
        }),
      shutdown: () => pub.close(),
    };
  },
});
