/** `kestrel worker --queue redis://host:6379`: pulls fleet jobs from BullMQ and runs each as a `kestrel eval` child. */
import { parseOptions } from '../args.js';
import { io, println, UsageError, type Command } from '../command.js';

const USAGE = `usage: kestrel worker --queue redis://host:6379 [--concurrency N] [--lock-s S] [--stalled-s S]

Pulls the jobs that 'kestrel eval --manifest FILE --queue URL' enqueued and runs each one as a 'kestrel eval'
child in this checkout (the bags, scenarios and latency models must be at the same paths, relative to the working
directory, with the same content: a job whose inputs hash differently here is refused). Runs until stopped
(SIGINT/SIGTERM: the running jobs finish first; a killed worker's jobs are taken up by another worker once their
lock lapses).

  --queue URL        the Redis server BullMQ uses (required)
  --concurrency N    jobs at once (default 1: each job is a whole pipeline)
  --lock-s S         the job lock, renewed while a job runs (default 30)
  --stalled-s S      how often to look for jobs of dead workers (default 30)`;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run fleet evaluation jobs from a BullMQ queue on Redis (kestrel eval --manifest … --queue)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { queue: { type: 'string' }, concurrency: { type: 'string' }, 'lock-s': { type: 'string' }, 'stalled-s': { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.queue || !/^rediss?:\/\/\S+$/.test(values.queue)) throw new UsageError(`--queue expects redis://host:port${values.queue ? `, got '${values.queue}'` : ''}`);
    const pos = (name: string, s: string | undefined, def: number, int: boolean): number => {
      if (s === undefined) return def;
      const n = Number(s);
      if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new UsageError(`--${name} expects a positive ${int ? 'integer' : 'number'}, got '${s}'`);
      return n;
    };
    const concurrency = pos('concurrency', values.concurrency, 1, true);
    const lockMs = pos('lock-s', values['lock-s'], 30, false) * 1000;
    const stalledMs = pos('stalled-s', values['stalled-s'], 30, false) * 1000;
    const { startWorker } = await import('../../app/fleet/queue.js');
    const w = await startWorker({
      url: values.queue,
      concurrency,
      lockMs,
      stalledMs,
      onEvent: (what, job, detail) => println(`worker ${process.pid}: ${what} ${job.id} ${job.key}${detail ? ` ${detail}` : ''}`),
    });
    println(`worker ${process.pid}: ready on ${values.queue} (concurrency ${concurrency})`);
    await new Promise<void>((res) => {
      const stop = (): void => res();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    io.err(`worker ${process.pid}: stopping after the running jobs\n`);
    await w.close();
    return 0;
  },
};
