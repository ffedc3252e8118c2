/**
 * A fleet run folder: `jobs/<key>/` per job (eval.json, report.html, decisions.log, result.json) and the fleet
 * report beside it. result.json is written last and atomically, so its presence means the job finished: a run
 * started again over the same folder (resume) skips those jobs and redoes only the rest.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isJobResult, type JobResult } from './result.js';

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

export function storeResult(run: string, r: JobResult, files?: { evalJson: string; decisionsLog: string }): void {
  const dir = jobDir(run, r.key);
  mkdirSync(dir, { recursive: true });
  // From a queue, the files come back with the result (the worker ran elsewhere); locally they are already there.
  if (files) {
    writeFileSync(join(dir, 'eval.json'), files.evalJson);
    writeFileSync(join(dir, 'decisions.log'), files.decisionsLog);
  }
  writeAtomic(join(dir, 'result.json'), resultText(r));
}
