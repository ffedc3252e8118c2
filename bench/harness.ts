/**
 * Benchmark harness. Every figure is reported as a ratio against a reference measured in
 * the same run (bare library call, raw RxJS Subject, memory-bandwidth limit...), so results
 * compare across machines. Each benchmark writes bench/results/<name>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, arch, platform, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../runtime/diagnostics.js';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export interface Goal {
  /** What is compared, e.g. "node / bare session.run at 320". */
  name: string;
  value: number;
  /** `<=` : value must not exceed target; `>=` : must reach it. */
  op: '<=' | '>=';
  target: number;
}

export interface GoalResult extends Goal {
  status: 'pass' | 'short';
}

export interface BenchResult {
  /** Figures by name; ratios carry their reference in the name (`planner_vs_bare`). */
  figures: Record<string, number>;
  goals?: Goal[];
  /** Raw samples and configuration, for anyone who wants to recompute. */
  details?: Record<string, unknown>;
  summary: string;
}

export interface Bench {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

export function defineBench(b: Bench): Bench {
  return b;
}

export function machineInfo(): Record<string, unknown> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    arch: arch(),
    platform: `${platform()} ${release()}`,
    node: process.version,
  };
}

export function stats(samples: readonly number[]): { n: number; mean: number; p50: number; p99: number; max: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, mean, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? 0, min: s[0] ?? 0 };
}

/** Wall time of `fn` in ms (high resolution). Only benchmarks may read the wall clock directly. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function checkGoals(goals: readonly Goal[] = []): GoalResult[] {
  return goals.map((g) => ({ ...g, status: (g.op === '<=' ? g.value <= g.target : g.value >= g.target) ? 'pass' : 'short' }));
}

export function writeResult(name: string, description: string, r: BenchResult, versions: Record<string, string> = {}): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  const doc = {
    bench: name,
    description,
    date: new Date().toISOString(),
    machine: machineInfo(),
    versions,
    figures: r.figures,
    goals: checkGoals(r.goals),
    summary: r.summary,
    details: r.details ?? {},
  };
  writeFileSync(file, JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
  return file;
}
