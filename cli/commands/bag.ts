/**
 * `kestrel bag info|play|record|convert|reindex`: rosbag2 bags (MCAP and sqlite3) in the
 * manner of `ros2 bag`. Long play/convert runs show a progress bar when stderr is a TTY.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { formatMetadata } from '../../lib/bag/metadata.js';
import { openBag, type Bag } from '../../lib/bag/reader.js';
import type { ReplayReport } from '../../lib/bag/replay.js';
import type { BagInfo, BagTopic, StorageId } from '../../lib/bag/types.js';
import type { ChunkCompression } from '../../lib/bag/writer.js';
import type { LaunchHandle } from '../../runtime/launch/index.js';
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls, ParamOverride } from '../../runtime/params.js';
import { parseOptions, type OptionSpec, type OptionSpecs } from '../args.js';
import { io, println, UsageError, type Command } from '../command.js';

const USAGE = `usage: kestrel bag <verb> ...

  info <bag> [--json] [-v|--verbose] [--verify]
      Files, size, storage, distro, duration, start/end, message counts and types per topic and
      service, in 'ros2 bag info' layout (Jazzy); --verbose adds the metadata version and the
      compression. <bag> is a rosbag2 directory, a .mcap or a .db3 file (damage: on stderr).
      An indexed MCAP file is read from its summary, as 'ros2 bag info' does; --verify reads
      every chunk, so that the counts are what can be read and damage inside chunks is reported.
  play <bag> [--rate R] [--topics T ...] [--remap FROM:=TO ...] [--start-offset S] [--loop]
             [--virtual] [--clock HZ] [--echo] [--launch <file> [arg:=value ...]]
      Publishes the bag on the in-process bus with original timing (--rate scales it), or with
      --virtual as fast as possible on a virtual clock (nodes using sim time see bag time).
      --launch runs a launch file's nodes in this process, fed by the bag, until playback ends.
      --echo prints each message. Corrupt payloads are counted and reported; playback goes on.
  record -o <dir> [-a | --topics T ...] [--exclude T ...] [--max-bag-size BYTES]
             [--max-bag-duration S] [--compression zstd|lz4|none] --launch <file> [arg:=value ...]
      Runs a launch file in this process and records its topics to an MCAP bag, until Ctrl-C
      (the bag is finalized on SIGINT/SIGTERM).
  convert <in> <out-dir> [--storage mcap|sqlite3] [--compression zstd|lz4|none]
      Rewrites a bag (db3 -> mcap by default, or mcap -> sqlite3), keeping every message and time.
  reindex <dir>
      Writes metadata.yaml for a bag directory that lacks one (as 'ros2 bag reindex').`;

/** `--name value`, ros2-style lists (`--topics /a /b`) and flags, as the verbs below name them (`-o`, `--rate`). */
function parseOpts(argv: readonly string[], spec: { values?: string[]; lists?: string[]; flags?: string[] }): { pos: string[]; v: Map<string, string>; l: Map<string, string[]>; f: Set<string> } {
  const options: OptionSpecs = {};
  const flagOf = new Map<string, string>();
  const add = (flag: string, o: OptionSpec): void => {
    const long = flag.startsWith('--');
    const name = long ? flag.slice(2) : `short-${flag.slice(1)}`;
    options[name] = long ? o : { ...o, short: flag.slice(1) };
    flagOf.set(name, flag);
  };
  for (const x of spec.values ?? []) add(x, { type: 'string' });
  for (const x of spec.lists ?? []) add(x, { type: 'string', list: true });
  for (const x of spec.flags ?? []) add(x, { type: 'boolean' });
  const { values, positionals } = parseOptions(argv, options);
  const v = new Map<string, string>();
  const l = new Map<string, string[]>();
  const f = new Set<string>();
  for (const [name, x] of Object.entries(values as Record<string, string | boolean | string[] | undefined>)) {
    const flag = flagOf.get(name)!;
    if (x === true) f.add(flag);
    else if (Array.isArray(x)) l.set(flag, x);
    else if (typeof x === 'string') v.set(flag, x);
  }
  return { pos: positionals, v, l, f };
}

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} expects a non-negative number, got '${v}'`);
  return n;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ros2 bag info`'s seconds: whole seconds, '.', then the milliseconds unpadded (as rosbag2 prints them). */
function fmtSeconds(ns: bigint): string {
  const ms = ns / 1_000_000n;
  return `${ms / 1000n}.${ms % 1000n}`;
}

