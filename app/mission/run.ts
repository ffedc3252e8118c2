/**
 * Runs the reference drone mission (launch/drone_mission.launch.yaml) in this process, live
 * on the system clock (`kestrel start`, `npm start`) or under virtual time (`kestrel eval`,
 * tests), and returns what the run is judged by.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runVirtual } from '../eval/driver.js';
import { NODE_REGISTRY } from '../../nodes/index.js';
import { SimClock, SystemClock, sleep, type Clock } from '../../runtime/clock.js';
import type { LatencyModel } from '../../runtime/compute.js';
import { Container } from '../../runtime/container.js';
import type { NodeStatus } from '../../runtime/diagnostics.js';
import { KESTREL_ROOT, launchInProcess, resolveLaunch } from '../../runtime/launch/index.js';
import type { LogSink } from '../../runtime/log.js';
import type { Bus } from '../../runtime/bus.js';
import type { ParamOverride } from '../../runtime/params.js';
import { paramsForNode, type ParamsFile } from '../../runtime/params-file.js';
import { StageSeries } from '../eval/series.js';
import { MissionMonitor, type MissionEvent } from './monitor.js';

export const MISSION_LAUNCH = join(KESTREL_ROOT, 'launch', 'drone_mission.launch.yaml');
/** Virtual runs start at a fixed epoch, so stamps (and so the decision log) repeat exactly. */
export const VIRTUAL_EPOCH_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export type FcLink = 'serial' | 'udp' | 'memory';

export interface MissionOptions {
  scenario: string;
  control?: boolean;
  durationS: number;
  mode: 'live' | 'virtual';
  /** Default: live → serial (a socat pty pair) when socat is installed, else udp; virtual → memory. */
  fcLink?: FcLink;
  recordDir?: string;
  /** Virtual runs: how heavy work is charged to the clock (default: as measured). */
  latency?: LatencyModel;
  /** 'oracle': ground-truth labels as detections (evaluates everything downstream of the detector). */
  perception?: 'onnx' | 'oracle';
  /** Random seed of the simulated world (default: the scenario's). */
  seed?: number;
  /** Parameter overrides by node executable (e.g. `{ planner: { rate_hz: 0.2 } }`), applied over the launch file's. */
  params?: Record<string, Record<string, number | string | boolean>>;
  /** `--ros-args` params files and `-p` values: each node takes the entries that match its name (after the launch file's). */
  paramFiles?: readonly ParamsFile[];
  /** Extra launch arguments (name → value). */
  launchArgs?: Record<string, string>;
  logSink?: LogSink;
  onEvent?: (e: MissionEvent) => void;
  /** Called as the run advances, with seconds of mission time done. */
  onProgress?: (doneS: number) => void;
  /** Stop early (Ctrl-C live; virtual runs stop at the next clock advance, e.g. once an expected alert fired). */
  signal?: AbortSignal;
  /** Camera frames (with detections) the monitor keeps for the report (default 0). */
  keepFrames?: number;
  /** Called with the run's monitor when it starts: before the nodes (virtual), once they are all active (live). */
  onMonitor?: (m: MissionMonitor) => void;
  /** Called with the pipeline's bus before the nodes start (instrumentation, tests). */
  onBus?: (bus: Bus) => void;
  /** Before each node is configured (start-up: loading models takes seconds live): index from 0, count, node. */
  onStartup?: (index: number, total: number, node: string) => void;
  /** Serve live introspection (`kestrel topic|node|param|lifecycle`) on this process's socket (kestrel start). */
  introspect?: boolean;
}

