/**
 * The one table of Kestrel's topics (uORB-style): name → message type → QoS → what it carries.
 *
 * Nodes advertise and subscribe by name through it (`ctx.advertise('/world')`), so the message type and the QoS
 * are written once and a node that expects another type fails `tsc`. Names are the defaults before namespaces and
 * remapping (a launch file may remap them; the type stays). Topics whose name is a parameter (a camera topic, the
 * demo's `chatter`) are not here: those nodes name the message type themselves.
 * docs/ARCHITECTURE.md prints this table; `kestrel topics <launch>` shows who uses what.
 */
import type { MsgTypeMap, MsgTypeName } from './generated/index.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from './qos.js';

export interface TopicSpec {
  readonly type: MsgTypeName;
  readonly qos: QoS;
  readonly description: string;
}

export const TOPICS = {
  // Sensors and ground truth (simulator, bag player)
  '/camera/image_raw': { type: 'sensor_msgs/msg/Image', qos: QOS_SENSOR_DATA, description: 'Camera frames (default of perception image_topic)' },
  '/camera/image_raw/compressed': { type: 'sensor_msgs/msg/CompressedImage', qos: QOS_SENSOR_DATA, description: 'jpeg/png camera frames (image_transport compressed)' },
  '/camera/labels': { type: 'kestrel_msgs/msg/LabelArray', qos: QOS_SENSOR_DATA, description: 'Simulator ground-truth boxes and ids, same stamp as the frame' },
  '/imu/data': { type: 'sensor_msgs/msg/Imu', qos: QOS_SENSOR_DATA, description: 'IMU (FLU body frame, ENU orientation)' },
  '/gps/fix': { type: 'sensor_msgs/msg/NavSatFix', qos: QOS_SENSOR_DATA, description: 'GPS fix' },
  '/sim/events': { type: 'kestrel_msgs/msg/ScenarioEvent', qos: QOS_LATCHED, description: 'Ground-truth scenario event states (latched; the simulator keeps them all)' },
  '/clock': { type: 'rosgraph_msgs/msg/Clock', qos: QOS_DEFAULT, description: 'Sim time (bag player)' },
  // Vehicle (flight controller over MAVLink, or the simulator)
  '/fc/state': { type: 'kestrel_msgs/msg/VehicleState', qos: QOS_DEFAULT, description: 'Flight-controller state in ENU; connected = false after heartbeat loss' },
  '/battery': { type: 'sensor_msgs/msg/BatteryState', qos: QOS_DEFAULT, description: 'Battery state' },
  '/cmd': { type: 'kestrel_msgs/msg/VehicleCommand', qos: QOS_DEFAULT, description: 'Arbiter decisions (ENU), each valid until valid_until' },
  '/cmd_vel': { type: 'geometry_msgs/msg/Twist', qos: QOS_DEFAULT, description: 'Body-frame velocity for ground robots' },
  // Perception → world → decisions
  '/detections': { type: 'vision_msgs/msg/Detection2DArray', qos: QOS_DEFAULT, description: 'Detections in source-image pixels; header.stamp = the frame stamp' },
  '/tracks': { type: 'kestrel_msgs/msg/TrackArray', qos: QOS_DEFAULT, description: 'Confirmed tracks; header.stamp = the source image stamp' },
  '/world': { type: 'kestrel_msgs/msg/WorldState', qos: QOS_DEFAULT, description: 'Fused world snapshot with input ages' },
  '/intent': { type: 'std_msgs/msg/String', qos: QOS_LATCHED, description: "The operator's intent in words (latched)" },
  '/scene/text': { type: 'std_msgs/msg/String', qos: QOS_DEFAULT, description: 'Scene text, untrusted (default of planner scene_text_topic)' },
  '/rules': { type: 'kestrel_msgs/msg/RuleSet', qos: QOS_LATCHED, description: 'The installed rules (latched)' },
  '/alerts': { type: 'kestrel_msgs/msg/AlertArray', qos: QOS_DEFAULT, description: 'Active alerts and their reactions' },
  '/plan': { type: 'kestrel_msgs/msg/Plan', qos: QOS_DEFAULT, description: 'Advisory plan from the LLM planner, with validity horizon' },
  '/diagnostics': { type: 'diagnostic_msgs/msg/DiagnosticArray', qos: QOS_DEFAULT, description: 'One status per node and per stage' },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof TOPICS;
/** The message type name a table topic carries. */
export type TopicTypeName<T extends TopicName> = (typeof TOPICS)[T]['type'];
/** The message a table topic carries. */
export type TopicMsg<T extends TopicName> = MsgTypeMap[TopicTypeName<T>];

export function isTopicName(name: string): name is TopicName {
  return Object.hasOwn(TOPICS, name);
}
