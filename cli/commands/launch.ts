/** `kestrel launch [<package>] <file> [arg:=value ...]`: runs a ROS 2 launch file with all nodes in this process. */
import { statSync } from 'node:fs';
import { Container } from '../../runtime/container.js';
import {
  declaredArgs,
  findLaunchFile,
  foreignComponentsReport,
  KESTREL_ROOT,
  launchInProcess,
  LaunchError,
  parseLaunchArgs,
  resolveLaunch,
  splitComponents,
  type ResolvedLaunch,
} from '../../runtime/launch/index.js';
import type { ParamOverride } from '../../runtime/params.js';
import { BridgedBus } from '../../runtime/transport/bridged-bus.js';
import { createTransport } from '../../runtime/transport/select.js';
import { println, UsageError, type Command } from '../command.js';
import { loadRegistry, type Registry } from './shared.js';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface LaunchArgv {
  /** The launch file (as given), or the file name to look for in `package`. */
  file: string;
  package?: string;
  args: Record<string, string>;
  amentPrefixes: string[];
  showArgs: boolean;
  print: boolean;
  /** inproc (the default): every topic stays in the process; dds: topics are also ROS 2 topics over Cyclone DDS. */
  transport: 'inproc' | 'dds';
}

/**
 * Splits the command line as `ros2 launch` does: `<package> <file>` when a second positional is
 * given and is not a `name:=value` (and the first is not an existing file), else `<file>`.
 * Options may come anywhere.
 */
