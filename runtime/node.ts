import type { Observable, Subscription } from 'rxjs';
import { makeMsg, type MsgTypeMap, type MsgTypeName, type std_msgs } from '../msgs/index.js';
import type { Bus, Publisher } from './bus.js';
import type { Clock } from './clock.js';
import type { DiagnosticsRegistry, NodeDiagnostics } from './diagnostics.js';
import type { Logger } from './log.js';
import { resolveTopic, joinNs, type Remap } from './names.js';
import type { ParamDecls, ParamValues } from './params.js';
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
  advertise<K extends MsgTypeName>(topic: string, type: K, qos?: QoS): Publisher<MsgTypeMap[K]>;
  subscribe<K extends MsgTypeName>(topic: string, type: K, qos?: QoS): Observable<MsgTypeMap[K]>;
  /** A header stamped now (or with `stamp`, to carry a source stamp through). */
  header(stamp?: Time, frameId?: string): std_msgs.Header;
  /**
   * Runs heavy work (inference, generation) as stage `stage`: measured, recorded in the
   * stage's latency, and under sim time charged to the clock (see runtime/compute.ts).
   */
  compute<T>(stage: string, fn: () => Promise<T>, unitsOf?: (value: T) => number): Promise<ComputeResult<T>>;
}

export interface TopicDoc {
  topic: string;
  type: MsgTypeName;
  description: string;
}

export type ActivateResult = Subscription | Subscription[] | void;

/** A configured node: activate starts its work, deactivate stops it (subscriptions returned by activate are disposed). */
export interface NodeInstance {
  activate?(): ActivateResult | Promise<ActivateResult>;
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
    advertise: (topic, type, qos = QOS_DEFAULT) => o.bus.advertise(resolve(topic), type, qos),
    subscribe: (topic, type, qos = QOS_DEFAULT) => o.bus.subscribe(resolve(topic), type, qos),
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

  async shutdown(): Promise<void> {
    if (this.state === 'finalized') return;
    if (this.state === 'active') await this.deactivate();
    await this.instance?.shutdown?.();
    this.setState('finalized');
  }
}
