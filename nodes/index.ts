/**
 * Every Kestrel node, by executable name (the `exec` of a launch file entry).
 * Each node folder exports one definition; add yours here with one line.
 */
import type { NodeDefinition } from '../runtime/node.js';
import type { ParamDecls } from '../runtime/params.js';
import { arbiterNode } from './arbiter/index.js';
import { diagnosticsNode } from './diagnostics/index.js';
import { fusionNode } from './fusion/index.js';
import { mavlinkNode } from './mavlink/index.js';
import { playerNode, recorderNode } from './bag/index.js';
import { listener, talker } from './demo/index.js';
import { perception } from './perception/index.js';
import { tracker } from './tracker/index.js';
import { imageCompressorNode } from './image_compress/index.js';
import { simulatorNode } from './sim/index.js';
import { oracleDetectorNode } from './sim/oracle.js';
import { intentNode } from './intent/index.js';
import { plannerNode } from './planner/index.js';
import { rulesNode } from './rules/index.js';

const definitions: NodeDefinition<ParamDecls>[] = [
  // nodes register here, one line each
  rulesNode, intentNode, plannerNode,
  fusionNode, arbiterNode, diagnosticsNode,
  mavlinkNode,
  playerNode, recorderNode,
  talker, listener,
  perception, imageCompressorNode,
  tracker,
  simulatorNode,
  oracleDetectorNode,
];

export const NODE_REGISTRY: ReadonlyMap<string, NodeDefinition<ParamDecls>> = new Map(definitions.map((d) => [d.name, d]));