export interface MissionResult {
  scenario: string;
  control: boolean;
  mode: 'live' | 'virtual';
  fcLink: FcLink;
  durationS: number;
  /** Set when `signal` stopped the run early: seconds of mission done by then. */
  stoppedAtS?: number;
  /** Seconds of mission actually run: less than durationS when stopped early (Ctrl-C, signal). */
  ranS: number;
  /** True when the run was stopped before durationS. */
  stoppedEarly: boolean;
  wallS: number;
  monitor: MissionMonitor;
  diagnostics: NodeStatus[];
  /** Each node's lifecycle state at the end of the mission, before the shutdown finalized them. */
  statesAtEnd: Record<string, string>;
  peakRssMb: number;
  /** Latency samples per stage (`node/stage` → ms, the diagnostics' sliding window) at the end of the run. */
  stageSamples: Record<string, number[]>;
  recordDir?: string;
  /** Per-stage latency, misses and drops per second of mission time. */
  series: StageSeries;
  /** Deadline-like params of each node (`/planner` → { deadline_ms: 1500 }), for the report's deadline lines. */
  deadlines: Record<string, Record<string, number>>;
}

/** Params that bound a stage's time: drawn as deadline lines in the report. */
const DEADLINE_PARAMS = /^(deadline_ms|latency_budget_ms|max_period_ms|max_age_ms)$/;

export function deadlinesOf(nodes: readonly { fqn: string; params: ReadonlyMap<string, { value: unknown }> }[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const n of nodes) {
    for (const [k, v] of n.params) if (DEADLINE_PARAMS.test(k) && typeof v.value === 'number') (out[n.fqn] ??= {})[k] = v.value;
  }
  return out;
}

export function socatAvailable(): boolean {
  return ['/usr/bin/socat', '/usr/local/bin/socat', '/bin/socat'].some((p) => existsSync(p));
}

