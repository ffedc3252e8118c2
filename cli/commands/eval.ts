/**
 * `kestrel eval <scenario|bag>`: runs the pipeline under the virtual clock (a simulated
 * scenario, or a recorded bag replayed as fast as possible) and writes eval.json, a
 * self-contained report.html and the decision log.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { deterministicPart, evaluate, reportInput, type EvalInput, type EvalJson, type ReportExtras } from '../../app/eval/evaluate.js';
import { encodeFrames } from '../../app/eval/frames.js';
import { DEVICE_PROFILES, deviceProfile, readEnergyCounterUj, type DeviceProfile } from '../../app/eval/profiles.js';
import { renderReport } from '../../app/eval/report.js';
import { describeWindow } from '../../sim/window.js';
import type { LatencyModel, StageLatency } from '../../runtime/compute.js';
import type { LogSink } from '../../runtime/log.js';
import type { ParamsFile } from '../../runtime/params-file.js';
import { extractRosArgs } from '../../runtime/ros-args.js';
import { parseOptions } from '../args.js';
import { io, println, UsageError, type Command } from '../command.js';
import { FLEET_USAGE, runFleet } from './eval-fleet.js';

const USAGE = `usage: kestrel eval <scenario-name | scenario.yaml | bag> [options]

Runs the pipeline under the virtual clock and reports per-stage latency (p50/p99/max), deadline
misses, dropped frames, end-to-end age of decisions, alert precision/recall and time to alert
against ground truth, planner tokens/s and time to first token, peak memory and an energy
ESTIMATE from a device power profile. Writes <out>/eval.json, <out>/report.html (plots, no
external assets) and <out>/decisions.log.

Exit status (for CI gates): 0 when every expectation is met (alerts inside their windows, no alert
in a control run, arbiter reactions in time); 3 when the run completed but an expectation was NOT
met (the report and eval.json "passed": false say which); 1 on errors; 2 on bad usage.

  <scenario>        passport-queue, stranded-bag, perimeter-patrol (sim/scenarios/) or a scenario .yaml:
                    the simulator + simulated PX4 (in-process MAVLink) + the whole mission pipeline
  <bag>             a rosbag2 directory, .mcap or .db3 (e.g. recorded by 'npm start' under out/): its
                    input topics (/camera/image_raw, /camera/labels, /fc/state, /intent, /sim/events,
                    /imu/data, /gps/fix, /battery) replayed into the processing nodes
  --duration S      seconds of scenario to run (default: the scenario's duration_s; bags: whole bag)
  --control         the scenario's control variant (no alert should fire)
  --seed N          random seed of the simulated world (default: the scenario's)
  --perception P    onnx (the detector; the default, for bags too: it re-runs on the recorded raw or
                    JPEG frames) | oracle (ground-truth labels as detections: evaluates everything
                    downstream; only on request). The perception used is printed and in eval.json
  --scenario NAME   bags only: the scenario whose params the nodes get (default: read from the bag)
  --latency L       how compute time is charged to the virtual clock:
                      measured      wall time measured here × the device profile's compute_scale (default)
                      <model.json>  a latency model: deterministic, the same run every time
  --device-profile  ${Object.keys(DEVICE_PROFILES).join(' | ')} (default x86): power figures for the energy
                    estimate and the compute scale for --latency measured
  --out DIR         output directory (default out/eval-<name>)
  --verbose         print the nodes' log lines
  --ros-args -p [node:]name:=value | --params-file FILE   params over the launch file's (scenarios), e.g.
                    --ros-args -p isolation:=inprocess  (models in this process, no child hosts)

Latency model file (JSON), stage names as the nodes charge them through ctx.compute:
  { "stages": { "inference":   { "fixed_ms": 45 },                      (perception, per frame)
                "generate":    { "fixed_ms": 150, "per_unit_ms": 25 },  (planner: + per generated token)
                "compile_llm": { "fixed_ms": 20 } },                    (intent compile)
    "default_ms": 5 }                                                   (any other stage)
  Charged cost = fixed_ms + per_unit_ms × units. Example: config/latency/pi5.json.

${FLEET_USAGE}`;

interface Opts {
  target: string;
  durationS?: number;
  control: boolean;
  seed?: number;
  perception?: 'onnx' | 'oracle';
  scenario?: string;
  latency: string;
  profile: DeviceProfile;
  out?: string;
  verbose: boolean;
  /** `--ros-args -p [node:]name:=value` / `--params-file`: over the launch file's params (scenarios only). */
  paramFiles: ParamsFile[];
}

