/**
 * Evaluates a launch entity tree into what would be started, following launch / launch_ros:
 * launch configurations (`<arg>`, `<let>`) scoped by `<group>` and not by `<include>` (as in ROS 2),
 * ROS namespaces pushed by `<push-ros-namespace>`, substitutions, `if`/`unless`, includes with
 * their own `<arg>`s, composable nodes, and per-node parameters computed with rcl's params-file
 * rules. Every construct not listed in
 * ACTIONS below is an error naming file:line, never a silent skip.
 */
import { existsSync } from 'node:fs';
import { FileTooLargeError, readTextBounded } from '../read-bounded.js';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import type { NodeSpec } from '../container.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { joinNs, type Remap } from '../names.js';
import type { ParamOverride, ParamType, ParamValue } from '../params.js';
import { inlineParams, loadParamsFile, paramsForNode, ParamsFileError, parseParamsYaml, type ParamsFile } from '../params-file.js';
import { parseParamValue, parseRosArgs, RosArgsError, type RosArgs } from '../ros-args.js';
import { isMap, isScalar, parseDocument, Scalar } from 'yaml';
import { LaunchError, parseLaunchText, type AttrValue, type Entity } from './entity.js';
import { parseLaunchPython, runOpaqueFunction, type PythonLaunchOptions } from './python.js';
import { substitute, SubstitutionError } from './substitutions.js';

/** An entity's attribute when it is text (not a list), else undefined. */
function attrText(e: Entity, k: string): string | undefined {
  const v = e.attrs.get(k);
  return v?.kind === 'text' ? v.text : undefined;
}

/** The repository root: `$(find-pkg-share kestrel)` (the package root, also when running compiled from dist/). */
export const KESTREL_ROOT = PACKAGE_ROOT;

/** A node as the launch file describes it, plus what an out-of-process start would need. */
export interface LaunchNode extends NodeSpec {
  /** Extra command-line arguments (`args="..."`). */
  args: string[];
  /** The parsed `ros_args="..."`. */
  rosArgs?: RosArgs;
  output?: string;
  respawn: boolean;
  respawnDelay?: number;
  /** Environment changes for this node (`<set_env>`, `<env>`), relative to the launcher's environment. */
  env: Record<string, string>;
  /** Variables removed by `<unset_env>`. */
  unsetEnv: string[];
  /** Every params source in the order rcl would merge them (ros_args, `<set_parameter>`, `<param>`s). */
  paramFiles: ParamsFile[];
  /** The fully qualified name used to pick parameters (name may be the executable's default). */
  fqn: string;
}

/** A `<node_container>`: in Kestrel, the embedded Container every in-process node already shares. */
export interface ContainerSpec {
  /** Fully qualified name `<load_composable_node target>` refers to. */
  fqn: string;
  package: string;
  executable: string;
  source: string;
}

/**
 * A `<composable_node>` (in a `<node_container>` or a `<load_composable_node>`), resolved as
 * launch_ros builds its LoadNode request. `executable` is the plugin's class name without its C++
 * namespace (`kestrel::talker` → `talker`): a Kestrel node of that name runs in the embedded
 * container; any other plugin is listed, not run.
 */
export interface ComponentSpec extends LaunchNode {
  plugin: string;
  /** The target container's fully qualified name. */
  container: string;
  /** `<extra_arg>`s (e.g. use_intra_process_comms), in order. */
  extraArgs: { name: string; value: string }[];
}

export interface ExecutableSpec {
  cmd: string[];
  name?: string;
  cwd?: string;
  shell: boolean;
  output?: string;
  /** Environment changes relative to the launcher's environment. */
  env: Record<string, string>;
  unsetEnv: string[];
  launchPrefix?: string;
  respawn: boolean;
  respawnDelayS?: number;
  sigtermTimeoutS?: number;
  sigkillTimeoutS?: number;
  source: string;
}

export interface ResolvedArg {
  name: string;
  value: string;
  default?: string;
  description?: string;
  /** `command line`, `default`, the include that passed it (`file:line`), or an earlier `<arg>`/`<let>` that set it (`file:line (default)`, `file:line (let)`: launch configurations outlive includes). */
  from: string;
  source: string;
}

export interface ResolvedLaunch {
  nodes: LaunchNode[];
  containers: ContainerSpec[];
  /** Every composable node, Kestrel or not, in load order. */
  components: ComponentSpec[];
  executables: ExecutableSpec[];
  args: ResolvedArg[];
  /** `<log message>` lines, in order. */
  logs: string[];
  /** Every launch file read, top file first. */
  files: string[];
}

export interface ResolveOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** The default node name of an executable when `name` is absent (Kestrel nodes: their definition's name). */
  defaultNodeName?: (pkg: string, exec: string) => string | undefined;
  /** Directory for relative include / params paths not found beside the launch file. Default: process.cwd(). */
  cwd?: string;
  /** Install prefixes searched for packages before AMENT_PREFIX_PATH's. */
  amentPrefixes?: readonly string[];
  /**
   * The top file's text (XML or YAML, by the file's extension), used instead of reading it: the file need not
   * exist, errors still name it, and relative paths and `$(dirname)` resolve beside it. Files it includes are
   * read as usual. Lets the fuzz campaign resolve 10^5 launch texts without a file write each.
   */
  source?: string;
}

