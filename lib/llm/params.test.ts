import { describe, expect, it } from 'vitest';
import { checkGguf } from './gguf-check.js';
import { DEFAULT_MODEL_PATH, KESTREL_LM_PATH, KESTREL_PROMPT_FORMAT, resolveModelPath, usesKestrelFormat } from './params.js';
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
});
