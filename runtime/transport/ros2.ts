/**
 * The ROS 2 transport on rclnodejs: one rcl node per Kestrel process, one ROS publisher per
 * locally published topic and one ROS subscription per locally subscribed topic, QoS mapped
 * from Kestrel's. Messages cross as rclnodejs plain objects, whose shape (Time as {sec, nanosec},
 * typed arrays for numeric arrays with `enableTypedArray`, bigint for 64-bit ints) is mostly the
 * one Kestrel's generated types use; rcl-convert.ts handles where it is not (typed-array views,
 * int64 values and arrays).
 */
import { MsgRegistry, type MsgTypeName } from '../../msgs/index.js';
import type { NodeDiagnostics } from '../diagnostics.js';
import type { Logger } from '../log.js';
import type { ParamType, ParamValue } from '../params.js';
import type { QoS } from '../qos.js';
import { EchoFilter } from './echo-filter.js';
import { Ros2TypeError } from './load-rclnodejs.js';
import { toRclQoS } from './qos-map.js';
import { fromRclMessage, toRclMessage } from './rcl-convert.js';
import type { Rclnodejs, RclContext, RclNode, RclPublisher, RclSubscription } from './rclnodejs-api.js';
import { argvForRcl } from './ros-argv.js';
import type { OutBridge, Transport } from './transport.js';

export interface Ros2TransportOptions {
  rcl: Rclnodejs;
  /** The Kestrel node's resolved name and namespace: the rcl node carries them in the ROS graph. */
  nodeName: string;
  namespace?: string;
  /** The process's command line; its `--ros-args` (minus topic remaps, see ros-argv.ts) go to `rclnodejs.init`. */
  argv?: readonly string[];
  log?: Logger;
  /** Bridge errors and echo counts are reported here. */
  diag?: NodeDiagnostics;
  /** Message definitions, to convert fields rclnodejs handles differently (default: Kestrel's msgs/). */
  registry?: MsgRegistry;
}

interface OutEntry {
  pub: RclPublisher;
  refs: number;
  /** Last messages of a transient_local topic, to recognise them if our own subscription replays them. */
  history: unknown[];
  depth: number;
}

interface InEntry {
  sub: RclSubscription;
  refs: number;
  echo: EchoFilter;
  deliver: (msg: unknown) => void;
}

/** One Kestrel parameter, to show on the rcl node (`ros2 param list/get/describe`). */
export interface DeclaredParam {
  name: string;
  type: ParamType;
  value: ParamValue;
  description: string;
}

export interface Ros2BridgeStats {
  sent: number;
  received: number;
  echoesDropped: number;
  errors: number;
}

export class Ros2Transport implements Transport {
  readonly kind = 'ros2' as const;
  private readonly outs = new Map<string, OutEntry>();
  private readonly ins = new Map<string, InEntry>();
  private readonly knownTypes = new Map<string, string | undefined>();
  private readonly reported = new Set<string>();
  private closed = false;
  private readonly registry: MsgRegistry;
  readonly stats: Ros2BridgeStats = { sent: 0, received: 0, echoesDropped: 0, errors: 0 };

  private constructor(
    readonly rcl: Rclnodejs,
    readonly context: RclContext,
    readonly node: RclNode,
    private readonly o: Ros2TransportOptions,
  ) {
    this.registry = o.registry ?? new MsgRegistry();
  }

  /** `rclnodejs.init(new Context(), argv)`, then `new Node(name, namespace, context)` and `node.spin()`. */
  static async create(o: Ros2TransportOptions): Promise<Ros2Transport> {
    const context = new o.rcl.Context();
    await o.rcl.init(context, ['kestrel', ...argvForRcl(o.argv ?? [])]);
    let node: RclNode;
    try {
      const ns = o.namespace === undefined || o.namespace === '' ? '/' : o.namespace;
      node = new o.rcl.Node(o.nodeName, ns, context);
      node.spin();
    } catch (e) {
      o.rcl.shutdown(context);
      throw e;
    }
    return new Ros2Transport(o.rcl, context, node, o);
  }

  checkType(type: MsgTypeName, topic: string): void {
    let problem = this.knownTypes.get(type);
    if (!this.knownTypes.has(type)) {
      try {
        this.rcl.require(type);
        problem = undefined;
      } catch (e) {
        problem = (e as Error).message;
      }
      this.knownTypes.set(type, problem);
    }
    if (problem !== undefined) throw new Ros2TypeError(type, type.split('/')[0], topic, problem);
  }

