/** The classic ROS 2 demo listener: logs every std_msgs/String it hears on `chatter`. */
import { defineNode, paramTopicDoc } from '../../runtime/node.js';
import { QOS_DEFAULT } from '../../runtime/qos.js';
import { p } from '../../runtime/params.js';

export const listener = defineNode({
  name: 'listener',
  description: 'Demo: logs std_msgs/String messages from chatter',
  params: {
    topic: p.string('chatter', 'Topic to listen on'),
    prefix: p.string('I heard', 'Text logged before each message'),
  },
  subscribes: [paramTopicDoc('topic', 'chatter', 'std_msgs/msg/String', QOS_DEFAULT, 'the greeting')],
  create(ctx, params) {
    const chatter = ctx.subscribe(params.topic, 'std_msgs/msg/String');
    return {
      activate: () => chatter.subscribe((m) => ctx.log.info(`${params.prefix}: [${m.data}]`)),
    };
  },
});