function parse(argvAll: readonly string[]): Opts {
  const { rest: argv, ros } = extractRosArgs(argvAll);
  if (ros.remaps.length > 0 || ros.logLevels.length > 0) throw new UsageError('eval --ros-args takes -p and --params-file only');
  const { values, positionals: pos } = parseOptions(argv, {
    duration: { type: 'string' },
    seed: { type: 'string' },
    perception: { type: 'string' },
    scenario: { type: 'string' },
    latency: { type: 'string' },
    'device-profile': { type: 'string' },
    out: { type: 'string' },
    control: { type: 'boolean' },
    verbose: { type: 'boolean' },
  });
  // By flag name, as the checks below and their messages say them.
  const v = new Map<string, string>(Object.entries(values).flatMap(([k, x]) => (typeof x === 'string' ? [[`--${k}`, x] as const] : [])));
  const flags = new Set<string>(Object.entries(values).flatMap(([k, x]) => (x === true ? [`--${k}`] : [])));
  if (pos.length === 0) throw new UsageError('missing the scenario or bag to evaluate');
  if (pos.length > 1) throw new UsageError(`eval takes one scenario or bag, got also '${pos[1]}'`);
  const num = (name: string, int: boolean): number | undefined => {
    const s = v.get(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new UsageError(`${name} expects a positive ${int ? 'integer' : 'number'}, got '${s}'`);
    return n;
  };
  const perception = v.get('--perception');
  if (perception !== undefined && perception !== 'onnx' && perception !== 'oracle') throw new UsageError(`--perception is onnx or oracle, got '${perception}'`);
  const prof = v.get('--device-profile') ?? 'x86';
  if (!DEVICE_PROFILES[prof]) throw new UsageError(`unknown --device-profile '${prof}' (known: ${Object.keys(DEVICE_PROFILES).join(', ')})`);
  return {
    target: pos[0],
    durationS: num('--duration', false),
    control: flags.has('--control'),
    seed: seedOf(v.get('--seed')),
    perception,
    scenario: v.get('--scenario'),
    latency: v.get('--latency') ?? 'measured',
    profile: deviceProfile(prof),
    out: v.get('--out'),
    verbose: flags.has('--verbose'),
    paramFiles: ros.params,
  };
}

function seedOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed expects an integer ≥ 0, got '${s}'`);
  return n;
}

/** Reads and checks a latency model file: every problem names the file and the field. */
export function loadLatencyModel(path: string): LatencyModel {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`latency model ${path}: ${(e as Error).message}`, { cause: e });
  }
  const bad = (where: string, what: string): never => {
    throw new Error(`latency model ${path}: ${where}: ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('top level', 'expected an object {"stages": {...}, "default_ms": N}');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['stages', 'default_ms', 'mode', 'description'].includes(k)) bad(k, 'unknown field (expected stages, default_ms, description)');
  if (o.mode !== undefined && o.mode !== 'model') bad('mode', `expected "model" (or leave it out), got ${JSON.stringify(o.mode)}`);
  const stagesRaw = o.stages ?? {};
  if (stagesRaw === null || typeof stagesRaw !== 'object' || Array.isArray(stagesRaw)) bad('stages', 'expected an object of stage name → {fixed_ms, per_unit_ms}');
  const stages: Record<string, StageLatency> = {};
  const nonneg = (x: unknown, where: string): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : bad(where, `expected a number ≥ 0, got ${JSON.stringify(x)}`));
  for (const [name, s] of Object.entries(stagesRaw as Record<string, unknown>)) {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) bad(`stages.${name}`, 'expected {fixed_ms, per_unit_ms}');
    const so = s as Record<string, unknown>;
    for (const k of Object.keys(so)) if (k !== 'fixed_ms' && k !== 'per_unit_ms') bad(`stages.${name}.${k}`, 'unknown field (expected fixed_ms, per_unit_ms)');
    stages[name] = { fixed_ms: nonneg(so.fixed_ms, `stages.${name}.fixed_ms`), ...(so.per_unit_ms !== undefined ? { per_unit_ms: nonneg(so.per_unit_ms, `stages.${name}.per_unit_ms`) } : {}) };
  }
  return { mode: 'model', stages, ...(o.default_ms !== undefined ? { default_ms: nonneg(o.default_ms, 'default_ms') } : {}) };
}

