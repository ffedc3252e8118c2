/**
 * An in-memory rclnodejs: the subset of the rclnodejs 2.x API that Kestrel's ROS 2 transport
 * uses (runtime/transport/rclnodejs-api.ts), with the same names, signatures and behaviour
 * that matter: contexts initialised by `init(context, argv)` with `--ros-args` remaps applied
 * by "rcl" (node name, namespace, topics), nodes that only run callbacks once spinning,
 * asynchronous delivery, ROS 2 QoS request/offer matching, keep-last queues, transient-local
 * history for late joiners, a node's own publications delivered to its own subscriptions,
 * and `require()` failing for interface packages that are not "installed".
 *
 * Messages cross the fake wire as CDR (Kestrel's codec), so every subscriber gets its own
 * copy and a malformed message fails at publish, as with the real middleware.
 * One `createFakeRclnodejs()` is one ROS domain: every context created from it sees the others.
 */
import { MsgRegistry, normalizeTypeName } from '../../../msgs/index.js';
import { PRIMITIVES } from '../../../msgs/parse.js';
import { expandName, joinNs } from '../../../runtime/names.js';
import { qosIncompatibility, type QoS as KQoS } from '../../../runtime/qos.js';
import { fromRclQoS } from '../../../runtime/transport/qos-map.js';
import type {
  RclContext,
  RclEndpointOptions,
  RclNode,
  RclParameter,
  RclParameterValue,
  RclPublisher,
  RclQoS,
  RclSubscription,
  RclTopicEndpointInfo,
  Rclnodejs,
} from '../../../runtime/transport/rclnodejs-api.js';

const HistoryPolicy = Object.freeze({
  RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1,
  RMW_QOS_POLICY_HISTORY_KEEP_ALL: 2,
  RMW_QOS_POLICY_HISTORY_UNKNOWN: 3,
});
const ReliabilityPolicy = Object.freeze({
  RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1,
  RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2,
});
const DurabilityPolicy = Object.freeze({
  RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 1,
  RMW_QOS_POLICY_DURABILITY_VOLATILE: 2,
});

/** `rclnodejs.QoS`, same constructor, enums and profile strings. */
export class QoS implements RclQoS {
  constructor(
    public history: number = HistoryPolicy.RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT,
    public depth = 0,
    public reliability: number = ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT,
    public durability: number = DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT,
    public avoidRosNameSpaceConventions = false,
  ) {}
  static get HistoryPolicy(): typeof HistoryPolicy {
    return HistoryPolicy;
  }
  static get ReliabilityPolicy(): typeof ReliabilityPolicy {
    return ReliabilityPolicy;
  }
  static get DurabilityPolicy(): typeof DurabilityPolicy {
    return DurabilityPolicy;
  }
  static get profileDefault(): string {
    return 'qos_profile_default';
  }
  static get profileSystemDefault(): string {
    return 'qos_profile_system_default';
  }
  static get profileSensorData(): string {
    return 'qos_profile_sensor_data';
  }
  static get profileServicesDefault(): string {
    return 'qos_profile_services_default';
  }
  static get profileParameters(): string {
    return 'qos_profile_parameters';
  }
  static get profileParameterEvents(): string {
    return 'qos_profile_parameter_events';
  }
}

const P = { HistoryPolicy, ReliabilityPolicy, DurabilityPolicy };

/** `rclnodejs.ParameterType`. */
export const ParameterType = Object.freeze({
  PARAMETER_NOT_SET: 0,
  PARAMETER_BOOL: 1,
  PARAMETER_INTEGER: 2,
  PARAMETER_DOUBLE: 3,
  PARAMETER_STRING: 4,
  PARAMETER_BYTE_ARRAY: 5,
  PARAMETER_BOOL_ARRAY: 6,
  PARAMETER_INTEGER_ARRAY: 7,
  PARAMETER_DOUBLE_ARRAY: 8,
  PARAMETER_STRING_ARRAY: 9,
});

