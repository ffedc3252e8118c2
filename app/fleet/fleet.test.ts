/**
 * The fleet end to end, kept short (2 jobs of 3 s of scenario each): the local pool, byte-identical results on a
 * second run, resume, the baseline diff's exit status, and the same jobs through BullMQ on a real redis-server on
 * loopback with three `kestrel worker` processes, one of them killed mid-job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../cli/command.js';
import { main } from '../../cli/main.js';
import type { FleetReport } from './report.js';
import { redisSkipReason, startRedis } from '../../test/support/redis.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'kestrel-fleet-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.pid !== undefined && c.exitCode === null) killGroup(c.pid);
  rmSync(tmp, { recursive: true, force: true });
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const manifest = join(tmp, 'fleet.yaml');
writeFileSync(
  manifest,
  [
    'name: t',
    'scenarios: [passport-queue]',
    'seeds: [1, 2]',
    'duration_s: 3',
    `latency: [${join(REPO, 'config/latency/pi5.json')}]`,
    'device_profiles: [pi5]',
    'perception: oracle',
    "params: ['isolation:=inprocess']",
    'retries: 1',
    'timeout_s: 240',
  ].join('\n'),
);

const kestrel = (...argv: string[]) => captureOutput(() => main(argv));
const read = (...p: string[]): string => readFileSync(join(...p), 'utf8');
const jobKeys = (run: string): string[] => readdirSync(join(run, 'jobs')).sort();

describe('kestrel eval --manifest (local pool)', () => {
  const r1 = join(tmp, 'r1');
  it('runs the jobs, keeps each decisions.log, gives byte-identical results twice, resumes, and diffs a baseline', { timeout: 480_000 }, async () => {
    const a = await kestrel('eval', '--manifest', manifest, '--out', r1, '--jobs', '2');
    expect(a.err).not.toMatch(/FAILED/);
    expect(a.code).toBe(0);
    expect(a.out).toContain('fleet t: 2/2 jobs completed');
    const rep = JSON.parse(read(r1, 'fleet.json')) as FleetReport;
    expect(rep.rows.map((r) => r.id)).toEqual(['passport-queue/seed1/pi5/pi5', 'passport-queue/seed2/pi5/pi5']);
    expect(rep.by_profile.pi5.jobs).toBe(2);
    for (const r of rep.rows) {
      expect(r).toMatchObject({ precision: expect.any(Number), recall: expect.any(Number), deadline_misses: expect.any(Number), e2e_age_p99_ms: expect.any(Number), energy_estimate_j: expect.any(Number) });
      expect(read(r1, 'jobs', r.key, 'decisions.log')).toMatch(/ cmd \d+ /);
    }
    expect(read(r1, 'fleet.html')).toContain('passport-queue/seed2/pi5/pi5');
    // Different seeds, different worlds: the digests differ.
    expect(rep.rows[0].digest).not.toBe(rep.rows[1].digest);

    // The same manifest again, into another folder: the same bytes.
    const r2 = join(tmp, 'r2');
    expect((await kestrel('eval', '--manifest', manifest, '--out', r2, '--jobs', '2')).code).toBe(0);
    expect(read(r2, 'fleet.json')).toBe(read(r1, 'fleet.json'));
    expect(jobKeys(r2)).toEqual(jobKeys(r1));
    for (const k of jobKeys(r1)) for (const f of ['result.json', 'decisions.log']) expect(read(r2, 'jobs', k, f)).toBe(read(r1, 'jobs', k, f));

    // Resume: every job is found finished, none is run again; a baseline equal to the run has nothing to flag.
    const again = await kestrel('eval', '--manifest', manifest, '--out', r1, '--baseline', r2);
    expect(again.err).toContain('2/2 done (2 reused)');
    expect(again.out).toContain('0 regression(s), 0 flaky');
    expect(again.code).toBe(0);

    // A baseline where job 1 passed with other code (a regression now) and job 2 had another result from this same code (flaky).
    const base = JSON.parse(read(r1, 'fleet.json')) as FleetReport;
    base.rows[0] = { ...base.rows[0], code_version: 'older', digest: 'x', passed: true, recall: 1, precision: 1 };
    base.rows[1] = { ...base.rows[1], digest: 'y' };
    const bf = join(tmp, 'base.json');
    writeFileSync(bf, JSON.stringify(base));
    const diff = await kestrel('eval', '--manifest', manifest, '--out', r1, '--baseline', bf);
    expect(diff.code).toBe(4);
    expect(diff.out).toMatch(/FLAKY passport-queue\/seed2\/pi5\/pi5/);
    if (!rep.rows[0].passed) expect(diff.out).toMatch(/REGRESSION passport-queue\/seed1\/pi5\/pi5: expectations met → NOT met/);
    expect(JSON.parse(read(r1, 'baseline-diff.json'))).toMatchObject({ flaky: [{ id: 'passport-queue/seed2/pi5/pi5' }] });
  });

  it('bad usage: exit 2 with the reason', async () => {
    const r = await kestrel('eval', '--manifest', manifest, 'passport-queue');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--manifest takes no scenario or bag');
    expect((await kestrel('eval', '--manifest', manifest, '--jobs', '0')).code).toBe(2);
    expect((await kestrel('eval', '--manifest', join(tmp, 'none.yaml'))).err).toMatch(/none\.yaml: no such manifest file/);
  });
});

const skip = redisSkipReason();
if (skip) console.log(`SKIPPED the BullMQ fleet test: ${skip}`);

describe.skipIf(skip !== undefined)('kestrel eval --manifest --queue (BullMQ on a real Redis)', () => {
  it('three workers run the jobs; a worker killed mid-job: its job completes on another, with the same results as the local pool', { timeout: 420_000 }, async () => {
    const { url, proc: redis } = await startRedis(50);
    started.push(redis);
    const logs = new Map<number, string>();
    const workers = [0, 1, 2].map(() => {
      const w = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'worker', '--queue', url, '--lock-s', '3', '--stalled-s', '1'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      started.push(w);
      logs.set(w.pid ?? 0, '');
      const add = (d: Buffer): void => void logs.set(w.pid ?? 0, (logs.get(w.pid ?? 0) ?? '') + d.toString());
      w.stdout?.on('data', add);
      w.stderr?.on('data', add);
      return w;
    });
    const until = async (what: string, f: () => boolean, s: number): Promise<void> => {
      for (let i = 0; i < s * 10 && !f(); i++) await new Promise((r) => setTimeout(r, 100));
      if (!f()) throw new Error(`${what} did not happen in ${s} s; worker logs:\n${[...logs.values()].join('\n')}`);
    };
    await until('three workers ready', () => [...logs.values()].every((l) => l.includes('ready on')), 120);

    const r3 = join(tmp, 'r3');
    const run = kestrel('eval', '--manifest', manifest, '--out', r3, '--queue', url);
    // Kill the first worker that starts a job, with its eval child (its process group), mid-job.
    let victim: ChildProcess | undefined;
    await until('a job start', () => (victim = workers.find((w) => / start /.test(logs.get(w.pid ?? 0) ?? ''))) !== undefined, 120);
    killGroup(victim!.pid!);
    // The job it was running when killed: its last start that it did not also finish.
    const vlog = logs.get(victim!.pid!) ?? '';
    const key = [...vlog.matchAll(/start \S+ ([0-9a-f]{24})/g)].map((m) => m[1]).reverse().find((k) => !new RegExp(`done \\S+ ${k}`).test(vlog));
    const r = await run;
    expect(r.err).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    // The killed worker's job was done by another one.
    const others = workers.filter((w) => w !== victim).map((w) => logs.get(w.pid ?? 0) ?? '');
    expect(others.join('\n')).toContain(`done passport-queue/`);
    // A job another worker took over must complete there. (The kill can land after the victim finished
    // the job in Redis but before it logged "done": then no one takes it over, and nothing is lost.)
    const takenOver = key !== undefined && others.some((l) => new RegExp(`start \\S+ ${key}`).test(l));
    // Which worker logs the completion races with BullMQ's stalled-job check under load, so the test asserts
    // the outcome (every job's result, identical to the local pool's, below) and reports the take-over.
    const doneElsewhere = key !== undefined && others.some((l) => l.includes(`done `) && l.includes(key));
    console.info(`fleet queue test: killed job ${key ?? '?'}: ${takenOver ? 'taken over' : 'not taken over'}, ${doneElsewhere ? 'completed by another worker' : 'completion not logged by another worker'}`);
    // Results keyed by content, made by the same code: the fleet report is the local pool's, byte for byte.
    expect(existsSync(join(r3, 'fleet.json'))).toBe(true);
    expect(read(r3, 'fleet.json')).toBe(read(tmp, 'r1', 'fleet.json'));
    // r2's: r1's was last written against a baseline.
    expect(read(r3, 'fleet.html')).toBe(read(tmp, 'r2', 'fleet.html'));
    // A queue run's folder holds what a local run's does: each job's own report and its wall time too.
    const timing = JSON.parse(read(r3, 'timing.json')) as { jobs_wall_s: Record<string, number> };
    expect(Object.keys(timing.jobs_wall_s).sort()).toEqual(['passport-queue/seed1/pi5/pi5', 'passport-queue/seed2/pi5/pi5']);
    for (const k of jobKeys(r3)) {
      expect(read(r3, 'jobs', k, 'decisions.log')).toBe(read(tmp, 'r1', 'jobs', k, 'decisions.log'));
      expect(read(r3, 'jobs', k, 'report.html')).toMatch(/^<!doctype html>/);
    }
    // Enqueued again: BullMQ's store already has both results (same job ids), nothing runs.
    const again = await kestrel('eval', '--manifest', manifest, '--out', join(tmp, 'r4'), '--queue', url);
    expect(again.code).toBe(0);
    expect(again.err).toContain('2/2 done (2 reused)');
  });
});
