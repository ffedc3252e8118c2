/**
 * Process diagnostics → diagnostic_msgs/DiagnosticArray. One status per node (its state,
 * level, message and free-form values) and one per stage (latency p50/p99/max, misses,
 * drops, errors). Levels describe the last report window, so an error an hour ago does not
 * keep a node red: ERROR on new errors, WARN on new misses, STALE when a node is not active
 * or its stages stopped reporting.
 */
import { makeMsg, DiagnosticStatusConstants, type diagnostic_msgs, type std_msgs } from '../../msgs/index.js';
import type { Level, NodeStatus, StageSnapshot } from '../../runtime/diagnostics.js';

const LEVEL: Record<Level, number> = { ok: DiagnosticStatusConstants.OK, warn: DiagnosticStatusConstants.WARN, error: DiagnosticStatusConstants.ERROR, stale: DiagnosticStatusConstants.STALE };

interface StageMemory {
  count: number;
  misses: number;
  errors: number;
  drops: number;
  /** Clock time the stage last recorded anything. */
  activeAt: number;
}

/** What the reporter remembers between windows: per stage counters. */
export type ReportMemory = Map<string, StageMemory>;

export interface ReportOptions {
  now: number;
  header: std_msgs.Header;
  staleAfterMs: number;
  hardwareId: string;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const kv = (key: string, value: string): diagnostic_msgs.KeyValue => makeMsg('diagnostic_msgs/msg/KeyValue', { key, value });

function stageStatus(node: NodeStatus, s: StageSnapshot, mem: ReportMemory, o: ReportOptions): diagnostic_msgs.DiagnosticStatus {
  const prev = mem.get(s.name);
  const changed = !prev || prev.count !== s.count || prev.misses !== s.misses || prev.errors !== s.errors || prev.drops !== s.drops;
  const activeAt = changed ? o.now : prev.activeAt;
  const newErrors = s.errors - (prev?.errors ?? 0);
  const newMisses = s.misses - (prev?.misses ?? 0);
  const newDrops = s.drops - (prev?.drops ?? 0);
  mem.set(s.name, { count: s.count, misses: s.misses, errors: s.errors, drops: s.drops, activeAt });
  let level: number = DiagnosticStatusConstants.OK;
  let message = 'ok';
  if (newErrors > 0) {
    level = DiagnosticStatusConstants.ERROR;
    message = `${newErrors} error(s): ${s.lastError ?? ''}`;
  } else if (newMisses > 0) {
    level = DiagnosticStatusConstants.WARN;
    message = `${newMisses} deadline miss(es)`;
  } else if (o.now - activeAt > o.staleAfterMs) {
    level = DiagnosticStatusConstants.STALE;
    message = `no activity for ${((o.now - activeAt) / 1000).toFixed(1)} s`;
  } else if (newDrops > 0) {
    message = `${newDrops} drop(s)`;
  }
  const short = s.name.startsWith(`${node.node}/`) ? s.name.slice(node.node.length + 1) : s.name;
  return makeMsg('diagnostic_msgs/msg/DiagnosticStatus', {
    level,
    name: `${node.node}: ${short}`,
    message,
    hardware_id: o.hardwareId,
    values: [
      kv('count', String(s.count)),
      kv('latency_p50_ms', fmt(s.p50)),
      kv('latency_p99_ms', fmt(s.p99)),
      kv('latency_max_ms', fmt(s.max)),
      kv('misses', String(s.misses)),
      kv('drops', String(s.drops)),
      kv('errors', String(s.errors)),
      ...(s.lastError !== undefined ? [kv('last_error', s.lastError)] : []),
    ],
  });
}

/** Builds one /diagnostics message; updates `mem` for the next window. */
export function buildReport(nodes: readonly NodeStatus[], mem: ReportMemory, o: ReportOptions): diagnostic_msgs.DiagnosticArray {
  const status: diagnostic_msgs.DiagnosticStatus[] = [];
  for (const n of [...nodes].sort((a, b) => a.node.localeCompare(b.node))) {
    const stages = n.stages.map((s) => stageStatus(n, s, mem, o));
    let level: number = LEVEL[n.level];
    let message = n.message;
    if (n.state !== 'active') {
      level = Math.max(level, DiagnosticStatusConstants.STALE);
      message = message || `node ${n.state}`;
    }
    const worst = stages.reduce<number>((m, s) => Math.max(m, s.level), DiagnosticStatusConstants.OK);
    const allStale = stages.length > 0 && stages.every((s) => s.level === DiagnosticStatusConstants.STALE);
    // A node whose every stage stopped is stale; otherwise one stale stage is only a warning.
    const fromStages: number = allStale ? DiagnosticStatusConstants.STALE : worst === DiagnosticStatusConstants.STALE ? DiagnosticStatusConstants.WARN : worst;
    if (fromStages > level) {
      level = fromStages;
      message = message || stages.find((s) => s.level === worst)?.message || '';
    }
    const totals = n.stages.reduce((t, s) => ({ misses: t.misses + s.misses, drops: t.drops + s.drops, errors: t.errors + s.errors }), { misses: 0, drops: 0, errors: 0 });
    status.push(
      makeMsg('diagnostic_msgs/msg/DiagnosticStatus', {
        level,
        name: n.node,
        message: message || 'ok',
        hardware_id: o.hardwareId,
        values: [
          kv('state', n.state),
          kv('misses', String(totals.misses)),
          kv('drops', String(totals.drops)),
          kv('errors', String(totals.errors)),
          ...Object.entries(n.values).map(([k, v]) => kv(k, v)),
        ],
      }),
      ...stages,
    );
  }
  return makeMsg('diagnostic_msgs/msg/DiagnosticArray', { header: o.header, status });
}
