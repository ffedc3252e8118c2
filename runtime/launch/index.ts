/** ROS 2 launch files (`.launch.xml`, `.launch.yaml`) for Kestrel: parse, resolve, run in-process. */
export { LaunchError, parseLaunchText, parseLaunchXml, parseLaunchYaml, type Entity, type AttrValue } from './entity.js';
export { substitute, parseSubstitutions, SubstitutionError, findPkgPrefix, findPkgShare, type SubstContext, type PackageLookup } from './substitutions.js';
export { findLaunchFile } from './packages.js';
export { evalPythonExpr } from './eval.js';
export {
  resolveLaunch,
  declaredArgs,
  type DeclaredArg,
  parseLaunchArgs,
  splitCommandLine,
  KESTREL_ROOT,
  type LaunchNode,
  type ExecutableSpec,
  type ComponentSpec,
  type ContainerSpec,
  type ResolvedArg,
  type ResolvedLaunch,
  type ResolveOptions,
} from './resolve.js';
export { launchInProcess, checkRunnable, splitComponents, foreignComponentsReport, nodeLogLevel, LaunchRunError, type LaunchHandle, type LaunchInProcessOptions } from './run.js';
