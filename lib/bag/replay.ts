/**
 * `replay(bag, opts)`: publishes a bag's messages on the bus, in deterministic order
 * (log time, then file, then position), with original timing, a rate multiplier, or as
 * fast as possible under a virtual clock (the SimClock jumps to each message's time, and
 * /clock carries bag time). Used by the player node, `kestrel bag play` and `kestrel eval`.
 * A payload that does not decode is counted and reported (topic, time), and replay goes on.
 */
import { msgs, makeMsg, type MsgTypeName } from '../../msgs/index.js';
import type { Bus, Publisher } from '../../runtime/bus.js';
import { SimClock, SystemClock, sleep, type Clock } from '../../runtime/clock.js';
import type { NodeDiagnostics } from '../../runtime/diagnostics.js';
import type { Logger } from '../../runtime/log.js';
import { QOS_DEFAULT, QOS_LATCHED, type QoS } from '../../runtime/qos.js';
import { nsToMs, nsToTime } from '../../runtime/time.js';
import { normalizeTypeName } from '../../msgs/codec.js';
import { noteExactTime } from './exact-time.js';
import { qosProfiles } from './metadata.js';
import type { Bag } from './reader.js';
import type { BagMessage, BagProblem, BagTopic } from './types.js';

export interface ReplayProgress {
  done: number;
  total: number;
  loop: number;
  bagTimeNs: bigint;
}

export interface ReplayOptions {
  bus: Bus;
  /** The process clock. A SimClock is advanced to bag time before each message. */
  clock: Clock;
  /** Time source for paced playback (default: a SystemClock). Unused when as fast as possible. */
  wallClock?: Clock;
  /** Playback speed multiplier for paced playback (ros2 bag play --rate). */
  rate?: number;
  /** No pacing: needs a SimClock, which then runs on bag time. */
  asFastAsPossible?: boolean;
  /** Topics to play (empty or absent: all). */
  topics?: readonly string[];
  /** Bag topic → bus topic. */
  remap?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Skip this many seconds from the bag start. */
  startOffsetS?: number;
  /** true: loop until aborted; a number: play that many times in all. */
  loop?: boolean | number;
  /** Publish rosgraph_msgs/Clock on /clock (default: true when `clock` is a SimClock). */
  publishClock?: boolean;
  /** /clock rate in bag time; 0 publishes before every message that moves time. */
  clockHz?: number;
  signal?: AbortSignal;
  /**
   * Under a SimClock: moves the clock to bag time instead of a plain `advanceTo`, e.g. a
   * virtual-time driver that runs each due timer and waits for in-flight inference
   * (app/eval/driver.ts runVirtual), so every message meets the pipeline in the same state.
   */
  advance?: (toMs: number) => Promise<void>;
  onProgress?: (p: ReplayProgress) => void;
  /** Messages between progress callbacks and event-loop yields. */
  progressEvery?: number;
  log?: Logger;
  diag?: NodeDiagnostics;
}

export interface DroppedMessage {
  topic: string;
  timeNs: bigint;
  reason: string;
}

export interface ReplayReport {
  published: number;
  perTopic: Record<string, number>;
  /** Payloads that failed to decode: counted, the first 100 kept with topic and time. */
  decodeErrors: number;
  dropped: DroppedMessage[];
  /** Topics not played, and why (serialization format, unknown type, bus type clash). */
  skippedTopics: { topic: string; reason: string }[];
  /** Damage in the bag itself (truncation, corruption), as found by the reader. */
  problems: BagProblem[];
  loops: number;
  firstNs: bigint;
  lastNs: bigint;
  aborted: boolean;
}

const MAX_KEPT = 100;

/** rosbag2 stores offered QoS as YAML text; durability 1 is TRANSIENT_LOCAL (latched). */
function wasLatched(t: BagTopic): boolean {
  try {
    return qosProfiles(t.offeredQosProfiles).some((q) => q.durability === 'transient_local');
  } catch {
    return false; // unreadable QoS: played with the default QoS (the reader reported nothing to lose)
  }
}