  bridgeOut(topic: string, type: MsgTypeName, qos: QoS): OutBridge {
    this.checkType(type, topic);
    let e = this.outs.get(topic);
    if (!e) {
      const pub = this.node.createPublisher(type, topic, { qos: toRclQoS(qos, this.rcl.QoS) });
      e = { pub, refs: 0, history: [], depth: qos.durability === 'transient_local' ? qos.depth : 0 };
      this.outs.set(topic, e);
    }
    e.refs++;
    const entry = e;
    let open = true;
    return {
      publish: (msg) => {
        if (!this.alive()) return;
        if (entry.depth > 0) {
          entry.history.push(msg);
          if (entry.history.length > entry.depth) entry.history.shift();
        }
        this.ins.get(topic)?.echo.noteSent(msg);
        try {
          entry.pub.publish(toRclMessage(this.registry, type, msg) as object);
          this.stats.sent++;
        } catch (err) {
          // A bad message must not reach the control loop as an exception: count and report it.
          this.fail(`publish on '${topic}' (${type})`, err);
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        if (--entry.refs === 0) {
          this.outs.delete(topic);
          if (this.alive()) this.node.destroyPublisher(entry.pub);
        }
      },
    };
  }

  bridgeIn(topic: string, type: MsgTypeName, qos: QoS, deliver: (msg: unknown) => void): () => void {
    this.checkType(type, topic);
    let e = this.ins.get(topic);
    if (!e) {
      const echo = new EchoFilter();
      // Latched messages we already sent will be replayed to our own new subscription.
      for (const m of this.outs.get(topic)?.history ?? []) echo.noteSent(m);
      const entry: InEntry = { sub: {}, refs: 0, echo, deliver };
      entry.sub = this.node.createSubscription(type, topic, { qos: toRclQoS(qos, this.rcl.QoS), enableTypedArray: true }, (raw) => {
        if (this.closed) return;
        let m: unknown;
        try {
          m = fromRclMessage(this.registry, type, raw);
        } catch (err) {
          this.fail(`conversion of '${topic}' (${type})`, err);
          return;
        }
        if (entry.echo.isEcho(m)) {
          this.stats.echoesDropped++;
          return;
        }
        this.stats.received++;
        try {
          entry.deliver(m);
        } catch (err) {
          this.fail(`delivery of '${topic}' (${type})`, err);
        }
      });
      e = entry;
      this.ins.set(topic, e);
    }
    e.refs++;
    const entry = e;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      if (--entry.refs === 0) {
        this.ins.delete(topic);
        if (this.alive()) this.node.destroySubscription(entry.sub);
      }
    };
  }

  /**
   * Declares the node's resolved parameters on the rcl node, read-only (Kestrel reads parameters at
   * configure time; a `ros2 param set` is refused rather than silently ignored). Names rcl already has
   * (use_sim_time) are skipped. Returns the parameters that could not be declared, with why
   * (e.g. an empty array, which rclnodejs does not accept); they are logged, not fatal.
   */
  declareParameters(params: readonly DeclaredParam[]): string[] {
    const T = this.rcl.ParameterType;
    const typeOf: Record<ParamType, number> = {
      bool: T.PARAMETER_BOOL,
      int: T.PARAMETER_INTEGER,
      double: T.PARAMETER_DOUBLE,
      string: T.PARAMETER_STRING,
      'bool[]': T.PARAMETER_BOOL_ARRAY,
      'int[]': T.PARAMETER_INTEGER_ARRAY,
      'double[]': T.PARAMETER_DOUBLE_ARRAY,
      'string[]': T.PARAMETER_STRING_ARRAY,
    };
    const skipped: string[] = [];
    for (const p of params) {
      if (this.node.hasParameter(p.name)) continue;
      try {
        if (Array.isArray(p.value) && p.value.length === 0) throw new Error('empty arrays cannot be ROS 2 parameter values');
        const type = typeOf[p.type];
        const value = p.type === 'int[]' ? (p.value as number[]).map((v) => BigInt(v)) : p.value;
        const param = new this.rcl.Parameter(p.name, type, value);
        this.node.declareParameter(param, new this.rcl.ParameterDescriptor(p.name, type, p.description, true), true);
      } catch (e) {
        skipped.push(`${p.name}: ${(e as Error).message}`);
      }
    }
    if (skipped.length > 0) this.o.log?.warn(`parameters not shown to ROS 2: ${skipped.join('; ')}`);
    return skipped;
  }

  /** False once closed, or once rclnodejs's own SIGINT handler has shut the context down. */
  private alive(): boolean {
    return !this.closed && !this.rcl.isShutdown(this.context);
  }

  /** Topics this process bridges, as the ROS graph sees them. */
  bridged(): { out: string[]; in: string[] } {
    return { out: [...this.outs.keys()].sort(), in: [...this.ins.keys()].sort() };
  }

  private fail(what: string, err: unknown): void {
    this.stats.errors++;
    const msg = `ros2 bridge: ${what} failed: ${(err as Error)?.message ?? String(err)}`;
    this.o.diag?.stage('ros2_bridge').error(new Error(msg));
    if (this.o.diag) this.o.diag.values.ros2_bridge_errors = String(this.stats.errors);
    // Log a failing topic once; the count keeps growing in diagnostics.
    if (!this.reported.has(what)) {
      this.reported.add(what);
      this.o.log?.error(msg);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // rclnodejs's own SIGINT handler may have shut the context down already (and its nodes with it).
    if (this.rcl.isShutdown(this.context)) return;
    try {
      this.node.destroy();
    } finally {
      this.rcl.shutdown(this.context);
    }
  }
}
