/**
 * Evaluates a recorded bag: its input topics (camera, labels, vehicle state, intent, ground
 * truth, IMU/GPS, battery) are replayed as fast as possible under a SimClock that starts at
 * the bag's start, into the processing nodes of the reference mission (perception or the
 * oracle, tracker, fusion, intent, rules, planner, arbiter, diagnostics), composed in one
 * Container with the scenario's params. What the pipeline decides is watched by the same
 * MissionMonitor as a live or virtual mission.
 */
import type { diagnostic_msgs } from '../../msgs/index.js';
import { NODE_REGISTRY } from '../../nodes/index.js';
import { SimClock } from '../../runtime/clock.js';
import type { LatencyModel } from '../../runtime/compute.js';
import { Container } from '../../runtime/container.js';
import type { NodeStatus } from '../../runtime/diagnostics.js';
import { launchInProcess, resolveLaunch } from '../../runtime/launch/index.js';
import type { LogSink } from '../../runtime/log.js';
import { openBag, type Bag } from '../../lib/bag/reader.js';
import { bagStartMs, replay, type ReplayReport } from '../../lib/bag/replay.js';
import { MissionMonitor } from '../mission/monitor.js';
import { deadlinesOf, MISSION_LAUNCH } from '../mission/run.js';
import { StageSeries } from './series.js';
import { makeMsg } from '../../msgs/index.js';
import { QOS_LATCHED } from '../../runtime/qos.js';
import { loadScenario } from '../../sim/scenario.js';
import { runVirtual, settle } from './driver.js';

export const BAG_INPUT_TOPICS = ['/camera/image_raw', '/camera/image_raw/compressed', '/camera/labels', '/fc/state', '/intent', '/sim/events', '/imu/data', '/gps/fix', '/battery'] as const;

export interface BagRunOptions {
  path: string;
  /** Scenario whose params (regions, mission, geofence) the nodes get; default: read from the bag's /diagnostics. */
  scenario?: string;
  /** Control variant; default: read from the bag as well. */
  control?: boolean;
  latency?: LatencyModel;
  /** Default onnx: the detector re-runs on the recorded frames (raw, or JPEG as npm start records them). 'oracle' only on request. */
  perception?: 'onnx' | 'oracle';
  logSink?: LogSink;
  /** Camera frames (with detections) kept for the report (default 0). */
  keepFrames?: number;
  /** Fraction of the bag done, 0..1. */
  onProgress?: (fraction: number) => void;
}

export interface BagRunResult {
  bag: string;
  scenario: string;
  control: boolean;
  perception: 'onnx' | 'oracle';
  /** What perception ran on, in words (for the loud line in `kestrel eval`). */
  perceptionSource: string;
  durationS: number;
  wallS: number;
  monitor: MissionMonitor;
  diagnostics: NodeStatus[];
  stageSamples: Record<string, number[]>;
  peakRssMb: number;
  replay: ReplayReport;
  /** What the bag lacked and how it was made up for. */
  notes: string[];
  series: StageSeries;
  deadlines: Record<string, Record<string, number>>;
}

/** Bag topics that are latched in the pipeline but may be recorded as volatile: replayed here, re-published latched. */
const RELATCH: Record<string, string> = { '/sim/events': '/_eval/bag/sim_events', '/intent': '/_eval/bag/intent' };

/** The scenario a simulator run recorded in its diagnostics (`values.scenario`, e.g. `stranded-bag (control)`). */
export function scenarioOfBag(bag: Bag): { name: string; control: boolean } | undefined {
  if (!bag.topic('/diagnostics')) return undefined;
  for (const m of bag.messagesSync({ topics: ['/diagnostics'] })) {
    let arr: diagnostic_msgs.DiagnosticArray;
    try {
      arr = m.decode() as diagnostic_msgs.DiagnosticArray;
    } catch {
      continue;
    }
    for (const st of arr.status) {
      const kv = st.values.find((v) => v.key === 'scenario');
      if (kv) {
        const control = / \(control\)$/.test(kv.value);
        return { name: kv.value.replace(/ \(control\)$/, ''), control };
      }
    }
  }
  return undefined;
}