/**
 * What launch keeps in its `LaunchContext`: launch configurations (ROS namespace, global params and
 * remaps are launch configurations there too) and the environment. `<group>` pushes a copy; an
 * `<include>` does not (ros2/launch#620): what the included file sets stays set for the includer.
 */
interface Scope {
  configs: Map<string, string>;
  /** Where each configuration set by a command-line or include `<arg>` came from (`ResolvedArg.from`). */
  origins: Map<string, string>;
  ns: string;
  env: Record<string, string | undefined>;
  globalParams: ParamsFile[];
  globalRemaps: Remap[];
}

const CONDITION = ['if', 'unless'];
/** Allowed attributes and child tags of every supported action. */
const ACTIONS: Record<string, { attrs: string[]; children?: string[] }> = {
  arg: { attrs: ['name', 'default', 'description'], children: ['choice'] },
  let: { attrs: ['name', 'value'] },
  group: { attrs: ['scoped', 'forwarding'], children: ['*'] },
  push_ros_namespace: { attrs: ['namespace'] },
  node: {
    attrs: ['pkg', 'exec', 'name', 'namespace', 'args', 'ros_args', 'output', 'respawn', 'respawn_delay', 'launch_prefix', 'exec_name', 'emulate_tty', 'sigterm_timeout', 'sigkill_timeout', 'cwd'],
    children: ['param', 'remap', 'env'],
  },
  node_container: {
    attrs: ['pkg', 'exec', 'name', 'namespace', 'args', 'ros_args', 'output', 'respawn', 'respawn_delay', 'launch_prefix', 'exec_name', 'emulate_tty', 'sigterm_timeout', 'sigkill_timeout', 'cwd'],
    children: ['param', 'remap', 'env', 'composable_node'],
  },
  load_composable_node: { attrs: ['target'], children: ['composable_node'] },
  include: { attrs: ['file'], children: ['arg'] },
  executable: {
    attrs: ['cmd', 'cwd', 'name', 'shell', 'output', 'emulate_tty', 'sigterm_timeout', 'sigkill_timeout', 'launch_prefix', 'respawn', 'respawn_delay', 'args'],
    children: ['env'],
  },
  set_env: { attrs: ['name', 'value'] },
  unset_env: { attrs: ['name'] },
  set_parameter: { attrs: ['name', 'value'] },
  set_remap: { attrs: ['from', 'to'] },
  log: { attrs: ['message'] },
  // Only from a .launch.py (python.ts): an OpaqueFunction, called back when reached.
  opaque_function: { attrs: ['index'] },
};
const PYTHON_ONLY = new Set(['opaque_function']);
const SUPPORTED = Object.keys(ACTIONS).filter((k) => !PYTHON_ONLY.has(k)).map((k) => k.replace(/_/g, '-')).join(', ');

function err(e: Entity, detail: string): LaunchError {
  return new LaunchError(e.file, e.line, detail);
}

function checkShape(e: Entity, attrs: readonly string[], children: readonly string[] | undefined, extraAttrs: readonly string[] = CONDITION): void {
  for (const k of e.attrs.keys()) {
    if (!attrs.includes(k) && !extraAttrs.includes(k)) {
      throw err(e, `unsupported attribute '${k}' on <${e.tag}> (supported: ${[...attrs, ...extraAttrs].join(', ')})`);
    }
  }
  if (!children?.includes('*')) {
    for (const c of e.children) {
      if (!children?.includes(c.type)) {
        throw err(c, `unsupported <${c.tag}> inside <${e.tag}>${children?.length ? ` (expected ${children.map((x) => `<${x}>`).join(', ')})` : ' (it takes no children)'}`);
      }
    }
  }
}

export interface ResolveContext {
  opts: ResolveOptions;
  baseEnv: Readonly<Record<string, string | undefined>>;
  out: ResolvedLaunch;
  stack: string[];
}

class Resolver {
  constructor(private readonly c: ResolveContext) {}

  private subst(e: Entity, text: string, scope: Scope): string {
    try {
      return substitute(text, { configs: scope.configs, env: scope.env, file: e.file, kestrelRoot: KESTREL_ROOT, ...(this.c.opts.amentPrefixes ? { amentPrefixes: this.c.opts.amentPrefixes } : {}) });
    } catch (x) {
      if (x instanceof SubstitutionError) throw err(e, `<${e.tag}>: ${x.message}`);
      throw x;
    }
  }

  private attr(e: Entity, name: string, scope: Scope): string | undefined {
    const v = e.attrs.get(name);
    if (v === undefined) return undefined;
    if (v.kind === 'list') throw err(e, `attribute '${name}' of <${e.tag}> must be a single value, not a list`);
    return this.subst(e, v.text, scope);
  }

  private required(e: Entity, name: string, scope: Scope): string {
    const v = this.attr(e, name, scope);
    if (v === undefined || v === '') throw err(e, `<${e.tag}> needs a '${name}' attribute`);
    return v;
  }

  private bool(e: Entity, name: string, scope: Scope, def: boolean): boolean {
    const v = this.attr(e, name, scope);
    if (v === undefined) return def;
    const l = v.trim().toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
    throw err(e, `attribute '${name}' of <${e.tag}>: '${v}' is not a boolean (expected true/false)`);
  }

