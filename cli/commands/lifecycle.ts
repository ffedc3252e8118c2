/** `kestrel lifecycle get|set`: a running node's lifecycle state and transitions, as `ros2 lifecycle` does them. */
import { println, UsageError, type Command } from '../command.js';
import { parseLiveArgs, TARGET_USAGE, withProcess } from './live.js';

const USAGE = `usage: kestrel lifecycle get [<node>]
       kestrel lifecycle set <node> configure|activate|deactivate|shutdown

The lifecycle of nodes in a running Kestrel (ROS 2 managed-node states: unconfigured, inactive, active,
finalized), over its introspection socket.
  get    the node's state; without a node, every node's
  set    runs a transition; one not allowed from the current state is refused with the reason. A deactivated
         node stops its work (the arbiter falls back in the gap) until it is activated again.
${TARGET_USAGE}`;

export const lifecycleCommand: Command = {
  name: 'lifecycle',
  summary: "Live lifecycle of a running node: get, set (like ros2 lifecycle)",
  usage: USAGE,
  async run(argv) {
    const { positionals, opts } = parseLiveArgs(argv, [], []);
    const [verb, node, transition, extra] = positionals;
    if (verb !== 'get' && verb !== 'set') throw new UsageError(verb === undefined ? 'missing subcommand (get, set)' : `unknown subcommand '${verb}' (get, set)`);
    if (extra !== undefined || (verb === 'get' && transition !== undefined)) throw new UsageError(`unexpected argument '${extra ?? transition}'`);
    if (verb === 'set' && node === undefined) throw new UsageError('lifecycle set: missing node name');
    if (verb === 'set' && transition === undefined) throw new UsageError('lifecycle set: missing transition (configure, activate, deactivate, shutdown)');
    return withProcess(opts, async (c) => {
      if (verb === 'get') {
        if (node === undefined) {
          for (const n of (await c.request('node.list', {})) as { name: string; state: string }[]) println(`${n.name}: ${n.state}`);
        } else {
          println(((await c.request('lifecycle.get', { node })) as { state: string }).state);
        }
        return 0;
      }
      const r = (await c.request('lifecycle.set', { node: node!, transition: transition! })) as { node: string; state: string };
      println(`Transitioning successful: ${r.node} is ${r.state}`);
      return 0;
    });
  },
};