function validParamValue(type: number, v: unknown): boolean {
  const all = (pred: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length > 0 && v.every(pred);
  switch (type) {
    case ParameterType.PARAMETER_BOOL:
      return typeof v === 'boolean';
    case ParameterType.PARAMETER_INTEGER:
      return typeof v === 'bigint';
    case ParameterType.PARAMETER_DOUBLE:
      return typeof v === 'number';
    case ParameterType.PARAMETER_STRING:
      return typeof v === 'string';
    case ParameterType.PARAMETER_BOOL_ARRAY:
      return all((x) => typeof x === 'boolean');
    case ParameterType.PARAMETER_INTEGER_ARRAY:
      return all((x) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x)));
    case ParameterType.PARAMETER_DOUBLE_ARRAY:
      return all((x) => typeof x === 'number');
    case ParameterType.PARAMETER_STRING_ARRAY:
      return all((x) => typeof x === 'string');
    default:
      return false;
  }
}

/** `rclnodejs.Parameter`: validated on construction; an integer value becomes a bigint. */
export class Parameter implements RclParameter {
  readonly value: RclParameterValue;
  constructor(readonly name: string, readonly type: number, value: RclParameterValue) {
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('Invalid name');
    this.value = type === ParameterType.PARAMETER_INTEGER ? BigInt(value as number) : value;
    if (!validParamValue(type, this.value)) throw new TypeError('Incompatible value.');
  }
}

/** `rclnodejs.ParameterDescriptor` (the fields the fake keeps). */
export class ParameterDescriptor {
  constructor(
    readonly name: string,
    readonly type: number = ParameterType.PARAMETER_NOT_SET,
    readonly description = 'no description',
    readonly readOnly = false,
  ) {}
}

/** A `-p name:=value` override typed like rcl (bool, integer, double, else string). */
function overrideParameter(name: string, text: string): Parameter {
  if (/^(true|false)$/i.test(text)) return new Parameter(name, ParameterType.PARAMETER_BOOL, /^true$/i.test(text));
  if (/^[+-]?\d+$/.test(text)) return new Parameter(name, ParameterType.PARAMETER_INTEGER, BigInt(text));
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(text)) return new Parameter(name, ParameterType.PARAMETER_DOUBLE, Number(text));
  return new Parameter(name, ParameterType.PARAMETER_STRING, text);
}

function toNumeric(q: QoS | RclQoS | string | undefined): { kestrel: KQoS; rcl: RclQoS } {
  const k = fromRclQoS(q ?? QoS.profileDefault, P);
  return {
    kestrel: k,
    rcl: {
      history: k.history === 'keep_all' ? HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL : HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
      depth: k.depth,
      reliability: k.reliability === 'best_effort' ? ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT : ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE,
      durability: k.durability === 'transient_local' ? DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL : DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
    },
  };
}

/**
 * Topics every rcl node publishes on its own (rcl's rosout logger, the parameter service's
 * events), so they appear in every real graph query; with the QoS the middleware reports.
 */
const NODE_TOPICS: ReadonlyArray<{ name: string; type: string; durability: number }> = [
  { name: '/parameter_events', type: 'rcl_interfaces/msg/ParameterEvent', durability: DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE },
  { name: '/rosout', type: 'rcl_interfaces/msg/Log', durability: DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL },
];

const NODE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Remap {
  node?: string;
  from: string;
  to: string;
}