/** Bag topic → bus topic. Relative names in old bags (`chatter`) expand in the root namespace, as ROS 2 does. */
function remapOf(r: ReplayOptions['remap']): (topic: string) => string {
  const m = !r ? new Map<string, string>() : r instanceof Map ? (r as ReadonlyMap<string, string>) : new Map(Object.entries(r));
  return (t) => m.get(t) ?? (t.startsWith('/') ? t : `/${t}`);
}

/** Makes the bag's own definitions known process-wide, so recorders and transports can encode them. */
function shareDefinition(bag: Bag, type: string): void {
  if (msgs.has(type) || !bag.registry.has(type)) return;
  try {
    msgs.addSchema(type, bag.registry.schemaText(type));
  } catch {
    // Incomplete bag definition: messages still decode with the bag's registry where possible.
  }
}

/** Where a SimClock for replaying `bag` should start, so that the first jump fires no stale timers. */
export function bagStartMs(bag: Bag, startOffsetS = 0): number {
  return nsToMs(bag.info().startNs + BigInt(Math.round(startOffsetS * 1e9)));
}

export async function replay(bag: Bag, o: ReplayOptions): Promise<ReplayReport> {
  const info = bag.info();
  const sim = o.clock instanceof SimClock ? o.clock : undefined;
  if (o.asFastAsPossible && !sim) {
    throw new Error('as-fast-as-possible replay needs sim time: run with use_sim_time:=true (a SimClock), so that nodes see bag time');
  }
  const rate = o.rate ?? 1;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`replay rate must be a positive number, got ${rate}`);
  const wall = o.wallClock ?? new SystemClock();
  const remap = remapOf(o.remap);
  const wanted = o.topics && o.topics.length > 0 ? new Set(o.topics) : undefined;
  const report: ReplayReport = { published: 0, perTopic: {}, decodeErrors: 0, dropped: [], skippedTopics: [], problems: bag.problems(), loops: 0, firstNs: 0n, lastNs: 0n, aborted: false };
  if (wanted) {
    for (const t of wanted) if (!bag.topic(t)) report.skippedTopics.push({ topic: t, reason: 'not in the bag' });
  }

  // One publisher per playable topic; the rest are reported once, not per message.
  const pubs = new Map<string, Publisher<unknown>>();
  for (const t of info.topics) {
    if (wanted && !wanted.has(t.name)) continue;
    const skip = (reason: string): void => {
      report.skippedTopics.push({ topic: t.name, reason });
      o.log?.warn(`not playing '${t.name}': ${reason}`);
    };
    if (t.serializationFormat !== 'cdr') {
      skip(`serialization format '${t.serializationFormat}' is not CDR`);
      continue;
    }
    if (!bag.registry.has(t.type)) {
      skip(`no definition of ${t.type} in the bag or in Kestrel's msgs`);
      continue;
    }
    shareDefinition(bag, t.type);
    const qos: QoS = wasLatched(t) ? QOS_LATCHED : QOS_DEFAULT;
    try {
      pubs.set(t.name, o.bus.advertise(remap(t.name), normalizeTypeName(t.type) as MsgTypeName, qos) as Publisher<unknown>);
    } catch (e) {
      skip((e as Error).message);
    }
  }
  const publishClock = o.publishClock ?? sim !== undefined;
  const clockPub = publishClock ? o.bus.advertise('/clock', 'rosgraph_msgs/msg/Clock') : undefined;
  const clockPeriodNs = o.clockHz === undefined ? 10_000_000n : o.clockHz > 0 ? BigInt(Math.round(1e9 / o.clockHz)) : 0n;
  let nextClockNs = -1n;
  let lastClockNs = -1n;

  const startNs = info.startNs + BigInt(Math.round((o.startOffsetS ?? 0) * 1e9));
  if (sim && sim.nextDue() !== undefined && nsToMs(startNs) - sim.now() > 3_600_000) {
    o.log?.warn(`the SimClock reads ${sim.now()} ms but the bag starts at ${nsToMs(startNs)} ms: every timer in between will fire; create the clock with new SimClock(bagStartMs(bag))`);
  }
  const played = [...pubs.keys()];
  // Progress total from the counts (an upper bound with a start offset): the bag is streamed, not loaded.
  const total = info.topics.filter((t) => pubs.has(t.name)).reduce((n, t) => n + t.messageCount, 0);
  const loops = o.loop === true ? Number.POSITIVE_INFINITY : typeof o.loop === 'number' ? Math.max(1, o.loop) : 1;
  const every = o.progressEvery ?? 1000;
  const stage = o.diag?.stage('replay');
  // A SimClock never runs backwards: each loop continues on from the last, one clock period later.
  let spanNs = 0n;

  const publishOne = (m: BagMessage, timeNs: bigint): void => {
    let msg: unknown;
    try {
      msg = m.decode();
    } catch (e) {
      report.decodeErrors++;
      stage?.drop();
      stage?.error(e);
      if (report.dropped.length < MAX_KEPT) report.dropped.push({ topic: m.topic, timeNs: m.logTimeNs, reason: (e as Error).message });
      if (report.decodeErrors <= 10) o.log?.warn(`dropped message on '${m.topic}' at ${m.logTimeNs} ns: ${(e as Error).message}`);
      return;
    }
    (pubs.get(m.topic) as Publisher<unknown>).publish(msg);
    report.published++;
    report.perTopic[m.topic] = (report.perTopic[m.topic] ?? 0) + 1;
    if (report.firstNs === 0n) report.firstNs = timeNs;
    report.lastNs = timeNs;
  };

  const moveClock = async (timeNs: bigint): Promise<void> => {
    if (sim) {
      if (nsToMs(timeNs) > sim.now()) {
        if (o.advance) await o.advance(nsToMs(timeNs));
        else sim.advanceTo(nsToMs(timeNs));
      }
      noteExactTime(sim, timeNs);
    }
    if (clockPub && timeNs > lastClockNs && timeNs >= nextClockNs) {
      lastClockNs = timeNs;
      clockPub.publish(makeMsg('rosgraph_msgs/msg/Clock', { clock: nsToTime(timeNs) }));
      nextClockNs = timeNs + clockPeriodNs;
    }
  };

  try {
    for (let loop = 0; loop < loops && played.length > 0; loop++) {
      report.loops = loop + 1;
      const shift = spanNs * BigInt(loop);
      let wall0 = 0;
      let bag0: bigint | undefined;
      let last = 0n;
      let i = 0;
      for (const m of bag.messagesSync({ startNs, topics: played })) {
        if (o.signal?.aborted) {
          report.aborted = true;
          return report;
        }
        if (bag0 === undefined) {
          bag0 = m.logTimeNs;
          wall0 = wall.now();
        }
        const t = sim ? m.logTimeNs + shift : m.logTimeNs;
        if (!o.asFastAsPossible) {
          const due = wall0 + nsToMs(m.logTimeNs - bag0) / rate;
          const wait = due - wall.now();
          if (wait > 0) await sleep(wall, wait);
        }
        await moveClock(t);
        publishOne(m, t);
        last = m.logTimeNs;
        if (++i % every === 0) {
          o.onProgress?.({ done: i, total, loop, bagTimeNs: m.logTimeNs });
          // Let timers and I/O of other nodes run; order of messages is unaffected.
          if (o.asFastAsPossible) await new Promise<void>((r) => setImmediate(r));
        }
      }
      if (bag0 === undefined) break;
      if (loop === 0) spanNs = last - bag0 + (clockPeriodNs || 1_000_000n);
      o.onProgress?.({ done: i, total: Math.max(i, total), loop, bagTimeNs: last });
    }
  } finally {
    for (const p of report.problems) o.log?.warn(`bag problem: ${p.file}: ${p.message}`);
    if (report.decodeErrors > 0) o.log?.warn(`${report.decodeErrors} message(s) could not be decoded and were dropped`);
    for (const p of pubs.values()) p.close();
    clockPub?.close();
  }
  return report;
}
