/**
 * What the live commands (`kestrel topic|node|param|lifecycle`, against a running Kestrel over its introspection
 * socket, runtime/introspect) share: their options, finding and connecting to the process, and the text they print
 * (pure functions of the process's answers, tested without a process).
 */
import { IntrospectionClient } from '../../runtime/introspect/client.js';
import { chooseSocket, introspectionDir } from '../../runtime/introspect/discovery.js';
import { hzStats } from '../../runtime/introspect/protocol.js';
import type { StageSnapshot } from '../../runtime/diagnostics.js';
import type { QoS } from '../../runtime/qos.js';
import { UsageError } from '../command.js';

/** How to reach the process, shown in every live command's usage. */
export const TARGET_USAGE = `  --pid N        the Kestrel process to ask, when several run (default: the only one)
  --socket PATH  its socket (default: <pid>.sock in $KESTREL_RUNTIME_DIR, else $XDG_RUNTIME_DIR/kestrel,
                 else <tmp>/kestrel-<uid>)`;

export interface LiveArgs {
  positionals: string[];
  /** Option values by name (without dashes); booleans are 'true'. */
  opts: Record<string, string>;
}

/**
 * Options with values (`--pid 12`, `--pid=12`) and flags, anything else positional. Hand-rolled rather than
 * parseOptions: a parameter value may be a negative number (`param set n x -1`), which is not an option.
 */
export function parseLiveArgs(argv: readonly string[], valued: readonly string[], flags: readonly string[], aliases: Record<string, string> = {}): LiveArgs {
  const positionals: string[] = [];
  const opts: Record<string, string> = {};
  const all = ['pid', 'socket', ...valued];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || /^-\d|^-\.\d/.test(a)) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const raw = eq > 0 ? a.slice(0, eq) : a;
    const name = aliases[raw] ?? raw.replace(/^--/, '');
    if (all.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${raw} needs a value`);
      opts[name] = v;
    } else if (flags.includes(name) && eq < 0) {
      opts[name] = 'true';
    } else {
      throw new UsageError(`unknown option '${a}'`);
    }
  }
  return { positionals, opts };
}

export function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** Connects to the process the options name (or the only one running) and runs `fn`, closing the connection after. */
export async function withProcess<T>(opts: Record<string, string>, fn: (c: IntrospectionClient) => Promise<T>): Promise<T> {
  const socket = opts.socket ?? chooseSocket(introspectionDir(), positiveInt(opts.pid, '--pid')).socket;
  const client = await IntrospectionClient.connect(socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export function formatQos(q: QoS): string {
  return `${q.reliability}, ${q.durability}, ${q.history === 'keep_last' ? `keep_last ${q.depth}` : 'keep_all'}`;
}

export interface TopicInfoAnswer {
  name: string;
  type: string;
  publishers: number;
  subscribers: number;
  published: number;
  endpoints: { node: string; kind: 'pub' | 'sub'; qos: QoS }[];
}

/** `kestrel topic info`, as `ros2 topic info -v` lays it out. */
export function formatTopicInfo(t: TopicInfoAnswer): string[] {
  const lines = [`Type: ${t.type}`, `Publisher count: ${t.publishers}`, `Subscription count: ${t.subscribers}`, `Messages published: ${t.published}`];
  for (const kind of ['pub', 'sub'] as const) {
    const eps = t.endpoints.filter((e) => e.kind === kind);
    if (eps.length === 0) continue;
    lines.push('', kind === 'pub' ? 'Publishers (declared by the nodes):' : 'Subscribers (declared by the nodes):');
    for (const e of eps) lines.push(`  ${e.node}  (${formatQos(e.qos)})`);
  }
  return lines;
}

/** `ros2 topic hz`'s report over a window of arrival times (ms). */
export function formatHz(arrivalsMs: readonly number[]): string[] {
  const s = hzStats(arrivalsMs);
  if (!s) return ['no new messages'];
  return [`average rate: ${s.rate.toFixed(3)}`, `\tmin: ${s.min.toFixed(3)}s max: ${s.max.toFixed(3)}s std dev: ${s.std.toFixed(5)}s window: ${s.window + 1}`];
}

export interface ParamAnswer {
  name: string;
  type: string;
  value: unknown;
  dynamic: boolean;
  description: string;
  min?: number;
  max?: number;
  choices?: string[];
}

export function formatParam(p: ParamAnswer): string {
  const range = p.min !== undefined || p.max !== undefined ? ` [${p.min ?? '-inf'}, ${p.max ?? 'inf'}]` : '';
  const choices = p.choices ? ` {${p.choices.join('|')}}` : '';
  return `${p.name} (${p.type}${range}${choices}${p.dynamic ? ', dynamic' : ''}) = ${JSON.stringify(p.value)}`;
}

export interface NodeInfoAnswer {
  name: string;
  executable: string;
  description: string;
  state: string;
  publishes: { topic: string; type: string }[];
  subscribes: { topic: string; type: string }[];
  parameters: number;
  dynamicParameters: string[];
  diagnostics?: { level: string; message: string; stages: StageSnapshot[] };
}

/** `kestrel node info`, as `ros2 node info` lays it out, plus the lifecycle state and the node's diagnostics. */
export function formatNodeInfo(n: NodeInfoAnswer): string[] {
  const lines = [n.name, `  Executable: ${n.executable} (${n.description})`, `  Lifecycle state: ${n.state}`];
  lines.push('  Subscribers:', ...n.subscribes.map((t) => `    ${t.topic}: ${t.type}`));
  lines.push('  Publishers:', ...n.publishes.map((t) => `    ${t.topic}: ${t.type}`));
  lines.push(`  Parameters: ${n.parameters}${n.dynamicParameters.length ? ` (dynamic: ${n.dynamicParameters.join(', ')})` : ''}`);
  if (n.diagnostics) {
    lines.push(`  Diagnostics: ${n.diagnostics.level}${n.diagnostics.message ? `: ${n.diagnostics.message}` : ''}`);
    for (const s of n.diagnostics.stages) {
      lines.push(`    ${s.name}: ${s.count} runs, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, ${s.misses} misses, ${s.drops} drops`);
    }
  }
  return lines;
}
