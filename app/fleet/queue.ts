/**
 * Fleet jobs across machines through BullMQ on Redis: the coordinator (`kestrel eval --manifest … --queue URL`)
 * enqueues each job under its content key as the BullMQ job id (adding a job twice is one job, and a finished one's
 * stored return value is reused), `kestrel worker --queue URL` on any machine pulls and runs them. BullMQ gives the
 * retries with exponential backoff, and its stalled-job check hands a dead worker's job (its lock no longer renewed)
 * to another worker. The per-job timeout is the worker's: the job's `kestrel eval` child is killed past it and the
 * attempt fails (so it is retried). Results (the row, eval.json, report.html, decisions.log, the job's wall time)
 * travel as the job's return value, kept in Redis, and the coordinator writes them into its run folder: a queue
 * run's folder holds what a local run's does.
 *
 * BullMQ 6 loads no Redis driver of its own in ESM: the connection is an ioredis client made here.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { codeVersion, jobKey } from './key.js';
import { RunTally, type FleetOutcome, type Progress } from './pool.js';
import { isJobResult, type JobResult } from './result.js';
import { runJob, type FleetJob, type JobFiles } from './run-job.js';
import { partitionStored, storeResult } from './store.js';

export const FLEET_QUEUE = 'kestrel-fleet';

interface QueueData {
  job: FleetJob;
  timeoutS: number;
}

interface QueueResult extends JobFiles {
  result: JobResult;
  /** The worker's wall seconds for the job (timing.json, as the local pool's); absent from older workers. */
  wallS?: number;
}

interface RedisLike {
  quit(): Promise<unknown>;
  disconnect(): void;
}
type RedisCtor = new (url: string, opts: Record<string, unknown>) => RedisLike;

/** An ioredis client for `url`, as BullMQ wants it for blocking commands (no per-request retry limit). */
export async function redisClient(url: string): Promise<RedisLike & ConnectionOptions> {
  // Loaded by name at run time: only queue runs need the driver.
  const name = 'ioredis';
  let mod: { default?: RedisCtor; Redis?: RedisCtor };
  try {
    mod = (await import(name)) as { default?: RedisCtor; Redis?: RedisCtor };
  } catch (e) {
    throw new Error(`--queue needs the npm package 'ioredis' (BullMQ's Redis driver), which is not installed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const Ctor = mod.Redis ?? mod.default;
  if (!Ctor) throw new Error("the 'ioredis' package exports no Redis client class");
  return new Ctor(url, { maxRetriesPerRequest: null }) as RedisLike & ConnectionOptions;
}

export interface QueueRunOptions {
  url: string;
  run: string;
  retries: number;
  timeoutS: number;
  code: string;
  /** First retry after this many ms, doubling each time (BullMQ exponential backoff). */
  backoffMs?: number;
  queueName?: string;
  onProgress?: (p: Progress) => void;
}

/** Enqueues the jobs not already finished in the run folder, waits for every one, stores the results there. */
export async function runQueued(jobs: readonly FleetJob[], o: QueueRunOptions): Promise<FleetOutcome> {
  const conn = await redisClient(o.url);
  const queue = new Queue<QueueData, QueueResult>(o.queueName ?? FLEET_QUEUE, { connection: conn });
  const events = new QueueEvents(o.queueName ?? FLEET_QUEUE, { connection: conn });
  const t = new RunTally(jobs.length, o.onProgress);
  try {
    await events.waitUntilReady();
    const pending: { j: FleetJob; job: Job<QueueData, QueueResult> }[] = [];
    const { stored, todo } = partitionStored(jobs, o.run, o.code);
    t.reuse(...stored);
    for (const j of todo) {
      // The key is the job id: a job another coordinator (or an earlier run) enqueued is that same job.
      const job = await queue.add('eval', { job: j, timeoutS: o.timeoutS }, { jobId: j.key, attempts: o.retries + 1, backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 }, removeOnComplete: false, removeOnFail: false });
      const state = await job.getState();
      // add() of an existing id returns the new data, not the stored job: its return value is read back by id.
      const done = state === 'completed' ? (await Job.fromId<QueueData, QueueResult>(queue, j.key))?.returnvalue : undefined;
      if (done && isJobResult(done.result, j.key)) {
        storeResult(o.run, done.result, done);
        t.reuse(done.result);
        continue;
      }
      // A job that failed for good in an earlier run gets its attempts again.
      if (state === 'failed') await job.retry('failed');
      pending.push({ j, job });
    }
    t.progress.running = pending.length;
    t.tell();
    await Promise.all(
      pending.map(async ({ j, job }) => {
        try {
          const v = (await job.waitUntilFinished(events)) as QueueResult;
          if (!isJobResult(v?.result, j.key)) throw new Error(`job ${j.id}: the worker returned no valid result`);
          storeResult(o.run, v.result, v);
          t.succeeded(v.result);
          if (typeof v.wallS === 'number') t.wallS[j.id] = v.wallS;
        } catch (e) {
          const fresh = await Job.fromId<QueueData, QueueResult>(queue, j.key);
          t.failed({ id: j.id, key: j.key, error: (e as Error).message, attempts: fresh?.attemptsMade ?? o.retries + 1 });
        }
        t.ranOne();
      }),
    );
  } finally {
    await events.close();
    await queue.close();
    await conn.quit().catch(() => conn.disconnect());
  }
  return t.outcome();
}

export interface WorkerOptions {
  url: string;
  concurrency: number;
  /** The job lock BullMQ renews while a job runs; a dead worker's job is taken back after it lapses. */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (others' lapsed locks). */
  stalledMs?: number;
  queueName?: string;
  workDir?: string;
  onEvent?: (what: 'start' | 'done' | 'failed', job: FleetJob, detail: string) => void;
}

/** Starts a worker: it pulls jobs until closed. */
export async function startWorker(o: WorkerOptions): Promise<{ close(): Promise<void> }> {
  const conn = await redisClient(o.url);
  const code = codeVersion();
  const base = o.workDir ?? join(tmpdir(), `kestrel-worker-${process.pid}`);
  const worker = new Worker<QueueData, QueueResult>(
    o.queueName ?? FLEET_QUEUE,
    async (job) => {
      const j = job.data.job;
      // The key names the content: a machine whose bag or scenario differs from the coordinator's must not answer for it.
      const here = jobKey(j.spec);
      if (here !== j.key) throw new UnrecoverableError(`job ${j.id}: its inputs here hash to ${here}, not ${j.key} (another bag, scenario or latency model on this machine)`);
      o.onEvent?.('start', j, `attempt ${job.attemptsMade + 1}`);
      const s0 = process.hrtime.bigint();
      const r = await runJob(j, { dir: join(base, j.key), timeoutS: job.data.timeoutS, code });
      const wallS = Math.round(Number(process.hrtime.bigint() - s0) / 1e6) / 1000;
      return { result: r.result, evalJson: r.evalJson, decisionsLog: r.decisionsLog, reportHtml: r.reportHtml, wallS };
    },
    { connection: conn, concurrency: o.concurrency, lockDuration: o.lockMs ?? 30_000, stalledInterval: o.stalledMs ?? 30_000, maxStalledCount: 2 },
  );
  worker.on('completed', (job) => o.onEvent?.('done', job.data.job, ''));
  worker.on('failed', (job, err) => {
    if (job) o.onEvent?.('failed', job.data.job, err.message);
  });
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      await conn.quit().catch(() => conn.disconnect());
    },
  };
}
