/**
 * Bag recorder node (exec `recorder`): records chosen topics (or all) from the bus to an MCAP
 * bag, stamped with the node clock (bag time under sim time), split by size or duration.
 * The bag is finalized on deactivate/shutdown, which the container runs after every other node
 * has stopped (`shutdownLast`), so what they publish while stopping is recorded and nothing is
 * written after close. Chunks reach the file every second (a SIGKILL loses at most that).
 */
import type { QoS } from '../../runtime/qos.js';
import { Subscription } from 'rxjs';
import { filter } from 'rxjs/operators';
import { exactNowNs } from '../../lib/bag/exact-time.js';
import { createBagWriter, type BagWriter, type ChunkCompression } from '../../lib/bag/writer.js';
import { defineNode, type NodeInstance } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';

/** rosbag2's default name: rosbag2_YYYY_MM_DD-HH_MM_SS, from the given time. */
export function defaultBagName(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `rosbag2_${d.getUTCFullYear()}_${two(d.getUTCMonth() + 1)}_${two(d.getUTCDate())}-${two(d.getUTCHours())}_${two(d.getUTCMinutes())}_${two(d.getUTCSeconds())}`;
}

export interface RecorderInstance extends NodeInstance {
  /** The open writer while active (for tests and `kestrel bag record`). */
  writer(): BagWriter | undefined;
  /** Messages that could not be recorded (encoding failed), by topic. */
  readonly dropped: Map<string, number>;
}

export const recorderNode = defineNode({
  name: 'recorder',
  description: 'Records bus topics to an MCAP rosbag2 bag (zstd chunks, split by size/duration)',
  shutdownLast: true,
  params: {
    'storage.uri': p.string('', 'Output bag directory (default: rosbag2_<date-time>)'),
    'storage.max_bagfile_size': p.int(0, 'Split after this many bytes per file (0: no split)', { min: 0 }),
    'storage.max_bagfile_duration': p.double(0, 'Split after this many seconds per file (0: no split)', { min: 0 }),
    'storage.chunk_compression': p.string('zstd', 'MCAP chunk compression', ['zstd', 'lz4', 'none']),
    'storage.flush_ms': p.int(1000, 'Write the open chunk out at least this often (wall ms): what a crash can lose; 0 = only full chunks', { min: 0 }),
    'record.all_topics': p.bool(true, 'Record every topic (record.topics empty)'),
    'record.topics': p.stringArray([], 'Topics to record (non-empty: only these)'),
    'record.exclude_topics': p.stringArray([], 'Topics never recorded'),
  },
  async create(ctx, params): Promise<RecorderInstance> {
    const topics = params['record.topics'].map((t) => ctx.resolve(t));
    if (topics.length === 0 && !params['record.all_topics']) throw new Error(`${ctx.fqn}: nothing to record: set record.topics or record.all_topics:=true`);
    const only = topics.length > 0 ? new Set(topics) : undefined;
    const exclude = new Set(params['record.exclude_topics'].map((t) => ctx.resolve(t)));
    const dropped = new Map<string, number>();
    let writer: BagWriter | undefined;
    let closing: Promise<void> | undefined;
    let writeErrors = 0;
    const close = async (): Promise<void> => {
      const w = writer;
      writer = undefined;
      if (w) {
        closing = w.close();
        await closing;
        ctx.log.info(`recorded ${w.count()} messages to ${w.dir}, ${writeErrors} write errors`);
      }
    };
    return {
      dropped,
      writer: () => writer,
      async activate() {
        await closing;
        const dir = params['storage.uri'] || defaultBagName(ctx.clock.now());
        writer = await createBagWriter(dir, {
          compression: params['storage.chunk_compression'] as ChunkCompression,
          splitBytes: params['storage.max_bagfile_size'],
          splitSeconds: params['storage.max_bagfile_duration'],
          flushMs: params['storage.flush_ms'],
        });
        const w = writer;
        ctx.log.info(`recording ${only ? [...only].join(', ') : 'all topics'} to ${dir}`);
        const known = new Set<string>();
        const sub = ctx.bus
          .events({ replayLatched: true })
          .pipe(filter((e) => (!only || only.has(e.topic)) && !exclude.has(e.topic)))
          .subscribe((e) => {
            try {
              if (!known.has(e.topic)) {
                // Offered QoS goes into the bag, so a player latches what was latched (as rosbag2 does).
                known.add(e.topic);
                w.addTopic(e.topic, e.type, { offeredQosProfiles: offeredQosYaml(ctx.bus.offeredQos(e.topic)) });
              }
              w.write(e.topic, e.type, exactNowNs(ctx.clock), e.msg).catch((err: unknown) => {
                writeErrors++;
                ctx.diag.values.write_errors = String(writeErrors);
                ctx.diag.stage('record').error(err);
              });
            } catch (err) {
              // A message that does not encode is counted and reported once per topic.
              const n = (dropped.get(e.topic) ?? 0) + 1;
              dropped.set(e.topic, n);
              ctx.diag.stage('record').drop();
              if (n === 1) ctx.log.warn(`cannot record '${e.topic}' (${e.type}): ${(err as Error).message}`);
            }
          });
        return new Subscription(() => sub.unsubscribe());
      },
      deactivate: close,
      shutdown: close,
    };
  },
});

/** rosbag2's offered_qos_profiles YAML (enums as rmw numbers: KEEP_LAST 1, RELIABLE 1 / BEST_EFFORT 2, TRANSIENT_LOCAL 1 / VOLATILE 2). */
export function offeredQosYaml(profiles: readonly QoS[]): string {
  const zero = '\n    sec: 0\n    nsec: 0';
  return profiles
    .map((q) =>
      `- history: ${q.history === 'keep_all' ? 2 : 1}\n  depth: ${q.depth}\n  reliability: ${q.reliability === 'reliable' ? 1 : 2}\n  durability: ${q.durability === 'transient_local' ? 1 : 2}\n` +
      `  deadline:${zero}\n  lifespan:${zero}\n  liveliness: 1\n  liveliness_lease_duration:${zero}\n  avoid_ros_namespace_conventions: false`,
    )
    .join('\n');
}
