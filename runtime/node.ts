import type { Observable, Subscription } from 'rxjs';
import { makeMsg, type MsgTypeMap, type MsgTypeName, type std_msgs } from '../msgs/index.js';
import { TOPICS, type TopicMsg, type TopicName, type TopicTypeName } from '../msgs/topics.js';
import { TopicTypeError, type Bus, type Publisher } from './bus.js';
import type { Clock } from './clock.js';
import type { DiagnosticsRegistry, NodeDiagnostics } from './diagnostics.js';
import type { Logger } from './log.js';
import { resolveTopic, joinNs, type Remap } from './names.js';
import { checkParam, COMMON_PARAMS, ParamError, type ParamDecls, type ParamOverride, type ParamValue, type ParamValues } from './params.js';
import { QOS_DEFAULT, type QoS } from './qos.js';
import type { Time } from './time.js';
import { runCompute, type ComputeResult, type ComputeTracker, type LatencyModel } from './compute.js';

/** What a node sees of the process: its names, the clock, the bus (through remapping), its diagnostics. */
export interface NodeContext {
  readonly name: string;
  readonly namespace: string;
  /** Fully qualified name, e.g. /drone1/perception. */
  readonly fqn: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly diag: NodeDiagnostics;
  /** Every node's diagnostics in this process (set by Container); only the diagnostics node reads it. */
  readonly diagnostics?: DiagnosticsRegistry;
  readonly bus: Bus;
  /** Topic name after namespace expansion and remapping. */
  resolve(topic: string): string;
  /** A topic of the table (msgs/topics.ts): its message type and QoS come from there (`qos` overrides, e.g. a deeper history). */
  advertise<T extends TopicName>(topic: T, qos?: QoS): Publisher<TopicMsg<T>>;
  /** A topic named by a parameter (not in the table): the node names the type. A table name here must carry the table's type. */
  advertise<S extends string, K extends MsgTypeName>(topic: S, type: TypeFor<S, K>, qos?: QoS): Publisher<MsgFor<S, K>>;
  subscribe<T extends TopicName>(topic: T, qos?: QoS): Observable<TopicMsg<T>>;
  subscribe<S extends string, K extends MsgTypeName>(topic: S, type: TypeFor<S, K>, qos?: QoS): Observable<MsgFor<S, K>>;
  /** A header stamped now (or with `stamp`, to carry a source stamp through). */
  header(stamp?: Time, frameId?: string): std_msgs.Header;
  /**
   * Runs heavy work (inference, generation) as stage `stage`: measured, recorded in the
   * stage's latency, and under sim time charged to the clock (see runtime/compute.ts).
   */
  compute<T>(stage: string, fn: () => Promise<T>, unitsOf?: (value: T) => number): Promise<ComputeResult<T>>;
}

/** For the string form of advertise/subscribe: a table topic's name fixes its type; any other name takes the given one. */
export type TypeFor<S extends string, K extends MsgTypeName> = S extends TopicName ? TopicTypeName<S> : K;
export type MsgFor<S extends string, K extends MsgTypeName> = S extends TopicName ? TopicMsg<S> : MsgTypeMap[K];

/** A topic a node publishes or subscribes, as `kestrel topics`/`kestrel node` and the docs show it. */
export interface TopicDoc {
  /** The default name (before namespace and remapping). */
  topic: string;
  type: MsgTypeName;
  /** Default: QOS_DEFAULT. */
  qos?: QoS;
  description: string;
  /** Where the name is a string parameter (e.g. `image_topic`): the parameter, whose value replaces `topic`. */
  param?: string;
  /** The name this node uses with these parameter values (undefined: not used with them); without it, `topic`. */
  at?: (params: Readonly<Record<string, ParamValue>>) => string | undefined;
}

/**
 * The declared-topic entry of a table topic: type and QoS from msgs/topics.ts, the note says this node's use of it;
 * `when` for a topic used only with some parameter values.
 */
export function topicDoc(topic: TopicName, note?: string, when?: (params: Readonly<Record<string, ParamValue>>) => boolean): TopicDoc {
  const t = TOPICS[topic];
  const doc: TopicDoc = { topic, type: t.type, qos: t.qos, description: note ?? t.description };
  return when ? { ...doc, at: (p) => (when(p) ? topic : undefined) } : doc;
}

/** The declared-topic entry of a topic whose name is the string parameter `param` (its default is `topic`). */
export function paramTopicDoc(param: string, topic: string, type: MsgTypeName, qos: QoS, description: string): TopicDoc {
  return { topic, type, qos, description, param, at: (p) => String(p[param]) };
}

export type ActivateResult = Subscription | Subscription[] | void;

/** A configured node: activate starts its work, deactivate stops it (subscriptions returned by activate are disposed). */
export interface NodeInstance {
  activate?(): ActivateResult | Promise<ActivateResult>;
  /** After `kestrel param set` changed these dynamic parameters (already in the params object): re-read them. */
  paramsChanged?(names: readonly string[]): void;
  deactivate?(): void | Promise<void>;
  shutdown?(): void | Promise<void>;
}

export interface NodeDefinition<D extends ParamDecls = ParamDecls> {
  /** Executable name used in launch files (`exec="perception"`) and default node name. */
  readonly name: string;
  readonly description: string;
  readonly params: D;
  readonly publishes?: readonly TopicDoc[];
  readonly subscribes?: readonly TopicDoc[];
  /**
   * Shut down after every other node (a bag recorder): it keeps recording what the others
   * publish while they stop, and closes only once they have.
   */
  readonly shutdownLast?: boolean;
  /** `configure`: load models, open ports, create publishers. May fail with a clear error. */
  create(ctx: NodeContext, params: ParamValues<D>): NodeInstance | Promise<NodeInstance>;
}

