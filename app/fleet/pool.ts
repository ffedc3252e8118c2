/**
 * The local pool: up to `concurrency` jobs at once, each in its own `kestrel eval` child (run-job.ts), with retries
 * and exponential backoff, a timeout per job, and resume (a job whose result is in the run folder is not redone).
 */
import { availableParallelism } from 'node:os';
import { runJob, type FleetJob } from './run-job.js';
import { jobDir, partitionStored, storeResult } from './store.js';
import type { JobResult } from './result.js';

export interface Progress {
  total: number;
  done: number;
  /** Of `done`: found finished in the run folder (resume) or the queue's store. */
  reused: number;
  running: number;
  failed: number;
  /** Estimated seconds left, once a job has finished here. */
  etaS: number | undefined;
}

export interface PoolOptions {
  run: string;
  concurrency?: number;
  retries: number;
  timeoutS: number;
  code: string;
  /** First retry after this many ms, doubling each time. */
  backoffMs?: number;
  onProgress?: (p: Progress) => void;
}

export interface JobFailure {
  id: string;
  key: string;
  error: string;
  attempts: number;
}

export interface FleetOutcome {
  results: JobResult[];
  failures: JobFailure[];
  /** Wall seconds per job run here (not reused), for timing.json. */
  wallS: Record<string, number>;
}

/**
 * What a run of jobs gathers (results, failures, wall times) and its progress reports, as the local pool and the
 * queue both keep them. The ETA counts only jobs that ran here: a reused result took no time.
 */
export class RunTally {
  readonly results: JobResult[] = [];
  readonly failures: JobFailure[] = [];
  readonly wallS: Record<string, number> = {};
  readonly progress: Progress;
  private readonly t0 = process.hrtime.bigint();
  private ranHere = 0;

  constructor(total: number, private readonly onProgress?: (p: Progress) => void) {
    this.progress = { total, done: 0, reused: 0, running: 0, failed: 0, etaS: undefined };
  }

  /** Results found finished already (the run folder, the queue's store). */
  reuse(...stored: JobResult[]): void {
    this.results.push(...stored);
    this.progress.done += stored.length;
    this.progress.reused += stored.length;
  }

  succeeded(result: JobResult): void {
    this.results.push(result);
    this.progress.done++;
  }

  failed(f: JobFailure): void {
    this.failures.push(f);
    this.progress.failed++;
  }

  /** A job that ran here left the running set (after `succeeded` or `failed`). */
  ranOne(): void {
    this.ranHere++;
    this.progress.running--;
    this.tell();
  }

  tell(): void {
    const p = this.progress;
    const el = Number(process.hrtime.bigint() - this.t0) / 1e9;
    p.etaS = this.ranHere > 0 ? Math.round((el / this.ranHere) * (p.total - p.done - p.failed)) : undefined;
    this.onProgress?.({ ...p });
  }

  outcome(): FleetOutcome {
    return { results: this.results, failures: this.failures, wallS: this.wallS };
  }
}

/** The default pool size: the cores this process may use. */
export const defaultConcurrency = (): number => Math.max(1, availableParallelism());

export async function runLocal(jobs: readonly FleetJob[], o: PoolOptions): Promise<FleetOutcome> {
  const concurrency = Math.max(1, o.concurrency ?? defaultConcurrency());
  const t = new RunTally(jobs.length, o.onProgress);
  const { stored, todo } = partitionStored(jobs, o.run, o.code);
  t.reuse(...stored);
  t.tell();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < todo.length) {
      const j = todo[next++];
      t.progress.running++;
      t.tell();
      const s0 = process.hrtime.bigint();
      let attempt = 0;
      for (;;) {
        attempt++;
        try {
          const { result } = await runJob(j, { dir: jobDir(o.run, j.key), timeoutS: o.timeoutS, code: o.code });
          storeResult(o.run, result);
          t.succeeded(result);
          break;
        } catch (e) {
          if (attempt > o.retries) {
            t.failed({ id: j.id, key: j.key, error: (e as Error).message, attempts: attempt });
            break;
          }
          await new Promise((res) => setTimeout(res, (o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
        }
      }
      t.wallS[j.id] = Math.round(Number(process.hrtime.bigint() - s0) / 1e6) / 1000;
      t.ranOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, lane));
  return t.outcome();
}
