/**
 * `npx tsx models/gguf/gen.ts [tiny|1b] [F16|Q8_0|Q4_0] [--seed N] [--out file.gguf]`
 * Writes a random-weight llama GGUF (cached under models/cache/ unless --out is given).
 */
import { writeGguf, type Quant } from './writer.js';
import { SHAPES, ensureModel, type ShapeName } from './cache.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const shape = (positional[0] ?? 'tiny') as ShapeName;
const quant = (positional[1] ?? 'Q4_0') as Quant;
if (!(shape in SHAPES)) throw new Error(`unknown shape '${shape}': expected tiny, 1b or draft1b`);
if (!['F16', 'Q8_0', 'Q4_0'].includes(quant)) throw new Error(`unknown quantization '${quant}': expected F16, Q8_0 or Q4_0`);
const seed = Number(flag('--seed') ?? 1234);
const out = flag('--out');
const t0 = process.hrtime.bigint();
let path: string;
if (out) {
  writeGguf(out, { shape: SHAPES[shape], quant, seed });
  path = out;
} else path = ensureModel(shape, quant, seed);
process.stdout.write(`${path} (${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s)\n`);
