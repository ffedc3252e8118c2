/**
 * One job's result: the fleet report's row, taken from the job's eval.json and decisions.log. Only the
 * deterministic part of the eval counts (app/eval/evaluate.ts `deterministicPart`): wall time, the planner's
 * wall-timed figures and the totals that include them vary with load, so they are kept out of the row and its
 * digest, and the same job gives the same bytes on every run and every machine.
 */
import { deterministicPart, type EvalJson } from '../eval/evaluate.js';
import { canonicalJson, sha256 } from './key.js';
import type { JobSpec } from './manifest.js';

export interface JobResult {
  kestrel_fleet_result: 1;
  id: string;
  key: string;
  spec: JobSpec;
  code_version: string;
  passed: boolean;
  precision: number;
  recall: number;
  time_to_alert_s: number[];
  /** Deadline misses of every stage but the planner's own (its llama.cpp runs at wall speed: not reproducible). */
  deadline_misses: number;
  e2e_age_p99_ms: number;
  energy_estimate_j: number;
  /** sha256 of the deterministic eval JSON and the decision log: equal digests, equal runs. */
  digest: string;
  decisions_log_sha256: string;
}

export function jobResult(job: { id: string; key: string; spec: JobSpec }, evalJson: EvalJson, decisionsLog: string, code: string): JobResult {
  const det = deterministicPart(evalJson);
  const logHash = sha256(decisionsLog);
  return {
    kestrel_fleet_result: 1,
    id: job.id,
    key: job.key,
    spec: job.spec,
    code_version: code,
    passed: evalJson.passed,
    precision: evalJson.alerts.precision,
    recall: evalJson.alerts.recall,
    time_to_alert_s: evalJson.alerts.time_to_alert_s,
    deadline_misses: det.stages.reduce((n, s) => n + s.deadline_misses, 0),
    e2e_age_p99_ms: evalJson.e2e_age_ms.p99,
    energy_estimate_j: evalJson.energy.run_energy_estimate_j,
    digest: sha256(`${canonicalJson(det)}\n${logHash}`),
    decisions_log_sha256: logHash,
  };
}

/** Checks a stored result (result.json, a queue return value): a damaged one is redone, never trusted. */
export function isJobResult(v: unknown, key: string): v is JobResult {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<JobResult>;
  return r.kestrel_fleet_result === 1 && r.key === key && typeof r.digest === 'string' && typeof r.passed === 'boolean' && typeof r.code_version === 'string';
}