export async function runMission(o: MissionOptions): Promise<MissionResult> {
  const fcLink: FcLink = o.fcLink ?? (o.mode === 'virtual' ? 'memory' : socatAvailable() ? 'serial' : 'udp');
  const args: Record<string, string> = {
    scenario: o.scenario,
    control: String(o.control ?? false),
    fc_link: fcLink,
    record_dir: o.recordDir ?? '',
    use_sim_time: String(o.mode === 'virtual'),
    ...(fcLink === 'memory' ? { fc_port: `kestrel-fc-${process.pid}-${Math.random().toString(36).slice(2)}` } : {}),
    ...o.launchArgs,
  };
  const resolved = resolveLaunch(MISSION_LAUNCH, args, { defaultNodeName: (_pkg, exec) => NODE_REGISTRY.get(exec)?.name });
  if (o.perception === 'oracle') {
    for (const n of resolved.nodes) {
      if (n.executable === 'perception') Object.assign(n, { executable: 'oracle_detector', params: new Map() });
      // Nothing reads frames then: labels only, much faster.
      if (n.executable === 'simulator') {
        Object.assign(n, { params: new Map([...n.params, ['publish_images', { value: false, type: 'bool', source: 'runMission perception=oracle' }]]) });
      }
    }
  }
  if (o.seed !== undefined) {
    for (const n of resolved.nodes) {
      if (n.executable === 'simulator') Object.assign(n, { params: new Map([...n.params, ['seed', { value: o.seed, type: 'int', source: 'runMission seed' }]]) });
    }
  }
  for (const [exec, ps] of Object.entries(o.params ?? {})) {
    const n = resolved.nodes.find((x) => x.executable === exec);
    if (!n) throw new Error(`runMission params: no node '${exec}' in ${MISSION_LAUNCH} (nodes: ${resolved.nodes.map((x) => x.executable).join(', ')})`);
    const extra = Object.entries(ps).map(([k, value]): [string, ParamOverride] => [
      k,
      { value, type: typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'string' : Number.isInteger(value) ? 'int' : 'double', source: 'runMission params' },
    ]);
    Object.assign(n, { params: new Map([...n.params, ...extra]) });
  }
  if (o.paramFiles?.length) {
    for (const n of resolved.nodes) Object.assign(n, { params: new Map([...n.params, ...paramsForNode(o.paramFiles, n.fqn)]) });
  }
  const clock: Clock = o.mode === 'virtual' ? new SimClock(VIRTUAL_EPOCH_MS) : new SystemClock();
  const container = new Container({ clock, registry: NODE_REGISTRY, latency: o.latency, logSink: o.logSink });
  // Mission time (the console's t=, the summary's times, the duration) counts from the moment every node is
  // active, when the simulator has just started its scenario: live, loading the models takes seconds of the
  // clock, which would otherwise shift every figure against the scenario's own times and cut the mission short.
  // Virtual time does not move while models load, so there the monitor starts first and misses nothing.
  let t0 = clock.now();
  const startMonitor = (origin: number): MissionMonitor => {
    const m = new MissionMonitor(container.bus, origin, o.onEvent, { keepFrames: o.keepFrames });
    o.onMonitor?.(m);
    m.start();
    return m;
  };
  let monitor = o.mode === 'live' ? undefined : startMonitor(t0);
  const series = new StageSeries(container.diagnostics);
  o.onBus?.(container.bus);
  let peakRss = process.memoryUsage().rss;
  const sampleRss = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const wall0 = process.hrtime.bigint();
  let stageSamples: Record<string, number[]> = {};
  let diagnostics: NodeStatus[] = [];
  let statesAtEnd: Record<string, string> = {};
  let stoppedAtS: number | undefined;
  let ranS = 0;
  const handle = await launchInProcess(resolved, container, {
    registry: NODE_REGISTRY,
    handleSignals: false,
    onConfigure: o.onStartup,
    introspect: o.introspect ? { description: `mission ${o.scenario}${o.control ? ' (control)' : ''}` } : false,
  });
  if (!monitor) {
    t0 = clock.now();
    // Latched topics (/rules, /sim/events) are replayed to it, so nothing said at start-up is lost.
    monitor = startMonitor(t0);
  }
  const mon = monitor;
  try {
    const endMs = t0 + o.durationS * 1000;
    if (clock instanceof SimClock) {
      let lastS = -1;
      await runVirtual(clock, container.compute, endMs, {
        stop: () => o.signal?.aborted === true,
        onAdvance: (now) => {
          const s = Math.floor((now - t0) / 1000);
          if (s !== lastS) {
            lastS = s;
            sampleRss();
            series.poll(s);
            o.onProgress?.(s);
          }
        },
      });
    } else {
      while (clock.now() < endMs && !o.signal?.aborted) {
        await sleep(clock, Math.min(1000, endMs - clock.now()));
        sampleRss();
        series.poll(Math.round((clock.now() - t0) / 100) / 10);
        o.onProgress?.((clock.now() - t0) / 1000);
      }
    }
  } finally {
    ranS = Math.min(o.durationS, (clock.now() - t0) / 1000);
    if (o.signal?.aborted) stoppedAtS = (clock.now() - t0) / 1000;
    mon.stop();
    statesAtEnd = Object.fromEntries(container.diagnostics.all().map((n) => [n.node, n.state]));
    // Diagnostics after the shutdown, so they include it (the recorder's close, write errors).
    await handle.shutdown(o.signal?.aborted ? 'mission stopped' : 'mission complete');
    diagnostics = container.diagnostics.all();
    stageSamples = container.diagnostics.samples();
  }
  return {
    scenario: o.scenario,
    control: o.control ?? false,
    mode: o.mode,
    fcLink,
    durationS: o.durationS,
    stoppedAtS,
    ranS,
    stoppedEarly: ranS < o.durationS - 1e-6,
    wallS: Number(process.hrtime.bigint() - wall0) / 1e9,
    monitor: mon,
    diagnostics,
    statesAtEnd,
    peakRssMb: peakRss / 2 ** 20,
    stageSamples,
    recordDir: o.recordDir,
    series,
    deadlines: deadlinesOf(resolved.nodes),
  };
}
