/**
 * The parameters the pipeline's nodes need to agree with a scenario, by executable name, with ROS 2 flattened
 * names: the tracker's camera and regions, the intent compiler's region names, the arbiter's mission, geofence and
 * battery floor, the simulator's scenario. This is the content of config/scenarios/<name>.params.yaml (written by
 * app/sim-tools/params.ts); it lives in the application layer because it names nodes.
 */
import { Document, isScalar, isSeq, visit } from 'yaml';
import type { ParamValue } from '../../runtime/params.js';
import { regionParams, type Scenario } from '../../sim/scenario.js';

/** Scalars of type double among the generated parameters (every generated array is double[]). */
const DOUBLE_PARAMS = new Set(['camera.hfov_deg', 'mission_speed', 'min_battery']);

export type NodeParams = Record<string, Record<string, ParamValue>>;

export function scenarioParams(s: Scenario): NodeParams {
  const regions: Record<string, number[]> = {};
  for (const [name, flat] of Object.entries(regionParams(s))) regions[`regions.${name}`] = flat;
  const m = s.vehicle.mission;
  const fence = s.geofence ? regionParams(s)[s.geofence] : undefined;
  const battery = s.events.find((e) => e.kind === 'battery_below');
  return {
    simulator: { scenario: s.name, control: s.control },
    tracker: { 'camera.width': s.camera.width, 'camera.height': s.camera.height, 'camera.hfov_deg': s.camera.hfov_deg, ...regions },
    intent: { ...regions },
    arbiter: {
      mission_mode: m.kind,
      ...(m.kind === 'hover'
        ? { mission_point: [m.waypoints[0].x, m.waypoints[0].y, m.altitude] }
        : { mission_waypoints: m.waypoints.flatMap((w) => [w.x, w.y, m.altitude]), mission_speed: m.speed }),
      ...(fence ? { geofence: fence } : {}),
      ...(battery && battery.kind === 'battery_below' ? { min_battery: battery.threshold } : {}),
    },
  };
}

/** `scenarioParams` as the text of a ROS 2 params file (one `ros__parameters` section per node). */
export function scenarioParamsYaml(s: Scenario): string {
  const doc: Record<string, { ros__parameters: Record<string, ParamValue> }> = {};
  for (const [node, params] of Object.entries(scenarioParams(s))) doc[node] = { ros__parameters: params };
  const yaml = new Document(doc, { aliasDuplicateObjects: false });
  const asDouble = (n: unknown): void => {
    if (isScalar(n) && typeof n.value === 'number') n.minFractionDigits = 1;
  };
  visit(yaml, {
    Pair: (_k, pair) => {
      // ROS 2 types a YAML number by how it is written (1 is int, 1.0 double) and refuses mixed arrays.
      if (isSeq(pair.value)) {
        pair.value.flow = true;
        pair.value.items.forEach(asDouble);
      } else if (isScalar(pair.key) && DOUBLE_PARAMS.has(String(pair.key.value))) asDouble(pair.value);
    },
  });
  return `# Generated from ${s.source} by app/sim-tools/params.ts\n${yaml.toString()}`;
}
