/**
 * Every `kestrel` subcommand, one line each: name and summary here, the implementation imported on use
 * (cli/commands/index.test.ts checks that each module's own name and summary match these lines).
 */
import type { CommandEntry } from '../command.js';

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', summary: 'Run the simulated drone mission end to end, live (what `npm start` does)', load: async () => (await import('./start.js')).startCommand },
  { name: 'launch', summary: 'Run a .launch.xml / .launch.yaml / .launch.py with every node in this process (Ctrl-C stops cleanly)', load: async () => (await import('./launch.js')).launchCommand },
  { name: 'topics', summary: "List the topics a launch file's nodes publish and subscribe, with types and QoS", load: async () => (await import('./topics.js')).topicsCommand },
  { name: 'params', summary: "Show a node's parameters (types, ranges, defaults); with params files, the resolved values", load: async () => (await import('./params.js')).paramsCommand },
  { name: 'node', summary: 'Run one node as its own ROS 2-style process (--ros-args, --transport inproc|ros2|dds|auto); list, info: live nodes', load: async () => (await import('./node.js')).nodeCommand },
  { name: 'topic', summary: 'Live topics of a running Kestrel: list, info, echo, hz (like ros2 topic)', load: async () => (await import('./topic.js')).topicCommand },
  { name: 'param', summary: 'Live parameters of a running node: list, get, set (dynamic ones; like ros2 param)', load: async () => (await import('./param.js')).paramCommand },
  { name: 'lifecycle', summary: 'Live lifecycle of a running node: get, set (like ros2 lifecycle)', load: async () => (await import('./lifecycle.js')).lifecycleCommand },
  { name: 'bag', summary: 'rosbag2 bags (MCAP, sqlite3): info, play, record, convert, reindex', load: async () => (await import('./bag.js')).bagCommand },
  { name: 'eval', summary: 'Evaluate a scenario or bag under virtual time: latency, misses, alert accuracy, tokens/s, energy; JSON + HTML', load: async () => (await import('./eval.js')).evalCommand },
  { name: 'intent', summary: 'compile an operator intent into rules (as the intent node does) and print them, or the refusal', load: async () => (await import('./intent.js')).intentCommand },
  { name: 'worker', summary: 'Run fleet evaluation jobs from a BullMQ queue on Redis (kestrel eval --manifest … --queue)', load: async () => (await import('./worker.js')).workerCommand },
];