  private number(e: Entity, name: string, scope: Scope): number | undefined {
    const v = this.attr(e, name, scope);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw err(e, `attribute '${name}' of <${e.tag}>: '${v}' is not a number`);
    return n;
  }

  /** `if`/`unless`, as launch's IfCondition/UnlessCondition: true/false/1/0 only. */
  private enabled(e: Entity, scope: Scope): boolean {
    const iff = e.attrs.has('if') ? this.bool(e, 'if', scope, true) : true;
    const unless = e.attrs.has('unless') ? this.bool(e, 'unless', scope, false) : false;
    if (e.attrs.has('if') && e.attrs.has('unless')) throw err(e, `<${e.tag}> has both 'if' and 'unless'`);
    return iff && !unless;
  }

  /** Finds a path written in a launch file: as given if absolute, else beside the file, else in the working directory. */
  private path(e: Entity, p: string): string {
    if (isAbsolute(p)) return p;
    const beside = resolvePath(dirname(e.file), p);
    if (existsSync(beside)) return beside;
    return resolvePath(this.c.opts.cwd ?? process.cwd(), p);
  }

  /** Reads and parses a launch file (bounded, cycle-checked against the include stack). */
  private load(path: string, from: Entity | undefined, source?: string): Entity {
    const abs = resolvePath(path);
    if (this.c.stack.includes(abs)) {
      const cycle = [...this.c.stack.slice(this.c.stack.indexOf(abs)), abs].join(' -> ');
      throw from ? err(from, `include cycle: ${cycle}`) : new LaunchError(abs, undefined, `include cycle: ${cycle}`);
    }
    let src: string;
    try {
      src = source ?? readTextBounded(abs);
    } catch (x) {
      const why = x instanceof FileTooLargeError ? `cannot read launch file: ${x.message}` : `cannot read launch file '${path}' (${(x as NodeJS.ErrnoException).code ?? (x as Error).message})`;
      throw from ? err(from, why) : new LaunchError(path, undefined, why);
    }
    if (source !== undefined && isPython(abs)) throw new LaunchError(path, undefined, 'a .launch.py is run by python3 from its file: it cannot be given as source text');
    const root = isPython(abs) ? parseLaunchPython(abs, this.pythonOpts()) : parseLaunchText(src, abs);
    checkShape(root, ['version'], ['*'], []);
    return root;
  }

  private pythonOpts(): PythonLaunchOptions {
    return { env: this.c.baseEnv, kestrelRoot: KESTREL_ROOT, ...(this.c.opts.amentPrefixes ? { amentPrefixes: this.c.opts.amentPrefixes } : {}) };
  }

  /** Runs a parsed file's actions in `scope` (the includer's own scope: nothing is pushed). */
  private run(root: Entity, scope: Scope): void {
    this.c.out.files.push(root.file);
    this.c.stack.push(root.file);
    try {
      this.actions(root.children, scope);
    } finally {
      this.c.stack.pop();
    }
  }

  /** The top-level file: `ros2 launch` includes it with the command-line arguments as the include's arguments. */
  top(path: string, scope: Scope): void {
    const root = this.load(path, undefined, this.c.opts.source);
    this.checkRequiredArgs(root, new Set(scope.configs.keys()), undefined);
    this.run(root, scope);
  }

  /**
   * launch's best-effort check before an include runs (IncludeLaunchDescription.execute): every
   * `<arg>` without a default must be among the names the include passes. Only those names count,
   * not configurations the includer already has. Args under a condition (their own `if`/`unless`
   * or a conditional `<group>`'s) are skipped, a `<group forwarding="false">` ends the search in
   * that group (ResetLaunchConfigurations), and only the first declaration of a name is looked at.
   * Args of nested includes are checked when those includes run (with a subset of these names, so
   * nothing is lost by not walking into them here). Missing ones are listed together.
   */
  private checkRequiredArgs(root: Entity, given: ReadonlySet<string>, from: Entity | undefined): void {
    const missing: string[] = [];
    const seen = new Set<string>();
    const walk = (list: readonly Entity[], conditional: boolean): void => {
      for (const e of list) {
        const cond = conditional || e.attrs.has('if') || e.attrs.has('unless');
        if (e.type === 'arg') {
          const n = attrText(e, 'name');
          if (n === undefined || seen.has(n)) continue;
          seen.add(n);
          if (cond || e.attrs.has('default') || given.has(n)) continue;
          const d = attrText(e, 'description');
          missing.push(`'${n}'${d ? ` (${d})` : ''} at line ${e.line}`);
        } else if (e.type === 'group') {
          if (/^(false|0)$/i.test(attrText(e, 'scoped') ?? 'true') || !/^(false|0)$/i.test(attrText(e, 'forwarding') ?? 'true')) walk(e.children, cond);
        }
      }
    };
    walk(root.children, false);
    if (missing.length > 0) {
      const detail = `missing required launch argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; pass ${missing.length > 1 ? 'them' : 'it'} as name:=value`;
      throw from ? err(from, `included file ${root.file}: ${detail}`) : new LaunchError(root.file, undefined, detail);
    }
  }

  private actions(list: readonly Entity[], scope: Scope): void {
    for (const e of list) this.action(e, scope);
  }

