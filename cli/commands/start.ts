/**
 * `kestrel start` (`npm start`): the simulated drone mission end to end, live, in one process.
 * Runs launch/drone_mission.launch.yaml: simulator + simulated PX4 over a serial pty pair
 * (UDP on 127.0.0.1 when socat is missing), perception, tracker, fusion, intent → rules,
 * LLM planner, arbiter, MAVLink bridge, diagnostics and an MCAP recorder; prints alerts and
 * decisions as they happen and a summary at the end.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MissionEvent, MissionMonitor } from '../../app/mission/monitor.js';
import { socatAvailable, type FcLink, type MissionResult } from '../../app/mission/run.js';
import cliProgress from 'cli-progress';
import { colorFor, consoleSink, formatLogRecord, type LogLevel, type LogSink } from '../../runtime/log.js';
import { extractRosArgs, type RosArgs } from '../../runtime/ros-args.js';
import { parseOptions } from '../args.js';
import { KESTREL_ROOT } from '../../runtime/launch/index.js';
import { println, UsageError, type Command } from '../command.js';

const USAGE = `usage: kestrel start [scenario] [--duration S] [--control] [--fc serial|udp|memory] [--perception onnx|oracle] [--fc-port N] [--gcs-port N]
                     [--out DIR] [--no-record] [--verbose] [--ros-args --log-level LEVEL -p [node:]name:=value ... [--]]

Runs the simulated drone mission live (default scenario passport-queue, 60 s) and exits 0 with a
summary. Alerts, rule compiles, plans and command changes are printed as they happen.
Scenarios: passport-queue, stranded-bag, perimeter-patrol (sim/scenarios/), or a path to a scenario file.

  --duration S   seconds of mission (default 60)
  --control      the scenario's control variant (no alert should fire)
  --fc LINK      flight-controller link: serial (socat pty pair, default when socat is installed), udp, memory
  --fc-port N    UDP port of the simulated flight controller (default 14580; implies --fc udp)
  --gcs-port N   local UDP port of Kestrel's MAVLink bridge, the GCS side (default: any free port; implies --fc udp)
  --perception P onnx (default: the detector on rendered frames) or oracle (ground-truth labels as
                 detections: no frames, no model; evaluates everything downstream, starts faster)
  --out DIR      recording directory (default out/mission-<time>/); --no-record to skip
  --verbose      print every node's INFO log lines too (as --ros-args --log-level info)
  --ros-args     ROS arguments for the mission's nodes: --log-level [node:=]LEVEL (default warn), -p [node:]name:=value,
                 --params-file FILE (applied to every node, or to the named one, as in a component container)`;

function fmtT(t: number): string {
  // Latched messages from the last moments of start-up (the compiled rules) come stamped a little before t=0,
  // when the last nodes were still activating: shown at 0 so the lines stay in time order.
  return `t=${Math.max(0, t).toFixed(1).padStart(6)}s`;
}

export function describeEvent(e: MissionEvent): string {
  switch (e.kind) {
    case 'rules':
      return `${fmtT(e.t)}  rules    ${e.rules.join('; ') || '(none)'}   ← "${e.intent}"`;
    case 'truth':
      return `${fmtT(e.t)}  truth    ${e.name} ${e.active ? 'ON' : 'off'}`;
    case 'alert':
      return e.active ? `${fmtT(e.t)}  ALERT    ${e.rule}: ${e.message}${e.reaction && e.reaction !== 'none' ? ` (reaction: ${e.reaction})` : ''}` : `${fmtT(e.t)}  cleared  ${e.rule}`;
    case 'command':
      return `${fmtT(e.t)}  command  ${e.action} (${e.source})${e.reason ? `: ${e.reason}` : ''}`;
    case 'plan':
      return `${fmtT(e.t)}  plan     ${e.action}: ${e.reason.length > 48 ? `${e.reason.slice(0, 45)}...` : e.reason} (${e.tokens} tokens, first token ${e.ttftMs.toFixed(0)} ms)`;
  }
}

/** The compact periodic status line (mode, armed, altitude, battery, tracks, active rules, last plan). */
export function statusLine(t: number, durationS: number, m: MissionMonitor): string {
  return `${fmtT(t)}  status   ${t.toFixed(0)}/${durationS} s | ${vehicleStatus(m)}`;
}

