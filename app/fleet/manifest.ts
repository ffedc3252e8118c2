/**
 * Fleet manifest: a YAML file listing bags (globs), scenarios × seeds, latency models and device profiles,
 * expanded into one job per combination. Each job is one `kestrel eval` run, so the fleet reuses the single-run
 * evaluation as it is (deterministic under a latency model) instead of restating it.
 *
 *   name: example
 *   scenarios: [passport-queue, {name: stranded-bag, control: true, duration_s: 20}]
 *   seeds: [1, 2]
 *   bags: ['../out/mission-*']          # globs, relative to the manifest's folder
 *   latency: [../config/latency/pi5.json] # latency model files, or 'measured' (wall time: not reproducible)
 *   device_profiles: [pi5, x86]
 *   perception: oracle                   # or onnx (the default, as for kestrel eval)
 *   duration_s: 10                       # scenarios; default: each scenario's own duration
 *   params: ['isolation:=inprocess']     # --ros-args -p for scenario runs
 *   retries: 2                           # attempts after the first, with exponential backoff
 *   timeout_s: 600                       # per job; a job past it is killed and retried
 *
 * Every problem names the manifest file, the line and the field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { DEVICE_PROFILES } from '../eval/profiles.js';

export type JobSource =
  | { kind: 'scenario'; scenario: string; control: boolean; seed: number; duration_s: number | null }
  | { kind: 'bag'; path: string };

/** What one job runs: everything its result depends on besides the code (hashed into its key, see key.ts). */
export interface JobSpec {
  source: JobSource;
  perception: 'onnx' | 'oracle';
  /** 'measured' or a latency model file. */
  latency: string;
  profile: string;
  /** `node:name:=value` params for scenario runs. */
  params: string[];
}

export interface Manifest {
  name: string;
  /** The manifest file, as given. */
  file: string;
  specs: JobSpec[];
  retries: number;
  timeoutS: number;
  /** Things a user should know (a glob that matched nothing, measured latency). */
  notes: string[];
}

export class ManifestError extends Error {
  constructor(where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.name = 'ManifestError';
  }
}

type Path = (string | number)[];
const FIELDS = ['name', 'scenarios', 'seeds', 'bags', 'latency', 'device_profiles', 'perception', 'duration_s', 'params', 'retries', 'timeout_s'];

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : JSON.stringify(v));

