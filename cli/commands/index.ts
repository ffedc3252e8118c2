/** Every `kestrel` subcommand, one line each. */
import type { Command } from '../command.js';
import { bagCommand } from './bag.js';
import { evalCommand } from './eval.js';
import { intentCommand } from './intent.js';
import { launchCommand } from './launch.js';
import { nodeCommand } from './node.js';
import { paramsCommand } from './params.js';
import { topicsCommand } from './topics.js';
import { startCommand } from './start.js';
import { workerCommand } from './worker.js';

export const COMMANDS: readonly Command[] = [
  startCommand,
  launchCommand,
  topicsCommand,
  paramsCommand,
  nodeCommand,
  bagCommand,
  evalCommand,
  intentCommand,
  workerCommand,
];
