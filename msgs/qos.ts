/** ROS 2 QoS, the subset that matters to Kestrel's topics. Names follow rclcpp/rclnodejs. Here (not in runtime/) so the topic table can name them. */
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
