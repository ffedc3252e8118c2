/** `kestrel topic list|info|echo|hz`: the topics of a running Kestrel, as `ros2 topic` shows a graph's. */
import { stringify } from 'yaml';
import type { TopicInfo } from '../../runtime/bus.js';
import type { IntrospectionClient } from '../../runtime/introspect/client.js';
import { println, UsageError, type Command } from '../command.js';
import { formatHz, formatTopicInfo, parseLiveArgs, positiveInt, TARGET_USAGE, withProcess, type TopicInfoAnswer } from './live.js';

const USAGE = `usage: kestrel topic list [-t] [--json]
       kestrel topic info <topic> [--json]
       kestrel topic echo <topic> [--once | -n N] [--json] [--full-arrays]
       kestrel topic hz <topic> [--window N] [-n N]

The topics of a running Kestrel ('kestrel launch', 'kestrel start'), asked over its introspection socket.
  list   every topic; -t with its type; --json: name, type, publishers, subscribers, messages published
  info   type, publisher/subscription counts, messages published, the nodes declaring it and their QoS
  echo   each message as YAML (--json: one JSON line each) until Ctrl-C; --once / -n N: stop after 1 / N;
         arrays over 128 elements are shown as <type[length]> unless --full-arrays
  hz     the message rate every second over the last --window arrivals (default 10000), until Ctrl-C or
         -n N reports
${TARGET_USAGE}`;

/** Resolves on SIGINT/SIGTERM (then removes its handlers), or when `stop` is called. */
function untilSignal(): { done: Promise<void>; stop: () => void } {
  let stop!: () => void;
  const done = new Promise<void>((resolve) => {
    const on = (): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve();
    };
    stop = on;
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { done, stop };
}

/** Waits for Ctrl-C (or the stream's own end); the process exiting meanwhile is an error. */
async function endOf(sig: { done: Promise<void>; stop: () => void }, c: IntrospectionClient): Promise<void> {
  const how = await Promise.race([sig.done.then(() => 'stopped' as const), c.closed().then(() => 'gone' as const)]);
  sig.stop();
  if (how === 'gone') throw new Error(`the Kestrel process closed the connection (${c.path}): it has exited`);
}

export const topicCommand: Command = {
  name: 'topic',
  summary: 'Live topics of a running Kestrel: list, info, echo, hz (like ros2 topic)',
  usage: USAGE,
  async run(argv) {
    const { positionals, opts } = parseLiveArgs(argv, ['window', 'count'], ['json', 'show-types', 'once', 'full-arrays'], { '-t': 'show-types', '-n': 'count', '-w': 'window' });
    const [verb, topic, extra] = positionals;
    if (verb === undefined) throw new UsageError('missing subcommand (list, info, echo, hz)');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const json = opts.json === 'true';
    const needTopic = (): string => {
      if (topic === undefined) throw new UsageError(`topic ${verb}: missing topic name`);
      return topic;
    };
    switch (verb) {
      case 'list': {
        if (topic !== undefined) throw new UsageError(`unexpected argument '${topic}'`);
        const topics = (await withProcess(opts, (c) => c.request('topic.list', {}))) as TopicInfo[];
        if (json) println(JSON.stringify(topics));
        else for (const t of topics) println(opts['show-types'] ? `${t.name} [${t.type}]` : t.name);
        return 0;
      }
      case 'info': {
        const name = needTopic();
        const t = (await withProcess(opts, (c) => c.request('topic.info', { topic: name }))) as TopicInfoAnswer;
        if (json) println(JSON.stringify(t));
        else for (const l of formatTopicInfo(t)) println(l);
        return 0;
      }
      case 'echo': {
        const name = needTopic();
        const limit = opts.once === 'true' ? 1 : positiveInt(opts.count, '-n');
        await withProcess(opts, async (c) => {
          const sig = untilSignal();
          let n = 0;
          await c.stream('topic.echo', { topic: name, fullArrays: opts['full-arrays'] === 'true' }, (e) => {
            if (limit !== undefined && n >= limit) return;
            n++;
            const { msg, dropped } = e as { msg: unknown; dropped?: number };
            if (dropped) process.stderr.write(`(${dropped} message(s) dropped: this terminal reads slower than they come)\n`);
            if (json) println(JSON.stringify(msg));
            else println(`${stringify(msg).trimEnd()}\n---`);
            if (limit !== undefined && n >= limit) sig.stop();
          });
          await endOf(sig, c);
        });
        return 0;
      }
      case 'hz': {
        const name = needTopic();
        const window = positiveInt(opts.window, '--window') ?? 10_000;
        const reports = positiveInt(opts.count, '-n');
        await withProcess(opts, async (c) => {
          const sig = untilSignal();
          const arrivals: number[] = [];
          let total = 0;
          await c.stream('topic.hz', { topic: name }, (e) => {
            total++;
            arrivals.push((e as { t: number }).t);
            if (arrivals.length > window + 1) arrivals.shift();
          });
          let done = 0;
          let seen = 0;
          const timer = setInterval(() => {
            // Like ros2 topic hz: a report each second, "no new messages" when none came since the last one.
            const fresh = total !== seen;
            seen = total;
            for (const l of fresh ? formatHz(arrivals) : ['no new messages']) println(l);
            if (reports !== undefined && ++done >= reports) sig.stop();
          }, 1000);
          try {
            await endOf(sig, c);
          } finally {
            clearInterval(timer);
          }
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${verb}' (list, info, echo, hz)`);
    }
  },
};
