/**
 * Prints the ROS 2 params file that makes the pipeline's nodes agree with a scenario
 * (camera intrinsics, regions, mission, geofence, battery floor).
 *
 *   npx tsx app/sim-tools/params.ts perimeter-patrol > /tmp/perimeter.params.yaml
 */
import { scenarioParamsYaml } from './scenario-params.js';
import { loadScenario } from '../../sim/scenario.js';

const name = process.argv[2];
if (!name) {
  console.error('usage: params.ts <scenario name or path> [--control]');
  process.exit(2);
}
try {
  const s = loadScenario(name, { control: process.argv.includes('--control') });
  process.stdout.write(scenarioParamsYaml(s));
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