/** What rcl keeps from `--ros-args` (remaps and params); other flags are accepted and ignored. */
function parseGlobalArgs(argv: readonly string[]): { remaps: Remap[]; params: Map<string, string> } {
  const remaps: Remap[] = [];
  const params = new Map<string, string>();
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ros-args') {
      inRos = true;
      continue;
    }
    if (a === '--') {
      inRos = false;
      continue;
    }
    if (!inRos) continue;
    if (a === '-r' || a === '--remap' || a === '-p' || a === '--param') {
      const rule = argv[++i];
      if (rule === undefined || !rule.includes(':=')) throw new Error(`Failed to parse ROS arguments: '${a}' needs a 'from:=to' rule`);
      const [lhs, rhs] = [rule.slice(0, rule.indexOf(':=')), rule.slice(rule.indexOf(':=') + 2)];
      if (a === '-p' || a === '--param') {
        params.set(lhs, rhs);
        continue;
      }
      const colon = lhs.indexOf(':');
      remaps.push(colon > 0 ? { node: lhs.slice(0, colon), from: lhs.slice(colon + 1), to: rhs } : { from: lhs, to: rhs });
    } else if (a === '--params-file' || a === '--log-level' || a === '-e' || a === '--enclave') {
      i++;
    }
  }
  return { remaps, params };
}

/**
 * rclnodejs refuses a message whose fields have the wrong JS type (its typed setters throw);
 * absent fields take their defaults. The path in the error says which field.
 */
function checkMessage(registry: MsgRegistry, type: string, msg: unknown, path: string): void {
  if (msg === null || typeof msg !== 'object') throw new TypeError(`${path}: expected an object of type ${type}, got ${typeof msg}`);
  for (const f of registry.fieldsOf(type)) {
    if (f.isConstant) continue;
    const v = (msg as Record<string, unknown>)[f.name];
    if (v === undefined) continue;
    const at = `${path}.${f.name}`;
    const one = (x: unknown, where: string): void => {
      if (!PRIMITIVES.has(f.type)) return checkMessage(registry, f.type, x, where);
      const ok =
        f.type === 'string' || f.type === 'wstring' ? typeof x === 'string'
        : f.type === 'bool' ? typeof x === 'boolean'
        // rclnodejs's int64/uint64 setters take only bigint (a number throws); array elements are
        // written through ref-array, which takes either.
        : f.type === 'int64' || f.type === 'uint64' ? typeof x === 'bigint' || (where !== at && typeof x === 'number')
        : typeof x === 'number';
      if (!ok) throw new TypeError(`${where}: expected ${f.type}, got ${typeof x} (${String(x)})`);
    };
    if (!f.isArray) {
      one(v, at);
    } else if (ArrayBuffer.isView(v)) {
      if (!PRIMITIVES.has(f.type) || f.type.includes('string') || f.type === 'bool') throw new TypeError(`${at}: a typed array cannot hold ${f.type}`);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => one(x, `${at}[${i}]`));
    } else {
      throw new TypeError(`${at}: expected an array of ${f.type}, got ${typeof v}`);
    }
    const n = (v as { length?: number }).length;
    if (f.isArray && f.arrayLength !== undefined && n !== f.arrayLength) throw new TypeError(`${at}: expected ${f.arrayLength} elements, got ${n}`);
  }
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };

/**
 * What rclnodejs actually puts on the wire for a message: it serializes a typed array as
 * `new Uint8Array(arr.buffer)`, i.e. the whole underlying buffer from offset 0, whatever the
 * view's byteOffset and length. A view into a larger buffer is sent with the wrong bytes.
 */
function asRclSerializes(registry: MsgRegistry, type: string, msg: unknown): unknown {
  if (msg === null || typeof msg !== 'object') return msg;
  const out: Record<string, unknown> = { ...(msg as Record<string, unknown>) };
  for (const f of registry.fieldsOf(type)) {
    const v = out[f.name];
    if (f.isConstant || v === undefined) continue;
    if (!PRIMITIVES.has(f.type)) {
      out[f.name] = f.isArray && Array.isArray(v) ? v.map((x) => asRclSerializes(registry, f.type, x)) : f.isArray ? v : asRclSerializes(registry, f.type, v);
    } else if (f.isArray && ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const C = v.constructor as TypedArrayCtor;
      out[f.name] = new C(v.buffer, 0, Math.floor(v.buffer.byteLength / C.BYTES_PER_ELEMENT));
    }
  }
  return out;
}