export async function runBag(o: BagRunOptions): Promise<BagRunResult> {
  const bag = await openBag(o.path);
  const info = bag.info();
  const found = o.scenario === undefined ? scenarioOfBag(bag) : undefined;
  const scenario = o.scenario ?? found?.name;
  if (!scenario) {
    throw new Error(`${o.path}: the bag names no scenario (no simulator 'scenario' value on /diagnostics); pass --scenario <name> for the nodes' regions and mission`);
  }
  const control = o.control ?? found?.control ?? false;
  const rawFrames = bag.topic('/camera/image_raw')?.messageCount ?? 0;
  const jpegFrames = bag.topic('/camera/image_raw/compressed')?.messageCount ?? 0;
  // Never a silent switch to ground truth: the detector runs unless the oracle is asked for.
  const perception = o.perception ?? 'onnx';
  if (perception === 'onnx' && rawFrames === 0 && jpegFrames === 0) {
    throw new Error(`${o.path}: perception onnx needs camera frames (/camera/image_raw or /camera/image_raw/compressed), which the bag does not have; pass --perception oracle to evaluate with ground-truth labels as detections`);
  }
  if (perception === 'oracle' && !bag.topic('/camera/labels')) {
    throw new Error(`${o.path}: perception oracle needs /camera/labels, which the bag does not have`);
  }
  // Raw frames when the bag has them, else the JPEGs (the perception node decodes them).
  const compressed = perception === 'onnx' && rawFrames === 0;
  const topics = BAG_INPUT_TOPICS.filter((t) => bag.topic(t) !== undefined && !(t === '/camera/image_raw/compressed' && !compressed));

  // The mission's processing nodes: the launch file without its sources (the bag is the source) and without the recorder.
  const resolved = resolveLaunch(MISSION_LAUNCH, { scenario, control: String(control), use_sim_time: 'true', fc_link: 'memory', sources: 'false', record_dir: '' }, {
    defaultNodeName: (_pkg, exec) => NODE_REGISTRY.get(exec)?.name,
  });
  const nodes = resolved.nodes;
  let perceptionSource = 'oracle: ground-truth /camera/labels as detections (the detector is NOT evaluated)';
  if (perception === 'oracle') {
    for (const n of nodes) if (n.executable === 'perception') Object.assign(n, { executable: 'oracle_detector', params: new Map() });
  } else {
    const pn = nodes.find((n) => n.executable === 'perception');
    if (pn && compressed) Object.assign(pn, { params: new Map([...pn.params, ['image_transport', { value: 'compressed', type: 'string', source: 'runBag: the bag has JPEG frames only' }]]) });
    const model = pn?.params.get('model_path')?.value ?? 'models/detector/kestrel-det.onnx';
    perceptionSource = `onnx: ${String(model)} on ${compressed ? `${jpegFrames} recorded JPEG frames (/camera/image_raw/compressed)` : `${rawFrames} recorded raw frames (/camera/image_raw)`}`;
  }
  const startMs = bagStartMs(bag);
  const clock = new SimClock(startMs);
  const container = new Container({ clock, registry: NODE_REGISTRY, latency: o.latency, logSink: o.logSink });
  const monitor = new MissionMonitor(container.bus, startMs, undefined, { keepFrames: o.keepFrames });
  monitor.start();
  const series = new StageSeries(container.diagnostics);
  let lastS = -1;
  const onAdvance = (now: number): void => {
    const s = Math.floor((now - startMs) / 1000);
    if (s !== lastS) {
      lastS = s;
      series.poll(s);
    }
  };
  const notes: string[] = [];
  // Ground truth and intent are latched topics; a bag may store them with volatile QoS (or miss
  // the intent, published once before the recorder subscribed). Re-publish them latched.
  const bus = container.bus;
  const events = bus.advertise('/sim/events', 'kestrel_msgs/msg/ScenarioEvent', { ...QOS_LATCHED, depth: 16 });
  const intentPub = bus.advertise('/intent', 'std_msgs/msg/String', QOS_LATCHED);
  const relays = [
    bus.subscribe(RELATCH['/sim/events'], 'kestrel_msgs/msg/ScenarioEvent').subscribe((e) => events.publish(e)),
    bus.subscribe(RELATCH['/intent'], 'std_msgs/msg/String').subscribe((m) => intentPub.publish(m)),
  ];
  if (!bag.topic('/intent')) {
    const intent = loadScenario(scenario, { control }).intent;
    intentPub.publish(makeMsg('std_msgs/msg/String', { data: intent }));
    notes.push(`the bag has no /intent (the latched message was not recorded): the scenario's intent was used: "${intent}"`);
  }
  if (!bag.topic('/sim/events')) notes.push('the bag has no /sim/events: no ground truth, alerts cannot be scored');

  let peakRss = process.memoryUsage().rss;
  const wall0 = process.hrtime.bigint();
  const handle = await launchInProcess({ ...resolved, nodes, executables: [] }, container, { registry: NODE_REGISTRY, handleSignals: false });
  let rep: ReplayReport;
  let diagnostics: NodeStatus[] = [];
  let stageSamples: Record<string, number[]> = {};
  const endMs = startMs + Number(info.durationNs / 1_000_000n);
  try {
    await settle(container.compute);
    rep = await replay(bag, {
      bus: container.bus,
      clock,
      asFastAsPossible: true,
      // Each message meets a quiet pipeline: timers up to its time run, inference finishes.
      advance: (toMs) => runVirtual(clock, container.compute, toMs, { onAdvance }),
      topics,
      remap: RELATCH,
      progressEvery: 20,
      onProgress: (p) => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        o.onProgress?.(p.total > 0 ? p.done / p.total : 1);
      },
    });
    // Let the last inputs work through, and the timers run to the bag's end.
    await runVirtual(clock, container.compute, Math.max(endMs, clock.now()), { onAdvance });
    await settle(container.compute);
  } finally {
    diagnostics = container.diagnostics.all();
    stageSamples = container.diagnostics.samples();
    monitor.stop();
    for (const r of relays) r.unsubscribe();
    await handle.shutdown('bag evaluated');
  }
  return {
    bag: o.path,
    scenario,
    control,
    perception,
    perceptionSource,
    durationS: (endMs - startMs) / 1000,
    wallS: Number(process.hrtime.bigint() - wall0) / 1e9,
    monitor,
    diagnostics,
    stageSamples,
    peakRssMb: peakRss / 2 ** 20,
    replay: rep,
    notes,
    series,
    deadlines: deadlinesOf(nodes),
  };
}