/** The vehicle and pipeline part of the status line (also the progress bar's text on a terminal). */
export function vehicleStatus(m: MissionMonitor): string {
  const l = m.last;
  const alt = Number.isFinite(l.alt) ? `${l.alt.toFixed(1)} m` : '-';
  const bat = Number.isFinite(l.battery) && l.battery >= 0 ? `${Math.round(l.battery * 100)}%` : '-';
  const active = new Set<string>();
  for (const s of m.alertSamples) {
    if (s.active) active.add(s.name);
    else active.delete(s.name);
  }
  return `${l.mode} ${l.armed ? 'ARMED' : 'disarmed'} | alt ${alt} | bat ${bat} | tracks ${l.tracks} | rules ${m.rules.length} (${active.size} firing) | plan ${l.plan}`;
}

/** Seconds between status lines. */
const STATUS_EVERY_S = 5;

export function summarize(r: MissionResult): string[] {
  const m = r.monitor;
  const lines: string[] = [];
  const name = `${r.scenario}${r.control ? ' (control)' : ''}`;
  lines.push(
    r.stoppedEarly
      ? `mission ${name}: stopped after ${r.ranS.toFixed(1)} s of ${r.durationS} s (${r.wallS.toFixed(1)} s wall), flight controller over ${r.fcLink}: figures below cover the part that ran`
      : `mission ${name} complete: ${r.durationS} s of mission in ${r.wallS.toFixed(1)} s wall, flight controller over ${r.fcLink}`,
  );
  lines.push(`  perception: ${m.frames} frames, ${m.detections} detections`);
  const onsets = m.alertSamples.filter((s) => s.active);
  const truth = m.truthSamples.filter((s) => s.active);
  lines.push(`  ground truth: ${truth.length ? truth.map((s) => `${s.name} at ${s.t.toFixed(1)} s`).join(', ') : 'no event'}`);
  lines.push(`  alerts: ${onsets.length ? onsets.map((s) => `${s.name} at ${s.t.toFixed(1)} s`).join(', ') : 'none'}`);
  lines.push(`  commands: ${Object.entries(m.commandsBySource).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  if (m.plans.length > 0) {
    const toks = m.plans.reduce((a, p) => a + p.tokens, 0);
    const gen = m.plans.reduce((a, p) => a + p.genMs, 0);
    lines.push(`  planner: ${m.plans.length} plans, ${toks} tokens${gen > 0 ? `, ${((toks * 1000) / gen).toFixed(1)} tokens/s` : ''}`);
  } else lines.push('  planner: no plan (see planner diagnostics)');
  const ages = [...m.e2eAgesMs].filter(Number.isFinite).sort((a, b) => a - b);
  if (ages.length) lines.push(`  decision age (oldest sensor data behind a command): p50 ${ages[Math.floor(ages.length / 2)].toFixed(0)} ms, max ${ages[ages.length - 1].toFixed(0)} ms`);
  const stageLines = r.diagnostics.flatMap((n) => n.stages.filter((s) => s.count > 0 || s.misses > 0 || s.drops > 0 || s.errors > 0).map((s) => `${s.name}: p50 ${s.p50.toFixed(1)} / p99 ${s.p99.toFixed(1)} / max ${s.max.toFixed(1)} ms, misses ${s.misses}, drops ${s.drops}, errors ${s.errors}`));
  if (stageLines.length) lines.push('  stages:', ...stageLines.map((l) => `    ${l}`));
  // fusion's 'fuse' figure is not compute time: it is how old the oldest fresh input of each
  // published /world is (now − world.header.stamp), dominated by the tracks' camera stamp.
  if (stageLines.some((l) => l.startsWith('/fusion/fuse:'))) {
    lines.push('    (/fusion/fuse is the age of the oldest input in each /world at publish time, mostly the camera frame behind the tracks: detector latency + frame period, not fusion compute time)');
  }
  lines.push(`  peak memory: ${r.peakRssMb.toFixed(0)} MB`);
  if (r.recordDir) {
    const rec = r.diagnostics.find((n) => n.node.endsWith('/recorder'))?.values;
    lines.push(`  recording: ${r.recordDir} (MCAP, every topic, ${rec?.write_errors ?? '0'} write errors; open with Foxglove or \`kestrel bag info\`)`);
  }
  return lines;
}

/**
 * Where the live console writes. On a terminal, a progress bar stays on the last line (the nodes starting, then
 * the mission's seconds) and every line, log lines included, is printed above it; otherwise plain lines, no bar
 * (pipes, CI logs and tests read the same text without control characters).
 */