export function parseLaunchArgv(argv: readonly string[]): LaunchArgv {
  const positional: string[] = [];
  const amentPrefixes: string[] = [];
  let showArgs = false;
  let print = false;
  let transport: 'inproc' | 'dds' = 'inproc';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-s' || a === '--show-args' || a === '--show-arguments') showArgs = true;
    else if (a === '--transport' || a.startsWith('--transport=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v !== 'inproc' && v !== 'dds') throw new UsageError(`--transport: '${v ?? ''}' is not a launch transport; expected inproc or dds (ros2: run nodes with 'kestrel node --transport ros2')`);
      transport = v;
    }
    else if (a === '-p' || a === '--print' || a === '--print-description') print = true;
    else if (a === '--ament-prefix-path' || a.startsWith('--ament-prefix-path=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError('--ament-prefix-path needs a value (prefixes separated by :)');
      amentPrefixes.push(...v.split(':').filter((x) => x !== ''));
    } else if (a.startsWith('-') && !a.includes(':=')) throw new UsageError(`unknown option '${a}'`);
    else positional.push(a);
  }
  if (positional.length === 0) throw new UsageError('missing launch file');
  const [first, second] = positional as [string, string | undefined];
  // An existing file first is single-file mode whatever follows (a stray word is then a usage error).
  const pkgMode = second !== undefined && !second.includes(':=') && !isFile(first);
  const rest = positional.slice(pkgMode ? 2 : 1);
  const bad = rest.filter((a) => !a.includes(':='));
  if (bad.length > 0) throw new UsageError(`launch arguments are name:=value, got '${bad[0]}'`);
  return { file: pkgMode ? second : first, ...(pkgMode ? { package: first } : {}), args: parseLaunchArgs(rest), amentPrefixes, showArgs, print, transport };
}

const shown = (o: ParamOverride): string => (o.exact !== undefined ? (Array.isArray(o.exact) ? `[${o.exact.join(',')}]` : String(o.exact)) : JSON.stringify(o.value));

/** `--print`: nodes, containers with their components (and whether they run embedded), executables. */
export function printDescription(resolved: ResolvedLaunch, registry: Registry): void {
  for (const n of resolved.nodes) {
    println(`node ${n.fqn}  (pkg ${n.package}, exec ${n.executable})  ${n.source ?? ''}`);
    for (const [k, o] of n.params) println(`  param ${k} = ${shown(o)} (${o.type})  ${o.source}`);
    for (const r of n.remaps) println(`  remap ${r.node ? `${r.node}:` : ''}${r.from} -> ${r.to}`);
  }
  const { foreign } = splitComponents(resolved, registry);
  const why = new Map(foreign.map((f) => [f.component, f.why]));
  for (const c of resolved.containers) println(`container ${c.fqn}  (pkg ${c.package}, exec ${c.executable}; runs as Kestrel's embedded container)  ${c.source}`);
  for (const c of resolved.components) {
    const w = why.get(c);
    println(`component ${c.fqn}  (pkg ${c.package}, plugin ${c.plugin}) in ${c.container}: ${w ? `not runnable embedded, ${w}` : 'Kestrel node, embedded'}  ${c.source ?? ''}`);
    for (const [k, o] of c.params) println(`  param ${k} = ${shown(o)} (${o.type})  ${o.source}`);
    for (const r of c.remaps) println(`  remap ${r.from} -> ${r.to}`);
    for (const a of c.extraArgs) println(`  extra_arg ${a.name} = ${a.value}`);
  }
  for (const x of resolved.executables) println(`executable ${x.name ?? ''} ${JSON.stringify(x.cmd)}  ${x.source}`);
}

/** `--show-args`: the resolved values when the file resolves; else what the file declares (like `ros2 launch -s`, which runs nothing). */
function showArgs(file: string, resolve: () => ResolvedLaunch, amentPrefixes: readonly string[]): void {
  let resolved: ResolvedLaunch | undefined;
  try {
    resolved = resolve();
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    println(`(not resolved: ${e.message}; the arguments as ${file} declares them:)`);
    const declared = declaredArgs(file, { amentPrefixes });
    if (declared.length === 0) println('(no launch arguments)');
    for (const a of declared) {
      println(`'${a.name}':`);
      if (a.description) println(`    ${a.description}`);
      println(`    (default: ${a.default === undefined ? 'required' : `'${a.default}'`}${a.conditional ? '; only under a condition' : ''})`);
    }
    return;
  }
  if (resolved.args.length === 0) println('(no launch arguments)');
  for (const a of resolved.args) {
    println(`'${a.name}':`);
    if (a.description) println(`    ${a.description}`);
    println(`    (default: ${a.default === undefined ? 'required' : `'${a.default}'`}; now: '${a.value}' from ${a.from})`);
  }
}

export const launchCommand: Command = {
  name: 'launch',
  summary: 'Run a .launch.xml / .launch.yaml / .launch.py with every node in this process (Ctrl-C stops cleanly)',
  usage: `usage: kestrel launch <file.launch.xml|.launch.yaml|.launch.py> [name:=value ...] [options]
       kestrel launch <package> <file name> [name:=value ...] [options]

Runs the launch file's nodes composed in one process (package 'kestrel', or any package whose
executable is a Kestrel node) and its <executable>s as child processes. Composable nodes whose
plugin names a Kestrel node (kestrel::talker) run in the same embedded container; other plugins
are listed and reported, not run. Python launch files are evaluated with python3 against a shim
of the launch / launch_ros modules (no ROS 2 install needed). SIGINT/SIGTERM shut everything down
and exit 0.

With <package>, the file is looked up by name anywhere under the package's share directory, as
ros2 launch does (package 'kestrel' is this repository; others: <prefix>/share/<package>).

  -s, --show-args             list the launch arguments (name, default, description) and exit
  -p, --print                 print the resolved nodes, containers, components (names, namespaces,
                              parameters, remaps) and exit
  --ament-prefix-path P[:P]   install prefixes searched for packages before AMENT_PREFIX_PATH's
  --transport inproc|dds      inproc (default): topics stay in this process; dds: every topic is also a
                              ROS 2 topic over Cyclone DDS (one participant; loopback unless
                              CYCLONEDDS_URI is set; ROS_DOMAIN_ID applies). See docs/ros2.md`,
  async run(argv) {
    const a = parseLaunchArgv(argv);
    const lookup = { env: process.env, kestrelRoot: KESTREL_ROOT, amentPrefixes: a.amentPrefixes };
    const file = a.package !== undefined ? findLaunchFile(a.package, a.file, lookup) : a.file;
    const NODE_REGISTRY = await loadRegistry();
    const resolve = (): ResolvedLaunch =>
      resolveLaunch(file, a.args, { defaultNodeName: (_pkg, exec) => NODE_REGISTRY.get(exec)?.name, amentPrefixes: a.amentPrefixes });
    if (a.showArgs) {
      showArgs(file, resolve, a.amentPrefixes);
      return 0;
    }
    const resolved = resolve();
    if (a.print) {
      printDescription(resolved, NODE_REGISTRY);
      const report = foreignComponentsReport(splitComponents(resolved, NODE_REGISTRY).foreign);
      if (report) println(`note: ${report}`);
      return 0;
    }
    const bus = new BridgedBus();
    const container = new Container({ registry: NODE_REGISTRY, bus });
    // Attached before any node is added: BridgedBus bridges only topics advertised after it.
    const transport =
      a.transport === 'dds'
        ? await createTransport('dds', { nodeName: 'kestrel_launch', log: container.log.child('/kestrel_launch/transport'), diag: container.diagnostics.forNode('/kestrel_launch') })
        : undefined;
    if (transport) bus.attach(transport);
    try {
      const handle = await launchInProcess(resolved, container, { registry: NODE_REGISTRY, introspect: true });
      container.log.info(`started ${container.nodes.length} node(s), ${resolved.executables.length} process(es)${transport ? ', topics on DDS' : ''}; Ctrl-C to stop`);
      await handle.done;
    } finally {
      await transport?.close();
    }
    return 0;
  },
};
