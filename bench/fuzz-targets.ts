/**
 * The long campaign's targets (bench/fuzz.ts), built the same way in the main thread and in each worker thread
 * (bench/fuzz-worker.ts): the in-suite fuzz targets, and the bag readers' over seed bags written once by the main
 * thread and handed to every worker (the same seed bytes everywhere, so a case is the same input on any shard).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FuzzTarget } from '../test/support/fuzz.js';
import { cdrTarget } from '../msgs/codec.fuzz.js';
import { framerTarget } from '../lib/mavlink/framer.fuzz.js';
import { launchTarget, paramsTarget } from '../runtime/launch/launch.fuzz.js';
import { bagTargets, type BagSeeds } from '../lib/bag/bag.fuzz.js';

export const FUZZ_SEED = 20261201;

/** The targets over `seeds`, with the bag targets' case files in a folder of this thread's own (removed by the caller). */
export function campaignTargets(seeds: BagSeeds): { targets: FuzzTarget<unknown>[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-fuzz-shard-'));
  const own: BagSeeds = { ...seeds, dir };
  const targets = [cdrTarget, framerTarget, launchTarget, paramsTarget, ...bagTargets(own)] as unknown as FuzzTarget<unknown>[];
  return { targets, dir };
}
