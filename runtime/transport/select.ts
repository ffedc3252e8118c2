/**
 * `--transport inproc|ros2|dds|auto`: auto means ROS 2 (rclnodejs) when a ROS 2 environment is sourced. dds is never
 * chosen by auto: it joins a DDS domain, which must be asked for.
 */
import type { NodeDiagnostics } from '../diagnostics.js';
import type { Logger } from '../log.js';
import { loadRclnodejs, ros2Sourced, type Env, type Importer } from './load-rclnodejs.js';
import type { Rclnodejs } from './rclnodejs-api.js';
import { DdsTransport } from './dds/dds.js';
import { Ros2Transport } from './ros2.js';
import { InprocTransport, type Transport, type TransportKind } from './transport.js';

export type TransportChoice = TransportKind | 'auto';
export const TRANSPORT_CHOICES: readonly TransportChoice[] = ['inproc', 'ros2', 'dds', 'auto'];

export function parseTransportChoice(s: string, where = '--transport'): TransportChoice {
  if ((TRANSPORT_CHOICES as readonly string[]).includes(s)) return s as TransportChoice;
  throw new Error(`${where}: '${s}' is not a transport; expected one of ${TRANSPORT_CHOICES.join(', ')}`);
}

/** `KESTREL_TRANSPORT=inproc|ros2|dds|auto`: the default when no `--transport` is given (handy in launch files). */
export function transportFromEnv(env: Env): TransportChoice | undefined {
  const v = env.KESTREL_TRANSPORT;
  return v === undefined || v === '' ? undefined : parseTransportChoice(v, 'KESTREL_TRANSPORT');
}

/** A half-sourced environment is an error even under auto: it is almost always a mistake. */
export function resolveTransportKind(choice: TransportChoice, env: Env): TransportKind {
  if (choice !== 'auto') return choice;
  return ros2Sourced(env) ? 'ros2' : 'inproc';
}

export interface CreateTransportOptions {
  nodeName: string;
  namespace?: string;
  argv?: readonly string[];
  log?: Logger;
  diag?: NodeDiagnostics;
  env?: Env;
  /** An rclnodejs-compatible module (tests pass the fake); otherwise loaded by dynamic import. */
  rcl?: Rclnodejs;
  importer?: Importer;
}

export async function createTransport(choice: TransportChoice, o: CreateTransportOptions): Promise<Transport> {
  const env = o.env ?? process.env;
  const kind = o.rcl && choice === 'auto' ? 'ros2' : resolveTransportKind(choice, env);
  if (kind === 'inproc') return new InprocTransport();
  // Cyclone DDS through koffi: nothing to import until asked for, so the other transports never load it.
  if (kind === 'dds') return DdsTransport.create({ nodeName: o.nodeName, namespace: o.namespace, env, log: o.log, diag: o.diag });
  const rcl = o.rcl ?? (await loadRclnodejs(env, o.importer));
  return Ros2Transport.create({ rcl, nodeName: o.nodeName, namespace: o.namespace, argv: o.argv, log: o.log, diag: o.diag });
}
