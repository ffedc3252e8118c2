/**
 * Bag player node (exec `player`), like rosbag2's player: parameters under `play.*` and
 * `storage.*`. With `play.as_fast_as_possible` and use_sim_time, the container's SimClock
 * runs on bag time and the replay goes as fast as the pipeline can take it.
 */
import { Subscription } from 'rxjs';
import { openBag, type Bag } from '../../lib/bag/reader.js';
import { replay, type ReplayReport } from '../../lib/bag/replay.js';
import { defineNode, type NodeContext, type NodeInstance, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';

/** `from:=to` pairs → map; a clear error names the bad entry. */
export function parseRemaps(list: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of list) {
    const i = r.indexOf(':=');
    if (i <= 0 || i === r.length - 2) throw new Error(`play.remap: expected 'from:=to', got '${r}'`);
    m.set(r.slice(0, i), r.slice(i + 2));
  }
  return m;
}

const finishedByNode = new WeakMap<NodeContext, Promise<ReplayReport>>();

/** The replay report of a player node (`managedNode.ctx`), once its playback ends. */
export function playbackFinished(ctx: NodeContext): Promise<ReplayReport> {
  const f = finishedByNode.get(ctx);
  if (!f) throw new Error(`node '${ctx.fqn}' is not a configured bag player`);
  return f;
}

export interface PlayerInstance extends NodeInstance {
  readonly bag: Bag;
  /** Resolves when playback ends (or is stopped), with the replay report. */
  readonly finished: Promise<ReplayReport>;
}

export const playerNode = defineNode({
  name: 'player',
  description: 'Plays a rosbag2 bag (MCAP or sqlite3) onto the bus: original timing, a rate, or as fast as possible on a virtual clock',
  params: {
    'storage.uri': p.string('', 'Bag directory, .mcap or .db3 file'),
    'play.rate': p.double(1, 'Playback speed multiplier', { min: 1e-3, max: 1e6 }),
    'play.as_fast_as_possible': p.bool(false, 'No pacing; needs use_sim_time (nodes see bag time)'),
    'play.topics_to_filter': p.stringArray([], 'Topics to play (empty: all)'),
    'play.remap': p.stringArray([], "Topic remaps, 'from:=to'"),
    'play.start_offset': p.double(0, 'Seconds to skip from the bag start', { min: 0 }),
    'play.loop': p.bool(false, 'Play again from the start at the end'),
    'play.clock_publish_frequency': p.double(100, 'Rate of /clock in bag time, Hz (0: before every message)', { min: 0 }),
    'play.publish_clock': p.bool(true, 'Publish /clock when the clock is sim time'),
  },
  publishes: [topicDoc('/clock', 'Bag time (under sim time)')],
  async create(ctx, params): Promise<PlayerInstance> {
    const uri = params['storage.uri'];
    if (!uri) throw new Error(`${ctx.fqn}: parameter 'storage.uri' is required (a bag directory, .mcap or .db3 file)`);
    const remap = parseRemaps(params['play.remap']);
    const bag = await openBag(uri);
    const info = bag.info();
    ctx.log.info(`bag ${uri}: ${info.messageCount} messages, ${info.topics.length} topics, ${(Number(info.durationNs) / 1e9).toFixed(3)} s`);
    let resolveFinished!: (r: ReplayReport) => void;
    let rejectFinished!: (e: unknown) => void;
    const finished = new Promise<ReplayReport>((res, rej) => {
      resolveFinished = res;
      rejectFinished = rej;
    });
    // Nobody may be awaiting `finished`: an error is reported through the log and diagnostics.
    finished.catch(() => undefined);
    finishedByNode.set(ctx, finished);
    let abort: AbortController | undefined;
    return {
      bag,
      finished,
      activate() {
        abort = new AbortController();
        const resolve = (t: string): string => remap.get(t) ?? ctx.resolve(t.startsWith('/') ? t : `/${t}`);
        const remapAll = new Map(info.topics.map((t) => [t.name, resolve(t.name)]));
        replay(bag, {
          bus: ctx.bus,
          clock: ctx.clock,
          rate: params['play.rate'],
          asFastAsPossible: params['play.as_fast_as_possible'],
          topics: params['play.topics_to_filter'],
          remap: remapAll,
          startOffsetS: params['play.start_offset'],
          loop: params['play.loop'],
          clockHz: params['play.clock_publish_frequency'],
          publishClock: params['play.publish_clock'] && ctx.clock.kind === 'sim',
          signal: abort.signal,
          log: ctx.log,
          diag: ctx.diag,
          onProgress: (pr) => {
            ctx.diag.values.progress = `${pr.done}/${pr.total}`;
          },
        }).then(
          (r) => {
            ctx.diag.values.published = String(r.published);
            ctx.diag.values.decode_errors = String(r.decodeErrors);
            const bad = r.decodeErrors > 0 || r.problems.some((x) => x.kind === 'truncated' || x.kind === 'corrupt');
            ctx.diag.set(bad ? 'warn' : 'ok', `played ${r.published} messages${r.decodeErrors ? `, ${r.decodeErrors} dropped` : ''}${r.aborted ? ' (stopped)' : ''}`);
            ctx.log.info(`playback ${r.aborted ? 'stopped' : 'done'}: ${r.published} messages`);
            resolveFinished(r);
          },
          (e: unknown) => {
            ctx.diag.set('error', (e as Error).message);
            ctx.log.error(`playback failed: ${(e as Error).message}`);
            rejectFinished(e);
          },
        );
        return new Subscription(() => abort?.abort());
      },
      deactivate() {
        abort?.abort();
      },
    };
  },
});
