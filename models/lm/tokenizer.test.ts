/**
 * The committed Kestrel LM's tokenizer in llama.cpp equals the SentencePiece model it was trained
 * with: node-llama-cpp tokenizes every fixture string (corpus strings + edge cases, ids written by
 * models/lm/train/export.py) to exactly the trainer's ids.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { LlmEngine } from '../../lib/llm/engine.js';

const MODEL = 'models/lm/kestrel-lm-q4_0.gguf';
const FIXTURE = 'models/lm/eval/tokenizer-fixture.jsonl';
const missing = [MODEL, FIXTURE].filter((p) => !existsSync(p));
if (missing.length) console.warn(`skipping the LM tokenizer test: ${missing.join(', ')} not found (train and export the model: models/lm/README.md)`);

describe.skipIf(missing.length > 0)('Kestrel LM tokenizer (llama.cpp vs SentencePiece)', () => {
  let e: LlmEngine;
  beforeAll(async () => {
    e = await LlmEngine.load({ modelPath: MODEL, threads: 1, contextSize: 512, gpuLayers: 0, maxMemoryMb: 0, template: 'none' });
  });
  afterAll(async () => e?.dispose());

  it('tokenizes >= 1,000 corpus strings exactly as the trainer did', () => {
    const rows = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; ids: number[] });
    expect(rows.length).toBeGreaterThanOrEqual(1000);
    const bad = rows.filter((r) => JSON.stringify([...e.model.tokenize(r.text)]) !== JSON.stringify(r.ids));
    expect(bad.slice(0, 3).map((r) => r.text)).toEqual([]);
    // the engine adds BOS itself and never a space prefix
    expect(e.contextTokens({ system: 'a', user: 'b' })[0]).toBe(1);
    expect(e.model.detokenize(e.model.tokenize('classes: person\n'))).toBe('classes: person\n');
  });
});
