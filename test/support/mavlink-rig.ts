/**
 * Test rig: a socat pty pair with the simulated flight controller on one end and the
 * mavlink node (in a Container) on the other, plus helpers to drive /cmd and await /fc/state.
 */
import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { SystemClock, type Clock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import type { ManagedNode } from '../../runtime/node.js';
import { inferParamType, type ParamOverride, type ParamValue } from '../../runtime/params.js';
import { msToTime } from '../../runtime/time.js';
import { SimFlightController, type SimFlightControllerOptions } from '../../sim/fc/flight-controller.js';
import { startPtyPair, type PtyPair } from '../../sim/fc/pty.js';
import { SimVehicle, type SimVehicleOptions } from '../../sim/fc/vehicle.js';
import { mavlinkNode } from '../../nodes/mavlink/index.js';

export function paramMap(values: Record<string, ParamValue>): Map<string, ParamOverride> {
  return new Map(Object.entries(values).map(([k, v]) => [k, { value: v, type: inferParamType(v, typeof v === 'number' && !Number.isInteger(v)), source: 'test' }]));
}

/** Fast vehicle dynamics so flights take seconds. */
export const FAST_VEHICLE: SimVehicleOptions = { maxSpeed: 10, maxClimb: 6, maxDescent: 5, maxAccel: 15, positionGain: 2, landSpeed: 4 };

export interface Rig {
  pty: PtyPair;
  clock: Clock;
  vehicle: SimVehicle;
  fc: SimFlightController;
  container: Container;
  node: ManagedNode;
  state$: Observable<kestrel_msgs.VehicleState>;
  /** Publishes one /cmd valid for validMs from now. */
  cmd(action: string, fields?: Partial<kestrel_msgs.VehicleCommand>, validMs?: number): kestrel_msgs.VehicleCommand;
  /** Publishes the command every periodMs (like the arbiter's tick) until stop() is called. */
  stream(action: string, fields?: Partial<kestrel_msgs.VehicleCommand>, periodMs?: number, validMs?: number): { stop(): void };
  waitState(pred: (s: kestrel_msgs.VehicleState) => boolean, ms?: number, what?: string): Promise<kestrel_msgs.VehicleState>;
  diag(): Record<string, string>;
  close(): Promise<void>;
}

export interface RigOptions {
  fc?: Partial<Omit<SimFlightControllerOptions, 'vehicle' | 'clock' | 'link'>>;
  vehicle?: SimVehicleOptions;
  params?: Record<string, ParamValue>;
  /** Start the bridge (default true). */
  bridge?: boolean;
}

export async function startRig(o: RigOptions = {}): Promise<Rig> {
  const pty = await startPtyPair();
  const clock = new SystemClock();
  const vehicle = new SimVehicle({ ...FAST_VEHICLE, ...o.vehicle });
  const fc = new SimFlightController({ vehicle, clock, link: { kind: 'serial', path: pty.a, baudRate: 921600 }, reconnectMs: 100, ...o.fc });
  await fc.start();
  const container = new Container({ clock, registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
  const node = await container.add({
    package: 'kestrel',
    executable: 'mavlink',
    params: paramMap({ port: pty.b, heartbeat_timeout_ms: 1200, heartbeat_rate_hz: 5, command_timeout_ms: 500, action_repeat_ms: 500, reconnect_ms: 100, ...o.params }),
    remaps: [],
  });
  if (o.bridge !== false) await node.activate();
  const pub = container.bus.advertise('/cmd', 'kestrel_msgs/msg/VehicleCommand');
  const state$ = container.bus.subscribe('/fc/state', 'kestrel_msgs/msg/VehicleState');
  let seq = 0;
  const cmd = (action: string, fields: Partial<kestrel_msgs.VehicleCommand> = {}, validMs = 300): kestrel_msgs.VehicleCommand => {
    const now = clock.now();
    const c = makeMsg('kestrel_msgs/msg/VehicleCommand', { header: { stamp: msToTime(now), frame_id: 'map' }, seq: ++seq, action, source: 'mission', valid_until: msToTime(now + validMs), ...fields });
    pub.publish(c);
    return c;
  };
  const timers = new Set<ReturnType<typeof setInterval>>();
  return {
    pty, clock, vehicle, fc, container, node, state$, cmd,
    stream(action, fields = {}, periodMs = 50, validMs = 400) {
      cmd(action, fields, validMs);
      const t = setInterval(() => cmd(action, fields, validMs), periodMs);
      timers.add(t);
      return { stop: () => { clearInterval(t); timers.delete(t); } };
    },
    waitState(pred, ms = 8000, what = 'condition') {
      return firstValueFrom(state$.pipe(filter(pred), timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for /fc/state: ${what}; sim: ${JSON.stringify({ ...fc.status(), truth: vehicle.truth() })}; bridge: ${JSON.stringify(container.diagnostics.forNode('/mavlink').status())}`); } })));
    },
    diag: () => container.diagnostics.forNode('/mavlink').values,
    async close() {
      for (const t of timers) clearInterval(t);
      await container.shutdownAll();
      await fc.stop();
      await pty.close();
    },
  };
}
