#!/usr/bin/env node
// `kestrel-node <executable> [--transport ...] --ros-args ...`: one node per process, for `ros2 run` /
// `ros2 launch` (same as `kestrel node ...`).
import { loadMain } from './load-main.js';

const main = await loadMain();
process.exitCode = await main(['node', ...process.argv.slice(2)]);