function latencyOf(spec: string, profile: DeviceProfile): LatencyModel {
  if (spec === 'measured') return { mode: 'measured', scale: profile.compute_scale };
  if (!existsSync(spec)) throw new UsageError(`--latency is 'measured' or a latency model .json file; '${spec}' does not exist`);
  return loadLatencyModel(spec);
}

/** A bag is a rosbag2 directory (metadata.yaml or .mcap/.db3 files inside) or a .mcap/.db3 file. */
function isBag(p: string): boolean {
  if (!existsSync(p)) return false;
  if (statSync(p).isDirectory()) return true;
  return /\.(mcap|db3)$/i.test(p);
}

function progress(label: string): { update(fraction: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | ETA {eta}s`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(100, 0);
    return { update: (f) => bar.update(Math.round(f * 100)), stop: () => bar.stop() };
  }
  // Not a terminal (CI, pipes): a plain line every 10 %.
  let last = -1;
  return {
    update: (f) => {
      const step = Math.floor(f * 10);
      if (step > last) {
        last = step;
        io.err(`${label}: ${step * 10}%\n`);
      }
    },
    stop: () => undefined,
  };
}

/** Camera frames (with detections) shown in the report. */
const REPORT_FRAMES = 4;

export interface EvalOutcome {
  json: EvalJson;
  dir: string;
  decisionLog: string[];
}

/** Runs an evaluation and writes its files; the command and the tests call this. */
export async function runEval(argv: readonly string[]): Promise<EvalOutcome> {
  const o = parse(argv);
  const latency = { spec: o.latency, model: latencyOf(o.latency, o.profile) };
  const quiet: LogSink = (r) => {
    if (r.level === 'error') io.err(`[${r.level.toUpperCase()}] [${r.node}]: ${r.message}\n`);
  };
  const logSink: LogSink | undefined = o.verbose ? undefined : quiet;
  const energy0 = readEnergyCounterUj();
  // What both kinds of run report the same way.
  const runFigures = (r: Pick<EvalInput, 'monitor' | 'diagnostics' | 'stageSamples' | 'peakRssMb' | 'wallS'>) => ({
    latency,
    profile: o.profile,
    monitor: r.monitor,
    diagnostics: r.diagnostics,
    stageSamples: r.stageSamples,
    peakRssMb: r.peakRssMb,
    wallS: r.wallS,
    energyCounter: energyDelta(energy0),
  });
  const bag = isBag(o.target);
  let json: EvalJson;
  let extras: Omit<ReportExtras, 'frames'> & { snapshots: import('../../app/mission/monitor.js').FrameSnapshot[] };
  let log: string[];
  let name: string;
  if (bag) {
    if (o.paramFiles.length > 0) throw new UsageError('--ros-args params apply to scenario runs, not bags');
    if (o.durationS !== undefined || o.seed !== undefined) throw new UsageError('--duration and --seed apply to scenarios; a bag is evaluated whole');
    const { runBag } = await import('../../app/eval/bag-run.js');
    const { loadScenario } = await import('../../sim/scenario.js');
    const bar = progress('eval');
    const r = await runBag({ path: o.target, scenario: o.scenario, control: o.control ? true : undefined, latency: latency.model, perception: o.perception, logSink, keepFrames: REPORT_FRAMES, onProgress: (f) => bar.update(f) }).finally(() => bar.stop());
    const sc = loadScenario(r.scenario, { control: r.control });
    name = `${sc.name}-bag`;
    io.err(`kestrel eval: PERCEPTION ${r.perceptionSource}\n`);
    const notes = [`perception: ${r.perceptionSource}`, `bag ${r.bag}: ${r.replay.published} input messages replayed (${Object.entries(r.replay.perTopic).map(([t, n]) => `${t} ${n}`).join(', ')})`];
    if (r.replay.decodeErrors > 0) notes.push(`${r.replay.decodeErrors} bag message(s) did not decode and were dropped`);
    for (const s of r.replay.skippedTopics) notes.push(`not replayed: ${s.topic} (${s.reason})`);
    notes.push(...r.notes);
    notes.push('Bag replay: inputs are published as fast as possible; inference runs between messages, so frame drops may vary from run to run.');
    json = evaluate({
      source: { kind: 'bag', name: sc.name, path: r.bag, control: r.control, perception: r.perception },
      durationS: r.durationS,
      expected: sc.expected,
      ...runFigures(r),
      notes: [...notes, ...plannerNotes(r.monitor.plans.length)],
    });
    extras = { stageSamples: r.stageSamples, series: r.series.toJSON(), deadlines: r.deadlines, monitor: r.monitor, regions: sc.regions, geofence: sc.geofence, snapshots: r.monitor.frameSnapshots };
    log = r.monitor.decisionLog;
  } else {
    if (o.scenario !== undefined) throw new UsageError('--scenario applies to bags; for a scenario run give it as the first argument');
    const { loadScenario, windowCloseBound } = await import('../../sim/scenario.js');
    const sc = loadScenario(o.target, { control: o.control });
    const { runMission } = await import('../../app/mission/run.js');
    const durationS = o.durationS ?? sc.duration_s;
    const bar = progress('eval');
    const r = await runMission({
      scenario: o.target,
      control: o.control,
      durationS,
      mode: 'virtual',
      latency: latency.model,
      perception: o.perception ?? 'onnx',
      seed: o.seed,
      logSink,
      keepFrames: REPORT_FRAMES,
      paramFiles: o.paramFiles,
      onProgress: (s) => bar.update(s / durationS),
    }).finally(() => bar.stop());
    name = sc.name + (o.control ? '-control' : '');
    const lastClose = Math.max(0, ...sc.expected.map((e) => windowCloseBound(e, sc.duration_s)));
    json = evaluate({
      source: { kind: 'scenario', name: sc.name, path: sc.source, control: o.control, seed: o.seed ?? sc.seed, perception: o.perception ?? 'onnx' },
      durationS,
      expected: sc.expected,
      ...runFigures(r),
      notes: [
        `perception: ${(o.perception ?? 'onnx') === 'oracle' ? 'oracle: ground-truth /camera/labels as detections (the detector is NOT evaluated)' : 'onnx: the perception node\'s model (launch params) on the simulated camera frames'}`,
        ...(durationS < lastClose ? [`--duration ${durationS} s ends before the last expected window can close (${lastClose} s${sc.expected.some((e) => e.window.from === 'onset') ? ': windows relative to the truth onset may run to the scenario\'s end' : ''}): an expectation not met yet may still be met later`] : []),
        ...plannerNotes(r.monitor.plans.length),
      ],
    });
    extras = { stageSamples: r.stageSamples, series: r.series.toJSON(), deadlines: r.deadlines, monitor: r.monitor, regions: sc.regions, geofence: sc.geofence, snapshots: r.monitor.frameSnapshots };
    log = r.monitor.decisionLog;
  }
  const dir = resolve(o.out ?? join('out', `eval-${name}`));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'eval.json'), `${JSON.stringify(json, null, 2)}\n`);
  const { snapshots, ...rest } = extras;
  const enc = await encodeFrames(snapshots);
  const input = reportInput(json, { ...rest, frames: enc.frames });
  input.notes.push(...enc.skipped);
  writeFileSync(join(dir, 'report.html'), renderReport(input));
  writeFileSync(join(dir, 'decisions.log'), log.length ? `${log.join('\n')}\n` : '');
  return { json, dir, decisionLog: log };
}

function energyDelta(e0: { source: string; uj: number } | undefined): { source: string; uj: number } | undefined {
  const e1 = readEnergyCounterUj();
  if (!e0 || !e1 || e1.source !== e0.source) return undefined;
  // RAPL counters wrap; a negative delta is a wrap, not a measurement.
  return e1.uj >= e0.uj ? { source: e1.source, uj: e1.uj - e0.uj } : undefined;
}

function plannerNotes(plans: number): string[] {
  return plans === 0
    ? ['The planner published no plan: with the generated tiny random model its output rarely parses, or its charged generation time passes deadline_ms (see /planner/plan misses).']
    : [];
}

export { deterministicPart };

/** `kestrel eval` exit status when the run completed but an expectation was not met (1 = error, 2 = usage). */
export const EXIT_NOT_MET = 3;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a scenario or bag under virtual time: latency, misses, alert accuracy, tokens/s, energy; JSON + HTML',
  usage: USAGE,
  async run(argv) {
    if (argv.some((a) => a === '--manifest' || a.startsWith('--manifest='))) return runFleet(argv);
    const { json, dir } = await runEval(argv);
    const failed = [...json.alerts.expected.filter((e) => !e.ok).map((e) => e.event), ...json.reactions.filter((r) => !r.ok).map((r) => r.event)];
    println(`${json.source.name}${json.source.control ? ' (control)' : ''}: ${json.duration_s} s virtual in ${json.wall.wall_s} s wall`);
    const perception = json.notes.find((n) => n.startsWith('perception: '));
    println(`  PERCEPTION ${perception ? perception.slice('perception: '.length) : json.source.perception}`);
    println(`  alerts: precision ${json.alerts.precision}, recall ${json.alerts.recall}, time to alert ${json.alerts.time_to_alert_s.join(', ') || '-'} s`);
    println(`  expectations: ${failed.length === 0 ? 'all met' : `NOT met: ${failed.join(', ')}`}`);
    for (const e of json.alerts.expected)
      println(`    ${e.event}: first alert ${e.first_alert_s ?? 'none'}${e.first_alert_s !== null ? ' s' : ''}, truth onset ${e.truth_onset_s ?? 'none'}${e.truth_onset_s !== null ? ' s' : ''}, time to alert ${e.time_to_alert_s ?? '-'}${e.time_to_alert_s !== null ? ' s' : ''} (window ${describeWindow(e)}${e.window.from === 'onset' && e.window_s ? `: ${e.window_s.map((v) => v.toFixed(2)).join('–')} s` : ''}): ${e.ok ? 'ok' : 'NOT met'}`);
    println(`  deadline misses ${json.totals.deadline_misses}, drops ${json.totals.drops}, errors ${json.totals.errors}; e2e age p50 ${json.e2e_age_ms.p50} ms, p99 ${json.e2e_age_ms.p99} ms`);
    println(`  planner: ${json.planner.plans} plan(s), ${json.planner.tokens_per_s ?? '-'} tok/s; peak RSS ${json.wall.peak_rss_mb} MB; energy ${json.energy.run_energy_estimate_j} J (estimate, ${json.energy.profile})`);
    for (const w of json.warnings) io.err(`${process.stderr.isTTY ? '\x1b[1;31mWARNING\x1b[0m' : 'WARNING'}: ${w}\n`);
    println(`  wrote ${join(dir, 'eval.json')}, ${join(dir, 'report.html')}, ${join(dir, 'decisions.log')}`);
    return failed.length === 0 ? 0 : EXIT_NOT_MET;
  },
};
