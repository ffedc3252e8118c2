/** ROS 2 QoS, the subset that matters to Kestrel's topics. Names follow rclcpp/rclnodejs. */
export interface QoS {
  reliability: 'reliable' | 'best_effort';
  durability: 'volatile' | 'transient_local';
  history: 'keep_last' | 'keep_all';
  depth: number;
}

/** rclcpp's default: reliable, volatile, keep last 10. */
export const QOS_DEFAULT: QoS = Object.freeze({ reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 });
/** rmw_qos_profile_sensor_data: best effort, keep last 5. Cameras, IMU, GPS. */
export const QOS_SENSOR_DATA: QoS = Object.freeze({ reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 5 });
/** Latched state (rules, mission, params): late joiners get the last value. */
export const QOS_LATCHED: QoS = Object.freeze({ reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 });

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
