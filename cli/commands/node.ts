/**
 * `kestrel node <exec> [--transport inproc|ros2|dds|auto] --ros-args ...`: one Kestrel node as its own
 * process, i.e. an ordinary ROS 2 node: `ros2 launch` / `ros2 run` start it with
 * `--ros-args -r __node:= -r __ns:= -r from:=to -p name:=value --params-file f.yaml`.
 * With the ROS 2 transport its topics are ROS 2 topics; `use_sim_time` makes it follow `/clock`.
 */
import type { Subscription } from 'rxjs';
import { SimClock, SystemClock, type Clock } from '../../runtime/clock.js';
import { Container, UnknownExecutableError, type NodeSpec } from '../../runtime/container.js';
import type { LogSink } from '../../runtime/log.js';
import { joinNs, resolveTopic, type Remap } from '../../runtime/names.js';
import type { NodeDefinition, ManagedNode } from '../../runtime/node.js';
import { COMMON_PARAMS, type ParamDecls, type ParamOverride, type ParamValue } from '../../runtime/params.js';
import { paramsForNode } from '../../runtime/params-file.js';
import { extractRosArgs } from '../../runtime/ros-args.js';
import { BridgedBus } from '../../runtime/transport/bridged-bus.js';
import { publishDiagnostics } from '../../runtime/transport/diagnostics-publisher.js';
import type { Env, Importer } from '../../runtime/transport/load-rclnodejs.js';
import type { Rclnodejs } from '../../runtime/transport/rclnodejs-api.js';
import { Ros2Transport, type DeclaredParam } from '../../runtime/transport/ros2.js';
import { createTransport, parseTransportChoice, transportFromEnv, type TransportChoice } from '../../runtime/transport/select.js';
import { followClock, type ClockFollowStats } from '../../runtime/transport/sim-time.js';
import type { Transport } from '../../runtime/transport/transport.js';
import { parseOptions } from '../args.js';
import { loadRegistry } from './shared.js';
import { formatNodeInfo, parseLiveArgs, TARGET_USAGE, withProcess, type NodeInfoAnswer } from './live.js';
import { println, UsageError, type Command } from '../command.js';

export interface NodeProcessOptions {
  executable: string;
  /** The whole command line after the executable name, `--ros-args` sections included. */
  argv?: readonly string[];
  transport?: TransportChoice;
  registry?: ReadonlyMap<string, NodeDefinition<ParamDecls>>;
  /** /diagnostics period in ms of the node's clock; 0 disables it (e.g. for the diagnostics node itself). */
  diagnosticsPeriodMs?: number;
  env?: Env;
  rcl?: Rclnodejs;
  importer?: Importer;
  logSink?: LogSink;
}

export interface NodeProcess {
  readonly container: Container;
  readonly node: ManagedNode;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly bus: BridgedBus;
  /** Present under use_sim_time. */
  readonly clockStats?: ClockFollowStats;
  stop(): Promise<void>;
}

/** `-r node:__node:=x` applies when `node` is this node's default name, as in rcl. */
function nameAndNamespace(defaultName: string, remaps: readonly Remap[]): { name: string; namespace: string } {
  let name = defaultName;
  let namespace = '/';
  for (const r of remaps) {
    if (r.node !== undefined && r.node !== defaultName) continue;
    if (r.from === '__node' || r.from === '__name') name = r.to;
    if (r.from === '__ns') namespace = r.to;
  }
  return { name, namespace };
}

function useSimTime(params: ReadonlyMap<string, ParamOverride>): boolean {
  const o = params.get('use_sim_time');
  if (o === undefined) return false;
  if (typeof o.value !== 'boolean') throw new Error(`${o.source}: parameter 'use_sim_time' must be a bool, got ${o.type} (${JSON.stringify(o.value)})`);
  return o.value;
}

