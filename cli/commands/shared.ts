/** Helpers shared by the launch-file commands. */
import { NODE_REGISTRY } from '../../nodes/index.js';
import { parseLaunchArgs, resolveLaunch, type ResolvedLaunch } from '../../runtime/launch/index.js';
import { UsageError } from '../command.js';

/** `<file> [name:=value ...]` → the resolved launch, with Kestrel nodes' default names known. */
export function resolveFromArgv(argv: readonly string[], what: string): { file: string; resolved: ResolvedLaunch; flags: string[] } {
  const flags = argv.filter((a) => a.startsWith('--'));
  const positional = argv.filter((a) => !a.startsWith('--'));
  const [file, ...rest] = positional;
  if (file === undefined) throw new UsageError(`missing ${what}`);
  const bad = rest.filter((a) => !a.includes(':='));
  if (bad.length > 0) throw new UsageError(`launch arguments are name:=value, got '${bad[0]}'`);
  const resolved = resolveLaunch(file, parseLaunchArgs(rest), {
    defaultNodeName: (_pkg, exec) => NODE_REGISTRY.get(exec)?.name,
  });
  return { file, resolved, flags };
}