export interface LiveConsole {
  line(s: string): void;
  log: LogSink;
  /** Starts (or switches to) a phase of the bar: what runs, and its total in `unit`s. */
  phase(label: string, total: number, unit: string): void;
  update(value: number, status: string): void;
  stop(): void;
}

export function liveConsole(tty: boolean, log: LogSink): LiveConsole {
  if (!tty) return { line: (s) => println(s), log, phase: () => undefined, update: () => undefined, stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    { format: '{phase} [{bar}] {value}/{total} {unit} | {status}', stream: process.stdout, hideCursor: true, clearOnComplete: true, autopadding: true, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let payload = { phase: '', unit: '', status: '' };
  const above = (s: string): void => bars.log(`${s}\n`);
  return {
    line: above,
    // Log lines as consoleSink formats them, but above the bar; warnings still go to stderr when it is not this terminal.
    log: (r) => {
      if ((r.level === 'warn' || r.level === 'error') && !process.stderr.isTTY) log(r);
      else above(formatLogRecord(r, { format: process.env.RCUTILS_CONSOLE_OUTPUT_FORMAT || undefined, color: colorFor(process.stdout) }));
    },
    phase(label, total, unit) {
      payload = { phase: label, unit, status: '' };
      if (bar) bar.setTotal(total);
      else bar = bars.create(total, 0, payload);
      bar.update(0, payload);
    },
    update(value, status) {
      payload = { ...payload, status };
      bar?.update(value, payload);
    },
    stop: () => bars.stop(),
  };
}

const LOG_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

interface StartArgs {
  scenario: string;
  durationS: number;
  control: boolean;
  fcLink?: FcLink;
  fcPort?: number;
  gcsPort?: number;
  out?: string;
  record: boolean;
  verbose: boolean;
  perception: 'onnx' | 'oracle';
  ros: RosArgs;
}

function portOf(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${name} must be a port number 1-65535, not '${v}'`);
  return n;
}

export function parseStartArgs(argv: readonly string[]): StartArgs {
  const { rest, ros } = extractRosArgs(argv);
  if (ros.remaps.length > 0) throw new UsageError('--ros-args -r: remaps of the mission go in launch/drone_mission.launch.yaml');
  const { values: v, positionals } = parseOptions(rest, {
    duration: { type: 'string' },
    control: { type: 'boolean' },
    fc: { type: 'string' },
    'fc-port': { type: 'string' },
    'gcs-port': { type: 'string' },
    out: { type: 'string' },
    'no-record': { type: 'boolean' },
    verbose: { type: 'boolean' },
    perception: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`start takes one scenario, got also '${positionals[1]}'`);
  const durationS = v.duration === undefined ? 60 : Number(v.duration);
  if (!(durationS > 0)) throw new UsageError(`--duration must be a positive number of seconds`);
  if (v.fc !== undefined && v.fc !== 'serial' && v.fc !== 'udp' && v.fc !== 'memory') throw new UsageError(`--fc must be serial, udp or memory, not '${v.fc}'`);
  if (v.perception !== undefined && v.perception !== 'onnx' && v.perception !== 'oracle') throw new UsageError(`--perception must be onnx or oracle, not '${v.perception}'`);
  return {
    scenario: positionals[0] ?? 'passport-queue',
    durationS,
    control: v.control ?? false,
    fcLink: v.fc,
    fcPort: portOf('--fc-port', v['fc-port']),
    gcsPort: portOf('--gcs-port', v['gcs-port']),
    out: v.out,
    record: !v['no-record'],
    verbose: v.verbose ?? false,
    perception: v.perception ?? 'onnx',
    ros,
  };
}

/** `--log-level [logger:=]level` → the level for a node (ROS 2: the last global one, or the node's own). */
function logLevels(levels: RosArgs['logLevels'], dflt: LogLevel): (node: string) => LogLevel {
  const map = (l: string): LogLevel => (l === 'fatal' ? 'error' : l === 'unset' ? dflt : (l as LogLevel));
  let global = dflt;
  const per = new Map<string, LogLevel>();
  for (const l of levels) {
    if (l.logger === undefined) global = map(l.level);
    else per.set(l.logger.replace(/^\//, ''), map(l.level));
  }
  return (node) => per.get(node.replace(/^\//, '')) ?? global;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the simulated drone mission end to end, live (what `npm start` does)',
  usage: USAGE,
  async run(argv) {
    const o = parseStartArgs(argv);
    const { scenario, durationS, control, out, record, verbose, perception } = o;
    let fcLink = o.fcLink;
    if (o.fcPort !== undefined || o.gcsPort !== undefined) {
      if (fcLink !== undefined && fcLink !== 'udp') throw new UsageError(`--fc-port and --gcs-port are UDP ports: they need --fc udp, not --fc ${fcLink}`);
      fcLink = 'udp';
    }
    if (fcLink === 'serial' && !socatAvailable()) throw new Error('--fc serial needs socat for the pty pair: apt-get install socat (or use --fc udp)');
    // Before anything starts: an unknown name is one clear line, as in `kestrel eval`, not a params-file ENOENT.
    (await import('../../sim/scenario.js')).resolveScenarioPath(scenario);
    const recordDir = record ? (out ?? join(KESTREL_ROOT, 'out', `mission-${new Date().toISOString().replace(/[:.]/g, '-')}`)) : undefined;
    if (recordDir) mkdirSync(join(recordDir, '..'), { recursive: true });
    const levelOf = logLevels(o.ros.logLevels, verbose ? 'info' : 'warn');
    const con = liveConsole(process.stdout.isTTY === true, consoleSink);
    const sink: LogSink = (l) => {
      if (LOG_ORDER[l.level] >= LOG_ORDER[levelOf(l.node)]) con.log(l);
    };
    const { runMission } = await import('../../app/mission/run.js');
    const ctrl = new AbortController();
    // The first SIGINT/SIGTERM stops the mission in order (publishers, then the recorder, then the
    // summary). Later ones are ignored, not fatal: a Ctrl-C to the process group reaches this
    // process twice (from the terminal and forwarded by npm), and a supervisor may repeat itself;
    // one that means it escalates to SIGKILL, which the recorder's periodic flush bounds.
    const onSig = (sig: NodeJS.Signals): void => {
      if (ctrl.signal.aborted) return;
      con.line(`received ${sig}: stopping the mission (the recording is closed after the nodes stop)`);
      ctrl.abort();
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    let lastPlanKey = '';
    let monitor: MissionMonitor | undefined;
    let nextStatusS = STATUS_EVERY_S;
    println(`Kestrel: simulated drone mission '${scenario}'${control ? ' (control)' : ''}, ${durationS} s; Ctrl-C stops early`);
    const started = process.hrtime.bigint();
    try {
      const r = await runMission({
        scenario,
        control,
        durationS,
        mode: 'live',
        fcLink,
        perception,
        recordDir,
        logSink: sink,
        paramFiles: o.ros.params,
        launchArgs: { ...(o.fcPort !== undefined ? { fc_udp_port: String(o.fcPort) } : {}), ...(o.gcsPort !== undefined ? { gcs_udp_port: String(o.gcsPort) } : {}) },
        signal: ctrl.signal,
        // `kestrel topic|node|param|lifecycle` from another terminal, while it runs.
        introspect: true,
        onStartup: (i, total, node) => {
          if (i === 0) con.phase('starting', total, 'nodes');
          con.update(i, `configuring ${node}`);
        },
        onMonitor: (m) => {
          // Every node is active: mission time starts now (t=0).
          monitor = m;
          con.line(`${fmtT(0)}  started  every node active after ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s of start-up (models loaded); mission time starts`);
          con.phase('mission', durationS, 's');
        },
        onProgress: (s) => {
          if (!monitor) return;
          con.update(Math.min(durationS, Math.floor(s)), vehicleStatus(monitor));
          if (s < nextStatusS) return;
          nextStatusS = (Math.floor(s / STATUS_EVERY_S) + 1) * STATUS_EVERY_S;
          con.line(statusLine(s, durationS, monitor));
        },
        onEvent: (e) => {
          // A plan is printed when its action or its reason changes (an alert it now answers); the summary counts them all.
          if (e.kind === 'plan') {
            const key = `${e.action}|${e.reason}`;
            if (key === lastPlanKey) return;
            lastPlanKey = key;
          }
          con.line(describeEvent(e));
        },
      });
      con.stop();
      println('');
      for (const l of summarize(r)) println(l);
    } finally {
      con.stop();
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    }
    return 0;
  },
};
