/**
 * A scripted ground station for the simulated FC: a MavEndpoint (system 245, component 190,
 * as pymavlink's fixtures and MAVProxy use) on an in-process wire with the FC, under a
 * SimClock, so a connect sequence or a whole mission runs in sim time, deterministically.
 */
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { SimClock } from '../../runtime/clock.js';
import { MavEndpoint } from '../../lib/mavlink/endpoint.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';
import { SimFlightController, type SimFlightControllerOptions } from '../../sim/fc/flight-controller.js';
import { SimVehicle } from '../../sim/fc/vehicle.js';
import { FAST_VEHICLE } from './mavlink-rig.js';

let wires = 0;

export interface ScriptedGcs {
  clock: SimClock;
  vehicle: SimVehicle;
  fc: SimFlightController;
  gcs: MavEndpoint;
  /** Everything the FC sent, in order. */
  rx: MavLinkData[];
  send(m: MavLinkData): void;
  /** Writes bytes as they are (a pymavlink frame). */
  raw(hex: string): void;
  /** Advances sim time in physics-sized steps. */
  run(ms: number): void;
  /** Advances sim time until a message received after `from` (an index into rx) matches; throws after maxMs. */
  waitFor<T extends MavLinkData>(pred: (m: MavLinkData) => m is T, maxMs?: number, from?: number, what?: string): T;
  heartbeat(): void;
  command(cmd: number, params: number[]): InstanceType<typeof common.CommandAck>;
  close(): Promise<void>;
}

export function isA<C extends abstract new (...a: never[]) => MavLinkData>(cls: C, pred: (m: InstanceType<C>) => boolean = () => true): (m: MavLinkData) => m is InstanceType<C> {
  return (m): m is InstanceType<C> => m instanceof cls && pred(m as InstanceType<C>);
}

export async function startScriptedGcs(autopilot: Autopilot = 'px4', fc: Partial<Omit<SimFlightControllerOptions, 'vehicle' | 'clock' | 'link'>> = {}): Promise<ScriptedGcs> {
  const clock = new SimClock(1_000_000);
  const vehicle = new SimVehicle(FAST_VEHICLE);
  const name = `gcs-${process.pid}-${++wires}`;
  const sim = new SimFlightController({ vehicle, clock, autopilot, link: { kind: 'memory', name }, ...fc });
  await sim.start();
  const rx: MavLinkData[] = [];
  const gcs = new MavEndpoint({ link: { kind: 'memory', name }, clock, sysid: 245, compid: 190, onMessage: ({ msg }) => rx.push(msg) });
  gcs.start();
  const run = (ms: number): void => {
    const end = clock.now() + ms;
    while (clock.now() < end) clock.advanceBy(Math.min(20, end - clock.now()));
  };
  const waitFor = <T extends MavLinkData>(pred: (m: MavLinkData) => m is T, maxMs = 2000, from = rx.length, what = 'message'): T => {
    const end = clock.now() + maxMs;
    for (;;) {
      for (let i = from; i < rx.length; i++) if (pred(rx[i])) return rx[i] as T;
      from = rx.length;
      if (clock.now() >= end) throw new Error(`no ${what} from the simulated FC within ${maxMs} ms of sim time (mode ${sim.status().mode}, truth ${JSON.stringify(vehicle.truth())})`);
      clock.advanceBy(10);
    }
  };
  const heartbeat = (): void => {
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.GCS;
    hb.autopilot = minimal.MavAutopilot.INVALID;
    hb.baseMode = 0 as minimal.MavModeFlag;
    hb.customMode = 0;
    hb.systemStatus = minimal.MavState.ACTIVE;
    hb.mavlinkVersion = 3;
    gcs.send(hb);
  };
  return {
    clock, vehicle, fc: sim, gcs, rx,
    send: (m) => { gcs.send(m); },
    raw: (hex) => { gcs.writeRaw(Buffer.from(hex, 'hex')); },
    run,
    waitFor,
    heartbeat,
    command(cmd, params) {
      const m = new common.CommandLong();
      const p = [...params, 0, 0, 0, 0, 0, 0, 0];
      Object.assign(m, { targetSystem: 1, targetComponent: 1, command: cmd, confirmation: 0, _param1: p[0], _param2: p[1], _param3: p[2], _param4: p[3], _param5: p[4], _param6: p[5], _param7: p[6] });
      const from = rx.length;
      gcs.send(m);
      return waitFor(isA(common.CommandAck, (a) => a.command === cmd), 1000, from, `COMMAND_ACK for ${cmd}`);
    },
    async close() {
      await gcs.stop();
      await sim.stop();
    },
  };
}
