/**
 * Runs one fleet job: `kestrel eval <job's arguments> --out <dir>` in a child process, the same command a user
 * runs for one bag or scenario. A child per job keeps jobs apart (memory, model sessions, process hosts), lets a
 * timeout end the job with everything it started (its own process group), and makes a crash one failed attempt.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvalJson } from '../eval/evaluate.js';
import { evalArgv, jobName, type JobSpec } from './manifest.js';
import { jobResult, type JobResult } from './result.js';

/** The kestrel CLI entry the children run (this file is app/fleet/run-job.ts). */
const CLI_MAIN = resolve(import.meta.dirname, '..', '..', 'cli', 'main.ts');

/** `kestrel eval` exit codes of a completed run: 0 every expectation met, 3 one was not (still a result). */
const COMPLETED = new Set([0, 3]);

export interface FleetJob {
  id: string;
  key: string;
  spec: JobSpec;
}

export function fleetJob(spec: JobSpec, key: string): FleetJob {
  return { id: jobName(spec), key, spec };
}

export class JobTimeout extends Error {
  constructor(id: string, s: number) {
    super(`job ${id}: timed out after ${s} s (killed)`);
    this.name = 'JobTimeout';
  }
}

export interface RunJobOptions {
  /** Where eval.json, report.html and decisions.log go (emptied first: a half-written attempt is not kept). */
  dir: string;
  timeoutS: number;
  code: string;
  cwd?: string;
  /** Called with the child's pid once it runs (tests kill workers by it). */
  onSpawn?: (pid: number) => void;
}

/** Runs the job's eval in a child; resolves with its result, rejects with the child's last error line. */
/** What a job leaves: its fleet row and the files of its folder (a queue worker sends them back to the coordinator). */
export interface JobFiles {
  evalJson: string;
  decisionsLog: string;
  /** The job's own report (plots); absent from a worker of older code. */
  reportHtml?: string;
}

export async function runJob(job: FleetJob, o: RunJobOptions): Promise<{ result: JobResult } & Required<JobFiles>> {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  // --out first: evalArgv ends with --ros-args, which takes everything after it.
  const argv = ['--import', 'tsx', CLI_MAIN, 'eval', '--out', o.dir, ...evalArgv(job.spec)];
  const child = spawn(process.execPath, argv, { cwd: o.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) o.onSpawn?.(child.pid);
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  child.stdout.resume();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, o.timeoutS * 1000);
  // Our own end (Ctrl-C, a killed worker's cleanup) ends the job's whole group too.
  const onExit = (): void => killGroup(child.pid);
  process.once('exit', onExit);
  const code = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (c) => res(c));
  }).finally(() => {
    clearTimeout(timer);
    process.removeListener('exit', onExit);
  });
  if (timedOut) throw new JobTimeout(job.id, o.timeoutS);
  const evalPath = join(o.dir, 'eval.json');
  if (code === null || !COMPLETED.has(code) || !existsSync(evalPath)) {
    const last = err.split('\n').filter((l) => l.trim() && !/^eval: \d+%$/.test(l.trim())).pop() ?? '';
    throw new Error(`job ${job.id}: kestrel eval exited ${code ?? 'on a signal'}${last ? `: ${last.trim()}` : ''}`);
  }
  const evalJson = readFileSync(evalPath, 'utf8');
  const decisionsLog = readFileSync(join(o.dir, 'decisions.log'), 'utf8');
  const reportHtml = readFileSync(join(o.dir, 'report.html'), 'utf8');
  return { result: jobResult(job, JSON.parse(evalJson) as EvalJson, decisionsLog, o.code), evalJson, decisionsLog, reportHtml };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
