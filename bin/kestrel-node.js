#!/usr/bin/env node
// `kestrel-node <executable> [--transport ...] --ros-args ...`: one node per process, for `ros2 run` /
// `ros2 launch` (same as `kestrel node ...`).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(['node', ...process.argv.slice(2)]);
