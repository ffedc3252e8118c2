/**
 * Live introspection of a running process, like the ros2 CLI's view of a graph: a unix socket (see discovery.ts)
 * answering the line-delimited JSON requests of protocol.ts from the process's own Container: topics and their
 * messages from the bus, nodes and lifecycle states from the managed nodes, parameters from their declarations
 * (only dynamic ones can be set, checked as a params file value would be). While it serves, the process stays up
 * (as a ROS 2 process does with every node deactivated), until the launch's shutdown closes it.
 */
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Subscription } from 'rxjs';
import type { TopicInfo } from '../bus.js';
import type { Container } from '../container.js';
import type { ManagedNode } from '../node.js';
import { COMMON_PARAMS, type ParamDecls } from '../params.js';
import { QOS_DEFAULT, type QoS } from '../qos.js';
import { parseParamValue } from '../ros-args.js';
import { introspectionDir, socketPath } from './discovery.js';
import { parseRequest, ProtocolError, PROTOCOL_VERSION, toJsonSafe, type Request } from './protocol.js';

export interface IntrospectionOptions {
  /** Socket folder (default: introspectionDir()). */
  dir?: string;
  /** What this process runs (a launch file, a scenario), shown by clients. */
  description?: string;
}

/** Stop queueing stream events to a client that reads slower than they come: drop and count instead. */
const MAX_QUEUED_BYTES = 4 << 20;

export interface EndpointInfo {
  node: string;
  kind: 'pub' | 'sub';
  type: string;
  qos: QoS;
}

/** The topics a node declares (publishes/subscribes), under the names its parameters, namespace and remaps give them. */
export function declaredEndpoints(n: ManagedNode): (EndpointInfo & { topic: string })[] {
  const out: (EndpointInfo & { topic: string })[] = [];
  const declared = [...(n.def.publishes ?? []).map((d) => ['pub', d] as const), ...(n.def.subscribes ?? []).map((d) => ['sub', d] as const)];
  for (const [kind, d] of declared) {
    const name = d.at ? d.at(n.params) : d.topic;
    if (name !== undefined) out.push({ topic: n.ctx.resolve(name), node: n.ctx.fqn, kind, type: d.type, qos: d.qos ?? QOS_DEFAULT });
  }
  return out;
}

/** `/demo/talker`, `demo/talker` or (when unique) `talker`. */
export function findNode(nodes: readonly ManagedNode[], name: string): ManagedNode {
  const fqn = name.startsWith('/') ? name : `/${name}`;
  const exact = nodes.find((n) => n.ctx.fqn === fqn);
  if (exact) return exact;
  const byName = nodes.filter((n) => n.ctx.name === name);
  if (byName.length === 1) return byName[0];
  const known = nodes.map((n) => n.ctx.fqn).join(', ') || 'none';
  throw new Error(byName.length > 1 ? `node name '${name}' is ambiguous: ${byName.map((n) => n.ctx.fqn).join(', ')}` : `no node '${name}' in this process (nodes: ${known})`);
}

const TRANSITIONS = ['configure', 'activate', 'deactivate', 'shutdown'] as const;

export class IntrospectionServer {
  private readonly conns = new Set<Socket>();
  private readonly startedAt: number;
  private closed = false;
  private readonly onExit = (): void => this.unlink();

  private constructor(
    private readonly container: Container,
    private readonly server: Server,
    readonly path: string,
    private readonly description: string,
  ) {
    this.startedAt = container.clock.now();
    process.on('exit', this.onExit);
  }

  static async start(container: Container, o: IntrospectionOptions = {}): Promise<IntrospectionServer> {
    const dir = o.dir ?? introspectionDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = socketPath(dir, process.pid);
    // A socket of this pid can only be a leftover of an earlier process that had it.
    if (existsSync(path)) unlinkSync(path);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const s = new IntrospectionServer(container, server, path, o.description ?? '');
    server.on('connection', (c) => s.accept(c));
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.unlink();
  }

