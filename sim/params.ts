/**
 * The simulated vehicle set up for a scenario. (Which node gets which scenario parameter is the application's:
 * app/sim-tools/scenario-params.ts.)
 */
import { SimVehicle, type SimVehicleOptions } from './fc/vehicle.js';
import type { Scenario } from './scenario.js';

/**
 * The flight controller's vehicle set up for a scenario: its geodetic origin (so the FC's
 * GLOBAL_POSITION_INT agrees with /gps/fix), start pose, battery and drain. Pass it to
 * `SimFlightController` and to `createSimulator(s, { vehicle })`.
 */
export function simVehicleFor(s: Scenario, opts: SimVehicleOptions = {}): SimVehicle {
  const v = new SimVehicle({ origin: s.origin, start: s.vehicle.start, drainPerSecond: s.vehicle.drain_per_s, ...opts });
  v.setBatteryRemaining(s.vehicle.battery);
  return v;
}
