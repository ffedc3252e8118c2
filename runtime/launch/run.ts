/**
 * Runs a resolved launch in this process: Kestrel nodes are composed in one Container (the
 * embedded default), `<executable>`s are spawned as child processes with prefixed output, and
 * everything is shut down on SIGINT/SIGTERM or when `shutdown()` is called.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Container } from '../container.js';
import type { LogLevel } from '../log.js';
import type { NodeDefinition } from '../node.js';
import type { ParamDecls } from '../params.js';
import { IntrospectionServer, type IntrospectionOptions } from '../introspect/server.js';
import type { ComponentSpec, ExecutableSpec, LaunchNode, ResolvedLaunch } from './resolve.js';

export class LaunchRunError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'LaunchRunError';
  }
}

export interface LaunchHandle {
  readonly container: Container;
  readonly processes: readonly ChildProcess[];
  /** Resolves once shutdown has finished (after a signal or `shutdown()`). */
  readonly done: Promise<void>;
  shutdown(reason?: string): Promise<void>;
}

export interface LaunchInProcessOptions {
  registry: ReadonlyMap<string, NodeDefinition<ParamDecls>>;
  /** Install SIGINT/SIGTERM handlers that shut down (default true). */
  handleSignals?: boolean;
  /** Where child process output goes (default: process.stdout / stderr). */
  write?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Serve live introspection (`kestrel topic|node|param|lifecycle`) on this process's socket while it runs
   * (runtime/introspect). Off by default: tests and virtual-time runs have no use for a socket.
   */
  introspect?: boolean | IntrospectionOptions;
  /** Before each node is configured (loading a model can take seconds): its index from 0, the count, its name. */
  onConfigure?: (index: number, total: number, node: string) => void;
}

/** Nodes this process can run: package `kestrel`, or any package whose executable is a registered Kestrel node. */
export function checkRunnable(nodes: readonly LaunchNode[], registry: ReadonlyMap<string, unknown>): void {
  const bad = nodes.filter((n) => !registry.has(n.executable));
  if (bad.length === 0) return;
  const list = bad.map((n) => `${n.source ?? ''}: pkg '${n.package}' exec '${n.executable}'`).join('; ');
  throw new LaunchRunError(
    `cannot run ${bad.length} node(s) in-process, no Kestrel node of that name: ${list} (known executables: ${[...registry.keys()].join(', ') || 'none'})`,
  );
}

/**
 * Composable nodes that run in the embedded container (a Kestrel node named by the plugin, loaded
 * into a `<node_container>` of this launch) and those that cannot, each with the reason.
 */
export function splitComponents(resolved: ResolvedLaunch, registry: ReadonlyMap<string, unknown>): { embedded: ComponentSpec[]; foreign: { component: ComponentSpec; why: string }[] } {
  const containers = new Set(resolved.containers.map((c) => c.fqn));
  const embedded: ComponentSpec[] = [];
  const foreign: { component: ComponentSpec; why: string }[] = [];
  for (const c of resolved.components) {
    if (!containers.has(c.container)) foreign.push({ component: c, why: `target container '${c.container}' is not started by this launch` });
    else if (!registry.has(c.executable)) foreign.push({ component: c, why: `plugin '${c.plugin}' is not a Kestrel node` });
    else embedded.push(c);
  }
  return { embedded, foreign };
}

/** The one report of components that are not run: what they are, where, and why. */
export function foreignComponentsReport(foreign: readonly { component: ComponentSpec; why: string }[]): string | undefined {
  if (foreign.length === 0) return undefined;
  const list = foreign.map(({ component: c, why }) => `${c.fqn} (pkg ${c.package}, ${why}) ${c.source ?? ''}`.trim()).join('; ');
  return `${foreign.length} composable node(s) not runnable in the embedded container, not started (Kestrel runs Kestrel nodes only, no C++ plugins): ${list}`;
}

