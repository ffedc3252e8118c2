/**
 * One call to put a simulated flight controller on a link, as `npm start`, launch setups and
 * the simulator use it: a socat pty pair (the bridge opens `bridgePort`) or UDP on 127.0.0.1
 * (like PX4 SITL). For TCP (like ArduPilot SITL) construct SimFlightController with `kind: 'tcp'`.
 */
import type { Clock } from '../../runtime/clock.js';
import { SimFlightController, type SimFlightControllerOptions, type SimUdpSpec } from './flight-controller.js';
import { startPtyPair, type PtyPair } from './pty.js';
import { SimVehicle, type SimVehicleOptions } from './vehicle.js';

export { SimFlightController, DEFAULT_STREAM_HZ, SITL_GCS_PORT, SITL_API_PORT, type SimFlightControllerOptions, type SimFcStatus, type SimFcStats, type SimLinkSpec, type SimUdpSpec, type SimTcpSpec } from './flight-controller.js';
export { TcpServerLink } from './tcp-server.js';
export { UdpPeersLink, type UdpPeer } from './udp-peers.js';
export { startPtyPair, type PtyPair, type PtyPairOptions } from './pty.js';
export { SimVehicle, DEFAULT_ORIGIN, enuToGeo, geoToEnu, type VehicleTruth, type GuidanceTarget, type SimVehicleOptions, type GeoOrigin } from './vehicle.js';

export interface SimFcSetupOptions {
  clock: Clock;
  /** An existing vehicle (e.g. the one the simulator renders), or options for a new one. */
  vehicle?: SimVehicle;
  vehicleOptions?: SimVehicleOptions;
  /** 'pty' (default): a socat pair; or UDP like PX4 SITL (see SimUdpSpec: GCS 14550, API 14540, plus whoever speaks). */
  link?: 'pty' | SimUdpSpec;
  fc?: Partial<Omit<SimFlightControllerOptions, 'vehicle' | 'clock' | 'link'>>;
}

export interface SimFcSetup {
  vehicle: SimVehicle;
  fc: SimFlightController;
  pty: PtyPair | undefined;
  /** For the mavlink node: `port` (serial) when on a pty, undefined on UDP. */
  bridgePort: string | undefined;
  stop(): Promise<void>;
}

export async function startSimulatedFc(o: SimFcSetupOptions): Promise<SimFcSetup> {
  const vehicle = o.vehicle ?? new SimVehicle(o.vehicleOptions);
  const pty = o.link === undefined || o.link === 'pty' ? await startPtyPair() : undefined;
  const link = pty ? { kind: 'serial' as const, path: pty.a, baudRate: 921600 } : (o.link as SimUdpSpec);
  const fc = new SimFlightController({ ...o.fc, vehicle, clock: o.clock, link });
  try {
    await fc.start();
  } catch (e) {
    await pty?.close();
    throw e;
  }
  return {
    vehicle,
    fc,
    pty,
    bridgePort: pty?.b,
    async stop() {
      await fc.stop();
      await pty?.close();
    },
  };
}