/** `ros2 bag info`'s time point: local time as strftime `%b %e %Y %H:%M:%S`, '.ms', then `(seconds)`. */
function fmtTime(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const d = new Date(Number((ms / 1000n) * 1000n));
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const date = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${d.getFullYear()}`;
  return `${date} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${ms % 1000n} (${fmtSeconds(ns)})`;
}

function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = b;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${x.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/** rosbag2's service-event topics: `<service>/_service_event` of type `pkg/srv/X_Event`. */
function serviceOf(t: BagTopic): { name: string; type: string } | undefined {
  if (!t.name.endsWith('/_service_event') || !/\/srv\/\w+_Event$/.test(t.type)) return undefined;
  return { name: t.name.slice(0, -'/_service_event'.length), type: t.type.slice(0, -'_Event'.length) };
}

/**
 * `ros2 bag info` layout (Jazzy: topics sorted by name, service-event topics in their own
 * section, messages counted without them). `verbose` adds Kestrel's metadata version and
 * compression lines after it.
 */
export function formatInfo(info: BagInfo, verbose = false): string {
  const indent = ' '.repeat(19);
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const topics = info.topics.filter((t) => !serviceOf(t)).sort(byName);
  const services = info.topics.flatMap((t) => {
    const s = serviceOf(t);
    return s ? [{ ...s, count: t.messageCount, format: t.serializationFormat }] : [];
  }).sort(byName);
  const serviceEvents = services.reduce((n, s) => n + s.count, 0);
  const files = info.files.map((f) => f.path.split('/').pop() as string);
  const lines = [
    '',
    `Files:             ${files.join(`\n${indent}`)}`,
    `Bag size:          ${fmtBytes(info.sizeBytes)}`,
    `Storage id:        ${info.storage}`,
    `ROS Distro:        ${info.rosDistro || 'unknown'}`,
    `Duration:          ${fmtSeconds(info.durationNs)}s`,
    `Start:             ${fmtTime(info.startNs)}`,
    `End:               ${fmtTime(info.startNs + info.durationNs)}`,
    `Messages:          ${info.messageCount - serviceEvents}`,
    `Topic information: ${topics.map((t) => `Topic: ${t.name} | Type: ${t.type} | Count: ${t.messageCount} | Serialization Format: ${t.serializationFormat}`).join(`\n${indent}`)}`,
    `Service:           ${services.length}`,
    `Service information: ${services.map((s) => `Service: ${s.name} | Type: ${s.type} | Event Count: ${s.count} | Serialization Format: ${s.format}`).join(`\n${indent}  `)}`,
  ];
  if (verbose) {
    const chunk = [...new Set(info.files.flatMap((f) => f.chunkCompression))];
    lines.push(
      `Metadata version:  ${info.version ?? '(none: reindexed)'}`,
      `Compression:       ${info.compressionFormat ? `${info.compressionFormat} (${info.compressionMode})` : chunk.length > 0 ? `${chunk.join(', ')} (chunks)` : 'none'}`,
    );
  }
  return lines.join('\n');
}

/** A progress bar on stderr when it is a terminal; nothing otherwise (logs and CI stay clean). */
function progressBar(total: number, label: string): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY || total < 1000) return { update: () => undefined, stop: () => undefined };
  // Required here, on use: `bag info` starts without it (it loads 19 files).
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} msgs | ETA {eta}s`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

function reportPlayback(r: ReplayReport): void {
  println(`played ${r.published} message(s)${r.loops > 1 ? ` in ${r.loops} loops` : ''}${r.aborted ? ' (stopped)' : ''}`);
  for (const [t, n] of Object.entries(r.perTopic)) println(`  ${t}: ${n}`);
  for (const s of r.skippedTopics) io.err(`skipped ${s.topic}: ${s.reason}\n`);
  if (r.decodeErrors > 0) {
    io.err(`${r.decodeErrors} message(s) could not be decoded and were dropped:\n`);
    for (const d of r.dropped.slice(0, 10)) io.err(`  ${d.topic} at ${d.timeNs} ns: ${d.reason}\n`);
  }
  for (const p of r.problems) io.err(`bag problem: ${p.file}: ${p.message}\n`);
}

function jsonInfo(info: BagInfo, bag: Bag): string {
  return JSON.stringify({ ...info, problems: bag.problems() }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/**
 * What play --launch and record run: the node registry, the container and launch. Imported on use, since
 * the registry loads every node (the LLM's and the detector's native libraries): `bag info` starts without them.
 */
async function launchParts() {
  const [{ NODE_REGISTRY }, { Container }, launch] = await Promise.all([import('../../nodes/index.js'), import('../../runtime/container.js'), import('../../runtime/launch/index.js')]);
  return { NODE_REGISTRY, Container, ...launch };
}

async function play(argv: string[]): Promise<number> {
  const { pos, v, l, f } = parseOpts(argv, { values: ['--rate', '--start-offset', '--clock', '--launch'], lists: ['--topics', '--remap'], flags: ['--loop', '--virtual', '--echo'] });
  if (pos.length < 1) throw new UsageError('play needs a bag');
  const launchArgs = pos.slice(1);
  if (launchArgs.length > 0 && !v.has('--launch')) throw new UsageError(`play takes one bag, got also '${launchArgs[0]}'`);
  const bad = launchArgs.filter((a) => !a.includes(':='));
  if (bad.length > 0) throw new UsageError(`launch arguments are name:=value, got '${bad[0]}'`);
  const rate = num(v.get('--rate'), '--rate', 1);
  if (rate === 0) throw new UsageError('--rate must be above 0');
  const remap = new Map<string, string>();
  for (const r of l.get('--remap') ?? []) {
    const [from, to] = r.split(':=');
    if (!from || !to) throw new UsageError(`--remap expects FROM:=TO, got '${r}'`);
    remap.set(from, to);
  }
  const bag = await openBag(pos[0]);
  const [{ SimClock, SystemClock }, { Bus }, { nsToMs }, { replay }] = await Promise.all([import('../../runtime/clock.js'), import('../../runtime/bus.js'), import('../../runtime/time.js'), import('../../lib/bag/replay.js')]);
  // The virtual clock starts at the bag's start: jumping there from 0 would fire every timer in between.
  const clock = f.has('--virtual') ? new SimClock(nsToMs(bag.info().startNs)) : new SystemClock();
  // With --launch, the bag feeds the launch file's nodes, all on this process's bus and clock.
  const launch = v.get('--launch');
  let handle: LaunchHandle | undefined;
  let bus = new Bus();
  if (launch) {
    const { NODE_REGISTRY, Container, launchInProcess, parseLaunchArgs, resolveLaunch } = await launchParts();
    const resolved = resolveLaunch(launch, parseLaunchArgs(launchArgs), { defaultNodeName: (_p, exec) => NODE_REGISTRY.get(exec)?.name });
    const container = new Container({ registry: NODE_REGISTRY, clock });
    handle = await launchInProcess(resolved, container, { registry: NODE_REGISTRY, handleSignals: false });
    bus = container.bus;
  }
  if (f.has('--echo')) {
    bus.events().subscribe((e) => println(`${e.topic} [${e.type}] ${JSON.stringify(e.msg, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : ArrayBuffer.isView(x) ? Array.from(x as Uint8Array) : x))}`));
  }
  const total = bag.info().messageCount;
  const bar = progressBar(total, 'play');
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  try {
    const r = await replay(bag, {
      bus,
      clock,
      rate,
      asFastAsPossible: f.has('--virtual'),
      topics: l.get('--topics'),
      remap,
      startOffsetS: num(v.get('--start-offset'), '--start-offset', 0),
      loop: f.has('--loop'),
      publishClock: v.has('--clock') || f.has('--virtual'),
      clockHz: num(v.get('--clock'), '--clock', 100),
      signal: ac.signal,
      onProgress: (p) => bar.update(p.done),
    });
    bar.stop();
    reportPlayback(r);
    return r.decodeErrors > 0 || r.problems.some((p) => p.kind === 'truncated' || p.kind === 'corrupt') ? 1 : 0;
  } finally {
    bar.stop();
    process.off('SIGINT', stop);
    await handle?.shutdown('playback finished');
  }
}

async function record(argv: string[]): Promise<number> {
  const { pos, v, l, f } = parseOpts(argv, { values: ['-o', '--output', '--max-bag-size', '--max-bag-duration', '--compression', '--launch'], lists: ['--topics', '--exclude'], flags: ['-a', '--all'] });
  const out = v.get('-o') ?? v.get('--output');
  if (!out) throw new UsageError('record needs -o <dir>');
  const launch = v.get('--launch');
  if (!launch) throw new UsageError('record needs --launch <file>: the nodes whose topics to record run in this process');
  const topics = l.get('--topics') ?? [];
  if (topics.length === 0 && !f.has('-a') && !f.has('--all')) throw new UsageError('give topics (--topics T ...) or -a for all');
  const compression = v.get('--compression') ?? 'zstd';
  if (!['zstd', 'lz4', 'none'].includes(compression)) throw new UsageError(`--compression is zstd, lz4 or none, got '${compression}'`);
  const bad = pos.filter((a) => !a.includes(':='));
  if (bad.length > 0) throw new UsageError(`unexpected argument '${bad[0]}' (launch arguments are name:=value)`);
  const { NODE_REGISTRY, Container, launchInProcess, parseLaunchArgs, resolveLaunch } = await launchParts();
  const { recorderNode } = await import('../../nodes/bag/recorder.js');
  const resolved = resolveLaunch(launch, parseLaunchArgs(pos), { defaultNodeName: (_p, exec) => NODE_REGISTRY.get(exec)?.name });
  const registry = new Map<string, NodeDefinition<ParamDecls>>(NODE_REGISTRY);
  registry.set('recorder', recorderNode as unknown as NodeDefinition<ParamDecls>);
  const container = new Container({ registry });
  const o = (value: ParamOverride['value'], type: ParamOverride['type']): ParamOverride => ({ value, type, source: 'kestrel bag record' });
  // The recorder starts first, so it sees the first messages of the launched nodes.
  const rec = await container.add({
    package: 'kestrel',
    executable: 'recorder',
    name: 'kestrel_bag_recorder',
    params: new Map([
      ['storage.uri', o(out, 'string')],
      ['storage.max_bagfile_size', o(num(v.get('--max-bag-size'), '--max-bag-size', 0), 'int')],
      ['storage.max_bagfile_duration', o(num(v.get('--max-bag-duration'), '--max-bag-duration', 0), 'double')],
      ['storage.chunk_compression', o(compression as ChunkCompression, 'string')],
      ['record.topics', o(topics, 'string[]')],
      ['record.exclude_topics', o(l.get('--exclude') ?? [], 'string[]')],
    ]),
    remaps: [],
  });
  await rec.activate();
  const handle = await launchInProcess(resolved, container, { registry });
  container.log.info(`recording to ${out}; Ctrl-C to stop`);
  await handle.done;
  return 0;
}

async function convert(argv: string[]): Promise<number> {
  const { pos, v } = parseOpts(argv, { values: ['--storage', '--compression'] });
  if (pos.length !== 2) throw new UsageError('convert needs <in> and <out-dir>');
  const storage = (v.get('--storage') ?? 'mcap') as StorageId;
  if (storage !== 'mcap' && storage !== 'sqlite3') throw new UsageError(`--storage is mcap or sqlite3, got '${storage}'`);
  const compression = (v.get('--compression') ?? 'zstd') as ChunkCompression;
  if (!['zstd', 'lz4', 'none'].includes(compression)) throw new UsageError(`--compression is zstd, lz4 or none, got '${compression}'`);
  let bar: ReturnType<typeof progressBar> | undefined;
  const { convertBag } = await import('../../lib/bag/convert.js');
  const r = await convertBag(pos[0], pos[1], {
    storage,
    compression,
    onProgress: (done, total) => {
      bar ??= progressBar(total, 'convert');
      bar.update(done);
    },
  });
  bar?.stop();
  println(`wrote ${r.messages} message(s) to ${r.files.join(', ')}`);
  for (const n of r.notes) io.err(`note: ${n}\n`);
  return 0;
}

async function reindex(argv: string[]): Promise<number> {
  const { pos } = parseOpts(argv, {});
  if (pos.length !== 1) throw new UsageError('reindex needs a bag directory');
  const bag = await openBag(pos[0]);
  const info = bag.info();
  if (info.version !== undefined) throw new Error(`${pos[0]}: already has a metadata.yaml (version ${info.version})`);
  writeFileSync(
    join(pos[0], 'metadata.yaml'),
    formatMetadata({
      storage: info.storage,
      files: info.files.map((fi) => ({ path: fi.path.split('/').pop() as string, startNs: fi.startNs, durationNs: fi.endNs - fi.startNs, messageCount: fi.messageCount })),
      topics: info.topics,
      startNs: info.startNs,
      durationNs: info.durationNs,
      messageCount: info.messageCount,
    }),
  );
  println(`wrote ${join(pos[0], 'metadata.yaml')} (${info.files.length} file(s), ${info.messageCount} messages)`);
  return 0;
}

export const bagCommand: Command = {
  name: 'bag',
  summary: 'rosbag2 bags (MCAP, sqlite3): info, play, record, convert, reindex',
  usage: USAGE,
  async run(argv) {
    const [verb, ...rest] = argv;
    switch (verb) {
      case 'info': {
        const { pos, f } = parseOpts(rest, { flags: ['--json', '-v', '--verbose', '--verify'] });
        if (pos.length !== 1) throw new UsageError('info needs exactly one bag');
        const bag = await openBag(pos[0], { verify: f.has('--verify'), messages: false });
        if (f.has('--json')) println(jsonInfo(bag.info(), bag));
        else {
          println(formatInfo(bag.info(), f.has('-v') || f.has('--verbose')));
          // Damage goes to stderr, so that stdout keeps ros2 bag info's layout.
          for (const p of bag.problems()) io.err(`warning: ${p.file}: ${p.message}\n`);
        }
        return 0;
      }
      case 'play':
        return play(rest);
      case 'record':
        return record(rest);
      case 'convert':
        return convert(rest);
      case 'reindex':
        return reindex(rest);
      case undefined:
        throw new UsageError('missing verb (info, play, record, convert, reindex)');
      default:
        throw new UsageError(`unknown verb '${verb}' (info, play, record, convert, reindex)`);
    }
  },
};
