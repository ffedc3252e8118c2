import { QOS_DEFAULT, type QoS } from '../msgs/qos.js';

export { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from '../msgs/qos.js';

export function qos(overrides: Partial<QoS> = {}, base: QoS = QOS_DEFAULT): QoS {
  return { ...base, ...overrides };
}

/**
 * The ROS 2 request/offer rule: a reliable subscription does not match a best-effort
 * publisher, nor a transient_local subscription a volatile publisher. Returns the reason, if any.
 */
export function qosIncompatibility(offered: QoS, requested: QoS): string | undefined {
  if (requested.reliability === 'reliable' && offered.reliability === 'best_effort') {
    return 'subscription requests RELIABLE but the publisher offers BEST_EFFORT';
  }
  if (requested.durability === 'transient_local' && offered.durability === 'volatile') {
    return 'subscription requests TRANSIENT_LOCAL but the publisher offers VOLATILE';
  }
  return undefined;
}
