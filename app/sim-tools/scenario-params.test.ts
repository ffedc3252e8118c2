import { describe, expect, it } from 'vitest';
import { arbiterNode } from '../../nodes/arbiter/index.js';
import { intentNode } from '../../nodes/intent/index.js';
import { simulatorNode } from '../../nodes/sim/index.js';
import { tracker } from '../../nodes/tracker/index.js';
import type { NodeDefinition } from '../../runtime/node.js';
import { resolveParams, type ParamDecls } from '../../runtime/params.js';
import { parseParamsYaml } from '../../runtime/params-file.js';
import { scenarioParamsYaml } from './scenario-params.js';
import { loadScenario } from '../../sim/scenario.js';

const NODES = new Map<string, NodeDefinition<ParamDecls>>([
  ['/simulator', simulatorNode as unknown as NodeDefinition<ParamDecls>],
  ['/tracker', tracker as unknown as NodeDefinition<ParamDecls>],
  ['/intent', intentNode as unknown as NodeDefinition<ParamDecls>],
  ['/arbiter', arbiterNode as unknown as NodeDefinition<ParamDecls>],
]);

describe('scenario params file', () => {
  for (const name of ['passport-queue', 'stranded-bag', 'perimeter-patrol']) {
    it(`${name}: every generated parameter is declared by its node and valid`, () => {
      const s = loadScenario(name);
      const file = parseParamsYaml(scenarioParamsYaml(s), `${name}.params.yaml`);
      expect(file.entries.map((e) => e.nodeKey).sort()).toEqual([...NODES.keys()].sort());
      for (const entry of file.entries) {
        const def = NODES.get(entry.nodeKey)!;
        const r = resolveParams(def.name, def.params, entry.params);
        expect(r.unknown, `${entry.nodeKey}`).toEqual([]);
      }
      const tr = resolveParams('tracker', tracker.params, file.entries.find((e) => e.nodeKey === '/tracker')!.params).values;
      expect(tr['camera.hfov_deg']).toBe(s.camera.hfov_deg);
      expect(Object.keys(tr.regions).sort()).toEqual(s.regions.map((r) => r.name).sort());
    });
  }

  it('gives the arbiter the patrol, the geofence and the battery floor of perimeter-patrol', () => {
    const file = parseParamsYaml(scenarioParamsYaml(loadScenario('perimeter-patrol')), 'p.yaml');
    const a = resolveParams('arbiter', arbiterNode.params, file.entries.find((e) => e.nodeKey === '/arbiter')!.params).values;
    expect(a.mission_mode).toBe('patrol');
    expect(a.mission_waypoints).toEqual([-12, -8, 22, 12, -8, 22, 12, 8, 22, -12, 8, 22]);
    expect(a.geofence).toEqual([-20, -15, 20, -15, 20, 15, -20, 15]);
    expect(a.min_battery).toBe(0.2);
  });
});
