/** Builders for arbiter tests and benchmarks: messages stamped on a given clock time. */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { msToTime } from '../../runtime/time.js';
import { envelopeFromParams, type Envelope, type EnvelopeParams } from '../../nodes/arbiter/envelope.js';
import type { Policy } from '../../nodes/arbiter/decide.js';
import { inferParamType, type ParamOverride, type ParamValue } from '../../runtime/params.js';

export const FENCE: number[] = [-50, -50, 50, -50, 50, 50, -50, 50];

export function testEnvelope(over: Partial<EnvelopeParams> = {}): Envelope {
  return envelopeFromParams({
    geofence: FENCE,
    min_altitude_m: 2,
    max_altitude_m: 60,
    max_speed_mps: 5,
    allowed_actions: ['hold', 'goto', 'velocity', 'orbit', 'takeoff', 'land', 'rtl', 'arm'],
    plan_actions: ['hold', 'goto', 'orbit', 'land', 'rtl'],
    min_battery: 0.25,
    low_battery_action: 'rtl',
    ground: false,
    ...over,
  });
}

export function testPolicy(over: Partial<Policy> = {}): Policy {
  return {
    periodMs: 50,
    maxAgeMs: 500,
    planMaxAgeMs: 5000,
    fcLostLandMs: 5000,
    validityTicks: 3,
    reactions: new Set(['hold', 'track', 'orbit', 'rtl', 'land']),
    orbitRadiusM: 10,
    mission: { mode: 'hover', point: { x: 0, y: 0, z: 10 }, waypoints: [], speed: 3, acceptRadiusM: 1.5, autoTakeoff: true, takeoffAltitudeM: 10, groundAltitudeM: 0.5 },
    ...over,
  };
}

export function vehicleState(stampMs: number, over: Partial<kestrel_msgs.VehicleState> = {}): kestrel_msgs.VehicleState {
  return makeMsg('kestrel_msgs/msg/VehicleState', {
    header: { stamp: msToTime(stampMs), frame_id: 'map' },
    connected: true,
    armed: true,
    mode: 'OFFBOARD',
    position: { x: 0, y: 0, z: 10 },
    battery_remaining: 0.9,
    ...over,
  });
}

export function plan(stampMs: number, over: Partial<kestrel_msgs.Plan> = {}, validForMs = 3000): kestrel_msgs.Plan {
  return makeMsg('kestrel_msgs/msg/Plan', {
    header: { stamp: msToTime(stampMs), frame_id: 'map' },
    action: 'goto',
    target: { x: 10, y: 10, z: 15 },
    speed: 3,
    valid_until: msToTime(stampMs + validForMs),
    ...over,
  });
}

export function alerts(stampMs: number, list: Partial<kestrel_msgs.Alert>[]): kestrel_msgs.AlertArray {
  return makeMsg('kestrel_msgs/msg/AlertArray', {
    header: { stamp: msToTime(stampMs), frame_id: 'map' },
    alerts: list.map((a) => makeMsg('kestrel_msgs/msg/Alert', { header: { stamp: msToTime(stampMs) }, active: true, severity: 'warn', ...a })),
  });
}

export function world(stampMs: number, tracks: { id: number; x: number; y: number }[] = []): kestrel_msgs.WorldState {
  return makeMsg('kestrel_msgs/msg/WorldState', {
    header: { stamp: msToTime(stampMs), frame_id: 'map' },
    tracks: tracks.map((t) => makeMsg('kestrel_msgs/msg/Track', { id: t.id, class_id: 'person', position: { x: t.x, y: t.y, z: 0 } })),
  });
}

/** Plain values → the override map Container.add expects (source: 'test'). */
export function overrides(values: Record<string, ParamValue>): Map<string, ParamOverride> {
  return new Map(Object.entries(values).map(([k, v]) => [k, { value: v, type: inferParamType(v, typeof v === 'number' && !Number.isInteger(v)), source: 'test' }]));
}
