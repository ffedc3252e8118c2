/**
 * Kestrel's trained LM (models/lm/*.gguf) as the nodes run it (llama.cpp, 1 thread, greedy, Kestrel
 * GBNF; intents under grounded decoding):
 * - per quantization (F16, Q8_0, Q4_0): hand-written intent exact match, wall time per compile and
 *   per plan, decode tokens/s, and tokens/s against the memory-bandwidth limit measured in this run
 *   (read GB/s ÷ weight bytes per token);
 * - prompt lookup (`predictor: input_lookup`) and prompt lookup with the nodes' output skeletons
 *   (`predictor: lookup`) vs plain decoding on the same model: wall time ratio per compile and per
 *   plan, acceptance, and whether every output is byte-identical.
 * Inputs are committed files: models/lm/eval/intents.jsonl (hand-written) and eval/smoke.jsonl (plans).
 * Knobs: KESTREL_LM_BENCH_QUANTS=Q4_0,F16, KESTREL_LM_BENCH_N=40 (intents per configuration).
 */
import { readFileSync, statSync } from 'node:fs';
import { defineBench, stats, type Goal } from './harness.js';
import { bestReadBandwidth } from './membw.bench.js';
import { LlmEngine, type GenerationResult, type PredictorKind } from '../lib/llm/engine.js';
import { readJsonl, type CorpusRow } from '../models/lm/evaluate.js';
import { parseIntentCases } from '../models/lm/eval/cases.js';
import { intentPrompt, shapeFor } from '../models/lm/format.js';
import { formatRuleSet, ruleSkeletons } from '../lib/rules/lm-prompt.js';
import { planSkeletons } from '../nodes/planner/plan.js';
import { ACTIONS } from '../nodes/planner/situation.js';

const QUANTS = (process.env.KESTREL_LM_BENCH_QUANTS ?? 'F16,Q8_0,Q4_0').split(',');
const N = Number(process.env.KESTREL_LM_BENCH_N ?? 40);
const PREDICTORS = ['input_lookup', 'lookup'] as const;

interface Item { task: 'intent' | 'plan'; system: string; user: string; expect?: string }

function items(): Item[] {
  const hand = parseIntentCases(readFileSync('models/lm/eval/intents.jsonl', 'utf8')).cases.slice(0, N);
  const plans = readJsonl<CorpusRow>('models/lm/eval/smoke.jsonl').filter((r) => r.task === 'plan');
  return [
    ...hand.map((c) => ({ task: 'intent' as const, ...intentPrompt({ classes: c.classes, regions: c.regions }, c.intent), expect: formatRuleSet(c.expect.rules) })),
    ...plans.map((r) => ({ task: 'plan' as const, system: r.system, user: r.user, expect: r.output })),
  ];
}

interface Run { text: string; ms: number; tps: number; g: GenerationResult }

// What the intent and planner nodes give `predictor: lookup` (one memory here for both tasks).
const MEMORY = [...ruleSkeletons({ classes: ['person', 'bag', 'vehicle'], regions: [] }), ...planSkeletons(ACTIONS)];

async function runAll(path: string, predictor: PredictorKind, list: readonly Item[]): Promise<Run[]> {
  const e = await LlmEngine.load({ modelPath: path, threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'none', predictor, predictorMemory: MEMORY });
  try {
    const out: Run[] = [];
    const gen = async (it: Item): Promise<Run> => {
      const grammar = await e.createGrammar(shapeFor(it.task, it.system, it.user, it.task === 'intent'));
      const t0 = process.hrtime.bigint();
      const g = await e.generate({ system: it.system, user: it.user }, { grammar, maxTokens: it.task === 'intent' ? 400 : 160 });
      return { text: g.text, ms: Number(process.hrtime.bigint() - t0) / 1e6, tps: g.tokensPerSecond, g };
    };
    await gen(list[0]); // warm-up: first-call allocations are not decode speed
    for (const it of list) out.push(await gen(it));
    return out;
  } finally {
    await e.dispose();
  }
}

