/** `kestrel params <node> [--params-file f] [--ros-args ...]`: declarations, and resolved values with their sources. */
import { joinNs } from '../../runtime/names.js';
import { COMMON_PARAMS, describeParams, resolveParams, type ParamDecls } from '../../runtime/params.js';
import { loadParamsFile, paramsForNode, type ParamsFile } from '../../runtime/params-file.js';
import { extractRosArgs } from '../../runtime/ros-args.js';
import { parseOptions } from '../args.js';
import { println, UsageError, type Command } from '../command.js';
import { loadRegistry } from './shared.js';

export const paramsCommand: Command = {
  name: 'params',
  summary: "Show a node's parameters (types, ranges, defaults); with params files, the resolved values",
  usage: `usage: kestrel params <node> [--params-file file.yaml ...] [--ros-args -p name:=value -r __node:=name -r __ns:=/ns ... --]

Without files: each parameter's type, range or choices, default and description.
With --params-file / --ros-args: the value each parameter gets for the node's full name
(/<ns>/<name>, from __ns/__node if given), and where it comes from (file:line, -p, default).`,
  async run(argv) {
    const NODE_REGISTRY = await loadRegistry();
    const { rest, ros } = extractRosArgs(argv);
    const opts = parseOptions(rest, { 'params-file': { type: 'string', multiple: true, valueName: 'file' } });
    const positional = opts.positionals;
    const files: ParamsFile[] = (opts.values['params-file'] ?? []).map((f) => loadParamsFile(f));
    if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'missing node name' : `one node at a time, got ${positional.join(', ')}`);
    const exec = positional[0]!;
    const def = NODE_REGISTRY.get(exec);
    if (!def) throw new UsageError(`no Kestrel node named '${exec}' (known: ${[...NODE_REGISTRY.keys()].join(', ') || 'none'})`);
    const decls: ParamDecls = { ...COMMON_PARAMS, ...def.params };
    files.push(...ros.params);
    if (files.length === 0) {
      println(`${def.name}: ${def.description}`);
      for (const line of describeParams(decls)) println(`  ${line}`);
      return 0;
    }
    const fqn = joinNs(ros.namespace ?? '/', ros.nodeName ?? def.name);
    const overrides = paramsForNode(files, fqn);
    const { values, unknown } = resolveParams(fqn, decls, overrides);
    println(`${fqn} (${def.name}):`);
    for (const [k, d] of Object.entries(decls)) {
      const v = (values as Record<string, unknown>)[k];
      let src = 'default';
      if (d.group) {
        const keys = [...overrides.keys()].filter((o) => o.startsWith(`${k}.`));
        if (keys.length > 0) src = keys.map((o) => overrides.get(o)!.source).join(', ');
      } else if (overrides.has(k)) src = overrides.get(k)!.source;
      println(`  ${k} (${d.type}) = ${JSON.stringify(v)}  [${src}]`);
    }
    for (const k of unknown) println(`  warning: '${k}' is not a parameter of ${def.name} (${overrides.get(k)!.source})`);
    return 0;
  },
};
