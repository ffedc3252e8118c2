/**
 * Fleet evaluation throughput (issue 24): the same tiny jobs (one scenario, KESTREL_BENCH_FLEET_JOBS seeds, 1 s
 * of scenario each, latency model, oracle perception) run
 * - in one process, one after another (`kestrel eval` called in-process: the reference, no child per job);
 * - on the local pool with 1 and 2 workers (a `kestrel eval` child per job, app/fleet/pool.ts);
 * - through BullMQ on a redis-server this bench starts on loopback, with 1 and 2 worker lanes
 *   (app/fleet/queue.ts; the coordinator and the worker in this process, each job still a child).
 * Figures are ratios against references of the same run: jobs per minute against the in-process run, the 2-worker
 * pool against the 1-worker one, the queue against the local pool of the same size, and the queue's overhead per
 * job (its wall time less the pool's, per job) against one in-process job. Every run's results must be the
 * in-process run's, digest for digest. Absolute times are in details.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { codeVersion, jobKey } from '../app/fleet/key.js';
import { evalArgv, loadManifest } from '../app/fleet/manifest.js';
import { runLocal, type FleetOutcome } from '../app/fleet/pool.js';
import { jobResult } from '../app/fleet/result.js';
import { fleetJob, type FleetJob } from '../app/fleet/run-job.js';
import type { EvalJson } from '../app/eval/evaluate.js';
import { captureOutput } from '../cli/command.js';
import { main } from '../cli/main.js';
import { defineBench, timeMs, type Goal } from './harness.js';
import { redisSkipReason, startRedis } from '../test/support/redis.js';

const REPO = resolve(import.meta.dirname, '..');
const JOBS = Number(process.env.KESTREL_BENCH_FLEET_JOBS ?? 4);

/** Runs every job's `kestrel eval` in this process, one after another; returns each job's digest. */
async function inProcess(jobs: readonly FleetJob[], dir: string, code: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const j of jobs) {
    const out = join(dir, j.key);
    mkdirSync(out, { recursive: true });
    const r = await captureOutput(() => main(['eval', '--out', out, ...evalArgv(j.spec)]));
    if (r.code !== 0 && r.code !== 3) throw new Error(`in-process eval of ${j.id} exited ${r.code}: ${r.err.trim().split('\n').pop() ?? ''}`);
    const res = jobResult(j, JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalJson, readFileSync(join(out, 'decisions.log'), 'utf8'), code);
    digests.set(j.key, res.digest);
  }
  return digests;
}

function sameResults(o: FleetOutcome, ref: ReadonlyMap<string, string>, what: string): void {
  if (o.failures.length > 0) throw new Error(`${what}: ${o.failures.length} job(s) failed: ${o.failures[0].error}`);
  for (const r of o.results) if (ref.get(r.key) !== r.digest) throw new Error(`${what}: job ${r.id} gave another result than in one process (determinism broken)`);
  if (o.results.length !== ref.size) throw new Error(`${what}: ${o.results.length} results for ${ref.size} jobs`);
}