function spawnExecutable(x: ExecutableSpec, index: number, write: NonNullable<LaunchInProcessOptions['write']>): ChildProcess {
  const label = `${x.name ?? x.cmd[0]?.split('/').pop() ?? 'process'}-${index}`;
  const env: Record<string, string | undefined> = { ...process.env, ...x.env };
  for (const k of x.unsetEnv) delete env[k];
  const prefix = x.launchPrefix ? x.launchPrefix.split(/\s+/).filter(Boolean) : [];
  const argv = [...prefix, ...x.cmd];
  const child = x.shell
    ? spawn(argv.join(' '), { shell: true, cwd: x.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { cwd: x.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (l) => write(`[${label}] ${l}`, name));
  }
  child.on('error', (e) => write(`[${label}] failed to start: ${e.message}`, 'stderr'));
  child.on('exit', (code, sig) => {
    if (code === 0) write(`[${label}] process has finished cleanly [pid ${child.pid}]`, 'stdout');
    else write(`[${label}] process has died [pid ${child.pid}, exit code ${code ?? sig}]`, 'stderr');
  });
  return child;
}

/** The level `ros_args="--log-level [logger:=]level"` asks for this node (rcl: later rules win; `fatal` maps to error). */
export function nodeLogLevel(n: LaunchNode): LogLevel | undefined {
  const name = n.rosArgs?.nodeName ?? n.fqn.split('/').pop();
  // rcl logger names are the fqn without the leading slash, dots for slashes.
  const logger = n.fqn.slice(1).replace(/\//g, '.');
  let level: LogLevel | undefined;
  for (const l of n.rosArgs?.logLevels ?? []) {
    if (l.logger !== undefined && l.logger !== name && l.logger !== logger) continue;
    level = l.level === 'fatal' ? 'error' : l.level === 'unset' ? undefined : l.level;
  }
  return level;
}

async function stopChild(c: ChildProcess, termS: number, killS: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGINT');
  const wait = (s: number): Promise<boolean> => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), s * 1000).unref())]);
  if (await wait(termS)) return;
  c.kill('SIGTERM');
  if (await wait(killS)) return;
  c.kill('SIGKILL');
  await exited;
}

/**
 * Configures and activates every node of `resolved` in `container`, and starts its executables.
 * Refuses (before starting anything) when a node is not a Kestrel node.
 */
export async function launchInProcess(resolved: ResolvedLaunch, container: Container, opts: LaunchInProcessOptions): Promise<LaunchHandle> {
  checkRunnable(resolved.nodes, opts.registry);
  const { embedded, foreign } = splitComponents(resolved, opts.registry);
  const write = opts.write ?? ((l, s) => (s === 'stderr' ? process.stderr : process.stdout).write(`${l}\n`));
  for (const m of resolved.logs) container.log.info(m);
  const report = foreignComponentsReport(foreign);
  if (report) container.log.warn(report);
  const processes: ChildProcess[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  // Before the nodes are added, so a client sees them come up (model loading can take seconds).
  const introspection = opts.introspect ? await IntrospectionServer.start(container, opts.introspect === true ? { description: resolved.files[0] ?? '' } : opts.introspect) : undefined;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const onSignal = (sig: NodeJS.Signals): void => {
    void shutdown(`received ${sig}`);
  };
  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    stopping ??= (async () => {
      container.log.info(`${reason}, shutting down`);
      await introspection?.close();
      if (opts.handleSignals !== false) for (const s of signals) process.off(s, onSignal);
      await Promise.all(processes.map((c, i) => {
        const x = resolved.executables[i]!;
        return stopChild(c, x.sigtermTimeoutS ?? 5, x.sigkillTimeoutS ?? 5);
      }));
      await container.shutdownAll();
      resolveDone();
    })();
    return stopping;
  };
  if (opts.handleSignals !== false) for (const s of signals) process.on(s, onSignal);
  // `respawn="true"`: restart after `respawn_delay` seconds, as launch does, until shutdown.
  const start = (x: ExecutableSpec, i: number): ChildProcess => {
    const child = spawnExecutable(x, i + 1, write);
    processes[i] = child;
    // Like ros2 launch: with no nodes left to run, the launch ends when its last process does.
    if (!x.respawn && resolved.nodes.length === 0 && embedded.length === 0) {
      child.once('exit', () => {
        if (processes.every((c) => c.exitCode !== null || c.signalCode !== null)) void shutdown('all processes have exited');
      });
    }
    if (x.respawn) {
      child.once('exit', () => {
        if (stopping) return;
        const t = setTimeout(() => {
          if (!stopping) start(x, i);
        }, (x.respawnDelayS ?? 0) * 1000);
        t.unref();
      });
    }
    return child;
  };
  try {
    // Components load once their container runs: after the plain nodes, as with ROS 2.
    const all = [...resolved.nodes, ...embedded];
    for (const [i, n] of all.entries()) {
      opts.onConfigure?.(i, all.length, n.fqn);
      // Logger reads its threshold from KESTREL_LOG_LEVEL when created, which Container.add does.
      const level = nodeLogLevel(n);
      const saved = process.env.KESTREL_LOG_LEVEL;
      if (level) process.env.KESTREL_LOG_LEVEL = level;
      try {
        await container.add(n);
      } finally {
        if (level) {
          if (saved === undefined) delete process.env.KESTREL_LOG_LEVEL;
          else process.env.KESTREL_LOG_LEVEL = saved;
        }
      }
    }
    await container.activateAll();
    resolved.executables.forEach((x, i) => start(x, i));
  } catch (e) {
    await shutdown('start failed');
    throw e;
  }
  return { container, processes, done, shutdown };
}
