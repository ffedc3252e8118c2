/**
 * The argv handed to `rclnodejs.init(context, argv)`. Kestrel resolves names and applies
 * topic remaps itself (runtime/names.ts) and gives rcl fully resolved absolute topic names,
 * so topic remaps are removed here: rcl would otherwise apply them a second time
 * (`-r a:=b -r b:=c` would send `a` to `c`). Node name/namespace remaps, params, params
 * files, log levels and enclaves pass through, so rcl sees the node as `ros2 launch` meant it.
 */
export function argvForRcl(argv: readonly string[]): string[] {
  const out: string[] = [];
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ros-args') {
      inRos = true;
      out.push(a);
      continue;
    }
    if (a === '--' && inRos) {
      inRos = false;
      out.push(a);
      continue;
    }
    if (!inRos) continue; // non-ROS arguments are Kestrel's own (e.g. --transport)
    if ((a === '-r' || a === '--remap') && i + 1 < argv.length) {
      const rule = argv[i + 1];
      i++;
      if (isNodeRemap(rule)) out.push(a, rule);
      continue;
    }
    out.push(a);
  }
  return out;
}

function isNodeRemap(rule: string): boolean {
  const lhs = rule.split(':=')[0];
  const from = lhs.includes(':') ? lhs.slice(lhs.lastIndexOf(':') + 1) : lhs;
  return from === '__node' || from === '__name' || from === '__ns';
}
