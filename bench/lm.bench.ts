/**
 * Kestrel's trained LM (models/lm/*.gguf) as the nodes run it (llama.cpp, 1 thread, greedy, Kestrel
 * GBNF; intents under grounded decoding):
 * - per quantization (F16, Q8_0, Q4_0): hand-written intent exact match, wall time per compile and
 *   per plan, decode tokens/s, and tokens/s against the memory-bandwidth limit measured in this run
 *   (read GB/s ÷ weight bytes per token);
 * - predictors on the default quantization, each alone and combined with forced-token jump-ahead
 *   (`forced_tokens`): prompt lookup (`input_lookup`), prompt lookup with the nodes' output skeletons
 *   (`lookup`), the distilled draft model (`draft`, models/lm/kestrel-lm-draft-q4_0.gguf): wall time
 *   ratio per compile and per plan against plain decoding in the same run, acceptance
 *   (validated ÷ (validated + refuted) predicted tokens), and whether every output is byte-identical;
 * - pruning table: each bundled pruned variant (models/lm/kestrel-lm-pruned-*-q4_0.gguf) against the
 *   full Q4_0: exact match, speed ratios;
 * - time to first token: a plan's first token against a bare prefix-cached call (same model, same
 *   system prefix, an empty changing part): the planner's changing suffix must cost ≤ 1.2×. Split in
 *   two: the bare call with the plan grammar (what the grammar costs) and the suffix tokens evaluated
 *   before the first token (what the situation text costs).
 * Inputs are committed files: models/lm/eval/intents.jsonl (hand-written) and eval/smoke.jsonl (plans).
 * Knobs: KESTREL_LM_BENCH_QUANTS=Q4_0,F16, KESTREL_LM_BENCH_N=40 (intents per configuration),
 * KESTREL_LM_BENCH_PREDICTORS=draft,lookup|none, KESTREL_LM_BENCH_PRUNING=0 (skip the pruning table).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { defineBench, stats, type Goal } from './harness.js';
import { bestReadBandwidth } from './membw.bench.js';
import { LlmEngine, type GenerationResult, type LlmConfig } from '../lib/llm/engine.js';
import { bundledVariants } from '../lib/llm/params.js';
import { readJsonl, type CorpusRow } from '../models/lm/evaluate.js';
import { parseIntentCases } from '../models/lm/eval/cases.js';
import { intentPrompt, shapeFor } from '../models/lm/format.js';
import { formatRuleSet, ruleSkeletons } from '../lib/rules/lm-prompt.js';
import { planSkeletons } from '../nodes/planner/plan.js';
import { ACTIONS } from '../nodes/planner/situation.js';

const QUANTS = (process.env.KESTREL_LM_BENCH_QUANTS ?? 'F16,Q8_0,Q4_0').split(',');
const N = Number(process.env.KESTREL_LM_BENCH_N ?? 40);
const DRAFT = 'models/lm/kestrel-lm-draft-q4_0.gguf';
/** Predictor settings measured on the default quantization, each against plain decoding. */
const PREDICTORS: Record<string, Partial<LlmConfig>> = {
  forced: { forcedTokens: true },
  input_lookup: { predictor: 'input_lookup' },
  lookup: { predictor: 'lookup' },
  forced_lookup: { predictor: 'lookup', forcedTokens: true },
  forced_input_lookup: { predictor: 'input_lookup', forcedTokens: true },
  ...(existsSync(DRAFT) ? { draft: { predictor: 'draft', draftModelPath: DRAFT }, forced_draft: { predictor: 'draft', draftModelPath: DRAFT, forcedTokens: true } } : {}),
};
// A subset keeps a quantization / TTFT run short; the default (all) is the issue's full table.
const PICK = process.env.KESTREL_LM_BENCH_PREDICTORS;
if (PICK) for (const k of Object.keys(PREDICTORS)) if (!PICK.split(',').includes(k)) delete PREDICTORS[k];
const PRUNING = process.env.KESTREL_LM_BENCH_PRUNING !== '0';

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

interface Ttft { plan: number; bare: number; bare_grammar: number; suffix_tokens: number; prefix_tokens: number }

