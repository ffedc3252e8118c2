/**
 * A fleet run folder: `jobs/<key>/` per job (eval.json, report.html, decisions.log, result.json: written there by
 * the local pool, or sent back by a queue worker) and the fleet report beside it. result.json is written last and
 * atomically, so its presence means the job finished: a run started again over the same folder (resume) skips
 * those jobs and redoes only the rest.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isJobResult, type JobResult } from './result.js';
import type { FleetJob, JobFiles } from './run-job.js';

export const jobDir = (run: string, key: string): string => join(run, 'jobs', key);

/** Writes a file through a temporary name and a rename: a reader never sees half of it. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export const resultText = (r: JobResult): string => `${JSON.stringify(r, null, 2)}\n`;

/** The finished result of a job in this run folder, if there is one made by `code` (other code's is redone). */
export function storedResult(run: string, key: string, code: string): JobResult | undefined {
  const p = join(jobDir(run, key), 'result.json');
  if (!existsSync(p)) return undefined;
  try {
    const r: unknown = JSON.parse(readFileSync(p, 'utf8'));
    return isJobResult(r, key) && r.code_version === code ? r : undefined;
  } catch {
    return undefined;
  }
}

export function storeResult(run: string, r: JobResult, files?: JobFiles): void {
  const dir = jobDir(run, r.key);
  mkdirSync(dir, { recursive: true });
  // From a queue, the files come back with the result (the worker ran elsewhere); locally they are already there.
  if (files) {
    writeFileSync(join(dir, 'eval.json'), files.evalJson);
    writeFileSync(join(dir, 'decisions.log'), files.decisionsLog);
    if (files.reportHtml !== undefined) writeFileSync(join(dir, 'report.html'), files.reportHtml);
  }
  writeAtomic(join(dir, 'result.json'), resultText(r));
}

/**
 * Splits `jobs` into those already finished in the run folder by `code` (their stored results: resume) and
 * those still to run, in manifest order. The local pool and the queue coordinator both start from it.
 */
export function partitionStored(jobs: readonly FleetJob[], run: string, code: string): { stored: JobResult[]; todo: FleetJob[] } {
  const stored: JobResult[] = [];
  const todo: FleetJob[] = [];
  for (const j of jobs) {
    const r = storedResult(run, j.key, code);
    if (r) stored.push(r);
    else todo.push(j);
  }
  return { stored, todo };
}
