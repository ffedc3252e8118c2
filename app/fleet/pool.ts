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

/** The default pool size: the cores this process may use. */
export const defaultConcurrency = (): number => Math.max(1, availableParallelism());

export async function runLocal(jobs: readonly FleetJob[], o: PoolOptions): Promise<FleetOutcome> {
  const concurrency = Math.max(1, o.concurrency ?? defaultConcurrency());
  const results: JobResult[] = [];
  const failures: JobFailure[] = [];
  const wallS: Record<string, number> = {};
  const p: Progress = { total: jobs.length, done: 0, reused: 0, running: 0, failed: 0, etaS: undefined };
  const t0 = process.hrtime.bigint();
  let ranHere = 0;
  const tell = (): void => {
    const el = Number(process.hrtime.bigint() - t0) / 1e9;
    const left = p.total - p.done - p.failed;
    p.etaS = ranHere > 0 ? Math.round((el / ranHere) * left) : undefined;
    o.onProgress?.({ ...p });
  };
  const { stored, todo } = partitionStored(jobs, o.run, o.code);
  results.push(...stored);
  p.done += stored.length;
  p.reused += stored.length;
  tell();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < todo.length) {
      const j = todo[next++];
      p.running++;
      tell();
      const s0 = process.hrtime.bigint();
      let attempt = 0;
      for (;;) {
        attempt++;
        try {
          const { result } = await runJob(j, { dir: jobDir(o.run, j.key), timeoutS: o.timeoutS, code: o.code });
          storeResult(o.run, result);
          results.push(result);
          p.done++;
          break;
        } catch (e) {
          if (attempt > o.retries) {
            failures.push({ id: j.id, key: j.key, error: (e as Error).message, attempts: attempt });
            p.failed++;
            break;
          }
          await new Promise((res) => setTimeout(res, (o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
        }
      }
      wallS[j.id] = Math.round(Number(process.hrtime.bigint() - s0) / 1e6) / 1000;
      ranHere++;
      p.running--;
      tell();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, lane));
  return { results, failures, wallS };
}
