/** Helpers shared by the launch-file commands. */
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls } from '../../runtime/params.js';
import { parseLaunchArgs, resolveLaunch, type ResolvedLaunch } from '../../runtime/launch/index.js';
import { UsageError } from '../command.js';

export type Registry = ReadonlyMap<string, NodeDefinition<ParamDecls>>;

/** The node registry, loaded on first use: it pulls in every node (ONNX Runtime, llama.cpp...), which `--help` doesn't need. */
export async function loadRegistry(): Promise<Registry> {
  return (await import('../../nodes/index.js')).NODE_REGISTRY;
}

/** `<file> [name:=value ...]` → the resolved launch, with Kestrel nodes' default names known. */
export function resolveFromArgv(argv: readonly string[], what: string, registry: Registry): { file: string; resolved: ResolvedLaunch; flags: string[] } {
  const flags = argv.filter((a) => a.startsWith('--'));
  const positional = argv.filter((a) => !a.startsWith('--'));
  const [file, ...rest] = positional;
  if (file === undefined) throw new UsageError(`missing ${what}`);
  const bad = rest.filter((a) => !a.includes(':='));
  if (bad.length > 0) throw new UsageError(`launch arguments are name:=value, got '${bad[0]}'`);
  const resolved = resolveLaunch(file, parseLaunchArgs(rest), {
    defaultNodeName: (_pkg, exec) => registry.get(exec)?.name,
  });
  return { file, resolved, flags };
}
