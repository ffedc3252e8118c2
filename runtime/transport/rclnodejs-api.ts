/**
 * The subset of the rclnodejs 2.x API that Kestrel uses, typed. This is the contract:
 * the ROS 2 transport calls nothing else, and `test/fakes/rclnodejs` implements exactly
 * these names and signatures (docs/ros2.md lists them).
 *
 * rclnodejs itself is an optional peer dependency; it is never imported statically.
 */

/** `rclnodejs.Context`: one rcl init/shutdown scope (one per transport). */
export interface RclContext {
  isInitialized(): boolean;
}

export interface RclContextClass {
  new (): RclContext;
  defaultContext(): RclContext;
}

/** Numeric policies, as in rmw (`QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST` = 1, ...). */
export interface RclQoSPolicies {
  readonly HistoryPolicy: {
    readonly RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT: number;
    readonly RMW_QOS_POLICY_HISTORY_KEEP_LAST: number;
    readonly RMW_QOS_POLICY_HISTORY_KEEP_ALL: number;
  };
  readonly ReliabilityPolicy: {
    readonly RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT: number;
    readonly RMW_QOS_POLICY_RELIABILITY_RELIABLE: number;
    readonly RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number;
  };
  readonly DurabilityPolicy: {
    readonly RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT: number;
    readonly RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: number;
    readonly RMW_QOS_POLICY_DURABILITY_VOLATILE: number;
  };
}

export interface RclQoS {
  history: number;
  depth: number;
  reliability: number;
  durability: number;
}

/** `rclnodejs.QoS`: `new QoS(history, depth, reliability, durability)` plus the named profiles (strings). */
export interface RclQoSClass extends RclQoSPolicies {
  new (history?: number, depth?: number, reliability?: number, durability?: number, avoidRosNameSpaceConventions?: boolean): RclQoS;
  readonly profileDefault: string;
  readonly profileSystemDefault: string;
  readonly profileSensorData: string;
  readonly profileParameters: string;
}

/** Options of `createPublisher` / `createSubscription`. */
export interface RclEndpointOptions {
  qos?: RclQoS | string;
  enableTypedArray?: boolean;
}

export interface RclPublisher {
  publish(message: object): void;
}

/** Opaque: only handed back to `destroySubscription`. */
export type RclSubscription = object;

/** One entry of `node.getPublishersInfoByTopic()` / `getSubscriptionsInfoByTopic()`. */
export interface RclTopicEndpointInfo {
  node_name: string;
  node_namespace: string;
  topic_type: string;
  qos_profile: RclQoS;
}

/** `rclnodejs.ParameterType` (rcl_interfaces/msg/ParameterType values). */
export interface RclParameterTypes {
  readonly PARAMETER_NOT_SET: number;
  readonly PARAMETER_BOOL: number;
  readonly PARAMETER_INTEGER: number;
  readonly PARAMETER_DOUBLE: number;
  readonly PARAMETER_STRING: number;
  readonly PARAMETER_BYTE_ARRAY: number;
  readonly PARAMETER_BOOL_ARRAY: number;
  readonly PARAMETER_INTEGER_ARRAY: number;
  readonly PARAMETER_DOUBLE_ARRAY: number;
  readonly PARAMETER_STRING_ARRAY: number;
}

export type RclParameterValue = boolean | number | bigint | string | boolean[] | number[] | bigint[] | string[];

export interface RclParameter {
  readonly name: string;
  readonly type: number;
  readonly value: RclParameterValue;
}

/** `new rclnodejs.Parameter(name, type, value)` (an integer value becomes a bigint). */
export interface RclParameterClass {
  new (name: string, type: number, value: RclParameterValue): RclParameter;
}

/** `new rclnodejs.ParameterDescriptor(name, type, description, readOnly)`. */
export interface RclParameterDescriptorClass {
  new (name: string, type?: number, description?: string, readOnly?: boolean): object;
}

export interface RclNode {
  name(): string;
  namespace(): string;
  /** `typeClass` is the interface name, e.g. `'sensor_msgs/msg/Image'`. */
  createPublisher(typeClass: string, topic: string, options?: RclEndpointOptions): RclPublisher;
  createSubscription(typeClass: string, topic: string, options: RclEndpointOptions, callback: (message: object) => void): RclSubscription;
  destroyPublisher(publisher: RclPublisher): void;
  destroySubscription(subscription: RclSubscription): void;
  getTopicNamesAndTypes(): Array<{ name: string; types: string[] }>;
  getPublishersInfoByTopic(topic: string, noDemangle?: boolean): RclTopicEndpointInfo[];
  getSubscriptionsInfoByTopic(topic: string, noDemangle?: boolean): RclTopicEndpointInfo[];
  hasParameter(name: string): boolean;
  getParameter(name: string): RclParameter;
  declareParameter(parameter: RclParameter, descriptor?: object, ignoreOverride?: boolean): RclParameter;
  /** Starts processing this node's callbacks on the Node.js event loop. */
  spin(timeout?: number): void;
  destroy(): void;
}

export interface RclNodeClass {
  new (nodeName: string, namespace?: string, context?: RclContext): RclNode;
}

/** The module object (`(await import('rclnodejs')).default`). */
export interface Rclnodejs {
  init(context?: RclContext, argv?: string[]): Promise<void>;
  shutdown(context?: RclContext): void;
  isShutdown(context?: RclContext): boolean;
  /** Loads a generated interface class; throws when its package is not in the ROS 2 install. */
  require(name: string): unknown;
  /** A message with every field at its default. */
  createMessageObject(type: string): object;
  readonly Context: RclContextClass;
  readonly Node: RclNodeClass;
  readonly QoS: RclQoSClass;
  readonly Parameter: RclParameterClass;
  readonly ParameterType: RclParameterTypes;
  readonly ParameterDescriptor: RclParameterDescriptorClass;
}
