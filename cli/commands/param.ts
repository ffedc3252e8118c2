/** `kestrel param list|get|set`: a running node's parameters, as `ros2 param` shows and sets them. */
import { println, UsageError, type Command } from '../command.js';
import { formatParam, parseLiveArgs, TARGET_USAGE, withProcess, type ParamAnswer } from './live.js';

const USAGE = `usage: kestrel param list <node> [--json]
       kestrel param get <node> <name> [--json]
       kestrel param set <node> <name> <value>

The parameters of a node in a running Kestrel, asked over its introspection socket.
  list   every declared parameter: type, range or choices, 'dynamic' when it may be set while running, value
  get    one parameter
  set    a dynamic parameter, the value typed as '-p name:=value' types it (2 is int, 2.0 double, [1, 2] a list)
         and checked against the declaration as a params file value is; a parameter not declared dynamic is
         refused (set it in a params file or with --ros-args -p and restart)
<node> is the full name (/demo/talker) or, when unique, the node's own name (talker).
${TARGET_USAGE}`;

export const paramCommand: Command = {
  name: 'param',
  summary: "Live parameters of a running node: list, get, set (dynamic ones; like ros2 param)",
  usage: USAGE,
  async run(argv) {
    const { positionals, opts } = parseLiveArgs(argv, [], ['json']);
    const [verb, node, name, value, extra] = positionals;
    if (verb === undefined) throw new UsageError('missing subcommand (list, get, set)');
    if (node === undefined) throw new UsageError(`param ${verb}: missing node name`);
    const json = opts.json === 'true';
    const arity = { list: 2, get: 3, set: 4 }[verb];
    if (arity === undefined) throw new UsageError(`unknown subcommand '${verb}' (list, get, set)`);
    if (positionals.length < arity) throw new UsageError(`param ${verb}: missing ${positionals.length === 2 ? 'parameter name' : 'value'}`);
    if (positionals.length > arity) throw new UsageError(`unexpected argument '${positionals[arity] ?? extra}'`);
    return withProcess(opts, async (c) => {
      if (verb === 'list') {
        const ps = (await c.request('param.list', { node })) as ParamAnswer[];
        if (json) println(JSON.stringify(ps));
        else for (const p of ps) println(`  ${formatParam(p)}`);
      } else if (verb === 'get') {
        const p = (await c.request('param.get', { node, name: name! })) as ParamAnswer;
        println(json ? JSON.stringify(p) : formatParam(p));
      } else {
        const p = (await c.request('param.set', { node, name: name!, value: value! })) as ParamAnswer;
        println(`Set parameter successful: ${formatParam(p)}`);
      }
      return 0;
    });
  },
};
