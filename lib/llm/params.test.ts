import { describe, expect, it } from 'vitest';
import { checkGguf } from './gguf-check.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_MODEL_PATH, KESTREL_LM_PATH, KESTREL_PROMPT_FORMAT, LLM_PARAMS, bundledVariants, engineConfig, resolveModelPath, usesKestrelFormat, variantPath } from './params.js';
import { tinyModel } from '../../test/support/llm.js';

describe('LLM params: model path and prompt format', () => {
  it("model_path '' needs the caller's tiny-model source (lib/llm does not import the generator)", () => {
    expect(() => resolveModelPath({ model_path: '', quantization: 'Q4_0' })).toThrow(/needs a model source; set model_path/);
    expect(resolveModelPath({ model_path: '', quantization: 'Q8_0' }, (q) => `/tmp/tiny-${q}.gguf`)).toBe('/tmp/tiny-Q8_0.gguf');
    expect(resolveModelPath({ model_path: '/m.gguf', quantization: 'Q4_0' })).toBe('/m.gguf');
    expect(KESTREL_LM_PATH).toMatch(/models\/lm\/kestrel-lm-q4_0\.gguf$/);
    // the default is Kestrel's own model, at the quantization param
    expect(DEFAULT_MODEL_PATH).toBe('kestrel-lm');
    expect(resolveModelPath({ model_path: DEFAULT_MODEL_PATH, quantization: 'Q4_0' })).toBe(KESTREL_LM_PATH);
    expect(resolveModelPath({ model_path: DEFAULT_MODEL_PATH, quantization: 'F16' })).toMatch(/models\/lm\/kestrel-lm-f16\.gguf$/);
  });

  it('the Kestrel format is used when the GGUF declares it or the param forces it', async () => {
    expect(usesKestrelFormat({ prompt_format: 'auto' }, KESTREL_PROMPT_FORMAT)).toBe(true);
    expect(usesKestrelFormat({ prompt_format: 'auto' }, undefined)).toBe(false);
    expect(usesKestrelFormat({ prompt_format: 'generic' }, KESTREL_PROMPT_FORMAT)).toBe(false);
    expect(usesKestrelFormat({ prompt_format: KESTREL_PROMPT_FORMAT }, undefined)).toBe(true);
    // The tiny random model declares no format: chat-style prompts unless forced.
    expect((await checkGguf(tinyModel())).promptFormat).toBeUndefined();
  });

  it("model_variant picks a bundled pruned file of the Kestrel LM, and names itself when there is none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-variants-'));
    writeFileSync(join(dir, 'kestrel-lm-pruned-l2-q4_0.gguf'), '');
    writeFileSync(join(dir, 'kestrel-lm-q4_0.gguf'), '');
    expect(bundledVariants(dir)).toEqual(['pruned-l2']);
    expect(variantPath('pruned-l2', 'Q4_0', dir)).toBe(join(dir, 'kestrel-lm-pruned-l2-q4_0.gguf'));
    expect(() => variantPath('pruned-l2', 'F16', dir)).toThrow(/model_variant 'pruned-l2' at quantization F16: no .*kestrel-lm-pruned-l2-f16\.gguf \(bundled variants, Q4_0 only: pruned-l2\)/);
    expect(() => variantPath('small', 'Q4_0', dir)).toThrow(/model_variant 'small': expected 'full' or 'pruned-<level>'/);
    expect(() => resolveModelPath({ model_path: '/m.gguf', quantization: 'Q4_0', model_variant: 'pruned-l2' })).toThrow(/needs model_path 'kestrel-lm'/);
    expect(resolveModelPath({ model_path: DEFAULT_MODEL_PATH, quantization: 'Q4_0', model_variant: 'full' })).toBe(KESTREL_LM_PATH);
  });

  it('the defaults: the bundled draft for predictor draft, forced tokens and predictor as measured (bench/lm.bench.ts)', () => {
    const defaults = Object.fromEntries(Object.entries(LLM_PARAMS).map(([k, d]) => [k, d.default])) as Parameters<typeof engineConfig>[0];
    const cfg = engineConfig(defaults);
    expect(cfg.draftModelPath).toMatch(/models\/lm\/kestrel-lm-draft-q4_0\.gguf$/);
    expect(cfg.modelPath).toBe(KESTREL_LM_PATH);
    expect(typeof cfg.forcedTokens).toBe('boolean');
    expect(engineConfig({ ...defaults, draft_model_path: '/d.gguf' }).draftModelPath).toBe('/d.gguf');
  });
});
