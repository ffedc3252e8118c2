/**
 * Job keys: a job's result is keyed by its content (the bag's bytes or the scenario file, the seed and duration,
 * the latency model's numbers, the device profile, the params), never by its name or its place in a manifest, so
 * a finished result is found again whoever ran it, and a changed input is a new job.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveScenarioPath } from '../../sim/scenario.js';
import type { JobSpec } from './manifest.js';

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** JSON with sorted keys, so equal content hashes equal whatever order a file wrote it in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A bag's content hash: every file under it (sorted relative paths, sizes, bytes); a single .mcap/.db3 is its bytes. */
export function bagHash(path: string): string {
  const h = createHash('sha256');
  if (!statSync(path).isDirectory()) return h.update(readFileSync(path)).digest('hex');
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else if (e.isFile()) {
        const data = readFileSync(join(dir, e.name));
        h.update(`${r}\0${data.length}\0`).update(data);
      }
    }
  };
  walk(path, '');
  return h.digest('hex');
}

/** What a job's key hashes: its inputs by content. */
export function jobContent(s: JobSpec): Record<string, unknown> {
  const src = s.source;
  const source =
    src.kind === 'scenario'
      ? { kind: 'scenario', scenario_sha256: sha256(readFileSync(resolveScenarioPath(src.scenario))), control: src.control, seed: src.seed, duration_s: src.duration_s }
      : { kind: 'bag', bag_sha256: bagHash(src.path) };
  // The model's numbers, not its file's bytes: a reformatted or re-described file is the same model.
  let latency: unknown = 'measured';
  if (s.latency !== 'measured') {
    const { description: _d, ...model } = JSON.parse(readFileSync(s.latency, 'utf8')) as Record<string, unknown>;
    latency = model;
  }
  return { kestrel_fleet_job: 1, source, perception: s.perception, latency, profile: s.profile, params: s.params };
}

/** The job's key: sha256 of its canonical content (24 hex digits: far from any collision at fleet sizes, and readable). */
export function jobKey(s: JobSpec): string {
  return sha256(canonicalJson(jobContent(s))).slice(0, 24);
}

/**
 * The code that produced a result: the git commit, plus a digest of uncommitted changes to tracked files. A result
 * from other code is not reused on resume, and the baseline diff tells a code change (maybe a regression) from
 * flakiness (same code, same job, other result). KESTREL_CODE_VERSION overrides it where there is no git checkout.
 */
export function codeVersion(cwd = process.cwd()): string {
  if (process.env.KESTREL_CODE_VERSION) return process.env.KESTREL_CODE_VERSION;
  try {
    const git = (...a: string[]): string => execFileSync('git', a, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
    const head = git('rev-parse', 'HEAD').trim();
    const diff = git('diff', 'HEAD', '--', '.', ':(exclude)out');
    return diff ? `${head}+dirty.${sha256(diff).slice(0, 12)}` : head;
  } catch {
    return 'unknown';
  }
}