  private action(e: Entity, scope: Scope): void {
    const spec = ACTIONS[e.type];
    if (!spec || (PYTHON_ONLY.has(e.type) && !isPython(e.file))) throw err(e, `unsupported action <${e.tag}> (supported: ${SUPPORTED})`);
    checkShape(e, spec.attrs, spec.children);
    if (!this.enabled(e, scope)) return;
    switch (e.type) {
      case 'arg':
        return this.arg(e, scope);
      case 'let': {
        const name = this.required(e, 'name', scope);
        scope.configs.set(name, this.attr(e, 'value', scope) ?? '');
        scope.origins.set(name, `${e.file}:${e.line} (let)`);
        return;
      }
      case 'group':
        return this.group(e, scope);
      case 'push_ros_namespace': {
        const ns = this.required(e, 'namespace', scope).trim();
        scope.ns = ns.startsWith('/') ? normalizeNs(ns) : normalizeNs(joinNs(scope.ns || '/', ns));
        return;
      }
      case 'set_env':
        scope.env[this.required(e, 'name', scope)] = this.attr(e, 'value', scope) ?? '';
        return;
      case 'unset_env':
        delete scope.env[this.required(e, 'name', scope)];
        return;
      case 'set_parameter': {
        const name = this.required(e, 'name', scope);
        const o = this.paramValue(e, e.attrs.get('value'), scope, name, undefined);
        scope.globalParams.push(inlineParams('/**', new Map([[name, o]]), `${e.file}:${e.line}`));
        return;
      }
      case 'set_remap':
        scope.globalRemaps.push({ from: this.required(e, 'from', scope), to: this.required(e, 'to', scope) });
        return;
      case 'log':
        this.c.out.logs.push(this.attr(e, 'message', scope) ?? '');
        return;
      case 'include':
        return this.include(e, scope);
      case 'node':
        return this.node(e, scope);
      case 'node_container':
        return this.container(e, scope);
      case 'load_composable_node': {
        const t = this.required(e, 'target', scope);
        // launch_ros resolves a relative target from its own node, which lives at `/`.
        const target = t.startsWith('/') ? normalizeNs(t) : normalizeNs(`/${t}`);
        for (const c of e.children) this.composable(c, scope, target);
        return;
      }
      case 'executable':
        return this.executable(e, scope);
      case 'opaque_function': {
        const index = Number(this.required(e, 'index', scope));
        let children: Entity[];
        try {
          children = runOpaqueFunction(e.file, index, scope.configs, e.line, this.pythonOpts());
        } catch (x) {
          if (x instanceof LaunchError && x.line === undefined) throw err(e, x.message.slice(x.file.length + 2));
          throw x;
        }
        return this.actions(children, scope);
      }
    }
  }

  private arg(e: Entity, scope: Scope): void {
    const name = this.required(e, 'name', scope);
    const choices: string[] = [];
    for (const c of e.children) {
      checkShape(c, ['value'], [], []);
      choices.push(this.required(c, 'value', scope));
    }
    const description = this.attr(e, 'description', scope);
    const def = e.attrs.has('default') ? this.attr(e, 'default', scope) : undefined;
    const given = scope.configs.get(name);
    const value = given ?? def;
    if (value === undefined) throw err(e, `missing required launch argument '${name}'${description ? ` (${description})` : ''}; pass it as ${name}:=value`);
    if (choices.length > 0 && !choices.includes(value)) throw err(e, `launch argument '${name}' is '${value}', expected one of: ${choices.join(', ')}`);
    scope.configs.set(name, value);
    // A later file declaring the same arg sees this value, not its own default (ros2/launch#620): say where it came from.
    if (given === undefined) scope.origins.set(name, `${e.file}:${e.line} (default)`);
    const existing = this.c.out.args.find((a) => a.name === name && a.source === `${e.file}:${e.line}`);
    if (!existing) {
      this.c.out.args.push({
        name,
        value,
        ...(def !== undefined ? { default: def } : {}),
        ...(description !== undefined ? { description } : {}),
        from: given !== undefined ? (scope.origins.get(name) ?? 'launch configuration') : 'default',
        source: `${e.file}:${e.line}`,
      });
    }
  }

  /**
   * `<group>` as GroupAction: scoped (default) pushes a copy of the configurations and environment;
   * `forwarding="false"` starts from none of them (ROS namespace, global params and remaps are
   * launch configurations, so they go too; the environment is the launcher's) except the `<keep>`s,
   * evaluated before clearing. Unscoped, `<keep>`s are plain `<let>`s.
   */
  private group(e: Entity, scope: Scope): void {
    const scoped = this.bool(e, 'scoped', scope, true);
    const forwarding = this.bool(e, 'forwarding', scope, true);
    const keeps: [string, string][] = [];
    for (const k of e.children.filter((c) => c.type === 'keep')) {
      checkShape(k, ['name', 'value'], [], []);
      keeps.push([this.required(k, 'name', scope), this.attr(k, 'value', scope) ?? '']);
    }
    const children = e.children.filter((c) => c.type !== 'keep');
    let inner = scope;
    if (scoped && forwarding) inner = copyScope(scope);
    else if (scoped) inner = { configs: new Map(), origins: new Map(), ns: '', env: { ...this.c.baseEnv }, globalParams: [], globalRemaps: [] };
    for (const [k, v] of keeps) inner.configs.set(k, v);
    this.actions(children, inner);
  }