/** Identity helper that keeps the parameter types inferred. */
export function defineNode<D extends ParamDecls>(def: NodeDefinition<D>): NodeDefinition<D> {
  return def;
}

export interface ContextOptions {
  name: string;
  namespace: string;
  clock: Clock;
  bus: Bus;
  log: Logger;
  diag: NodeDiagnostics;
  remaps: readonly Remap[];
  /** The process-wide registry, for the diagnostics node. */
  diagnostics?: DiagnosticsRegistry;
  compute?: { tracker?: ComputeTracker; latency?: LatencyModel };
}

/** Type and QoS of an advertise/subscribe call: from the table for `(topic, qos?)`, as given for `(topic, type, qos?)`. */
function endpoint(topic: string, typeOrQos: MsgTypeName | QoS | undefined, qos: QoS | undefined): [MsgTypeName, QoS] {
  const t = (TOPICS as Record<string, { type: MsgTypeName; qos: QoS } | undefined>)[topic];
  if (typeof typeOrQos === 'string') {
    // tsc refuses this for literal names; a name from a parameter is checked here.
    if (t && t.type !== typeOrQos) throw new TopicTypeError(topic, t.type, typeOrQos);
    return [typeOrQos, qos ?? QOS_DEFAULT];
  }
  if (!t) throw new Error(`topic '${topic}' is not in msgs/topics.ts: name its message type`);
  return [t.type, typeOrQos ?? t.qos];
}

export function createContext(o: ContextOptions): NodeContext {
  const resolve = (topic: string): string => resolveTopic(topic, o.namespace, o.name, o.remaps);
  return {
    name: o.name,
    namespace: o.namespace,
    fqn: joinNs(o.namespace, o.name),
    clock: o.clock,
    log: o.log,
    diag: o.diag,
    diagnostics: o.diagnostics,
    bus: o.bus,
    resolve,
    advertise: ((topic: string, typeOrQos?: MsgTypeName | QoS, qos?: QoS) => {
      const [type, q] = endpoint(topic, typeOrQos, qos);
      return o.bus.advertise(resolve(topic), type, q);
    }) as NodeContext['advertise'],
    subscribe: ((topic: string, typeOrQos?: MsgTypeName | QoS, qos?: QoS) => {
      const [type, q] = endpoint(topic, typeOrQos, qos);
      return o.bus.subscribe(resolve(topic), type, q);
    }) as NodeContext['subscribe'],
    header: (stamp, frameId = '') => makeMsg('std_msgs/msg/Header', { stamp: stamp ?? o.clock.stamp(), frame_id: frameId }),
    compute: async (stage, fn, unitsOf) => {
      const r = await runCompute(o.clock, o.compute?.tracker, o.compute?.latency, stage, fn, unitsOf);
      o.diag.stage(stage).record(r.chargedMs);
      return r;
    },
  };
}

export type LifecycleState = 'unconfigured' | 'inactive' | 'active' | 'finalized';

export class LifecycleError extends Error {
  constructor(node: string, from: LifecycleState, transition: string) {
    super(`node '${node}': cannot ${transition} from state ${from}`);
    this.name = 'LifecycleError';
  }
}

/** A node under ROS 2 managed-node rules: configure → activate ⇄ deactivate → shutdown. */
export class ManagedNode<D extends ParamDecls = ParamDecls> {
  private instance: NodeInstance | undefined;
  private subs: Subscription[] = [];
  state: LifecycleState = 'unconfigured';

  constructor(
    readonly def: NodeDefinition<D>,
    readonly ctx: NodeContext,
    readonly params: ParamValues<D>,
  ) {}

  private setState(s: LifecycleState): void {
    this.state = s;
    this.ctx.diag.state = s;
  }

  async configure(): Promise<void> {
    if (this.state !== 'unconfigured') throw new LifecycleError(this.ctx.fqn, this.state, 'configure');
    this.instance = await this.def.create(this.ctx, this.params);
    this.setState('inactive');
  }

  async activate(): Promise<void> {
    if (this.state !== 'inactive') throw new LifecycleError(this.ctx.fqn, this.state, 'activate');
    const r = await this.instance?.activate?.();
    this.subs = r === undefined ? [] : Array.isArray(r) ? r : [r];
    this.setState('active');
  }

  async deactivate(): Promise<void> {
    if (this.state !== 'active') throw new LifecycleError(this.ctx.fqn, this.state, 'deactivate');
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    await this.instance?.deactivate?.();
    this.setState('inactive');
  }

  /**
   * Changes a declared dynamic parameter while the node runs: checked as a params file value would be
   * (ParamError naming `o.source`), written into the params object, then the node's `paramsChanged` runs.
   */
  setParam(key: string, o: ParamOverride): ParamValue {
    const decls: ParamDecls = { ...COMMON_PARAMS, ...this.def.params };
    const decl = Object.hasOwn(decls, key) ? decls[key] : undefined;
    if (!decl) throw new ParamError(this.ctx.fqn, key, o.source, `not declared (declared: ${Object.keys(decls).join(', ')})`);
    if (!decl.dynamic || decl.group) throw new ParamError(this.ctx.fqn, key, o.source, 'read-only while the node runs (not declared dynamic); set it in a params file or with --ros-args -p');
    if (this.state === 'finalized') throw new ParamError(this.ctx.fqn, key, o.source, 'the node is finalized');
    const value = checkParam(this.ctx.fqn, key, decl, o);
    (this.params as Record<string, ParamValue>)[key] = value;
    this.instance?.paramsChanged?.([key]);
    return value;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'finalized') return;
    if (this.state === 'active') await this.deactivate();
    await this.instance?.shutdown?.();
    this.setState('finalized');
  }
}
