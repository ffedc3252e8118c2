/**
 * `.launch.py` files: python3 runs the file against a small shim of the `launch` / `launch_ros`
 * modules (python/kestrel_shim.py), and the description it returns comes back as the same entity
 * tree the XML and YAML frontends give, which the resolver evaluates like any launch file. No ROS 2
 * install is needed (or used: the shim comes first on python's path).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LaunchError, norm, type AttrValue, type Entity } from './entity.js';

const RUNNER = join(import.meta.dirname, 'python', 'run_launch.py');
/** A launch file that takes longer than this to describe itself is stuck. */
const TIMEOUT_MS = 30_000;

export interface PythonLaunchOptions {
  env: Readonly<Record<string, string | undefined>>;
  kestrelRoot: string;
  amentPrefixes?: readonly string[];
}

interface EntityJson {
  type: string;
  attrs: Record<string, string | string[]>;
  children: EntityJson[];
  line: number | null;
}

type RunnerOut = { ok: true; root?: EntityJson; children?: EntityJson[] } | { ok: false; line: number | null; message: string };

function toEntity(j: EntityJson, file: string, parentLine: number): Entity {
  const line = j.line ?? parentLine;
  const attrs = new Map<string, AttrValue>();
  for (const [k, v] of Object.entries(j.attrs)) attrs.set(norm(k), Array.isArray(v) ? { kind: 'list', items: v.map(String) } : { kind: 'text', text: String(v) });
  return { type: norm(j.type), tag: j.type, attrs, children: j.children.map((c) => toEntity(c, file, line)), file, line };
}

function run(file: string, extra: string[], opts: PythonLaunchOptions): RunnerOut {
  const env: Record<string, string | undefined> = { ...opts.env, KESTREL_ROOT: opts.kestrelRoot, KESTREL_AMENT_PREFIXES: (opts.amentPrefixes ?? []).join(':') };
  delete env.PYTHONPATH;
  let stdout: string;
  try {
    stdout = execFileSync('python3', [RUNNER, file, ...extra], { env, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const x = e as NodeJS.ErrnoException & { stderr?: string; signal?: string };
    if (x.code === 'ENOENT') throw new LaunchError(file, undefined, 'python3 not found: Python launch files are evaluated with python3');
    if (x.signal) throw new LaunchError(file, undefined, `python3 did not finish describing the launch file within ${TIMEOUT_MS / 1000} s`);
    throw new LaunchError(file, undefined, `python3 failed: ${(x.stderr ?? x.message).trim().split('\n').pop()}`);
  }
  try {
    return JSON.parse(stdout) as RunnerOut;
  } catch {
    throw new LaunchError(file, undefined, `the launch file printed to stdout while being described (Kestrel reads the description there): '${stdout.slice(0, 80)}'`);
  }
}

function check(file: string, out: RunnerOut): asserts out is Extract<RunnerOut, { ok: true }> {
  if (!out.ok) throw new LaunchError(file, out.line ?? undefined, out.message);
}

/** The launch description of a `.launch.py`, as an entity tree rooted at `launch`. */
export function parseLaunchPython(file: string, opts: PythonLaunchOptions): Entity {
  const out = run(file, [], opts);
  check(file, out);
  if (!out.root) throw new LaunchError(file, undefined, 'no launch description came back');
  return toEntity(out.root, file, 1);
}

/** Calls the file's `index`-th OpaqueFunction with `configs` and returns the actions it gives, as entities. */
export function runOpaqueFunction(file: string, index: number, configs: ReadonlyMap<string, string>, line: number, opts: PythonLaunchOptions): Entity[] {
  const out = run(file, ['--opaque', String(index), JSON.stringify(Object.fromEntries(configs))], opts);
  check(file, out);
  return (out.children ?? []).map((c) => toEntity(c, file, line));
}