/** rclnodejs hands int64/uint64 arrays to callbacks as plain `number[]` (not BigInt64Array). */
function asRclDelivers(registry: MsgRegistry, type: string, msg: unknown): unknown {
  if (msg === null || typeof msg !== 'object') return msg;
  const out = msg as Record<string, unknown>;
  for (const f of registry.fieldsOf(type)) {
    const v = out[f.name];
    if (f.isConstant || v === undefined) continue;
    if (!PRIMITIVES.has(f.type)) {
      if (f.isArray && Array.isArray(v)) v.forEach((x) => asRclDelivers(registry, f.type, x));
      else if (!f.isArray) asRclDelivers(registry, f.type, v);
    } else if (f.isArray && (f.type === 'int64' || f.type === 'uint64') && v !== null && typeof v === 'object' && 'length' in v) {
      out[f.name] = Array.from(v as ArrayLike<bigint | number>, (x) => Number(x));
    }
  }
  return out;
}

export interface FakeRclnodejsOptions {
  /** Interface packages present in the fake ROS 2 install (default: every package in msgs/). */
  packages?: readonly string[];
  /** Message definitions the fake install knows (default: Kestrel's msgs/). */
  registry?: MsgRegistry;
}

/** The module plus test-only introspection of the fake domain. */
export interface FakeRclnodejs extends Rclnodejs {
  readonly QoS: typeof QoS;
  /** Every node alive in the domain, as `/ns/name`. */
  nodeNames(): string[];
}

interface Endpoint {
  node: FakeNodeImpl;
  topic: string;
  type: string;
  qos: KQoS;
  rclQos: RclQoS;
}

interface PubEndpoint extends Endpoint {
  history: Uint8Array[];
}

interface SubEndpoint extends Endpoint {
  queue: Uint8Array[];
  callback: (m: object) => void;
  destroyed: boolean;
}

// Classes are created per fake module instance so that separate fakes are separate domains.
type FakeNodeImpl = RclNode & { readonly ctx: FakeContextImpl; readonly destroyed: boolean; wake(): void };
type FakeContextImpl = RclContext & { state: 'new' | 'init' | 'shutdown'; remaps: Remap[]; params: Map<string, string>; nodes: Set<FakeNodeImpl> };