const mean = (xs: readonly number[]): number => stats(xs).mean;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export default defineBench({
  name: 'lm',
  description: "Kestrel's trained LM: quantizations (accuracy, speed, bandwidth) and prompt-lookup decoding vs plain, same run",
  async run() {
    const list = items();
    const isIntent = list.map((it) => it.task === 'intent');
    const bw = await bestReadBandwidth(1);
    const figures: Record<string, number> = {};
    const details: Record<string, unknown> = { intents: isIntent.filter(Boolean).length, plans: isIntent.filter((x) => !x).length, read_gb_s: bw.gbps };
    const goals: Goal[] = [];
    const tps: Record<string, number> = {};
    for (const q of QUANTS) {
      const path = `models/lm/kestrel-lm-${q.toLowerCase()}.gguf`;
      const plain = await runAll(path, 'none', list);
      const part = (rs: Run[], intent: boolean): Run[] => rs.filter((_, i) => isIntent[i] === intent);
      const exact = part(plain, true).filter((r, i) => r.text === list.filter((it) => it.task === 'intent')[i].expect).length / Math.max(1, part(plain, true).length);
      tps[q] = mean(plain.map((r) => r.tps));
      const bytes = statSync(path).size;
      const k = q.toLowerCase();
      figures[`${k}_handwritten_exact`] = r3(exact);
      figures[`${k}_compile_ms`] = r3(mean(part(plain, true).map((r) => r.ms)));
      figures[`${k}_plan_ms`] = r3(mean(part(plain, false).map((r) => r.ms)));
      figures[`${k}_tokens_per_s_vs_bandwidth_limit`] = r3(tps[q] / ((bw.gbps * 1e9) / bytes));
      const d: Record<string, unknown> = { file_bytes: bytes, tokens_per_s: Math.round(tps[q]) };
      for (const pk of PREDICTORS) {
        const look = await runAll(path, pk, list);
        const identical = plain.filter((r, i) => r.text === look[i].text).length / plain.length;
        const v = look.reduce((a, r) => a + (r.g.predictions?.validated ?? 0), 0);
        const f = look.reduce((a, r) => a + (r.g.predictions?.refuted ?? 0), 0);
        figures[`${k}_${pk}_vs_plain_compile`] = r3(mean(part(look, true).map((r) => r.ms)) / figures[`${k}_compile_ms`]);
        figures[`${k}_${pk}_vs_plain_plan`] = r3(mean(part(look, false).map((r) => r.ms)) / figures[`${k}_plan_ms`]);
        figures[`${k}_${pk}_acceptance`] = r3(v / Math.max(1, v + f));
        figures[`${k}_${pk}_identical`] = r3(identical);
        goals.push({ name: `${q} ${pk} outputs identical to plain`, value: identical, op: '>=', target: 1 });
        d[pk] = { validated: v, refuted: f };
      }
      details[q] = d;
    }
    if (tps.Q4_0 && tps.F16) {
      figures.q4_0_vs_f16_tokens_per_s = r3(tps.Q4_0 / tps.F16);
      goals.push({ name: 'Q4_0 / F16 decode speed', value: figures.q4_0_vs_f16_tokens_per_s, op: '>=', target: 2 });
    }
    const q = QUANTS.includes('Q4_0') ? 'q4_0' : QUANTS[0].toLowerCase();
    return {
      figures,
      goals,
      details,
      summary: `${q}: hand-written exact ${(100 * figures[`${q}_handwritten_exact`]).toFixed(0)}%, compile ${figures[`${q}_compile_ms`].toFixed(0)} ms, plan ${figures[`${q}_plan_ms`].toFixed(0)} ms; ${PREDICTORS.map((pk) => `${pk} ×${figures[`${q}_${pk}_vs_plain_compile`]} compile, ×${figures[`${q}_${pk}_vs_plain_plan`]} plan (acceptance ${figures[`${q}_${pk}_acceptance`]})`).join('; ')}`,
    };
  },
});
