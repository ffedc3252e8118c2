/**
 * Composes nodes in one process, like a ROS 2 component container: one bus, one clock,
 * one diagnostics registry. This is Kestrel's embedded (in-process) mode.
 */
import { Bus } from './bus.js';
import { SystemClock, type Clock } from './clock.js';
import { DiagnosticsRegistry } from './diagnostics.js';
import { Logger, consoleSink, type LogSink } from './log.js';
import { joinNs, type Remap } from './names.js';
import { createContext, ManagedNode, type NodeDefinition } from './node.js';
import { ComputeTracker, type LatencyModel } from './compute.js';
import { COMMON_PARAMS, resolveParams, type ParamDecls, type ParamOverride } from './params.js';

/** One node to start, as a launch file or the command line describes it. */
export interface NodeSpec {
  package: string;
  executable: string;
  name?: string;
  namespace?: string;
  /** Parameter overrides in effect for this node (files and inline values already merged, later wins). */
  params: ReadonlyMap<string, ParamOverride>;
  remaps: readonly Remap[];
  /** Where the spec came from (`launch/drone.launch.yaml:14`), for error messages. */
  source?: string;
}

export class UnknownExecutableError extends Error {
  constructor(spec: NodeSpec, known: string[]) {
    super(`${spec.source ? `${spec.source}: ` : ''}no Kestrel node named '${spec.executable}' (package '${spec.package}'); known: ${known.join(', ')}`);
    this.name = 'UnknownExecutableError';
  }
}

export interface ContainerOptions {
  clock?: Clock;
  bus?: Bus;
  registry: ReadonlyMap<string, NodeDefinition<ParamDecls>>;
  logSink?: LogSink;
  /** Under sim time: how heavy work is charged to the clock (default: as measured). */
  latency?: LatencyModel;
}

export class Container {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly diagnostics = new DiagnosticsRegistry();
  readonly log: Logger;
  readonly nodes: ManagedNode[] = [];
  /** Heavy work in flight; a replay driver waits on `compute.idle()` before advancing sim time. */
  readonly compute = new ComputeTracker();
  private readonly latency: LatencyModel | undefined;
  private readonly registry: ReadonlyMap<string, NodeDefinition<ParamDecls>>;
  private readonly sink: LogSink;

  constructor(o: ContainerOptions) {
    this.bus = o.bus ?? new Bus();
    this.clock = o.clock ?? new SystemClock();
    this.registry = o.registry;
    this.sink = o.logSink ?? consoleSink;
    this.latency = o.latency;
    this.log = new Logger('kestrel', () => this.clock.now(), this.sink);
  }

  /** Resolves the node's definition and parameters, then configures it. */
  async add(spec: NodeSpec): Promise<ManagedNode> {
    const def = this.registry.get(spec.executable);
    if (!def) throw new UnknownExecutableError(spec, [...this.registry.keys()]);
    let name = spec.name ?? def.name;
    let namespace = spec.namespace ?? '/';
    // `-r __node:=x` / `-r __ns:=/y` rename the node, as in ROS 2.
    for (const r of spec.remaps) {
      if (r.from === '__node' || r.from === '__name') name = r.to;
      if (r.from === '__ns') namespace = r.to;
    }
    const fqn = joinNs(namespace, name);
    const { values, unknown } = resolveParams(fqn, { ...COMMON_PARAMS, ...def.params }, spec.params);
    const log = new Logger(fqn, () => this.clock.now(), this.sink);
    if (unknown.length > 0) log.warn(`ignoring parameters not declared by '${def.name}': ${unknown.join(', ')}`);
    const ctx = createContext({ name, namespace, clock: this.clock, bus: this.bus, log, diag: this.diagnostics.forNode(fqn), diagnostics: this.diagnostics, remaps: spec.remaps, compute: { tracker: this.compute, latency: this.latency } });
    const node = new ManagedNode(def, ctx, values);
    await node.configure();
    this.nodes.push(node);
    return node;
  }

  async activateAll(): Promise<void> {
    for (const n of this.nodes) if (n.state === 'inactive') await n.activate();
  }

  /**
   * Shuts nodes down in reverse start order, so consumers stop before producers; nodes marked
   * `shutdownLast` (recorders) after all the others, so they see everything published until then.
   */
  async shutdownAll(): Promise<void> {
    const order = [...this.nodes].reverse();
    for (const n of [...order.filter((x) => !x.def.shutdownLast), ...order.filter((x) => x.def.shutdownLast)]) {
      try {
        await n.shutdown();
      } catch (e) {
        n.ctx.log.error(`shutdown failed: ${(e as Error).message}`);
      }
    }
  }
}