export function createFakeRclnodejs(o: FakeRclnodejsOptions = {}): FakeRclnodejs {
  const registry = o.registry ?? new MsgRegistry();
  const packages = new Set(o.packages ?? registry.types().map((t) => t.split('/')[0]));
  const pubs: PubEndpoint[] = [];
  const subs: SubEndpoint[] = [];
  const allNodes = new Set<FakeNodeImpl>();
  let defaultContext: FakeContextImpl | undefined;

  function loadInterface(name: string): string {
    const type = normalizeTypeName(name);
    const [pkg, kind, msg] = type.split('/');
    if (!packages.has(pkg) || kind !== 'msg' || !registry.has(type)) {
      throw new Error(`The message required does not exist: ${pkg}, ${kind}, ${msg} at ${'<fake>/generated'}`);
    }
    return type;
  }

  function matches(p: Endpoint, s: Endpoint): boolean {
    return p.topic === s.topic && p.type === s.type && qosIncompatibility(p.qos, s.qos) === undefined && s.node.ctx.state === 'init';
  }

  function enqueue(s: SubEndpoint, bytes: Uint8Array): void {
    s.queue.push(bytes);
    if (s.qos.history === 'keep_last' && s.queue.length > Math.max(1, s.qos.depth)) s.queue.shift();
    s.node.wake();
  }

  class Context implements FakeContextImpl {
    state: 'new' | 'init' | 'shutdown' = 'new';
    remaps: Remap[] = [];
    params = new Map<string, string>();
    nodes = new Set<FakeNodeImpl>();
    static defaultContext(): Context {
      defaultContext ??= new Context();
      return defaultContext as Context;
    }
    isInitialized(): boolean {
      return this.state === 'init';
    }
    isUninitialized(): boolean {
      return this.state === 'new';
    }
  }

  class Publisher implements RclPublisher {
    constructor(readonly ep: PubEndpoint) {}
    get topic(): string {
      return this.ep.topic;
    }
    publish(message: object): void {
      if (this.ep.node.destroyed) throw new Error('publish on a destroyed node');
      checkMessage(registry, this.ep.type, message, this.ep.type);
      const bytes = registry.encode(this.ep.type, asRclSerializes(registry, this.ep.type, message));
      if (this.ep.qos.durability === 'transient_local') {
        this.ep.history.push(bytes);
        if (this.ep.history.length > Math.max(1, this.ep.qos.depth)) this.ep.history.shift();
      }
      for (const s of subs) if (!s.destroyed && matches(this.ep, s)) enqueue(s, bytes);
    }
  }

  class Subscription {
    constructor(readonly ep: SubEndpoint) {}
    get topic(): string {
      return this.ep.topic;
    }
  }

  class Node implements FakeNodeImpl {
    readonly ctx: Context;
    private readonly nodeName: string;
    private readonly ns: string;
    private spinning = false;
    private scheduled = false;
    private readonly parameters = new Map<string, { param: Parameter; descriptor: ParameterDescriptor }>();
    destroyed = false;

    constructor(nodeName: string, namespace = '', context: RclContext = Context.defaultContext()) {
      if (typeof nodeName !== 'string' || typeof namespace !== 'string') throw new TypeError('Invalid argument.');
      const ctx = context as Context;
      if (!(ctx instanceof Context) || ctx.state !== 'init') throw new Error('the context is not initialized: call rclnodejs.init(context) first');
      let name = nodeName;
      let ns = namespace === '' ? '/' : namespace;
      for (const r of ctx.remaps) {
        if (r.node !== undefined && r.node !== nodeName) continue;
        if (r.from === '__node' || r.from === '__name') name = r.to;
        if (r.from === '__ns') ns = r.to;
      }
      if (!NODE_NAME_RE.test(name)) throw new Error(`Invalid node name '${name}': must match ${NODE_NAME_RE}`);
      if (!ns.startsWith('/')) throw new Error(`Invalid namespace '${ns}': must be absolute`);
      this.nodeName = name;
      this.ns = ns;
      this.ctx = ctx;
      ctx.nodes.add(this);
      allNodes.add(this);
      // As rclnodejs's TimeSource does on every node.
      const ust = ctx.params.get('use_sim_time');
      this.declareParameter(new Parameter('use_sim_time', ParameterType.PARAMETER_BOOL, ust !== undefined && /^true$/i.test(ust)));
    }

    hasParameter(name: string): boolean {
      return this.parameters.has(name);
    }

    getParameter(name: string): Parameter {
      const p = this.parameters.get(name);
      if (!p) throw new Error(`Parameter not declared: ${name}`);
      return p.param;
    }

    getParameterDescriptor(name: string): ParameterDescriptor {
      const p = this.parameters.get(name);
      if (!p) throw new Error(`Parameter not declared: ${name}`);
      return p.descriptor;
    }

    declareParameter(parameter: RclParameter, descriptor?: object, ignoreOverride = false): Parameter {
      this.check();
      if (!(parameter instanceof Parameter)) throw new TypeError('Invalid argument: expected a Parameter');
      if (this.parameters.has(parameter.name)) throw new Error(`Parameter ${parameter.name} already declared`);
      let param = parameter;
      const text = this.ctx.params.get(parameter.name);
      if (!ignoreOverride && text !== undefined) param = overrideParameter(parameter.name, text);
      const d = descriptor instanceof ParameterDescriptor ? descriptor : new ParameterDescriptor(param.name, param.type, 'Created from parameter.');
      if (d.type !== param.type) throw new Error('Type mismatch');
      this.parameters.set(param.name, { param, descriptor: d });
      return param;
    }

    name(): string {
      return this.nodeName;
    }
    namespace(): string {
      return this.ns;
    }

    /** rcl expansion (relative, `~`) then this context's remap rules, first match wins. */
    private resolve(topic: string): string {
      const full = expandName(topic, this.ns, this.nodeName);
      for (const r of this.ctx.remaps) {
        if (r.node !== undefined && r.node !== this.nodeName) continue;
        if (r.from.startsWith('__')) continue;
        if (expandName(r.from, this.ns, this.nodeName) === full) return expandName(r.to, this.ns, this.nodeName);
      }
      return full;
    }

    private check(): void {
      if (this.destroyed) throw new Error('the node has been destroyed');
    }

    createPublisher(typeClass: string, topic: string, options: RclEndpointOptions = {}): Publisher {
      this.check();
      const type = loadInterface(typeClass);
      if (typeof topic !== 'string') throw new TypeError('Invalid argument');
      const q = toNumeric(options.qos);
      const ep: PubEndpoint = { node: this, topic: this.resolve(topic), type, qos: q.kestrel, rclQos: q.rcl, history: [] };
      pubs.push(ep);
      return new Publisher(ep);
    }

    createSubscription(typeClass: string, topic: string, options: RclEndpointOptions | ((m: object) => void), callback?: (m: object) => void): Subscription {
      this.check();
      const type = loadInterface(typeClass);
      let opts: RclEndpointOptions = {};
      let cb = callback;
      if (typeof options === 'function') cb = options;
      else opts = options ?? {};
      if (typeof topic !== 'string' || typeof cb !== 'function') throw new TypeError('Invalid argument');
      const q = toNumeric(opts.qos);
      const ep: SubEndpoint = { node: this, topic: this.resolve(topic), type, qos: q.kestrel, rclQos: q.rcl, queue: [], callback: cb, destroyed: false };
      subs.push(ep);
      // Late joiner: transient-local publishers hand over their history.
      if (ep.qos.durability === 'transient_local') {
        for (const p of pubs) if (matches(p, ep)) for (const b of p.history) enqueue(ep, b);
      }
      return new Subscription(ep);
    }

    destroyPublisher(publisher: RclPublisher): void {
      if (!(publisher instanceof Publisher)) throw new TypeError('Invalid argument');
      const i = pubs.indexOf(publisher.ep);
      if (i >= 0) pubs.splice(i, 1);
    }

    destroySubscription(subscription: RclSubscription): void {
      if (!(subscription instanceof Subscription)) throw new TypeError('Invalid argument');
      subscription.ep.destroyed = true;
      const i = subs.indexOf(subscription.ep);
      if (i >= 0) subs.splice(i, 1);
    }

    getTopicNamesAndTypes(): Array<{ name: string; types: string[] }> {
      const byName = new Map<string, Set<string>>();
      if ([...allNodes].some((n) => n.ctx.state === 'init')) for (const t of NODE_TOPICS) byName.set(t.name, new Set([t.type]));
      for (const e of [...pubs, ...subs]) {
        if (e.node.ctx.state !== 'init') continue;
        if (!byName.has(e.topic)) byName.set(e.topic, new Set());
        byName.get(e.topic)?.add(e.type);
      }
      return [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, types]) => ({ name, types: [...types] }));
    }

    private info(list: Endpoint[], topic: string): RclTopicEndpointInfo[] {
      const full = expandName(topic, this.ns, this.nodeName);
      return list
        .filter((e) => e.topic === full && e.node.ctx.state === 'init')
        // As Fast DDS (rmw_fastrtps_cpp) reports a discovered endpoint: history and depth are not
        // part of DDS discovery data, so they come back unknown / 0; rclnodejs passes them through.
        .map((e) => ({
          node_name: e.node.name(),
          node_namespace: e.node.namespace(),
          topic_type: e.type,
          qos_profile: { ...e.rclQos, history: HistoryPolicy.RMW_QOS_POLICY_HISTORY_UNKNOWN, depth: 0 },
        }));
    }

    getPublishersInfoByTopic(topic: string, _noDemangle = false): RclTopicEndpointInfo[] {
      const full = expandName(topic, this.ns, this.nodeName);
      const own = NODE_TOPICS.find((t) => t.name === full);
      const builtIn: RclTopicEndpointInfo[] = own
        ? [...allNodes]
            .filter((n) => n.ctx.state === 'init')
            .map((n) => ({
              node_name: n.name(),
              node_namespace: n.namespace(),
              topic_type: own.type,
              qos_profile: {
                history: HistoryPolicy.RMW_QOS_POLICY_HISTORY_UNKNOWN,
                depth: 0,
                reliability: ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE,
                durability: own.durability,
              },
            }))
        : [];
      return [...builtIn, ...this.info(pubs, topic)];
    }

    getSubscriptionsInfoByTopic(topic: string, _noDemangle = false): RclTopicEndpointInfo[] {
      return this.info(subs, topic);
    }

    spin(_timeout = 10): void {
      this.check();
      if (this.spinning) throw new Error('The node is already spinning.');
      this.spinning = true;
      this.wake();
    }

    stop(): void {
      this.spinning = false;
    }

    /** Callbacks run on a later turn of the event loop, never inside publish(). */
    wake(): void {
      if (!this.spinning || this.scheduled || this.destroyed) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.spinning || this.destroyed) return;
        for (const s of subs) {
          if (s.node !== this) continue;
          while (s.queue.length > 0 && !s.destroyed && !this.destroyed) {
            const bytes = s.queue.shift() as Uint8Array;
            s.callback(asRclDelivers(registry, s.type, registry.decode<object>(s.type, bytes)) as object);
          }
        }
      });
    }

    destroy(): void {
      if (this.destroyed) return;
      this.destroyed = true;
      this.spinning = false;
      for (let i = pubs.length - 1; i >= 0; i--) if (pubs[i].node === this) pubs.splice(i, 1);
      for (let i = subs.length - 1; i >= 0; i--) {
        if (subs[i].node === this) {
          subs[i].destroyed = true;
          subs.splice(i, 1);
        }
      }
      this.ctx.nodes.delete(this);
      allNodes.delete(this);
    }
  }

  const fake: FakeRclnodejs = {
    Context,
    Node,
    QoS,
    Parameter,
    ParameterType,
    ParameterDescriptor,
    async init(context: RclContext = Context.defaultContext(), argv: string[] = process.argv): Promise<void> {
      const ctx = context as Context;
      if (!ctx.isUninitialized()) throw new Error('The context has already been initialized.');
      if (!Array.isArray(argv)) throw new TypeError('argv must be an array.');
      if (!argv.every((a) => typeof a === 'string')) throw new TypeError('argv elements must be strings (and not null).');
      const { remaps, params } = parseGlobalArgs(argv);
      ctx.remaps = remaps;
      ctx.params = params;
      ctx.state = 'init';
    },
    shutdown(context: RclContext = Context.defaultContext()): void {
      const ctx = context as Context;
      // As rclnodejs: shutting down a context that is already shut down (e.g. by rclnodejs's own
      // SIGINT handler) or never initialised does nothing.
      if (ctx.state !== 'init') return;
      for (const n of [...ctx.nodes]) n.destroy();
      ctx.state = 'shutdown';
    },
    isShutdown(context: RclContext = Context.defaultContext()): boolean {
      return !context.isInitialized();
    },
    require(name: string): unknown {
      const type = loadInterface(name);
      return { type: () => type };
    },
    createMessageObject(type: string): object {
      return registry.create(loadInterface(type));
    },
    nodeNames(): string[] {
      return [...allNodes].map((n) => joinNs(n.namespace(), n.name())).sort();
    },
  };
  return fake;
}

/** Default export shaped like `(await import('rclnodejs')).default`: one shared domain. */
const defaultFake = createFakeRclnodejs();
export default defaultFake;