  private unlink(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private accept(c: Socket): void {
    c.unref();
    this.conns.add(c);
    const streams = new Map<number, Subscription>();
    const send = (v: unknown): boolean => {
      if (c.destroyed) return false;
      c.write(`${JSON.stringify(v)}\n`);
      return true;
    };
    const lines = createInterface({ input: c });
    // A client that goes away mid-answer (Ctrl-C on an echo) resets the connection: readline re-emits the socket's
    // error, which unhandled would end the process being looked at.
    lines.on('error', () => c.destroy());
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      let req: Request;
      try {
        req = parseRequest(line);
      } catch (e) {
        send({ id: e instanceof ProtocolError ? (e.id ?? null) : null, ok: false, error: (e as Error).message });
        return;
      }
      void this.handle(req, send, streams, c).then(
        (result) => {
          if (result !== STREAM) send({ id: req.id, ok: true, result });
        },
        (e: unknown) => send({ id: req.id, ok: false, error: (e as Error).message }),
      );
    });
    c.on('error', () => undefined);
    c.on('close', () => {
      for (const s of streams.values()) s.unsubscribe();
      streams.clear();
      this.conns.delete(c);
    });
  }

  private async handle(req: Request, send: (v: unknown) => boolean, streams: Map<number, Subscription>, c: Socket): Promise<unknown> {
    const { bus, nodes, clock } = this.container;
    switch (req.op) {
      case 'hello':
        return { protocol: PROTOCOL_VERSION, pid: process.pid, argv: process.argv.slice(1), description: this.description, startedAt: this.startedAt, now: clock.now(), nodes: nodes.length };
      case 'topic.list':
        return bus.topics();
      case 'topic.info': {
        const t = this.topic(req.topic);
        const endpoints = nodes.flatMap((n) => declaredEndpoints(n)).filter((e) => e.topic === t.name).map(({ topic: _t, ...e }) => e);
        return { ...t, offered: bus.offeredQos(t.name), endpoints };
      }
      case 'topic.echo':
      case 'topic.hz': {
        const t = this.topic(req.topic);
        if (streams.has(req.id)) throw new Error(`request id ${req.id} is already streaming`);
        const offered = bus.offeredQos(t.name);
        // Compatible with any publisher: best effort; transient_local only when every publisher latches, so a latched
        // value (rules, mission) is shown at once, as `ros2 topic echo` adapts its QoS to the publishers'.
        const qos: QoS = {
          reliability: 'best_effort',
          durability: offered.length > 0 && offered.every((q) => q.durability === 'transient_local') ? 'transient_local' : 'volatile',
          history: 'keep_last',
          depth: Math.max(1, ...offered.map((q) => q.depth)),
        };
        let dropped = 0;
        const echo = req.op === 'topic.echo';
        const full = req.op === 'topic.echo' && req.fullArrays;
        const sub = bus.subscribe(t.name, t.type, qos).subscribe((msg) => {
          if (c.writableLength > MAX_QUEUED_BYTES) {
            dropped++;
            return;
          }
          const event = echo ? { msg: toJsonSafe(msg, full) } : { t: clock.now() };
          send({ id: req.id, event: dropped > 0 ? { ...event, dropped } : event });
          dropped = 0;
        });
        streams.set(req.id, sub);
        send({ id: req.id, ok: true, result: { topic: t.name, type: t.type, streaming: true } });
        return STREAM;
      }
      case 'cancel': {
        streams.get(req.target)?.unsubscribe();
        return { cancelled: streams.delete(req.target) };
      }
      case 'node.list':
        return nodes.map((n) => ({ name: n.ctx.fqn, executable: n.def.name, state: n.state }));
      case 'node.info': {
        const n = findNode(nodes, req.node);
        const eps = declaredEndpoints(n);
        const decls = this.decls(n);
        const diag = this.container.diagnostics.all().find((d) => d.node === n.ctx.fqn);
        return {
          name: n.ctx.fqn,
          executable: n.def.name,
          description: n.def.description,
          state: n.state,
          publishes: eps.filter((e) => e.kind === 'pub').map(({ topic, type, qos }) => ({ topic, type, qos })),
          subscribes: eps.filter((e) => e.kind === 'sub').map(({ topic, type, qos }) => ({ topic, type, qos })),
          parameters: Object.keys(decls).length,
          dynamicParameters: Object.entries(decls).filter(([, d]) => d.dynamic).map(([k]) => k),
          diagnostics: diag ? { level: diag.level, message: diag.message, stages: diag.stages, values: diag.values } : undefined,
        };
      }
      case 'param.list': {
        const n = findNode(nodes, req.node);
        return Object.entries(this.decls(n)).map(([name, d]) => this.paramEntry(n, name, d));
      }
      case 'param.get': {
        const n = findNode(nodes, req.node);
        const decls = this.decls(n);
        if (!Object.hasOwn(decls, req.name)) throw new Error(`node '${n.ctx.fqn}' has no parameter '${req.name}' (declared: ${Object.keys(decls).join(', ')})`);
        return this.paramEntry(n, req.name, decls[req.name]);
      }
      case 'param.set': {
        const n = findNode(nodes, req.node);
        const source = 'kestrel param set';
        const parsed = parseParamValue(req.value, `${source} ${req.name}:=${req.value}`, req.name);
        n.setParam(req.name, { ...parsed, source });
        n.ctx.log.info(`parameter '${req.name}' set to ${JSON.stringify(parsed.value)} (${source})`);
        return this.paramEntry(n, req.name, this.decls(n)[req.name]);
      }
      case 'lifecycle.get': {
        const n = findNode(nodes, req.node);
        return { node: n.ctx.fqn, state: n.state };
      }
      case 'lifecycle.set': {
        const n = findNode(nodes, req.node);
        const tr = TRANSITIONS.find((x) => x === req.transition);
        if (!tr) throw new Error(`unknown transition '${req.transition}' (transitions: ${TRANSITIONS.join(', ')})`);
        await n[tr]();
        n.ctx.log.info(`lifecycle transition '${tr}' done, now ${n.state} (kestrel lifecycle set)`);
        return { node: n.ctx.fqn, state: n.state };
      }
    }
  }

  private topic(name: string): TopicInfo {
    const t = this.container.bus.topics().find((x) => x.name === name);
    if (!t) throw new Error(`unknown topic '${name}' (topics: ${this.container.bus.topics().map((x) => x.name).join(', ') || 'none'})`);
    return t;
  }

  private decls(n: ManagedNode): ParamDecls {
    return { ...COMMON_PARAMS, ...n.def.params };
  }

  private paramEntry(n: ManagedNode, name: string, d: ParamDecls[string]): Record<string, unknown> {
    return {
      name,
      type: d.type,
      value: (n.params as Record<string, unknown>)[name],
      dynamic: d.dynamic === true,
      description: d.description,
      ...(d.group ? { group: true } : {}),
      ...(d.min !== undefined ? { min: d.min } : {}),
      ...(d.max !== undefined ? { max: d.max } : {}),
      ...(d.choices ? { choices: d.choices } : {}),
    };
  }
}

const STREAM = Symbol('stream');
