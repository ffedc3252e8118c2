/**
 * A worker thread of the fuzz campaign (bench/fuzz.ts): builds the targets over the seed bags it is given, then
 * runs the shard it is asked for, one target at a time, and posts the counts back.
 */
import { rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzz, type FuzzShard } from '../test/support/fuzz.js';
import type { BagSeeds } from '../lib/bag/bag.fuzz.js';
import { campaignTargets, FUZZ_SEED } from './fuzz-targets.js';

export interface ShardRequest {
  target: string;
  cases: number;
  shard: FuzzShard;
}

const port = parentPort;
if (!port) throw new Error('bench/fuzz-worker.ts runs as a worker thread of bench/fuzz.ts');
const { targets, dir } = campaignTargets(workerData as BagSeeds);
port.on('message', (m: ShardRequest | 'exit') => {
  if (m === 'exit') {
    rmSync(dir, { recursive: true, force: true });
    port.close();
    return;
  }
  const t = targets.find((x) => x.name === m.target);
  if (!t) {
    port.postMessage({ error: `no fuzz target '${m.target}' in the worker` });
    return;
  }
  runFuzz(t, FUZZ_SEED, m.cases, m.shard).then(
    (counts) => port.postMessage({ counts }),
    (e: unknown) => port.postMessage({ error: (e as Error).stack ?? String(e) }),
  );
});
port.postMessage({ ready: true });
