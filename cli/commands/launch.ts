/** `kestrel launch <file> [arg:=value ...]`: runs a ROS 2 launch file with all nodes in this process. */
import { Container } from '../../runtime/container.js';
import { launchInProcess } from '../../runtime/launch/index.js';
import { println, UsageError, type Command } from '../command.js';
import { loadRegistry, resolveFromArgv } from './shared.js';

export const launchCommand: Command = {
  name: 'launch',
  summary: 'Run a .launch.xml / .launch.yaml with every node in this process (Ctrl-C stops cleanly)',
  usage: `usage: kestrel launch <file.launch.xml|.launch.yaml> [name:=value ...] [--show-args] [--print]

Runs the launch file's nodes composed in one process (package 'kestrel', or any package whose
executable is a Kestrel node) and its <executable>s as child processes. SIGINT/SIGTERM shut
everything down and exit 0.

  --show-args   list the launch arguments (name, default, description) and exit
  --print       print the resolved nodes (names, namespaces, parameters, remaps) and exit`,
  async run(argv) {
    const NODE_REGISTRY = await loadRegistry();
    const { resolved, flags } = resolveFromArgv(argv, 'launch file', NODE_REGISTRY);
    const unknown = flags.filter((f) => f !== '--show-args' && f !== '--print');
    if (unknown.length > 0) throw new UsageError(`unknown option '${unknown[0]}'`);
    if (flags.includes('--show-args')) {
      if (resolved.args.length === 0) println('(no launch arguments)');
      for (const a of resolved.args) {
        println(`'${a.name}':`);
        if (a.description) println(`    ${a.description}`);
        println(`    (default: ${a.default === undefined ? 'required' : `'${a.default}'`}; now: '${a.value}' from ${a.from})`);
      }
      return 0;
    }
    if (flags.includes('--print')) {
      for (const n of resolved.nodes) {
        println(`node ${n.fqn}  (pkg ${n.package}, exec ${n.executable})  ${n.source ?? ''}`);
        for (const [k, o] of n.params) println(`  param ${k} = ${o.exact !== undefined ? (Array.isArray(o.exact) ? `[${o.exact.join(',')}]` : String(o.exact)) : JSON.stringify(o.value)} (${o.type})  ${o.source}`);
        for (const r of n.remaps) println(`  remap ${r.node ? `${r.node}:` : ''}${r.from} -> ${r.to}`);
      }
      for (const x of resolved.executables) println(`executable ${x.name ?? ''} ${JSON.stringify(x.cmd)}  ${x.source}`);
      return 0;
    }
    const container = new Container({ registry: NODE_REGISTRY });
    const handle = await launchInProcess(resolved, container, { registry: NODE_REGISTRY });
    container.log.info(`started ${resolved.nodes.length} node(s), ${resolved.executables.length} process(es); Ctrl-C to stop`);
    await handle.done;
    return 0;
  },
};