async function runAll(path: string, extra: Partial<LlmConfig>, list: readonly Item[]): Promise<{ runs: Run[]; ttft?: Ttft }> {
  const e = await LlmEngine.load({ modelPath: path, threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'none', predictorMemory: MEMORY, ...extra });
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
    // TTFT: each plan after its prefix is cached (the planner's steady state) vs a bare call on that cached prefix
    const plans = list.filter((it) => it.task === 'plan');
    if (Object.keys(extra).length || !plans.length) return { runs: out };
    const plan: number[] = [];
    const bare: number[] = [];
    const bareG: number[] = [];
    const suffix: number[] = [];
    const prefix: number[] = [];
    for (const it of plans) {
      const grammar = await e.createGrammar(shapeFor('plan', it.system));
      prefix.push(await e.warmPrefix(it.system));
      bare.push((await e.generate({ system: it.system, user: '' }, { maxTokens: 1 })).ttftMs);
      await e.warmPrefix(it.system);
      bareG.push((await e.generate({ system: it.system, user: '' }, { grammar, maxTokens: 1 })).ttftMs);
      await e.warmPrefix(it.system);
      const g = await e.generate({ system: it.system, user: it.user }, { grammar, maxTokens: 1 });
      plan.push(g.ttftMs);
      suffix.push(g.promptTokens - g.reusedTokens); // tokens evaluated before the first one is sampled
    }
    return { runs: out, ttft: { plan: stats(plan).mean, bare: stats(bare).mean, bare_grammar: stats(bareG).mean, suffix_tokens: stats(suffix).mean, prefix_tokens: stats(prefix).mean } };
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
    const part = (rs: Run[], intent: boolean): Run[] => rs.filter((_, i) => isIntent[i] === intent);
    const intentItems = list.filter((it) => it.task === 'intent');
    const exactOf = (rs: Run[]): number => part(rs, true).filter((r, i) => r.text === intentItems[i].expect).length / Math.max(1, intentItems.length);
    const q0 = QUANTS.includes('Q4_0') ? 'Q4_0' : QUANTS[0];
    let q0plain: Run[] = [];
    for (const q of QUANTS) {
      const path = `models/lm/kestrel-lm-${q.toLowerCase()}.gguf`;
      const { runs: plain, ttft } = await runAll(path, {}, list);
      tps[q] = mean(plain.map((r) => r.tps));
      const bytes = statSync(path).size;
      const k = q.toLowerCase();
      figures[`${k}_handwritten_exact`] = r3(exactOf(plain));
      figures[`${k}_compile_ms`] = r3(mean(part(plain, true).map((r) => r.ms)));
      figures[`${k}_plan_ms`] = r3(mean(part(plain, false).map((r) => r.ms)));
      figures[`${k}_tokens_per_s_vs_bandwidth_limit`] = r3(tps[q] / ((bw.gbps * 1e9) / bytes));
      if (ttft) {
        figures[`${k}_plan_ttft_vs_bare_prefix_call`] = r3(ttft.plan / Math.max(1e-6, ttft.bare));
        figures[`${k}_bare_grammar_ttft_vs_bare_prefix_call`] = r3(ttft.bare_grammar / Math.max(1e-6, ttft.bare));
        if (q === q0) goals.push({ name: `${q} first plan token vs a bare prefix-cached call`, value: figures[`${k}_plan_ttft_vs_bare_prefix_call`], op: '<=', target: 1.2 });
      }
      // Every weight is read once per decoded token (the file is the weights: embeddings tied to the output).
      details[q] = {
        file_bytes: bytes, bytes_read_per_token: bytes, bandwidth_limit_tokens_per_s: Math.round((bw.gbps * 1e9) / bytes), tokens_per_s: Math.round(tps[q]),
        ttft_ms: ttft && { ...ttft, per_suffix_token_ms: r3((ttft.plan - ttft.bare_grammar) / Math.max(1, ttft.suffix_tokens - 1)) },
      };
      if (q === q0) q0plain = plain;
    }

    // predictors, alone and combined, on the default quantization
    const k0 = q0.toLowerCase();
    const q0path = `models/lm/kestrel-lm-${k0}.gguf`;
    const pd: Record<string, unknown> = {};
    for (const [name, cfg] of Object.entries(PREDICTORS)) {
      const { runs: look } = await runAll(q0path, cfg, list);
      const identical = q0plain.filter((r, i) => r.text === look[i].text).length / q0plain.length;
      const v = look.reduce((a, r) => a + (r.g.predictions?.validated ?? 0), 0);
      const f = look.reduce((a, r) => a + (r.g.predictions?.refuted ?? 0), 0);
      figures[`${k0}_${name}_vs_plain_compile`] = r3(mean(part(look, true).map((r) => r.ms)) / figures[`${k0}_compile_ms`]);
      figures[`${k0}_${name}_vs_plain_plan`] = r3(mean(part(look, false).map((r) => r.ms)) / figures[`${k0}_plan_ms`]);
      figures[`${k0}_${name}_acceptance`] = r3(v / Math.max(1, v + f));
      figures[`${k0}_${name}_identical`] = r3(identical);
      goals.push({ name: `${q0} ${name} outputs identical to plain`, value: identical, op: '>=', target: 1 });
      pd[name] = { validated: v, refuted: f };
    }
    details.predictors = pd;
    const speedups = Object.keys(PREDICTORS).map((n) => ({ n, x: 1 / Math.max(figures[`${k0}_${n}_vs_plain_compile`], figures[`${k0}_${n}_vs_plain_plan`]) }));
    const best = speedups.reduce((a, b) => (b.x > a.x ? b : a), { n: 'none', x: 1 });
    details.fastest_identical_predictor = best.n;
    if (speedups.length) goals.push({ name: `${q0} best predictor (${best.n}) end-to-end speed-up on compiles and plans`, value: r3(best.x), op: '>=', target: 2 });
    if (PREDICTORS.draft) goals.push({ name: `${q0} draft acceptance`, value: figures[`${k0}_draft_acceptance`], op: '>=', target: 0.7 });

    // pruning table: the bundled pruned variants against the full model (Q4_0)
    const pruning: Record<string, unknown>[] = [];
    for (const variant of PRUNING ? bundledVariants() : []) {
      const path = `models/lm/kestrel-lm-${variant}-q4_0.gguf`;
      const { runs } = await runAll(path, {}, list);
      const row = {
        variant, file_bytes: statSync(path).size,
        handwritten_exact: r3(exactOf(runs)), exact_vs_full_points: r3(100 * (exactOf(runs) - exactOf(q0plain))),
        compile_speedup: r3(figures.q4_0_compile_ms / mean(part(runs, true).map((r) => r.ms))),
        plan_speedup: r3(figures.q4_0_plan_ms / mean(part(runs, false).map((r) => r.ms))),
        tokens_per_s_vs_full: r3(mean(runs.map((r) => r.tps)) / tps.Q4_0),
      };
      pruning.push(row);
      figures[`pruned_${variant}_plan_speedup`] = row.plan_speedup;
      figures[`pruned_${variant}_exact_vs_full_points`] = row.exact_vs_full_points;
    }
    details.pruning = pruning;
    details.quantization = QUANTS.map((q) => {
      const k = q.toLowerCase();
      const d = details[q] as { bytes_read_per_token: number; bandwidth_limit_tokens_per_s: number };
      return {
        quant: q, handwritten_exact: figures[`${k}_handwritten_exact`], handwritten_cases: intentItems.length, compile_ms: figures[`${k}_compile_ms`], plan_ms: figures[`${k}_plan_ms`],
        tokens_per_s: Math.round(tps[q]), bytes_read_per_token: d.bytes_read_per_token, bandwidth_limit_tokens_per_s: d.bandwidth_limit_tokens_per_s, vs_bandwidth_limit: figures[`${k}_tokens_per_s_vs_bandwidth_limit`],
      };
    });
    if (tps.Q4_0 && tps.F16) {
      figures.q4_0_vs_f16_tokens_per_s = r3(tps.Q4_0 / tps.F16);
      goals.push({ name: 'Q4_0 / F16 decode speed', value: figures.q4_0_vs_f16_tokens_per_s, op: '>=', target: 2 });
    }
    return {
      figures,
      goals,
      details,
      summary: `${k0}: hand-written exact ${(100 * figures[`${k0}_handwritten_exact`]).toFixed(0)}%, compile ${figures[`${k0}_compile_ms`].toFixed(0)} ms, plan ${figures[`${k0}_plan_ms`].toFixed(0)} ms; ${Object.keys(PREDICTORS).map((pk) => `${pk} ×${figures[`${k0}_${pk}_vs_plain_compile`]} compile, ×${figures[`${k0}_${pk}_vs_plain_plan`]} plan (acceptance ${figures[`${k0}_${pk}_acceptance`]})`).join('; ')}`,
    };
  },
});