export default defineBench({
  name: 'fleet',
  description: 'Fleet jobs per minute: local pool (1, 2 workers) and BullMQ on a loopback Redis (1, 2 worker lanes), vs the same jobs in one process',
  async run() {
    const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bench-fleet-'));
    const started: ChildProcess[] = [];
    try {
      const manifest = join(tmp, 'fleet.yaml');
      const seeds = Array.from({ length: JOBS }, (_, i) => i + 1);
      writeFileSync(
        manifest,
        ['name: bench', 'scenarios: [passport-queue]', `seeds: [${seeds.join(', ')}]`, 'duration_s: 1', `latency: [${join(REPO, 'config/latency/pi5.json')}]`, 'device_profiles: [pi5]', 'perception: oracle', "params: ['isolation:=inprocess']", 'retries: 0', 'timeout_s: 240'].join('\n'),
      );
      const m = loadManifest(manifest);
      const jobs = m.specs.map((s) => fleetJob(s, jobKey(s)));
      const code = codeVersion();
      const opts = { retries: 0, timeoutS: 240, code };

      // Warm-up (module loading, JIT) for the in-process reference, not counted: a long-lived process has paid it.
      await inProcess(jobs.slice(0, 1), join(tmp, 'warm'), code);
      let ref = new Map<string, string>();
      const inProcMs = await timeMs(async () => (ref = await inProcess(jobs, join(tmp, 'inproc'), code)));

      const wall: Record<string, number> = { in_process: inProcMs };
      for (const c of [1, 2]) {
        let o: FleetOutcome | undefined;
        wall[`local_${c}`] = await timeMs(async () => (o = await runLocal(jobs, { ...opts, run: join(tmp, `local${c}`), concurrency: c })));
        sameResults(o!, ref, `local pool of ${c}`);
      }

      const skip = redisSkipReason();
      if (skip === undefined) {
        const { url, proc: redis } = await startRedis(100);
        started.push(redis);
        const { runQueued, startWorker } = await import('../app/fleet/queue.js');
        for (const c of [1, 2]) {
          // Its own queue per size: the jobs' ids are their keys, and a finished job would be reused, not rerun.
          const queueName = `bench-fleet-${c}`;
          const worker = await startWorker({ url, concurrency: c, queueName, workDir: join(tmp, `worker${c}`) });
          try {
            let o: FleetOutcome | undefined;
            wall[`queue_${c}`] = await timeMs(async () => (o = await runQueued(jobs, { ...opts, url, run: join(tmp, `queue${c}`), queueName })));
            sameResults(o!, ref, `BullMQ with ${c} worker lane(s)`);
          } finally {
            await worker.close();
          }
        }
      }

      const perMin = (ms: number): number => (JOBS * 60_000) / ms;
      const figures: Record<string, number> = {
        local_1_jobs_per_min_vs_in_process: perMin(wall.local_1) / perMin(wall.in_process),
        local_2_jobs_per_min_vs_in_process: perMin(wall.local_2) / perMin(wall.in_process),
        local_2_vs_local_1_speedup: wall.local_1 / wall.local_2,
        // What a child per job costs (process start, module loading), per job, in in-process jobs.
        local_overhead_per_job_vs_in_process_job: (wall.local_1 - wall.in_process) / wall.in_process,
      };
      const goals: Goal[] = [];
      if (skip === undefined) {
        for (const c of [1, 2]) {
          figures[`queue_${c}_jobs_per_min_vs_local_${c}`] = perMin(wall[`queue_${c}`]) / perMin(wall[`local_${c}`]);
          figures[`queue_${c}_overhead_per_job_vs_in_process_job`] = (wall[`queue_${c}`] - wall[`local_${c}`]) / wall.in_process;
        }
        // The queue should cost little next to the jobs themselves: within 10 % of the local pool's throughput.
        goals.push({ name: 'BullMQ / local pool jobs per minute, 1 worker', value: figures.queue_1_jobs_per_min_vs_local_1, op: '>=', target: 0.9 });
      }
      const jpm = Object.fromEntries(Object.entries(wall).map(([k, ms]) => [k, Math.round(perMin(ms) * 10) / 10]));
      const q = skip === undefined ? `; BullMQ ${jpm.queue_1} / ${jpm.queue_2} jobs/min (${figures.queue_1_jobs_per_min_vs_local_1.toFixed(2)}× / ${figures.queue_2_jobs_per_min_vs_local_2.toFixed(2)}× the pool; overhead ${(((wall.queue_1 - wall.local_1) / JOBS) / 1000).toFixed(2)} s/job)` : `; queue skipped: ${skip}`;
      return {
        figures,
        goals,
        details: { jobs: JOBS, job: 'passport-queue, 1 s, pi5 latency model, oracle perception, models in-process', wall_ms: wall, jobs_per_min: jpm, in_process_job_ms: wall.in_process / JOBS, queue: skip ?? 'BullMQ on a loopback redis-server', results_identical: true },
        summary: `${JOBS} jobs: in one process ${jpm.in_process} jobs/min; local pool 1 / 2 workers ${jpm.local_1} / ${jpm.local_2} jobs/min (${figures.local_1_jobs_per_min_vs_in_process.toFixed(2)}× / ${figures.local_2_jobs_per_min_vs_in_process.toFixed(2)}× in-process, 2 vs 1 ${figures.local_2_vs_local_1_speedup.toFixed(2)}×)${q}; results identical`,
      };
    } finally {
      for (const c of started)
        try {
          if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      rmSync(tmp, { recursive: true, force: true });
    }
  },
});
