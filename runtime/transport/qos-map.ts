/**
 * Kestrel QoS ↔ rclnodejs QoS. The two named profiles that Kestrel's topics use map to
 * rclnodejs's profile strings (so `ros2 topic info -v` shows exactly rmw's sensor-data or
 * default profile); anything else becomes an explicit `new QoS(history, depth, reliability, durability)`.
 */
import { QOS_DEFAULT, QOS_SENSOR_DATA, type QoS } from '../qos.js';
import type { RclQoS, RclQoSClass, RclQoSPolicies } from './rclnodejs-api.js';

function same(a: QoS, b: QoS): boolean {
  return a.reliability === b.reliability && a.durability === b.durability && a.history === b.history && a.depth === b.depth;
}

export function toRclQoS(q: QoS, QoSClass: RclQoSClass): RclQoS | string {
  if (same(q, QOS_SENSOR_DATA)) return QoSClass.profileSensorData;
  if (same(q, QOS_DEFAULT)) return QoSClass.profileDefault;
  return new QoSClass(
    q.history === 'keep_all' ? QoSClass.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL : QoSClass.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    q.depth,
    q.reliability === 'best_effort'
      ? QoSClass.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT
      : QoSClass.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE,
    q.durability === 'transient_local'
      ? QoSClass.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL
      : QoSClass.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
  );
}

/** The rmw profiles behind rclnodejs's profile strings (rmw/qos_profiles.h). */
export function profileQoS(name: string): QoS | undefined {
  switch (name) {
    case 'qos_profile_sensor_data':
      return { ...QOS_SENSOR_DATA };
    case 'qos_profile_default':
    case 'qos_profile_system_default':
      return { ...QOS_DEFAULT };
    case 'qos_profile_parameters':
    case 'qos_profile_services_default':
      return { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: name === 'qos_profile_parameters' ? 1000 : 10 };
    case 'qos_profile_parameter_events':
      return { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1000 };
    default:
      return undefined;
  }
}

/** Numeric rclnodejs QoS → Kestrel QoS (system-default policies read as rclcpp's defaults). */
export function fromRclQoS(q: RclQoS | string, P: RclQoSPolicies): QoS {
  if (typeof q === 'string') {
    const p = profileQoS(q);
    if (!p) throw new Error(`unknown rclnodejs QoS profile '${q}'`);
    return p;
  }
  return {
    history: q.history === P.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL ? 'keep_all' : 'keep_last',
    depth: q.depth,
    reliability: q.reliability === P.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT ? 'best_effort' : 'reliable',
    durability: q.durability === P.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL ? 'transient_local' : 'volatile',
  };
}
