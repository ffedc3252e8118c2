import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { ShapeAutomaton } from './forced-predictor.js';
import { LlmEngine, type LlmConfig } from './engine.js';
import { shapeFor } from '../../models/lm/format.js';
import type { JsonShape } from './grammar.js';

interface Row { task: 'intent' | 'plan'; system: string; user: string; output: string }
const rows = readFileSync('models/lm/eval/smoke.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);

describe('ShapeAutomaton (the text shapeToGbnf admits)', () => {
  it('accepts every reference output, and the forced text at each point is what the output continues with', () => {
    let forcedChars = 0;
    let total = 0;
    for (const r of rows) {
      for (const grounded of [false, true]) {
        const a = new ShapeAutomaton(shapeFor(r.task, r.system, r.user, grounded));
        let st = a.start();
        for (let i = 0; i <= r.output.length; i++) {
          const f = a.forced(st);
          expect(r.output.slice(i).startsWith(f), `${r.output} at ${i}: forced ${f}`).toBe(true);
          if (i === r.output.length) break;
          st = a.step(st, r.output[i]);
          expect(st.length, `${r.output} rejected at ${i}`).toBeGreaterThan(0);
        }
        expect(a.accepting(st)).toBe(true);
        // how much of an output the grammar alone determines (characters, at each step's own prediction)
        let s2 = a.start();
        for (let i = 0; i < r.output.length;) {
          const f = a.forced(s2);
          if (f) {
            forcedChars += f.length;
            s2 = a.run(s2, f);
            i += f.length;
          } else {
            s2 = a.step(s2, r.output[i]);
            i++;
          }
        }
        total += r.output.length;
      }
    }
    // the keys and punctuation are a large part of a compact Kestrel output
    expect(forcedChars / total).toBeGreaterThan(0.3);
  });

  it('forces keys and punctuation, an enum tail with one candidate left, and nothing where the value is free', () => {
    const shape: JsonShape = { type: 'object', properties: { kind: { type: 'string', enum: ['count', 'dwell'] }, n: { type: 'integer', minimum: 0, maximum: 99 }, on: { type: 'boolean' }, s: { type: 'string', maxLength: 2 } } };
    const a = new ShapeAutomaton(shape);
    expect(a.forced(a.start())).toBe('{"kind":"');
    expect(a.forced(a.run(a.start(), '{"kind":"c'))).toBe('ount","n":');
    expect(a.forced(a.run(a.start(), '{"kind":"count","n":'))).toBe('');
    expect(a.forced(a.run(a.start(), '{"kind":"count","n":0'))).toBe(',"on":');
    expect(a.forced(a.run(a.start(), '{"kind":"count","n":0,"on":f'))).toBe('alse,"s":"');
    expect(a.forced(a.run(a.start(), '{"kind":"count","n":0,"on":true,"s":"ab'))).toBe('"}');
    expect(a.run(a.start(), '{"kind":"x')).toEqual([]);
    expect(a.accepting(a.run(a.start(), '{"kind":"dwell","n":12,"on":true,"s":""}'))).toBe(true);
  });
});

describe('forced-token prediction on the committed Kestrel LM', () => {
  const MODEL = 'models/lm/kestrel-lm-q4_0.gguf';
  it('gives byte-identical greedy output to plain decoding, alone and with skeleton lookup, and its predictions are taken', async () => {
    const items = [...rows.filter((r) => r.task === 'intent').slice(0, 3), ...rows.filter((r) => r.task === 'plan').slice(0, 2)];
    const outs: Record<string, string[]> = {};
    const validated: Record<string, number> = {};
    const DRAFT = 'models/lm/kestrel-lm-draft-q4_0.gguf';
    const configs: [string, Partial<LlmConfig>][] = [['plain', {}], ['forced', { forcedTokens: true }], ['forced+input_lookup', { forcedTokens: true, predictor: 'input_lookup' }]];
    // the bundled draft (models/lm/README.md, "Draft model"), alone and behind forced tokens
    if (existsSync(DRAFT)) configs.push(['draft', { predictor: 'draft', draftModelPath: DRAFT }], ['forced+draft', { forcedTokens: true, predictor: 'draft', draftModelPath: DRAFT }]);
    for (const [name, cfg] of configs) {
      const e = await LlmEngine.load({ modelPath: MODEL, threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'none', ...cfg });
      try {
        outs[name] = [];
        validated[name] = 0;
        for (const r of items) {
          const g = await e.createGrammar(shapeFor(r.task, r.system, r.user, true));
          const res = await e.generate({ system: r.system, user: r.user }, { grammar: g, maxTokens: 300 });
          outs[name].push(res.text);
          validated[name] += res.predictions?.validated ?? 0;
        }
      } finally {
        await e.dispose();
      }
    }
    expect(outs.forced).toEqual(outs.plain);
    for (const name of Object.keys(outs)) expect(outs[name], name).toEqual(outs.plain);
    expect(validated.forced).toBeGreaterThan(10);
  }, 240_000);
});
