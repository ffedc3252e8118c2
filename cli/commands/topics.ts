/**
 * `kestrel topics <launch-file>`: configures the nodes (without activating) and lists their topics: the endpoints
 * they create while configuring, plus the topics they declare (publishes/subscribes, from msgs/topics.ts), which is
 * how subscriptions made on activation are counted.
 */
import type { Observable } from 'rxjs';
import type { MsgTypeMap, MsgTypeName } from '../../msgs/index.js';
import { Bus, type Publisher } from '../../runtime/bus.js';
import { Container } from '../../runtime/container.js';
import type { ManagedNode } from '../../runtime/node.js';
import { checkRunnable } from '../../runtime/launch/index.js';
import { QOS_DEFAULT, type QoS } from '../../runtime/qos.js';
import { println, UsageError, type Command } from '../command.js';
import { loadRegistry, resolveFromArgv } from './shared.js';

export interface Endpoint {
  node: string;
  kind: 'pub' | 'sub';
  qos: QoS;
}

/** A bus that remembers who advertised or asked for what, with which QoS (subscribers count before activation). */
export class RecordingBus extends Bus {
  owner = '?';
  readonly endpoints = new Map<string, { type: MsgTypeName; list: Endpoint[] }>();

  note(topic: string, type: MsgTypeName, kind: 'pub' | 'sub', qos: QoS, node = this.owner): void {
    let t = this.endpoints.get(topic);
    if (!t) this.endpoints.set(topic, (t = { type, list: [] }));
    if (!t.list.some((e) => e.node === node && e.kind === kind)) t.list.push({ node, kind, qos });
  }

  /** Adds the node's declared topics, under the names its parameters, namespace and remaps give them. */
  noteDeclared(n: ManagedNode): void {
    const declared = [...(n.def.publishes ?? []).map((d) => ['pub', d] as const), ...(n.def.subscribes ?? []).map((d) => ['sub', d] as const)];
    for (const [kind, d] of declared) {
      const name = d.at ? d.at(n.params) : d.topic;
      if (name !== undefined) this.note(n.ctx.resolve(name), d.type, kind, d.qos ?? QOS_DEFAULT, n.ctx.fqn);
    }
  }

  override advertise<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Publisher<MsgTypeMap[K]> {
    const p = super.advertise(name, type, qos);
    this.note(name, type, 'pub', qos);
    return p;
  }

  override subscribe<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Observable<MsgTypeMap[K]> {
    const o = super.subscribe(name, type, qos);
    this.note(name, type, 'sub', qos);
    return o;
  }
}

export function formatQos(q: QoS): string {
  return `${q.reliability}, ${q.durability}, ${q.history === 'keep_last' ? `keep_last ${q.depth}` : 'keep_all'}`;
}

export const topicsCommand: Command = {
  name: 'topics',
  summary: "List the topics a launch file's nodes publish and subscribe, with types and QoS",
  usage: `usage: kestrel topics <file.launch.xml|.launch.yaml> [name:=value ...]

Configures every node of the launch file (nothing is activated, no process is started) and
prints each topic with its type, publisher and subscriber counts, and each endpoint's QoS.`,
  async run(argv) {
    const NODE_REGISTRY = await loadRegistry();
    const { resolved, flags } = resolveFromArgv(argv, 'launch file', NODE_REGISTRY);
    if (flags.length > 0) throw new UsageError(`unknown option '${flags[0]}'`);
    checkRunnable(resolved.nodes, NODE_REGISTRY);
    const bus = new RecordingBus();
    const container = new Container({ registry: NODE_REGISTRY, bus, logSink: () => {} });
    try {
      for (const n of resolved.nodes) {
        bus.owner = n.fqn;
        await container.add(n);
      }
      for (const n of container.nodes) bus.noteDeclared(n);
      const topics = [...bus.endpoints.entries()].sort(([a], [b]) => a.localeCompare(b));
      if (topics.length === 0) println('(no topics)');
      for (const [name, t] of topics) {
        const pubs = t.list.filter((e) => e.kind === 'pub');
        const subs = t.list.filter((e) => e.kind === 'sub');
        println(`${name} [${t.type}] publishers: ${pubs.length}, subscribers: ${subs.length}`);
        for (const e of [...pubs, ...subs]) println(`    ${e.kind === 'pub' ? 'pub' : 'sub'} ${e.node}  (${formatQos(e.qos)})`);
      }
      return 0;
    } finally {
      await container.shutdownAll();
    }
  },
};