  /**
   * `<include>` as IncludeLaunchDescription: check the included file's required args against the
   * names passed, then set each `<arg>` as a launch configuration in order (a later one sees the
   * earlier ones), then run the file, all in the includer's scope: what the include's args and the
   * included file set (args, lets, namespace, env, global params) stays set afterwards, as in
   * ros2/launch#620. Wrap the include in a `<group>` to scope it.
   */
  private include(e: Entity, scope: Scope): void {
    const file = this.path(e, this.required(e, 'file', scope));
    const root = this.load(file, e);
    const names: string[] = [];
    for (const a of e.children) {
      checkShape(a, ['name', 'value'], [], []);
      names.push(this.required(a, 'name', scope));
    }
    this.checkRequiredArgs(root, new Set(names), e);
    e.children.forEach((a, i) => {
      scope.configs.set(names[i]!, this.attr(a, 'value', scope) ?? '');
      scope.origins.set(names[i]!, `${a.file}:${a.line}`);
    });
    this.run(root, scope);
  }

  /** A `<param value>` (or `<set_parameter>`) → typed like launch_ros: YAML-typed text, `sep` for lists. */
  private paramValue(e: Entity, v: AttrValue | undefined, scope: Scope, name: string, sep: string | undefined): ParamOverride {
    const source = `${e.file}:${e.line}`;
    if (v === undefined) throw err(e, `<${e.tag} name="${name}"> needs a 'value' (or 'from' for a params file)`);
    // Typed like a YAML value (`5` int, `5.0` double, `true`, `[1, 2]`); anything that types as a
    // string keeps its exact text, so multi-line values (URDF from $(file-content)) are not folded.
    // A quoted value (`'5'`) is the string inside the quotes: launch_ros YAML-loads the text.
    const typeText = (text: string): Omit<ParamOverride, 'source'> => {
      if (text.includes('\n')) return { value: text, type: 'string' };
      try {
        const t = parseParamValue(text, source, name);
        return t.type === 'string' && !/^\s*['"]/.test(text) ? { value: text, type: 'string' } : t;
      } catch {
        return { value: text, type: 'string' };
      }
    };
    if (v.kind === 'list' || sep !== undefined) {
      const items = v.kind === 'list' ? v.items.map((t) => this.subst(e, t, scope)) : this.subst(e, v.text, scope).split(sep!);
      const typed = items.map((t) => typeText(t));
      if (typed.length === 0) return { value: [], type: 'string[]', source };
      const t0 = typed[0]!.type;
      if (t0.endsWith('[]') || typed.some((t) => t.type !== t0)) {
        // launch_ros stringifies mixed lists; rcl would refuse them, so say so.
        throw err(e, `parameter '${name}': list elements must all have one scalar type, got ${typed.map((t) => t.type).join(', ')}`);
      }
      const exact = typed.some((t) => t.exact !== undefined) ? typed.map((t) => (t.exact as bigint | undefined) ?? BigInt(t.value as number)) : undefined;
      return { value: typed.map((t) => t.value) as ParamValue, type: `${t0}[]` as ParamType, source, ...(exact ? { exact } : {}) };
    }
    const text = this.subst(e, v.text, scope);
    return { ...typeText(text), source };
  }

  /** launch_ros gathers a node's `<param from>` files in order and all inline `<param>`s into one dict applied after them. */
  private nodeParams(e: Entity, scope: Scope, prefix: string, out: Map<string, ParamOverride>, files: ParamsFile[]): void {
    // root_key, convert_types and <rewrite>s come only from a .launch.py's RewrittenYaml (nav2_common).
    const py = isPython(e.file);
    checkShape(e, ['name', 'value', 'sep', 'from', 'allow_substs', ...(py ? ['root_key', 'convert_types'] : [])], py ? ['param', 'rewrite'] : ['param'], []);
    const from = this.attr(e, 'from', scope);
    if (from !== undefined) {
      const rewrites = e.children.filter((c) => c.type === 'rewrite');
      if (e.attrs.has('name') || e.attrs.has('value') || e.children.length > rewrites.length) throw err(e, "<param from=...> loads a params file and takes no 'name', 'value' or children");
      if (prefix !== '') throw err(e, '<param from=...> cannot be nested inside another <param>');
      const path = this.path(e, from);
      try {
        if (py && (rewrites.length > 0 || e.attrs.has('root_key'))) {
          const pairs = rewrites.map((r): [string, string] => {
            checkShape(r, ['key', 'value'], [], []);
            return [this.required(r, 'key', scope), this.attr(r, 'value', scope) ?? ''];
          });
          const raw = readTextBounded(path);
          const text = this.bool(e, 'allow_substs', scope, false) ? this.subst(e, raw, scope) : raw;
          files.push(parseParamsYaml(rewriteYaml(text, path, pairs, this.attr(e, 'root_key', scope) ?? '', this.bool(e, 'convert_types', scope, false)), `${path} (rewritten)`));
        } else if (this.bool(e, 'allow_substs', scope, false)) {
          const raw = readTextBounded(path);
          files.push(parseParamsYaml(this.subst(e, raw, scope), path));
        } else {
          files.push(loadParamsFile(path));
        }
      } catch (x) {
        if (x instanceof ParamsFileError) throw err(e, `params file: ${x.message}`);
        if (x instanceof FileTooLargeError) throw err(e, `params file: ${x.message}`);
        if ((x as NodeJS.ErrnoException).code) throw err(e, `params file '${path}': cannot read (${(x as NodeJS.ErrnoException).code})`);
        throw x;
      }
      return;
    }
    const name = this.required(e, 'name', scope);
    const full = prefix === '' ? name : `${prefix}.${name}`;
    if (e.children.length > 0) {
      if (e.attrs.has('value')) throw err(e, `<param name="${name}"> has both a value and nested <param>s`);
      if (e.children.some((c) => c.type !== 'param')) throw err(e, `<param name="${name}">: only <param>s nest inside a <param>`);
      for (const c of e.children) this.nodeParams(c, scope, full, out, files);
      return;
    }
    const o = this.paramValue(e, e.attrs.get('value'), scope, full, this.attr(e, 'sep', scope));
    out.delete(full);
    out.set(full, o);
  }

  /** `name` and `namespace` of a node or component: the namespace pushed onto the scope's, both checked as rcl would. */
  private nameAndNs(e: Entity, scope: Scope): { name?: string; namespace?: string } {
    const name = this.attr(e, 'name', scope);
    const nsAttr = this.attr(e, 'namespace', scope);
    let namespace: string | undefined;
    if (nsAttr !== undefined && nsAttr !== '') namespace = nsAttr.startsWith('/') ? normalizeNs(nsAttr) : normalizeNs(joinNs(scope.ns || '/', nsAttr));
    else if (scope.ns !== '') namespace = scope.ns;
    if (name !== undefined && !/^[A-Za-z_]\w*$/.test(name)) throw err(e, `invalid node name '${name}' (letters, digits and _; not starting with a digit)`);
    if (namespace !== undefined && !/^\/([A-Za-z_]\w*(\/[A-Za-z_]\w*)*)?$/.test(namespace)) throw err(e, `invalid namespace '${namespace}' (expected /name/name..., each a letter or _ then letters, digits, _)`);
    return { ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}) };
  }

  /** A `<node_container>`: a container entry (the embedded Container stands for it) and its components. */
  private container(e: Entity, scope: Scope): void {
    const spec = this.nodeSpec(e, scope);
    this.c.out.containers.push({ fqn: spec.fqn, package: spec.package, executable: spec.executable, source: spec.source! });
    // Loaded once the container runs, in the scope of the container's action (its own namespace does not apply to them).
    for (const c of e.children) if (c.type === 'composable_node') this.composable(c, scope, spec.fqn);
  }

  /** A `<composable_node>`, as launch_ros's LoadNode request: global params and remaps first, then its own. */
  private composable(e: Entity, scope: Scope, container: string): void {
    checkShape(e, ['pkg', 'plugin', 'name', 'namespace'], ['param', 'remap', 'extra_arg']);
    if (!this.enabled(e, scope)) return;
    const pkg = this.required(e, 'pkg', scope);
    const plugin = this.required(e, 'plugin', scope);
    const { name, namespace } = this.nameAndNs(e, scope);
    const exec = plugin.split('::').pop()!;
    const source = `${e.file}:${e.line}`;
    const fqn = joinNs(namespace ?? '/', name ?? this.c.opts.defaultNodeName?.(pkg, exec) ?? exec);
    const files: ParamsFile[] = [...scope.globalParams];
    const inline = new Map<string, ParamOverride>();
    const remaps: Remap[] = [...scope.globalRemaps];
    const extraArgs: { name: string; value: string }[] = [];
    for (const c of e.children) {
      if (c.type === 'param') this.nodeParams(c, scope, '', inline, files);
      else if (c.type === 'remap') {
        checkShape(c, ['from', 'to'], [], []);
        remaps.push({ from: this.required(c, 'from', scope), to: this.required(c, 'to', scope) });
      } else {
        checkShape(c, ['name', 'value'], [], []);
        extraArgs.push({ name: this.required(c, 'name', scope), value: this.attr(c, 'value', scope) ?? '' });
      }
    }
    if (inline.size > 0) files.push(inlineParams(name !== undefined && namespace !== undefined ? joinNs(namespace, name) : '/**', inline, source));
    const { env, unsetEnv } = envDiff(scope.env, this.c.baseEnv);
    this.c.out.components.push({
      package: pkg,
      executable: exec,
      plugin,
      container,
      ...(name !== undefined ? { name } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      params: paramsForNode(files, fqn),
      remaps,
      source,
      args: [],
      respawn: false,
      env,
      unsetEnv,
      paramFiles: files,
      fqn,
      extraArgs,
    });
  }

  private node(e: Entity, scope: Scope): void {
    this.c.out.nodes.push(this.nodeSpec(e, scope));
  }

  private nodeSpec(e: Entity, scope: Scope): LaunchNode {
    const pkg = this.required(e, 'pkg', scope);
    const exec = this.required(e, 'exec', scope);
    const { name, namespace } = this.nameAndNs(e, scope);
    const source = `${e.file}:${e.line}`;
    let rosArgs: RosArgs | undefined;
    const rosArgsText = this.attr(e, 'ros_args', scope);
    if (rosArgsText !== undefined && rosArgsText.trim() !== '') {
      try {
        rosArgs = parseRosArgs(this.split(e, 'ros_args', rosArgsText), { loadFile: (p) => loadParamsFile(this.path(e, p)) });
      } catch (x) {
        if (x instanceof RosArgsError || x instanceof ParamsFileError) throw err(e, `ros_args: ${x.message}`);
        throw x;
      }
    }
    const effName = rosArgs?.nodeName ?? name ?? this.c.opts.defaultNodeName?.(pkg, exec) ?? exec;
    const effNs = rosArgs?.namespace ?? namespace ?? '/';
    const fqn = joinNs(effNs, effName);
    // launch_ros keys inline parameters with the node's full name when name and namespace are both known, else `/**`.
    const nodeKey = name !== undefined && namespace !== undefined ? joinNs(namespace, name) : '/**';
    const files: ParamsFile[] = [...(rosArgs?.params ?? []), ...scope.globalParams];
    const inline = new Map<string, ParamOverride>();
    const remaps: Remap[] = [...(rosArgs?.remaps ?? []), ...scope.globalRemaps];
    const { env, unsetEnv } = envDiff(scope.env, this.c.baseEnv);
    for (const c of e.children) {
      if (c.type === 'param') this.nodeParams(c, scope, '', inline, files);
      else if (c.type === 'remap') {
        checkShape(c, ['from', 'to'], [], []);
        remaps.push({ from: this.required(c, 'from', scope), to: this.required(c, 'to', scope) });
      } else if (c.type === 'env') {
        checkShape(c, ['name', 'value'], [], []);
        env[this.required(c, 'name', scope)] = this.attr(c, 'value', scope) ?? '';
      }
    }
    if (inline.size > 0) files.push(inlineParams(nodeKey, inline, source));
    const argsText = this.attr(e, 'args', scope);
    const output = this.attr(e, 'output', scope);
    const respawnDelay = this.number(e, 'respawn_delay', scope);
    for (const k of ['launch_prefix', 'exec_name', 'emulate_tty', 'sigterm_timeout', 'sigkill_timeout', 'cwd']) this.attr(e, k, scope);
    const spec: LaunchNode = {
      package: pkg,
      executable: exec,
      ...(name !== undefined ? { name } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      params: paramsForNode(files, fqn),
      remaps,
      source,
      args: argsText ? this.split(e, 'args', argsText) : [],
      ...(rosArgs ? { rosArgs } : {}),
      ...(output !== undefined ? { output } : {}),
      respawn: this.bool(e, 'respawn', scope, false),
      ...(respawnDelay !== undefined ? { respawnDelay } : {}),
      env,
      unsetEnv,
      paramFiles: files,
      fqn,
    };
    return spec;
  }

  /** A command-line attribute split into words; a bad one (an unclosed quote) is an error at the attribute's file:line. */
  private split(e: Entity, attr: string, text: string): string[] {
    try {
      return splitCommandLine(text);
    } catch (x) {
      throw err(e, `${attr}: ${(x as Error).message}`);
    }
  }

  private executable(e: Entity, scope: Scope): void {
    const cmdText = this.required(e, 'cmd', scope);
    const { env, unsetEnv } = envDiff(scope.env, this.c.baseEnv);
    for (const c of e.children) {
      checkShape(c, ['name', 'value'], [], []);
      env[this.required(c, 'name', scope)] = this.attr(c, 'value', scope) ?? '';
    }
    const shell = this.bool(e, 'shell', scope, false);
    const args = this.attr(e, 'args', scope);
    const cmd = [...this.split(e, 'cmd', cmdText), ...(args ? this.split(e, 'args', args) : [])];
    const name = this.attr(e, 'name', scope);
    const cwd = this.attr(e, 'cwd', scope);
    const output = this.attr(e, 'output', scope);
    const launchPrefix = this.attr(e, 'launch_prefix', scope);
    const sigterm = this.number(e, 'sigterm_timeout', scope);
    const sigkill = this.number(e, 'sigkill_timeout', scope);
    this.bool(e, 'emulate_tty', scope, false);
    const respawnDelay = this.number(e, 'respawn_delay', scope);
    this.c.out.executables.push({
      cmd,
      ...(name !== undefined ? { name } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
      shell,
      ...(output !== undefined ? { output } : {}),
      env,
      unsetEnv,
      ...(launchPrefix ? { launchPrefix } : {}),
      respawn: this.bool(e, 'respawn', scope, false),
      ...(respawnDelay !== undefined ? { respawnDelayS: respawnDelay } : {}),
      ...(sigterm !== undefined ? { sigtermTimeoutS: sigterm } : {}),
      ...(sigkill !== undefined ? { sigkillTimeoutS: sigkill } : {}),
      source: `${e.file}:${e.line}`,
    });
  }
}

const isPython = (file: string): boolean => /\.py$/.test(file);

/**
 * nav2_common's RewrittenYaml: every leaf whose key, or whose full dotted path, is a rewrite key
 * gets that value (a string, or typed like YAML with convert_types), then everything goes under
 * `rootKey` if one is given. Works on the YAML tree (failsafe schema) so that untouched values
 * keep exactly the text, and so the type, they were written with.
 */
export function rewriteYaml(src: string, file: string, rewrites: readonly [string, string][], rootKey: string, convertTypes: boolean): string {
  const doc = parseDocument(src, { schema: 'failsafe' });
  if (doc.errors.length > 0) throw new ParamsFileError(file, doc.errors[0]!.linePos?.[0].line, `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const byKey = new Map(rewrites);
  const value = (v: string): Scalar => {
    const s = new Scalar(v);
    s.type = convertTypes ? 'PLAIN' : 'QUOTE_SINGLE';
    return s;
  };
  const walk = (node: unknown, path: string[]): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k === undefined) continue;
      const p = [...path, k];
      if (isMap(pair.value)) walk(pair.value, p);
      else {
        const v = byKey.get(p.join('.')) ?? byKey.get(k);
        if (v !== undefined) pair.value = value(v);
      }
    }
  };
  walk(doc.contents, []);
  const text = doc.toString();
  if (rootKey === '') return text;
  // Indenting every line of a block-style document nests it under the new key.
  return `${JSON.stringify(rootKey)}:\n${text.split('\n').map((l) => (l === '' ? l : `  ${l}`)).join('\n')}`;
}

function copyScope(s: Scope): Scope {
  return { configs: new Map(s.configs), origins: new Map(s.origins), ns: s.ns, env: { ...s.env }, globalParams: [...s.globalParams], globalRemaps: [...s.globalRemaps] };
}

function envDiff(env: Readonly<Record<string, string | undefined>>, base: Readonly<Record<string, string | undefined>>): { env: Record<string, string>; unsetEnv: string[] } {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && base[k] !== v) out[k] = v;
  const unsetEnv = Object.keys(base).filter((k) => base[k] !== undefined && env[k] === undefined);
  return { env: out, unsetEnv };
}

function normalizeNs(ns: string): string {
  const s = `/${ns}`.replace(/\/+/g, '/').replace(/\/$/, '');
  return s === '' ? '/' : s;
}

/** Splits a command line on whitespace, honouring single and double quotes (like shlex). */
export function splitCommandLine(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: string | undefined;
  for (const c of text) {
    if (q) {
      if (c === q) q = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (q) throw new Error(`unclosed quote in '${text}'`);
  if (has || cur) out.push(cur);
  return out;
}

/**
 * Resolves a launch file: `args` are the command-line `name:=value` pairs (launch configurations).
 * Throws LaunchError (file:line: what) on anything invalid or unsupported.
 */
export function resolveLaunch(file: string, args: Readonly<Record<string, string>> = {}, opts: ResolveOptions = {}): ResolvedLaunch {
  const out: ResolvedLaunch = { nodes: [], containers: [], components: [], executables: [], args: [], logs: [], files: [] };
  const env = { ...(opts.env ?? process.env) };
  const origins = new Map(Object.keys(args).map((k) => [k, 'command line']));
  const scope: Scope = { configs: new Map(Object.entries(args)), origins, ns: '', env, globalParams: [], globalRemaps: [] };
  new Resolver({ opts, baseEnv: opts.env ?? process.env, out, stack: [] }).top(file, scope);
  return out;
}

/** An `<arg>` as written (nothing substituted): what `ros2 launch -s` can list without running the file. */
export interface DeclaredArg {
  name: string;
  default?: string;
  description?: string;
  /** Under an `if`/`unless` (its own or a group's). */
  conditional: boolean;
  source: string;
}

/** The `<arg>`s a file declares (in groups too, not in includes), first declaration of each name. */
export function declaredArgs(file: string, opts: ResolveOptions = {}): DeclaredArg[] {
  let src: string;
  try {
    src = readTextBounded(file);
  } catch (x) {
    throw new LaunchError(file, undefined, `cannot read launch file (${(x as NodeJS.ErrnoException).code ?? (x as Error).message})`);
  }
  const abs = resolvePath(file);
  const root = isPython(abs)
    ? parseLaunchPython(abs, { env: opts.env ?? process.env, kestrelRoot: KESTREL_ROOT, ...(opts.amentPrefixes ? { amentPrefixes: opts.amentPrefixes } : {}) })
    : parseLaunchText(src, abs);
  const out: DeclaredArg[] = [];
  const walk = (list: readonly Entity[], conditional: boolean): void => {
    for (const e of list) {
      const cond = conditional || e.attrs.has('if') || e.attrs.has('unless');
      const name = attrText(e, 'name');
      if (e.type === 'arg' && name !== undefined && !out.some((a) => a.name === name)) {
        const def = attrText(e, 'default');
        const description = attrText(e, 'description');
        out.push({ name, ...(def !== undefined ? { default: def } : {}), ...(description !== undefined ? { description } : {}), conditional: cond, source: `${e.file}:${e.line}` });
      } else if (e.type === 'group') walk(e.children, cond);
    }
  };
  walk(root.children, false);
  return out;
}

/** `name:=value` command-line pairs → launch arguments. Throws on anything else. */
export function parseLaunchArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of argv) {
    const i = a.indexOf(':=');
    if (i <= 0) throw new LaunchError('<command line>', undefined, `launch arguments are name:=value, got '${a}'`);
    out[a.slice(0, i)] = a.slice(i + 2);
  }
  return out;
}