/** The node's resolved parameters, flattened as ROS 2 names them (`group.key`). */
export function declaredParams(decls: ParamDecls, values: Readonly<Record<string, unknown>>): DeclaredParam[] {
  const out: DeclaredParam[] = [];
  for (const [name, d] of Object.entries({ ...COMMON_PARAMS, ...decls })) {
    const v = values[name];
    if (d.group) {
      for (const [k, sub] of Object.entries((v ?? {}) as Record<string, ParamValue>)) out.push({ name: `${name}.${k}`, type: d.type, value: sub, description: d.description });
    } else if (v !== undefined) {
      out.push({ name, type: d.type, value: v as ParamValue, description: d.description });
    }
  }
  return out;
}

/** Starts one node in this process with the chosen transport; resolves once it is active. */
export async function startNodeProcess(o: NodeProcessOptions): Promise<NodeProcess> {
  // Loaded here, not imported: `node list|info` need none of the nodes (ONNX Runtime, llama.cpp) it pulls in.
  const registry = o.registry ?? (await loadRegistry());
  const def = registry.get(o.executable);
  const argv = o.argv ?? [];
  const { rest, ros } = extractRosArgs(argv);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}' (ROS arguments go after --ros-args)`);
  const spec0: NodeSpec = { package: 'kestrel', executable: o.executable, params: new Map(), remaps: ros.remaps, source: 'kestrel node' };
  if (!def) throw new UnknownExecutableError(spec0, [...registry.keys()]);
  const { name, namespace } = nameAndNamespace(def.name, ros.remaps);
  const fqn = joinNs(namespace, name);
  const params = paramsForNode(ros.params, fqn);
  const sim = useSimTime(params);
  const clock: Clock = sim ? new SimClock(0) : new SystemClock();
  const bus = new BridgedBus();
  const container = new Container({ registry, bus, clock, logSink: o.logSink });
  // Name remaps are resolved above; the node's topic remaps stay (names.ts applies them once).
  const topicRemaps = ros.remaps.filter((r) => !r.from.startsWith('__'));
  const transport = await createTransport(o.transport ?? transportFromEnv(o.env ?? process.env) ?? 'auto', {
    nodeName: name,
    namespace,
    argv,
    env: o.env,
    rcl: o.rcl,
    importer: o.importer,
    log: container.log.child(`${fqn}/transport`),
    diag: container.diagnostics.forNode(fqn),
  });
  const subs: Subscription[] = [];
  const stop = async (): Promise<void> => {
    for (const s of subs.splice(0)) s.unsubscribe();
    try {
      await container.shutdownAll();
    } finally {
      await transport.close();
    }
  };
  try {
    bus.attach(transport);
    // Unknown message types fail here, before the node opens models or ports.
    for (const t of [...(def.publishes ?? []), ...(def.subscribes ?? [])]) transport.checkType(t.type, resolveTopic(t.topic, namespace, name, topicRemaps));
    let clockStats: ClockFollowStats | undefined;
    if (clock instanceof SimClock) {
      clockStats = { ticks: 0, backwards: 0 };
      subs.push(followClock(bus, clock, '/clock', clockStats));
    }
    const node = await container.add({ ...spec0, name, namespace, params, remaps: topicRemaps });
    if (transport instanceof Ros2Transport) transport.declareParameters(declaredParams(def.params, node.params as Readonly<Record<string, unknown>>));
    await container.activateAll();
    const period = o.diagnosticsPeriodMs ?? (o.executable === 'diagnostics' ? 0 : 1000);
    if (period > 0) subs.push(publishDiagnostics(bus, () => container.diagnostics.all(), clock, period));
    container.log.info(`node ${fqn} active (transport ${transport.kind}${sim ? ', use_sim_time' : ''})`);
    return { container, node, transport, clock, bus, clockStats, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

function parseOwnFlags(argv: readonly string[]): { executable: string; transport?: TransportChoice; diagnosticsPeriodMs?: number; rosArgv: string[] } {
  const first = argv.indexOf('--ros-args');
  const own = first < 0 ? [...argv] : argv.slice(0, first);
  const rosArgv = first < 0 ? [] : argv.slice(first);
  const { values, positionals } = parseOptions(own, { transport: { type: 'string' }, 'diagnostics-period-ms': { type: 'string' } });
  const transport = values.transport === undefined ? undefined : parseTransportChoice(values.transport);
  let diagnosticsPeriodMs: number | undefined;
  if (values['diagnostics-period-ms'] !== undefined) {
    diagnosticsPeriodMs = Number(values['diagnostics-period-ms']);
    if (!Number.isFinite(diagnosticsPeriodMs) || diagnosticsPeriodMs < 0) throw new UsageError(`--diagnostics-period-ms must be a number >= 0 (0 disables)`);
  }
  const [executable, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (ROS arguments go after --ros-args)`);
  if (executable === undefined) throw new UsageError('missing node executable name');
  return { executable, transport, diagnosticsPeriodMs, rosArgv };
}

/** \`node list\` / \`node info <node>\` (no node executable has either name). */
async function liveNode(argv: readonly string[]): Promise<number> {
  const { positionals, opts } = parseLiveArgs(argv, [], ['json']);
  const [verb, node, extra] = positionals;
  const json = opts.json === 'true';
  if (verb === 'list') {
    if (node !== undefined) throw new UsageError(`unexpected argument '${node}'`);
    const nodes = (await withProcess(opts, (c) => c.request('node.list', {}))) as { name: string }[];
    if (json) println(JSON.stringify(nodes));
    else for (const n of nodes) println(n.name);
    return 0;
  }
  if (node === undefined) throw new UsageError('node info: missing node name');
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const info = (await withProcess(opts, (c) => c.request('node.info', { node }))) as NodeInfoAnswer;
  if (json) println(JSON.stringify(info));
  else for (const l of formatNodeInfo(info)) println(l);
  return 0;
}

export const nodeCommand: Command = {
  name: 'node',
  summary: 'Run one node as its own ROS 2-style process (--ros-args, --transport inproc|ros2|dds|auto); list, info: live nodes',
  usage: `usage: kestrel node <executable> [--transport inproc|ros2|dds|auto] [--diagnostics-period-ms N] [--ros-args ... [--]]
       kestrel node list [--json]
       kestrel node info <node> [--json]

Runs one Kestrel node in this process, as 'ros2 run' / 'ros2 launch' would start it:
  -r __node:=name  -r __ns:=/namespace  -r from:=to  -p name:=value  --params-file f.yaml
  -p use_sim_time:=true   follow /clock (sim or bag time) instead of the system clock

  --transport   ros2: topics are ROS 2 topics through rclnodejs (needs a sourced ROS 2);
                dds: ROS 2 topics over Cyclone DDS directly (needs only libddsc; loopback
                unless CYCLONEDDS_URI is set; ROS_DOMAIN_ID applies);
                inproc: nothing leaves the process; auto: ros2 when ROS 2 is sourced
                (default: $KESTREL_TRANSPORT, else auto)
  --diagnostics-period-ms  /diagnostics period (default 1000; 0 disables)

Also installed as 'kestrel-node <executable> ...'. See docs/ros2.md.

list, info: the nodes of a running Kestrel ('kestrel launch', 'kestrel start'), over its introspection
socket, as 'ros2 node list|info' shows them: full names; executable, lifecycle state, declared topics,
parameters (the dynamic ones named) and the node's diagnostics (per-stage latency, misses, drops).
${TARGET_USAGE}`,
  async run(argv) {
    if (argv[0] === 'list' || argv[0] === 'info') return liveNode(argv);
    const { executable, transport, diagnosticsPeriodMs, rosArgv } = parseOwnFlags(argv);
    const proc = await startNodeProcess({ executable, transport, diagnosticsPeriodMs, argv: rosArgv });
    await new Promise<void>((resolve) => {
      // A node with no timers of its own (a pure subscriber) must still run until signalled.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const onSignal = (): void => {
        clearInterval(keepAlive);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await proc.stop();
    return 0;
  },
};