/** A path as the eval child gets it: relative to the working directory when under it (so other machines' checkouts match). */
function argPath(p: string, cwd: string): string {
  const r = relative(cwd, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

export function parseManifestText(text: string, file: string, opts: { cwd?: string } = {}): Manifest {
  const cwd = opts.cwd ?? process.cwd();
  const base = dirname(resolve(cwd, file));
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
    throw new ManifestError(line !== undefined ? `${file}:${line}` : file, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const fail = (p: Path, detail: string): never => {
    for (let n = p.length; n >= 0; n--) {
      const line = lineOf(doc, lc, p.slice(0, n));
      if (line !== undefined) throw new ManifestError(`${file}:${line}`, `${p.join('.') || 'top level'}: ${detail}`);
    }
    throw new ManifestError(file, `${p.join('.') || 'top level'}: ${detail}`);
  };
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail([], `expected a mapping of ${FIELDS.join(', ')}, got ${describe(raw)}`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) fail([k], `unknown field (expected one of ${FIELDS.join(', ')})`);
  const list = (k: string): unknown[] => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail([k], `expected a list, got ${describe(v)}`);
    return v as unknown[];
  };
  const str = (v: unknown, p: Path): string => (typeof v === 'string' && v.length > 0 ? v : fail(p, `expected a non-empty string, got ${describe(v)}`));
  const num = (v: unknown, p: Path, min: number, int: boolean): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && (!int || Number.isInteger(v)) ? v : fail(p, `expected ${int ? 'an integer' : 'a number'} ≥ ${min}, got ${describe(v)}`);
  const notes: string[] = [];

  const name = o.name === undefined ? (file.split('/').pop() ?? file).replace(/\.ya?ml$/, '') : str(o.name, ['name']);
  const durationDefault = o.duration_s === undefined ? null : num(o.duration_s, ['duration_s'], 0.1, false);
  const seeds = list('seeds').map((s, i) => num(s, ['seeds', i], 0, true));
  const perception = o.perception === undefined ? 'onnx' : o.perception === 'onnx' || o.perception === 'oracle' ? o.perception : fail(['perception'], `expected onnx or oracle, got ${describe(o.perception)}`);
  const params = list('params').map((p, i) => {
    const s = str(p, ['params', i]);
    if (!/^([\w/.-]+:)?[\w.]+:=.*$/.test(s)) fail(['params', i], `expected [node:]name:=value, got '${s}'`);
    return s;
  });

  const scenarios = list('scenarios').map((s, i) => {
    const p: Path = ['scenarios', i];
    let nameOrPath: string;
    let control = false;
    let duration = durationDefault;
    if (typeof s === 'string') nameOrPath = s;
    else if (s !== null && typeof s === 'object' && !Array.isArray(s)) {
      const so = s as Record<string, unknown>;
      for (const k of Object.keys(so)) if (!['name', 'control', 'duration_s'].includes(k)) fail([...p, k], 'unknown field (expected name, control, duration_s)');
      nameOrPath = str(so.name, [...p, 'name']);
      if (so.control !== undefined) control = typeof so.control === 'boolean' ? so.control : fail([...p, 'control'], `expected true or false, got ${describe(so.control)}`);
      if (so.duration_s !== undefined) duration = num(so.duration_s, [...p, 'duration_s'], 0.1, false);
    } else return fail(p, `expected a scenario name, a scenario file or {name, control, duration_s}, got ${describe(s)}`);
    // A bare name is one of sim/scenarios/; anything with a slash or an extension is a file beside the manifest.
    if (/[\\/]|\.(ya?ml|json)$/.test(nameOrPath)) {
      const abs = resolve(base, nameOrPath);
      if (!existsSync(abs)) fail([...p], `no such scenario file ${abs}`);
      nameOrPath = argPath(abs, cwd);
    }
    return { scenario: nameOrPath, control, duration_s: duration };
  });
  if (scenarios.length > 0 && seeds.length === 0) fail(['seeds'], 'scenarios need at least one seed (seeds: [1])');

  const bags: string[] = [];
  list('bags').forEach((g, i) => {
    const pattern = str(g, ['bags', i]);
    // A bag is a folder (rosbag2 directory) or an .mcap/.db3 file; a folder's own files are not bags of their own.
    const hits = globSync(pattern, { cwd: base, absolute: true, onlyFiles: false, expandDirectories: false })
      .map((h) => h.replace(/\/$/, ''))
      .filter((h) => statSync(h).isDirectory() || /\.(mcap|db3)$/i.test(h))
      .sort();
    if (hits.length === 0) notes.push(`bags[${i}] '${pattern}' matched no bag (relative to ${base})`);
    for (const h of hits) if (!bags.includes(argPath(h, cwd))) bags.push(argPath(h, cwd));
  });
  if (scenarios.length === 0 && bags.length === 0) fail([], 'no jobs: give scenarios (with seeds) or bags that exist');

  const latencies = list('latency').map((l, i) => {
    const s = str(l, ['latency', i]);
    if (s === 'measured') {
      notes.push("latency 'measured' charges wall time: those jobs are not reproducible (use a latency model file to compare runs)");
      return s;
    }
    const abs = resolve(base, s);
    if (!existsSync(abs)) fail(['latency', i], `no such latency model file ${abs}`);
    return argPath(abs, cwd);
  });
  if (latencies.length === 0) latencies.push('measured');
  const profiles = list('device_profiles').map((d, i) => {
    const s = str(d, ['device_profiles', i]);
    return DEVICE_PROFILES[s] ? s : fail(['device_profiles', i], `unknown device profile '${s}' (known: ${Object.keys(DEVICE_PROFILES).join(', ')})`);
  });
  if (profiles.length === 0) profiles.push('x86');

  const sources: JobSource[] = [
    ...scenarios.flatMap((s) => seeds.map((seed): JobSource => ({ kind: 'scenario', scenario: s.scenario, control: s.control, seed, duration_s: s.duration_s }))),
    ...bags.map((b): JobSource => ({ kind: 'bag', path: b })),
  ];
  const specs = sources.flatMap((source) => latencies.flatMap((latency) => profiles.map((profile): JobSpec => ({ source, perception, latency, profile, params: source.kind === 'scenario' ? params : [] }))));
  return {
    name,
    file,
    specs,
    retries: o.retries === undefined ? 2 : num(o.retries, ['retries'], 0, true),
    timeoutS: o.timeout_s === undefined ? 600 : num(o.timeout_s, ['timeout_s'], 1, false),
    notes,
  };
}

export function loadManifest(file: string, opts: { cwd?: string } = {}): Manifest {
  const abs = resolve(opts.cwd ?? process.cwd(), file);
  if (!existsSync(abs)) throw new ManifestError(file, 'no such manifest file');
  return parseManifestText(readFileSync(abs, 'utf8'), file, opts);
}

/** The `kestrel eval` arguments of a job, without --out. */
export function evalArgv(s: JobSpec): string[] {
  const src = s.source;
  const a =
    src.kind === 'scenario'
      ? [src.scenario, '--seed', String(src.seed), ...(src.duration_s !== null ? ['--duration', String(src.duration_s)] : []), ...(src.control ? ['--control'] : [])]
      : [src.path];
  a.push('--perception', s.perception, '--latency', s.latency, '--device-profile', s.profile);
  if (s.params.length > 0) a.push('--ros-args', ...s.params.flatMap((p) => ['-p', p]));
  return a;
}

/** A readable job name: `passport-queue/seed1/pi5-latency/pi5`. */
export function jobName(s: JobSpec): string {
  const src = s.source;
  const what = src.kind === 'scenario' ? `${baseName(src.scenario)}${src.control ? '-control' : ''}/seed${src.seed}` : `bag-${baseName(src.path)}`;
  return `${what}/${s.latency === 'measured' ? 'measured' : baseName(s.latency)}/${s.profile}`;
}

const baseName = (p: string): string => (p.replace(/\/$/, '').split('/').pop() ?? p).replace(/\.(ya?ml|json|mcap|db3)$/i, '');

function lineOf(doc: Document, lc: LineCounter, p: Path): number | undefined {
  const node = p.length === 0 ? doc.contents : doc.getIn(p, true);
  if (!isNode(node) || !node.range) return undefined;
  return lc.linePos(node.range[0]).line;
}
